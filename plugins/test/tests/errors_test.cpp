// Refusals: each names what was wrong and changes nothing.
#include <string>

#include <catch2/catch.hpp>

#include "plugin_fixture.hpp"

using namespace testplugin;

namespace {

constexpr const char *kUuid = "aaaaaaaa-bbbb-cccc-dddd-000000000001";
constexpr const char *kOtherUuid = "aaaaaaaa-bbbb-cccc-dddd-000000000002";

}  // namespace

TEST_CASE("starting a running domain is refused as already running", "[test-driver]")
{
    Connection conn;
    conn.define(domainXml("vm1", kUuid));
    REQUIRE(conn.start(kUuid).ok());
    const int32_t id = conn.lookupByName("vm1").id;
    takeEvents();

    const Outcome again = conn.start(kUuid);
    CHECK(again.code == VIRTKIT_ERR_OPERATION_INVALID);
    CHECK_THAT(again.message, Catch::Contains("vm1") && Catch::Contains("already running"));
    CHECK(conn.lookupByName("vm1").id == id);
    CHECK(takeEvents().empty());
}

TEST_CASE("state changes that do not fit the domain's state are refused", "[test-driver]")
{
    Connection conn;
    conn.define(domainXml("vm1", kUuid));
    takeEvents();

    const Outcome suspendOff = conn.suspend(kUuid);
    CHECK(suspendOff.code == VIRTKIT_ERR_OPERATION_INVALID);
    CHECK_THAT(suspendOff.message, Catch::Contains("not running"));
    CHECK(conn.resume(kUuid).code == VIRTKIT_ERR_OPERATION_INVALID);
    CHECK(conn.shutdown(kUuid).code == VIRTKIT_ERR_OPERATION_INVALID);
    CHECK(conn.destroy(kUuid).code == VIRTKIT_ERR_OPERATION_INVALID);
    CHECK(conn.reboot(kUuid).code == VIRTKIT_ERR_OPERATION_INVALID);
    CHECK(conn.info(kUuid).state == VIRTKIT_DOMAIN_SHUTOFF);

    REQUIRE(conn.start(kUuid).ok());
    const Outcome resumeRunning = conn.resume(kUuid);
    CHECK(resumeRunning.code == VIRTKIT_ERR_OPERATION_INVALID);
    CHECK_THAT(resumeRunning.message, Catch::Contains("not paused"));
    REQUIRE(conn.suspend(kUuid).ok());
    const Outcome suspendPaused = conn.suspend(kUuid);
    CHECK(suspendPaused.code == VIRTKIT_ERR_OPERATION_INVALID);
    CHECK_THAT(suspendPaused.message, Catch::Contains("already paused"));
    CHECK(conn.info(kUuid).state == VIRTKIT_DOMAIN_PAUSED);
    CHECK(takeEvents().size() == 2);  // started, suspended: the refusals emitted nothing
}

TEST_CASE("operations on an unknown uuid report that there is no such domain", "[test-driver]")
{
    Connection conn;
    for (const Outcome &outcome : {conn.start(kUuid), conn.destroy(kUuid), conn.suspend(kUuid), conn.resume(kUuid),
                                   conn.shutdown(kUuid), conn.reboot(kUuid), conn.undefine(kUuid),
                                   conn.tryInfo(kUuid), conn.tryLookupByUuid(kUuid)}) {
        CHECK(outcome.code == VIRTKIT_ERR_NO_DOMAIN);
        CHECK_THAT(outcome.message, Catch::Contains(kUuid));
    }
    virtkit_domain_ident ident{};
    ident.struct_size = sizeof ident;
    const Outcome byName =
        attempt([&](virtkit_error *err) { return ops().domain_lookup_by_name(conn.handle(), "ghost", &ident, err); });
    CHECK(byName.code == VIRTKIT_ERR_NO_DOMAIN);
    CHECK_THAT(byName.message, Catch::Contains("ghost"));
}

TEST_CASE("a malformed uuid argument is an invalid argument", "[test-driver]")
{
    Connection conn;
    const Outcome bad = conn.start("not-a-uuid");
    CHECK(bad.code == VIRTKIT_ERR_INVALID_ARG);
    CHECK_THAT(bad.message, Catch::Contains("not-a-uuid"));
}

TEST_CASE("uuids are matched in any spelling libvirt accepts", "[test-driver]")
{
    Connection conn;
    conn.define(domainXml("vm1", "AAAAAAAABBBBCCCCDDDD000000000001"));
    CHECK(conn.tryLookupByUuid(kUuid).ok());
    CHECK(conn.start("AAAAAAAA-BBBB-CCCC-DDDD-000000000001").ok());
    CHECK(std::string(conn.lookupByName("vm1").uuid) == kUuid);
}

TEST_CASE("a name already used by another uuid is refused", "[test-driver]")
{
    Connection conn;
    conn.define(domainXml("vm1", kUuid));
    takeEvents();
    for (const Outcome &outcome : {conn.tryDefine(domainXml("vm1", kOtherUuid)), conn.tryCreate(domainXml("vm1", kOtherUuid))}) {
        CHECK(outcome.code == VIRTKIT_ERR_DOMAIN_EXISTS);
        CHECK_THAT(outcome.message, Catch::Contains("vm1") && Catch::Contains(kUuid));
    }
    CHECK(conn.tryLookupByUuid(kOtherUuid).code == VIRTKIT_ERR_NO_DOMAIN);
    CHECK(takeEvents().empty());
}

TEST_CASE("renaming a domain by redefining its uuid is refused", "[test-driver]")
{
    Connection conn;
    conn.define(domainXml("vm1", kUuid));
    const Outcome renamed = conn.tryDefine(domainXml("vm2", kUuid));
    CHECK(renamed.code == VIRTKIT_ERR_DOMAIN_EXISTS);
    CHECK_THAT(renamed.message, Catch::Contains("vm1"));
    CHECK(conn.names() == std::vector<std::string>{"test", "vm1"});
}

TEST_CASE("creating a domain that is already running is refused", "[test-driver]")
{
    Connection conn;
    const std::string running = conn.lookupByName("test").uuid;
    const Outcome created = conn.tryCreate(domainXml("test", running));
    CHECK(created.code == VIRTKIT_ERR_OPERATION_INVALID);
    CHECK_THAT(created.message, Catch::Contains("already active"));
    CHECK(conn.lookupByName("test").id == 1);
}

TEST_CASE("undefining a transient domain is refused", "[test-driver]")
{
    Connection conn;
    conn.create(domainXml("temp", kUuid));
    const Outcome refused = conn.undefine(kUuid);
    CHECK(refused.code == VIRTKIT_ERR_OPERATION_INVALID);
    CHECK_THAT(refused.message, Catch::Contains("transient"));
    CHECK(conn.info(kUuid).state == VIRTKIT_DOMAIN_RUNNING);
}

TEST_CASE("unacceptable domain XML is refused with a reason and defines nothing", "[test-driver]")
{
    Connection conn;
    const auto refusal = [&](const std::string &xml) {
        const Outcome outcome = conn.tryDefine(xml);
        CHECK(outcome.code == VIRTKIT_ERR_XML);
        return outcome.message;
    };
    CHECK_THAT(refusal("<domain type='test'><name>x</name>\n<memory>1</memory"), Catch::Contains("line 2"));
    CHECK_THAT(refusal("<vm><name>x</name></vm>"), Catch::Contains("<vm>"));
    CHECK_THAT(refusal("<domain type='test'><memory>1024</memory></domain>"), Catch::Contains("<name>"));
    CHECK_THAT(refusal("<domain type='test'><name>x</name></domain>"), Catch::Contains("<memory>"));
    CHECK_THAT(refusal("<domain type='test'><name>x</name><memory unit='parsecs'>1</memory></domain>"),
               Catch::Contains("parsecs"));
    CHECK_THAT(refusal("<domain type='test'><name>x</name><memory>-5</memory></domain>"), Catch::Contains("-5"));
    CHECK_THAT(refusal("<domain type='test'><name>x</name><uuid>123</uuid><memory>1</memory></domain>"),
               Catch::Contains("123"));
    CHECK_THAT(refusal("<domain type='test'><name>x</name><memory>1</memory><vcpu current='4'>2</vcpu></domain>"),
               Catch::Contains("vcpu"));
    CHECK_THAT(refusal("<domain type='test'><name>" + std::string(300, 'n') + "</name><memory>1</memory></domain>"),
               Catch::Contains("256") || Catch::Contains("255"));
    CHECK(conn.names() == std::vector<std::string>{"test"});
}

TEST_CASE("domain XML with a DOCTYPE or entities is refused without expanding anything", "[test-driver]")
{
    Connection conn;
    const std::string laughs = "<?xml version='1.0'?><!DOCTYPE domain [<!ENTITY a 'aaaaaaaaaa'>"
                               "<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>]>"
                               "<domain type='test'><name>&b;</name><memory>1</memory></domain>";
    const Outcome dtd = conn.tryDefine(laughs);
    CHECK(dtd.code == VIRTKIT_ERR_XML);
    CHECK_THAT(dtd.message, Catch::Contains("DOCTYPE"));

    const std::string external = "<!DOCTYPE domain SYSTEM 'http://example.invalid/x.dtd'>"
                                 "<domain type='test'><name>x</name><memory>1</memory></domain>";
    CHECK(conn.tryDefine(external).code == VIRTKIT_ERR_XML);

    const Outcome undeclared = conn.tryDefine("<domain type='test'><name>&x;</name><memory>1</memory></domain>");
    CHECK(undeclared.code == VIRTKIT_ERR_XML);
    CHECK(conn.names() == std::vector<std::string>{"test"});
}

TEST_CASE("unsupported flags are refused", "[test-driver]")
{
    Connection conn;
    const std::string test = conn.lookupByName("test").uuid;
    const Outcome flagged =
        attempt([&](virtkit_error *err) { return ops().domain_destroy(conn.handle(), test.c_str(), 0x80, err); });
    CHECK(flagged.code == VIRTKIT_ERR_INVALID_ARG);
    CHECK_THAT(flagged.message, Catch::Contains("0x80"));
    CHECK(conn.info(test).state == VIRTKIT_DOMAIN_RUNNING);
}

TEST_CASE("NULL arguments are refused instead of crashing", "[test-driver]")
{
    Connection conn;
    const std::string test = conn.lookupByName("test").uuid;
    virtkit_domain_ident ident{};
    ident.struct_size = sizeof ident;
    CHECK(attempt([&](virtkit_error *err) { return ops().domain_start(conn.handle(), nullptr, 0, err); }).code ==
          VIRTKIT_ERR_INVALID_ARG);
    CHECK(attempt([&](virtkit_error *err) { return ops().domain_start(nullptr, test.c_str(), 0, err); }).code ==
          VIRTKIT_ERR_INVALID_ARG);
    CHECK(attempt([&](virtkit_error *err) { return ops().domain_define_xml(conn.handle(), nullptr, 0, &ident, err); })
              .code == VIRTKIT_ERR_INVALID_ARG);
    CHECK(attempt([&](virtkit_error *err) { return ops().domain_get_info(conn.handle(), test.c_str(), nullptr, err); })
              .code == VIRTKIT_ERR_INVALID_ARG);
    CHECK(attempt([&](virtkit_error *err) { return ops().connect_open(nullptr, 0, nullptr, err); }).code ==
          VIRTKIT_ERR_INVALID_ARG);
    CHECK(attempt([&](virtkit_error *err) { return ops().connect_close(nullptr, err); }).code == VIRTKIT_ERR_INVALID_ARG);
}
