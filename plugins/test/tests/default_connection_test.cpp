// test:///default: libvirt's default node, shared by every connection to it.
#include <unistd.h>

#include <climits>
#include <memory>
#include <string>

#include <catch2/catch.hpp>
#include <libxml/parser.h>
#include <libxml/relaxng.h>

#include "plugin_fixture.hpp"

using namespace testplugin;

namespace {

constexpr const char *kDefaultUuid = "6695eb01-f6a4-8304-79aa-97f2502e193f";

// Validates with libvirt's own grammar; returns the validator's verdict (0 = valid).
int validateAgainst(const std::string &schema, const std::string &xml)
{
    const std::unique_ptr<xmlRelaxNGParserCtxt, decltype(&xmlRelaxNGFreeParserCtxt)> parser(
        xmlRelaxNGNewParserCtxt(schema.c_str()), xmlRelaxNGFreeParserCtxt);
    const std::unique_ptr<xmlRelaxNG, decltype(&xmlRelaxNGFree)> grammar(xmlRelaxNGParse(parser.get()), xmlRelaxNGFree);
    REQUIRE(grammar);
    const std::unique_ptr<xmlRelaxNGValidCtxt, decltype(&xmlRelaxNGFreeValidCtxt)> validator(
        xmlRelaxNGNewValidCtxt(grammar.get()), xmlRelaxNGFreeValidCtxt);
    const std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> doc(
        xmlReadMemory(xml.data(), static_cast<int>(xml.size()), nullptr, nullptr, XML_PARSE_NONET), xmlFreeDoc);
    REQUIRE(doc);
    return xmlRelaxNGValidateDoc(validator.get(), doc.get());
}

}  // namespace

TEST_CASE("test:///default starts with libvirt's running domain 'test'", "[test-driver]")
{
    Connection conn;
    CHECK(conn.names() == std::vector<std::string>{"test"});

    const virtkit_domain_ident test = conn.lookupByName("test");
    CHECK(std::string(test.uuid) == kDefaultUuid);
    CHECK(test.id == 1);

    const virtkit_domain_info info = conn.info(kDefaultUuid);
    CHECK(info.state == VIRTKIT_DOMAIN_RUNNING);
    CHECK(info.persistent == 1);
    CHECK(info.max_mem_kib == 8388608);
    CHECK(info.memory_kib == 2097152);
    CHECK(info.nr_vcpus == 2);

    const std::string xml = conn.xml(kDefaultUuid);
    CHECK_THAT(xml, Catch::StartsWith("<domain type=\"test\" id=\"1\">"));
    CHECK_THAT(xml, Catch::Contains("<type>hvm</type>"));
}

TEST_CASE("connections to test:///default share one state that lasts until the last close", "[test-driver]")
{
    const std::string uuid = "11111111-2222-3333-4444-555555555555";
    {
        Connection first;
        {
            Connection second;
            first.define(domainXml("shared", uuid));
            CHECK(second.names() == std::vector<std::string>{"shared", "test"});
            REQUIRE(second.destroy(kDefaultUuid).ok());
        }
        // Closing one connection keeps the state for the others.
        CHECK(first.names() == std::vector<std::string>{"shared", "test"});
        CHECK(first.info(kDefaultUuid).state == VIRTKIT_DOMAIN_SHUTOFF);
    }
    Connection fresh;
    CHECK(fresh.names() == std::vector<std::string>{"test"});
    CHECK(fresh.lookupByName("test").id == 1);
    CHECK(fresh.info(kDefaultUuid).state == VIRTKIT_DOMAIN_RUNNING);
    takeEvents();
}

TEST_CASE("capabilities describe libvirt's test host and validate against capability.rng", "[test-driver]")
{
    Connection conn;
    const std::string caps = conn.capabilities();
    CHECK_THAT(caps, Catch::Contains("<arch>i686</arch>"));
    CHECK_THAT(caps, Catch::Contains("<cells num='2'>"));
    CHECK_THAT(caps, Catch::Contains("<os_type>hvm</os_type>"));
    CHECK_THAT(caps, Catch::Contains("<os_type>xen</os_type>"));
    CHECK_THAT(caps, Catch::Contains("<domain type='test'/>"));
    CHECK(validateAgainst(std::string(VIRTKIT_CONFORMANCE_DIR) + "/src/conf/schemas/capability.rng", caps) == 0);
}

TEST_CASE("the hostname is the machine's and the version is libvirt's test driver's", "[test-driver]")
{
    Connection conn;
    char expected[HOST_NAME_MAX + 1] = {};
    REQUIRE(gethostname(expected, sizeof expected - 1) == 0);

    char *hostname = nullptr;
    REQUIRE(attempt([&](virtkit_error *err) { return ops().connect_get_hostname(conn.handle(), &hostname, err); }).ok());
    CHECK(std::string(hostname) == expected);
    ops().free_string(hostname);

    uint64_t version = 0;
    REQUIRE(attempt([&](virtkit_error *err) { return ops().connect_get_version(conn.handle(), &version, err); }).ok());
    CHECK(version == 2);
}
