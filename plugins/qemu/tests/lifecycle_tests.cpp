// shutdown, reboot, qemu-monitor-command and domcapabilities through the
// built plugin with a real QEMU.  The guest is a disk-less PC sitting in
// SeaBIOS: it has no OS, so it never answers the ACPI power button.
#include <catch2/catch.hpp>

#include <thread>

#include <libxml/parser.h>
#include <libxml/relaxng.h>

#include "plugin_harness.hpp"

using namespace std::chrono_literals;
using namespace virtkit::qemu::testing;

namespace {

// Polls `info` a little: state changes from QMP events arrive asynchronously.
int32_t state_soon(Conn &conn, const std::string &uuid, int32_t wanted)
{
    for (int i = 0; i < 200 && conn.info(uuid).state != wanted; ++i)
        std::this_thread::sleep_for(5ms);
    return conn.info(uuid).state;
}

bool valid_against(const std::string &schema, const std::string &xml, std::string &errors)
{
    xmlRelaxNGParserCtxtPtr parser = xmlRelaxNGNewParserCtxt(schema.c_str());
    xmlRelaxNGPtr grammar = xmlRelaxNGParse(parser);
    xmlRelaxNGFreeParserCtxt(parser);
    if (!grammar) {
        errors = "cannot load " + schema;
        return false;
    }
    xmlDocPtr doc = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "domcaps.xml", nullptr, XML_PARSE_NONET);
    xmlRelaxNGValidCtxtPtr validator = xmlRelaxNGNewValidCtxt(grammar);
    const int rc = doc ? xmlRelaxNGValidateDoc(validator, doc) : -1;
    xmlRelaxNGFreeValidCtxt(validator);
    xmlRelaxNGFree(grammar);
    if (doc)
        xmlFreeDoc(doc);
    errors = rc == 0 ? "" : "the document does not validate (libxml2 printed why)";
    return rc == 0;
}

}  // namespace

TEST_CASE("shutdown of a guest that ignores ACPI times out with a clear error and the guest keeps running",
          "[qemu][plugin][qemu-real][lifecycle]")
{
    const TempDir root;
    const std::string uuid = fresh_uuid();
    const QemuGuard guard(uuid);
    Conn conn(root.path().string());
    REQUIRE(conn.define(guest_xml("firmware", uuid)).code == VIRTKIT_OK);
    REQUIRE(conn.run(ops().domain_start, uuid).code == VIRTKIT_OK);
    take_events();

    const auto began = std::chrono::steady_clock::now();
    const Outcome acpi = conn.run(ops().domain_shutdown, uuid, VIRTKIT_SHUTDOWN_ACPI_POWER_BTN);
    CHECK(acpi.code == VIRTKIT_ERR_TIMEOUT);
    CHECK_THAT(acpi.message, Catch::Contains("still running"));
    CHECK(std::chrono::steady_clock::now() - began >= 1500ms);  // the configured timeout
    CHECK(conn.info(uuid).state == VIRTKIT_DOMAIN_RUNNING);

    const Outcome agent = conn.run(ops().domain_shutdown, uuid, VIRTKIT_SHUTDOWN_GUEST_AGENT);
    CHECK(agent.code == VIRTKIT_ERR_NO_SUPPORT);
    CHECK_THAT(agent.message, Catch::Contains("guest agent"));
    CHECK(conn.run(ops().domain_reboot, uuid, VIRTKIT_SHUTDOWN_SIGNAL).code == VIRTKIT_ERR_NO_SUPPORT);

    // reboot only asks (as virsh's does); the guest in firmware does not react either
    CHECK(conn.run(ops().domain_reboot, uuid).code == VIRTKIT_OK);
    CHECK(conn.info(uuid).state == VIRTKIT_DOMAIN_RUNNING);
    CHECK(take_events().empty());
    REQUIRE(conn.run(ops().domain_destroy, uuid).code == VIRTKIT_OK);
    CHECK(conn.run(ops().domain_shutdown, uuid).code == VIRTKIT_ERR_OPERATION_INVALID);  // not running
}

TEST_CASE("qemu-monitor-command passes QMP and HMP through and state follows the events it causes",
          "[qemu][plugin][qemu-real][lifecycle]")
{
    const TempDir root;
    const std::string uuid = fresh_uuid();
    const QemuGuard guard(uuid);
    Conn conn(root.path().string());
    REQUIRE(conn.define(guest_xml("monitored", uuid)).code == VIRTKIT_OK);
    Outcome outcome;
    conn.monitor(uuid, R"({"execute":"query-status"})", 0, &outcome);
    CHECK(outcome.code == VIRTKIT_ERR_OPERATION_INVALID);  // not running
    REQUIRE(conn.run(ops().domain_start, uuid).code == VIRTKIT_OK);

    const std::string reply = conn.monitor(uuid, R"({"execute":"query-name"})", 0, &outcome);
    CHECK(outcome.code == VIRTKIT_OK);
    CHECK_THAT(reply, Catch::StartsWith("{") && Catch::Contains("\"return\"") && Catch::Contains("monitored"));
    CHECK_THAT(conn.monitor(uuid, "info status", VIRTKIT_MONITOR_HMP, &outcome), Catch::Contains("VM status: running"));
    CHECK(outcome.code == VIRTKIT_OK);
    CHECK_THAT(conn.monitor(uuid, R"({"execute":"no-such-command"})", 0, &outcome), Catch::Contains("CommandNotFound"));
    CHECK(outcome.code == VIRTKIT_OK);  // QEMU's error reply is the answer, as in virsh
    conn.monitor(uuid, "{not json", 0, &outcome);
    CHECK(outcome.code == VIRTKIT_ERR_INVALID_ARG);
    conn.monitor(uuid, "info status", 1u << 7, &outcome);
    CHECK(outcome.code == VIRTKIT_ERR_INVALID_ARG);

    conn.monitor(uuid, R"({"execute":"stop"})", 0, &outcome);
    CHECK(state_soon(conn, uuid, VIRTKIT_DOMAIN_PAUSED) == VIRTKIT_DOMAIN_PAUSED);
    CHECK(conn.info(uuid).reason == 0);  // not paused by us: unknown, as libvirt says
    CHECK(conn.run(ops().domain_destroy, uuid).code == VIRTKIT_OK);
}

TEST_CASE("domcapabilities describes the probed QEMU in libvirt's format", "[qemu][plugin][qemu-real][capabilities]")
{
    const TempDir root;
    Conn conn(root.path().string());
    const auto caps = [&](const char *machine, const char *virttype, Outcome &outcome) {
        char *xml = nullptr;
        outcome = attempt([&](virtkit_error *e) {
            return ops().connect_get_domain_capabilities(conn.handle(), nullptr, nullptr, machine, virttype, 0, &xml,
                                                         e);
        });
        std::string text = xml ? xml : "";
        if (xml)
            ops().free_string(xml);
        return text;
    };
    Outcome outcome;
    const std::string xml = caps(nullptr, "qemu", outcome);
    REQUIRE(outcome.code == VIRTKIT_OK);
    std::string errors;
    CHECK(valid_against(VIRTKIT_CONFORMANCE_DIR "/src/conf/schemas/domaincaps.rng", xml, errors));
    INFO(errors);
    CHECK_THAT(xml, Catch::Contains("<domain>qemu</domain>") && Catch::Contains("<path>/usr/bin/qemu-system-x86_64</path>") &&
                        Catch::Contains("<machine>pc-i440fx-") && Catch::Contains(">qemu64</model>"));
    CHECK_THAT(caps("q35", "qemu", outcome), Catch::Contains("<machine>pc-q35-"));  // the alias, resolved

    caps("no-such-machine", nullptr, outcome);
    CHECK(outcome.code == VIRTKIT_ERR_NO_SUPPORT);
    CHECK_THAT(outcome.message, Catch::Contains("no-such-machine"));
    caps(nullptr, "xen", outcome);
    CHECK(outcome.code == VIRTKIT_ERR_INVALID_ARG);
}
