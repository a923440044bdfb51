// test:///ABSOLUTE/PATH.xml: a node description file, libvirt's format.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "plugin_fixture.hpp"

using namespace testplugin;
namespace fs = std::filesystem;

namespace {

class TempDir {
public:
    TempDir()
    {
        std::string pattern = (fs::temp_directory_path() / "virtkit-test-driver-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir() { fs::remove_all(path_); }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;

    std::string write(const std::string &name, const std::string &content) const
    {
        const fs::path file = path_ / name;
        std::ofstream(file) << content;
        return file.string();
    }
    const fs::path &path() const { return path_; }

private:
    fs::path path_;
};

constexpr const char *kUuidA = "aaaaaaaa-0000-0000-0000-00000000000a";
constexpr const char *kUuidB = "aaaaaaaa-0000-0000-0000-00000000000b";

}  // namespace

TEST_CASE("a node file's domains are defined and running", "[test-driver]")
{
    const TempDir dir;
    const std::string node = dir.write("node.xml", "<node>\n" + domainXml("alpha", kUuidA) + "\n" +
                                                       domainXml("beta", kUuidB) + "\n</node>\n");
    Connection conn("test://" + node);
    CHECK(conn.names() == std::vector<std::string>{"alpha", "beta"});
    CHECK(conn.lookupByName("alpha").id == 1);
    CHECK(conn.lookupByName("beta").id == 2);
    const virtkit_domain_info info = conn.info(kUuidB);
    CHECK(info.state == VIRTKIT_DOMAIN_RUNNING);
    CHECK(info.persistent == 1);
    CHECK(info.max_mem_kib == 512 * 1024);

    // Ids go on from there.
    REQUIRE(conn.destroy(kUuidA).ok());
    REQUIRE(conn.start(kUuidA).ok());
    CHECK(conn.lookupByName("alpha").id == 3);
}

TEST_CASE("libvirt's test namespace sets a node file domain's run state and transience", "[test-driver]")
{
    const TempDir dir;
    const std::string ns = "xmlns:test='http://libvirt.org/schemas/domain/test/1.0'";
    const std::string node = dir.write(
        "node.xml", "<node " + ns + ">\n" + domainXml("off", kUuidA, "  <test:runstate>5</test:runstate>\n") +
                        domainXml("paused", kUuidB, "  <test:runstate>3</test:runstate>\n  <test:transient/>\n") +
                        "</node>\n");
    Connection conn("test://" + node);
    CHECK(conn.info(kUuidA).state == VIRTKIT_DOMAIN_SHUTOFF);
    CHECK(conn.lookupByName("off").id == -1);
    const virtkit_domain_info paused = conn.info(kUuidB);
    CHECK(paused.state == VIRTKIT_DOMAIN_PAUSED);
    CHECK(paused.persistent == 0);
    REQUIRE(conn.resume(kUuidB).ok());
    // The namespace comes along in the stored XML, still well-formed.
    CHECK_THAT(conn.xml(kUuidB), Catch::Contains("http://libvirt.org/schemas/domain/test/1.0"));
}

TEST_CASE("a node file may point at domain files relative to itself", "[test-driver]")
{
    const TempDir dir;
    fs::create_directory(dir.path() / "domains");
    dir.write("domains/alpha.xml", domainXml("alpha", kUuidA));
    const std::string node = dir.write("node.xml", "<node><domain file='domains/alpha.xml'/></node>");
    Connection conn("test://" + node);
    CHECK(conn.names() == std::vector<std::string>{"alpha"});
}

TEST_CASE("a node file's cpu and memory shape the capabilities' NUMA topology", "[test-driver]")
{
    const TempDir dir;
    const std::string node = dir.write(
        "node.xml", "<node><cpu><mhz>2000</mhz><model>i686</model><nodes>4</nodes><sockets>1</sockets>"
                    "<cores>2</cores><threads>1</threads></cpu><memory>4194304</memory></node>");
    Connection conn("test://" + node);
    const std::string caps = conn.capabilities();
    CHECK_THAT(caps, Catch::Contains("<cells num='4'>"));
    CHECK_THAT(caps, Catch::Contains("<memory unit='KiB'>1048576</memory>"));
    CHECK_THAT(caps, Catch::Contains("<cpu id='7'"));
    CHECK_THAT(caps, !Catch::Contains("<cpu id='8'"));
    CHECK(conn.names().empty());
}

TEST_CASE("each node file connection has a state of its own", "[test-driver]")
{
    const TempDir dir;
    const std::string uri = "test://" + dir.write("node.xml", "<node>" + domainXml("alpha", kUuidA) + "</node>");
    Connection first(uri);
    Connection second(uri);
    REQUIRE(first.destroy(kUuidA).ok());
    CHECK(first.info(kUuidA).state == VIRTKIT_DOMAIN_SHUTOFF);
    CHECK(second.info(kUuidA).state == VIRTKIT_DOMAIN_RUNNING);
    Connection defaultConn;
    CHECK(defaultConn.names() == std::vector<std::string>{"test"});
}

TEST_CASE("a node file pointing at libvirt's own domain XML from its test corpus loads unchanged", "[test-driver]")
{
    const fs::path sample = fs::path(VIRTKIT_CONFORMANCE_DIR) / "tests/domainschemadata/domain-lxc-simple.xml";
    if (!fs::exists(sample)) {
        WARN("no conformance corpus at " << VIRTKIT_CONFORMANCE_DIR);
        return;
    }
    const TempDir dir;
    const std::string node = dir.write("node.xml", "<node><domain file='" + sample.string() + "'/></node>");
    Connection conn("test://" + node);
    const auto idents = conn.list();
    REQUIRE(idents.size() == 1);
    CHECK(std::string(idents[0].name) == "demo");
    CHECK(std::string(idents[0].uuid) == "8369f1ac-7e46-e869-4ca5-759d51478066");
    CHECK(conn.info(idents[0].uuid).max_mem_kib == 500000);
    CHECK_THAT(conn.xml(idents[0].uuid), Catch::Contains("<partition>/virtualmachines</partition>"));
}

TEST_CASE("unusable test URIs are refused with the URI named", "[test-driver]")
{
    const TempDir dir;
    const auto refusal = [](const std::string &uri, int32_t code) {
        const Outcome outcome = tryOpen(uri);
        CHECK(outcome.code == code);
        CHECK_THAT(outcome.message, Catch::Contains(uri));
        return outcome.message;
    };
    CHECK_THAT(refusal("test:///foo", VIRTKIT_ERR_NO_CONNECT), Catch::Contains("test:///default"));
    refusal("test:///", VIRTKIT_ERR_NO_CONNECT);
    refusal("test:relative/node.xml", VIRTKIT_ERR_NO_CONNECT);
    CHECK_THAT(refusal("test://somehost/default", VIRTKIT_ERR_NO_CONNECT), Catch::Contains("somehost"));
    refusal("qemu:///system", VIRTKIT_ERR_NO_CONNECT);
    refusal("test://" + dir.path().string(), VIRTKIT_ERR_NO_CONNECT);  // a directory

    CHECK_THAT(refusal("test://" + dir.write("broken.xml", "<node><domain>"), VIRTKIT_ERR_XML), Catch::Contains("line"));
    CHECK_THAT(refusal("test://" + dir.write("root.xml", "<nodes/>"), VIRTKIT_ERR_XML), Catch::Contains("<node>"));
    CHECK_THAT(refusal("test://" + dir.write("bad-domain.xml", "<node><domain><name>x</name></domain></node>"),
                       VIRTKIT_ERR_XML),
               Catch::Contains("<memory>"));
    CHECK_THAT(refusal("test://" + dir.write("twice.xml", "<node>" + domainXml("a", kUuidA) + domainXml("a", kUuidB) + "</node>"),
                       VIRTKIT_ERR_XML),
               Catch::Contains("'a'"));
    refusal("test://" + dir.write("bad-cpu.xml", "<node><cpu><nodes>many</nodes></cpu></node>"), VIRTKIT_ERR_XML);
    refusal("test://" + dir.write("missing-file.xml", "<node><domain file='nowhere.xml'/></node>"), VIRTKIT_ERR_NO_CONNECT);
}
