// list, dominfo, domstate and the small lookups against test:///default.
#include <catch2/catch.hpp>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "cli_runner.hpp"

using virtkit::test::CliSandbox;
using virtkit::test::domainXml;

namespace {

Poco::Dynamic::Var parseJson(const std::string &text) { return Poco::JSON::Parser().parse(text); }

bool contains(const std::string &haystack, const std::string &needle)
{
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("list shows the running domains in virsh's table", "[cli]")
{
    CliSandbox box;
    const auto r = box.runTest("list");
    REQUIRE(r.exitCode == 0);
    CHECK(r.err.empty());
    const auto lines = r.outLines();
    REQUIRE(lines.size() >= 3);
    CHECK(lines[0] == " Id   Name   State");
    CHECK(lines[1].find_first_not_of('-') == std::string::npos);
    CHECK(lines[1].size() == 22);  // as virsh draws it for these widths
    CHECK(lines[2] == " 1    test   running");
}

TEST_CASE("list --all adds inactive domains with '-' as their id", "[cli]")
{
    CliSandbox box;
    const auto file = box.writeFile("off.xml", domainXml("off"));
    const auto r = box.runTest("define " + file + "; list; list --all");
    REQUIRE(r.exitCode == 0);
    const auto lines = r.outLines();
    // the plain list (running only) does not show it, the --all list does
    const auto offRows = std::count(lines.begin(), lines.end(), " -    off    shut off");
    CHECK(offRows == 1);
    CHECK(std::count(lines.begin(), lines.end(), " 1    test   running") == 2);
}

TEST_CASE("list --name and --uuid print one domain per line", "[cli]")
{
    CliSandbox box;
    const auto names = box.runTest("list --name");
    REQUIRE(names.exitCode == 0);
    CHECK(names.outLines().at(0) == "test");
    const auto uuid = box.runTest("domuuid test").outLines().at(0);
    const auto uuids = box.runTest("list --uuid");
    CHECK(uuids.outLines().at(0) == uuid);
    const auto both = box.runTest("list --uuid --name");
    CHECK(both.outLines().at(0) == uuid + " test");
}

TEST_CASE("quiet mode (-q) drops the table header and the blank lines", "[cli]")
{
    CliSandbox box;
    const auto r = box.run({"-q", "-c", "test:///default", "list"});
    REQUIRE(r.exitCode == 0);
    CHECK(r.out == " 1   test   running\n");
}

TEST_CASE("dominfo shows virsh's fields", "[cli]")
{
    CliSandbox box;
    const auto file = box.writeFile("info.xml", domainXml("info"));
    const auto r = box.runTest("define " + file + "; dominfo info");
    REQUIRE(r.exitCode == 0);
    CHECK(contains(r.out, "Id:             -\n"));
    CHECK(contains(r.out, "Name:           info\n"));
    CHECK(contains(r.out, "OS Type:        hvm\n"));
    CHECK(contains(r.out, "State:          shut off\n"));
    CHECK(contains(r.out, "CPU(s):         1\n"));
    CHECK(contains(r.out, "Max memory:     131072 KiB\n"));
    CHECK(contains(r.out, "Persistent:     yes\n"));
    CHECK(contains(r.out, "Autostart:      disable\n"));
}

TEST_CASE("domstate --reason appends the reason in parentheses", "[cli]")
{
    CliSandbox box;
    const auto r = box.runTest("destroy test; domstate test; domstate --reason test");
    REQUIRE(r.exitCode == 0);
    const auto lines = r.outLines();
    CHECK(std::find(lines.begin(), lines.end(), "shut off") != lines.end());
    CHECK(std::find(lines.begin(), lines.end(), "shut off (destroyed)") != lines.end());
}

TEST_CASE("domname, domid and domuuid agree with each other", "[cli]")
{
    CliSandbox box;
    const auto uuid = box.runTest("domuuid test");
    REQUIRE(uuid.exitCode == 0);
    const std::string u = uuid.outLines().at(0);
    CHECK(u.size() == 36);
    const auto id = box.runTest("domid test").outLines().at(0);
    CHECK(box.runTest("domname " + u).outLines().at(0) == "test");
    CHECK(box.runTest("domname " + id).outLines().at(0) == "test");
    CHECK(box.runTest("domid " + u).outLines().at(0) == id);
    CHECK(box.runTest("domuuid " + id).outLines().at(0) == u);
    // a DOMAIN argument takes the UUID too, and --domain works like the positional
    CHECK(box.runTest("domstate --domain " + u).exitCode == 0);
}

TEST_CASE("domid of a domain that is not running is '-'", "[cli]")
{
    CliSandbox box;
    const auto r = box.runTest("destroy test; domid test");
    REQUIRE(r.exitCode == 0);
    CHECK(r.outLines().back() != "1");
    CHECK(std::find(r.outLines().begin(), r.outLines().end(), "-") != r.outLines().end());
}

TEST_CASE("JSON output (--json) of listing and info commands parses", "[cli]")
{
    CliSandbox box;
    SECTION("list")
    {
        const auto r = box.runTest("list --all --json");
        REQUIRE(r.exitCode == 0);
        const auto arr = parseJson(r.out).extract<Poco::JSON::Array::Ptr>();
        REQUIRE(arr->size() == 1);
        const auto dom = arr->getObject(0);
        CHECK(dom->getValue<std::string>("name") == "test");
        CHECK(dom->getValue<int>("id") == 1);
        CHECK(dom->getValue<std::string>("state") == "running");
    }
    SECTION("an inactive domain's id is null")
    {
        const auto r = box.run({"--json", "-c", "test:///default", "destroy test; list --all"});
        REQUIRE(r.exitCode == 0);
        const auto arr = parseJson(r.outLines().back()).extract<Poco::JSON::Array::Ptr>();
        CHECK(arr->getObject(0)->isNull("id"));
    }
    SECTION("dominfo")
    {
        const auto r = box.runTest("dominfo test --json");
        REQUIRE(r.exitCode == 0);
        const auto obj = parseJson(r.out).extract<Poco::JSON::Object::Ptr>();
        CHECK(obj->getValue<std::string>("name") == "test");
        CHECK(obj->getValue<std::string>("os_type") == "hvm");
        CHECK(obj->getValue<bool>("persistent"));
        CHECK(obj->getValue<uint64_t>("max_memory_kib") > 0);
    }
    SECTION("domstate, uri, hostname, version")
    {
        for (const std::string cmd : {"domstate test --json", "uri --json", "hostname --json", "version --json",
                                      "domuuid test --json", "domid test --json"}) {
            const auto r = box.runTest(cmd);
            INFO(cmd << " printed " << r.out << r.err);
            REQUIRE(r.exitCode == 0);
            CHECK_NOTHROW(parseJson(r.out).extract<Poco::JSON::Object::Ptr>());
        }
        const auto uri = parseJson(box.runTest("uri --json").out).extract<Poco::JSON::Object::Ptr>();
        CHECK(uri->getValue<std::string>("uri") == "test:///default");
    }
    SECTION("a name that needs escaping")
    {
        const auto file = box.writeFile("odd.xml", domainXml("a&quot;b\\c &lt;\u00e9&gt;"));
        const auto r = box.runTest("define " + file + "; list --all --json");
        REQUIRE(r.exitCode == 0);
        const auto arr = parseJson(r.outLines().back()).extract<Poco::JSON::Array::Ptr>();
        bool found = false;
        for (std::size_t i = 0; i < arr->size(); i++)
            found = found || arr->getObject(static_cast<unsigned>(i))->getValue<std::string>("name") == "a\"b\\c <\u00e9>";
        CHECK(found);
    }
}

TEST_CASE("uri, hostname and version answer like virsh", "[cli]")
{
    CliSandbox box;
    const auto r = box.runTest("uri; hostname; version");
    REQUIRE(r.exitCode == 0);
    CHECK(r.outLines().at(0) == "test:///default");
    CHECK(!r.outLines().at(2).empty());
    CHECK(contains(r.out, "Compiled against library: virtkit " VIRTKIT_PROJECT_VERSION "\n"));
    CHECK(contains(r.out, "Using API: test "));
    CHECK(contains(r.out, "Running hypervisor: test "));
}

TEST_CASE("capabilities prints the driver's XML", "[cli]")
{
    CliSandbox box;
    const auto r = box.runTest("capabilities");
    REQUIRE(r.exitCode == 0);
    CHECK(contains(r.out, "<capabilities"));
}
