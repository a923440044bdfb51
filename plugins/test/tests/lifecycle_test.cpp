// Domain lifecycle on test:///default: libvirt's states, reasons and ids.
#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "plugin_fixture.hpp"

using namespace testplugin;

namespace {

constexpr const char *kUuid = "aaaaaaaa-bbbb-cccc-dddd-000000000001";

// libvirt's reasons (virDomainRunningReason, ...).
constexpr int32_t kRunningBooted = 1, kRunningUnpaused = 5, kPausedUser = 1;
constexpr int32_t kShutoffUnknown = 0, kShutoffShutdown = 1, kShutoffDestroyed = 2;

void checkState(Connection &conn, const std::string &uuid, int32_t state, int32_t reason)
{
    const virtkit_domain_info info = conn.info(uuid);
    CHECK(info.state == state);
    CHECK(info.reason == reason);
}

}  // namespace

TEST_CASE("a defined domain is shut off, persistent and without an id", "[test-driver]")
{
    Connection conn;
    const virtkit_domain_ident ident = conn.define(domainXml("vm1", kUuid, "  <currentMemory unit='KiB'>262144</currentMemory>\n"));
    CHECK(std::string(ident.name) == "vm1");
    CHECK(std::string(ident.uuid) == kUuid);
    CHECK(ident.id == -1);

    const virtkit_domain_info info = conn.info(kUuid);
    CHECK(info.state == VIRTKIT_DOMAIN_SHUTOFF);
    CHECK(info.reason == kShutoffUnknown);
    CHECK(info.persistent == 1);
    CHECK(info.max_mem_kib == 512 * 1024);
    CHECK(info.memory_kib == 262144);
    CHECK(info.nr_vcpus == 1);
    CHECK(info.cpu_time_ns == 0);
    CHECK(conn.names(VIRTKIT_LIST_INACTIVE) == std::vector<std::string>{"vm1"});
    CHECK(conn.names(VIRTKIT_LIST_ACTIVE) == std::vector<std::string>{"test"});
}

TEST_CASE("start, suspend, resume, reboot, shutdown and destroy follow libvirt's states and reasons", "[test-driver]")
{
    Connection conn;
    conn.define(domainXml("vm1", kUuid));

    REQUIRE(conn.start(kUuid).ok());
    checkState(conn, kUuid, VIRTKIT_DOMAIN_RUNNING, kRunningBooted);
    REQUIRE(conn.suspend(kUuid).ok());
    checkState(conn, kUuid, VIRTKIT_DOMAIN_PAUSED, kPausedUser);
    REQUIRE(conn.resume(kUuid).ok());
    checkState(conn, kUuid, VIRTKIT_DOMAIN_RUNNING, kRunningUnpaused);
    REQUIRE(conn.reboot(kUuid).ok());
    checkState(conn, kUuid, VIRTKIT_DOMAIN_RUNNING, kRunningBooted);
    REQUIRE(conn.shutdown(kUuid).ok());
    checkState(conn, kUuid, VIRTKIT_DOMAIN_SHUTOFF, kShutoffShutdown);
    REQUIRE(conn.start(kUuid).ok());
    REQUIRE(conn.destroy(kUuid).ok());
    checkState(conn, kUuid, VIRTKIT_DOMAIN_SHUTOFF, kShutoffDestroyed);
    CHECK(conn.info(kUuid).persistent == 1);
}

TEST_CASE("each start takes the next id and a shut-off domain has none", "[test-driver]")
{
    Connection conn;  // 'test' took id 1 when the state was created
    conn.define(domainXml("vm1", kUuid));
    REQUIRE(conn.start(kUuid).ok());
    CHECK(conn.lookupByName("vm1").id == 2);
    REQUIRE(conn.destroy(kUuid).ok());
    CHECK(conn.lookupByName("vm1").id == -1);
    REQUIRE(conn.start(kUuid).ok());
    CHECK(conn.lookupByName("vm1").id == 3);

    virtkit_domain_ident byId{};
    byId.struct_size = sizeof byId;
    REQUIRE(attempt([&](virtkit_error *err) { return ops().domain_lookup_by_id(conn.handle(), 3, &byId, err); }).ok());
    CHECK(std::string(byId.name) == "vm1");
    const Outcome old = attempt([&](virtkit_error *err) { return ops().domain_lookup_by_id(conn.handle(), 2, &byId, err); });
    CHECK(old.code == VIRTKIT_ERR_NO_DOMAIN);
}

TEST_CASE("cpu time grows while running, stands still while paused and resets when shut off", "[test-driver]")
{
    Connection conn;
    conn.define(domainXml("vm1", kUuid));
    REQUIRE(conn.start(kUuid).ok());
    const uint64_t first = conn.info(kUuid).cpu_time_ns;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const uint64_t later = conn.info(kUuid).cpu_time_ns;
    CHECK(later > first);

    REQUIRE(conn.suspend(kUuid).ok());
    const uint64_t paused = conn.info(kUuid).cpu_time_ns;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    CHECK(conn.info(kUuid).cpu_time_ns == paused);

    REQUIRE(conn.destroy(kUuid).ok());
    CHECK(conn.info(kUuid).cpu_time_ns == 0);
}

TEST_CASE("a transient domain runs at once and vanishes when it stops", "[test-driver]")
{
    Connection conn;
    SECTION("by destroy")
    {
        const virtkit_domain_ident ident = conn.create(domainXml("temp", kUuid));
        CHECK(ident.id >= 2);
        CHECK(conn.info(kUuid).persistent == 0);
        checkState(conn, kUuid, VIRTKIT_DOMAIN_RUNNING, kRunningBooted);
        REQUIRE(conn.destroy(kUuid).ok());
    }
    SECTION("by shutdown")
    {
        conn.create(domainXml("temp", kUuid));
        REQUIRE(conn.shutdown(kUuid).ok());
    }
    CHECK(conn.tryLookupByUuid(kUuid).code == VIRTKIT_ERR_NO_DOMAIN);
    CHECK(conn.names() == std::vector<std::string>{"test"});
}

TEST_CASE("undefining a running domain leaves it running as a transient one", "[test-driver]")
{
    Connection conn;
    conn.define(domainXml("vm1", kUuid));
    REQUIRE(conn.start(kUuid).ok());
    REQUIRE(conn.undefine(kUuid).ok());

    const virtkit_domain_info info = conn.info(kUuid);
    CHECK(info.state == VIRTKIT_DOMAIN_RUNNING);
    CHECK(info.persistent == 0);

    REQUIRE(conn.destroy(kUuid).ok());
    CHECK(conn.tryLookupByUuid(kUuid).code == VIRTKIT_ERR_NO_DOMAIN);
}

TEST_CASE("undefining a shut-off domain removes it", "[test-driver]")
{
    Connection conn;
    conn.define(domainXml("vm1", kUuid));
    REQUIRE(conn.undefine(kUuid).ok());
    CHECK(conn.tryLookupByUuid(kUuid).code == VIRTKIT_ERR_NO_DOMAIN);
}

TEST_CASE("domain XML comes back as written, with an id only while running", "[test-driver]")
{
    Connection conn;
    const std::string written = domainXml("vm1", kUuid, "  <!-- kept -->\n  <devices>\n    <disk type='file' device='disk'/>\n  </devices>\n");
    conn.define(written);

    const std::string shutOff = conn.xml(kUuid);
    CHECK_THAT(shutOff, Catch::StartsWith("<domain type=\"test\">"));
    CHECK_THAT(shutOff, Catch::Contains("<!-- kept -->"));
    CHECK_THAT(shutOff, Catch::Contains("<disk type=\"file\" device=\"disk\"/>"));
    CHECK_THAT(shutOff, Catch::Contains("<memory unit=\"MiB\">512</memory>"));

    REQUIRE(conn.start(kUuid).ok());
    const std::string running = conn.xml(kUuid);
    CHECK_THAT(running, Catch::StartsWith("<domain type=\"test\" id=\"2\">"));
    CHECK(conn.xml(kUuid, /*VIR_DOMAIN_XML_INACTIVE*/ 2) == shutOff);
}

TEST_CASE("a domain without a uuid gets one, and an id in the XML is ignored", "[test-driver]")
{
    Connection conn;
    const virtkit_domain_ident ident =
        conn.define("<domain type='test' id='42'><name>nouuid</name><memory>1024</memory></domain>");
    CHECK(std::string(ident.uuid).size() == 36);
    CHECK(ident.id == -1);
    const std::string xml = conn.xml(ident.uuid);
    CHECK_THAT(xml, Catch::Contains("<uuid>" + std::string(ident.uuid) + "</uuid>"));
    CHECK_THAT(xml, !Catch::Contains("id="));
}

TEST_CASE("redefining a domain replaces its definition", "[test-driver]")
{
    Connection conn;
    conn.define(domainXml("vm1", kUuid));
    conn.define(domainXml("vm1", kUuid, "  <description>second</description>\n"));
    CHECK_THAT(conn.xml(kUuid), Catch::Contains("second"));
    CHECK(conn.names() == std::vector<std::string>{"test", "vm1"});
}

TEST_CASE("redefining a running domain takes effect when it stops", "[test-driver]")
{
    Connection conn;
    conn.define(domainXml("vm1", kUuid));
    REQUIRE(conn.start(kUuid).ok());
    conn.define(domainXml("vm1", kUuid, "  <description>next boot</description>\n"));

    CHECK_THAT(conn.xml(kUuid), !Catch::Contains("next boot"));
    CHECK_THAT(conn.xml(kUuid, 2), Catch::Contains("next boot"));
    REQUIRE(conn.destroy(kUuid).ok());
    CHECK_THAT(conn.xml(kUuid), Catch::Contains("next boot"));
}

TEST_CASE("creating over a shut-off persistent domain runs the new definition once", "[test-driver]")
{
    Connection conn;
    conn.define(domainXml("vm1", kUuid));
    conn.create(domainXml("vm1", kUuid, "  <description>one-off</description>\n"));
    CHECK(conn.info(kUuid).persistent == 1);
    CHECK_THAT(conn.xml(kUuid), Catch::Contains("one-off"));
    REQUIRE(conn.destroy(kUuid).ok());
    CHECK_THAT(conn.xml(kUuid), !Catch::Contains("one-off"));
}

TEST_CASE("autostart is remembered for persistent domains and refused for transient ones", "[test-driver]")
{
    Connection conn;
    conn.define(domainXml("vm1", kUuid));
    int32_t autostart = -1;
    REQUIRE(attempt([&](virtkit_error *err) { return ops().domain_get_autostart(conn.handle(), kUuid, &autostart, err); }).ok());
    CHECK(autostart == 0);
    REQUIRE(attempt([&](virtkit_error *err) { return ops().domain_set_autostart(conn.handle(), kUuid, 1, err); }).ok());
    REQUIRE(attempt([&](virtkit_error *err) { return ops().domain_get_autostart(conn.handle(), kUuid, &autostart, err); }).ok());
    CHECK(autostart == 1);

    const std::string transient = "aaaaaaaa-bbbb-cccc-dddd-000000000002";
    conn.create(domainXml("temp", transient));
    const Outcome refused =
        attempt([&](virtkit_error *err) { return ops().domain_set_autostart(conn.handle(), transient.c_str(), 1, err); });
    CHECK(refused.code == VIRTKIT_ERR_OPERATION_INVALID);
    CHECK_THAT(refused.message, Catch::Contains("transient") && Catch::Contains("temp"));
}

TEST_CASE("on_reboot destroy makes a reboot stop the domain", "[test-driver]")
{
    Connection conn;
    conn.define(domainXml("vm1", kUuid, "  <on_reboot>destroy</on_reboot>\n"));
    REQUIRE(conn.start(kUuid).ok());
    REQUIRE(conn.reboot(kUuid).ok());
    checkState(conn, kUuid, VIRTKIT_DOMAIN_SHUTOFF, kShutoffShutdown);
}

TEST_CASE("memory units are converted to KiB as libvirt does", "[test-driver]")
{
    Connection conn;
    const auto defineWith = [&](const std::string &memory) {
        const std::string xml = "<domain type='test'><name>m</name><uuid>" + std::string(kUuid) + "</uuid>" + memory +
                                "</domain>";
        conn.define(xml);
        return conn.info(kUuid).max_mem_kib;
    };
    CHECK(defineWith("<memory>1000</memory>") == 1000);
    CHECK(defineWith("<memory unit='GiB'>2</memory>") == 2 * 1024 * 1024);
    CHECK(defineWith("<memory unit='G'>1</memory>") == 1024 * 1024);
    CHECK(defineWith("<memory unit='MB'>1</memory>") == 977);  // 10^6 bytes, rounded up
    CHECK(defineWith("<memory unit='bytes'>1</memory>") == 1);
}
