// The built plugin, loaded with dlopen and driven through the C ABI only,
// against real QEMU for everything that starts a guest.
#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <thread>

#include "plugin_harness.hpp"

using namespace std::chrono_literals;
using namespace virtkit::qemu::testing;

TEST_CASE("qemu URIs other than system, session and embed?root= are refused", "[qemu][plugin]")
{
    for (const char *uri : {"qemu:///bogus", "qemu:///embed", "qemu:///embed?root=relative", "qemu:///system?x=1"}) {
        virtkit_conn *conn = nullptr;
        const Outcome outcome = attempt([&](virtkit_error *e) { return ops().connect_open(uri, 0, &conn, e); });
        CHECK(outcome.code == VIRTKIT_ERR_INVALID_ARG);
        CHECK_THAT(outcome.message, Catch::Contains(uri));
    }
}

TEST_CASE("definitions persist per root: two embed roots are two hosts", "[qemu][plugin]")
{
    const TempDir a, b;
    const std::string uuid1 = fresh_uuid();
    {
        Conn host_a(a.path().string());
        REQUIRE(host_a.define(guest_xml("alpha", uuid1)).code == VIRTKIT_OK);
        CHECK(host_a.names(VIRTKIT_LIST_INACTIVE) == std::vector<std::string>{"alpha"});
        CHECK(host_a.define(guest_xml("alpha", fresh_uuid())).code == VIRTKIT_ERR_DOMAIN_EXISTS);
    }
    Conn host_b(b.path().string());
    CHECK(host_b.names(0).empty());
    Conn reopened(a.path().string());
    CHECK(reopened.names(0) == std::vector<std::string>{"alpha"});
    CHECK(reopened.run(ops().domain_undefine, uuid1).code == VIRTKIT_OK);
    CHECK(Conn(a.path().string()).names(0).empty());
}

TEST_CASE("XML the driver cannot honour is refused at define and nothing is stored", "[qemu][plugin]")
{
    const TempDir root;
    const std::string uuid1 = fresh_uuid();
    Conn conn(root.path().string());
    const Outcome hostdev = conn.define(guest_xml("h", uuid1, "<hostdev mode='subsystem' type='pci'/>"));
    CHECK(hostdev.code == VIRTKIT_ERR_NO_SUPPORT);
    CHECK_THAT(hostdev.message, Catch::Contains("hostdev"));
    CHECK(conn.define("<domain type='qemu'><name>x</name>").code == VIRTKIT_ERR_XML);
    CHECK(conn.names(0).empty());
}

TEST_CASE("virtual networks come from the plugin's config section; unknown ones are refused at define",
          "[qemu][plugin][net]")
{
    const TempDir root;
    Conn conn(root.path().string());
    CHECK(conn.define(guest_xml("onlan", fresh_uuid(),
                                "<interface type='network'><source network='lan'/></interface>")).code == VIRTKIT_OK);
    CHECK(conn.define(guest_xml("ondefault", fresh_uuid(),
                                "<interface type='network'><source network='default'/></interface>")).code ==
          VIRTKIT_OK);
    const Outcome unknown =
        conn.define(guest_xml("nowhere", fresh_uuid(), "<interface type='network'><source network='wan'/></interface>"));
    CHECK(unknown.code == VIRTKIT_ERR_NO_SUPPORT);
    CHECK_THAT(unknown.message, Catch::Contains("'wan'") && Catch::Contains("networks"));
    auto defined = conn.names(VIRTKIT_LIST_INACTIVE);
    std::sort(defined.begin(), defined.end());
    CHECK(defined == std::vector<std::string>{"ondefault", "onlan"});
}

TEST_CASE("a guest starts under real QEMU, pauses, resumes and is destroyed, with events", "[qemu][plugin][qemu-real]")
{
    const TempDir root;
    const std::string uuid1 = fresh_uuid();
    Conn conn(root.path().string());
    REQUIRE(conn.define(guest_xml("life", uuid1)).code == VIRTKIT_OK);
    take_events();

    REQUIRE(conn.run(ops().domain_start, uuid1).message == "");
    CHECK(conn.info(uuid1).state == VIRTKIT_DOMAIN_RUNNING);
    CHECK(conn.info(uuid1).reason == 1);  // booted
    CHECK(conn.names(VIRTKIT_LIST_ACTIVE) == std::vector<std::string>{"life"});
    const pid_t pid = qemu_pid_of(uuid1);
    CHECK(pid > 0);
    CHECK(conn.run(ops().domain_start, uuid1).code == VIRTKIT_ERR_OPERATION_INVALID);

    REQUIRE(conn.run(ops().domain_suspend, uuid1).code == VIRTKIT_OK);
    CHECK(conn.info(uuid1).state == VIRTKIT_DOMAIN_PAUSED);
    REQUIRE(conn.run(ops().domain_resume, uuid1).code == VIRTKIT_OK);
    CHECK(conn.info(uuid1).state == VIRTKIT_DOMAIN_RUNNING);

    REQUIRE(conn.run(ops().domain_destroy, uuid1).code == VIRTKIT_OK);
    CHECK(conn.info(uuid1).state == VIRTKIT_DOMAIN_SHUTOFF);
    CHECK(conn.info(uuid1).reason == 2);  // destroyed
    CHECK(gone(pid));
    CHECK(conn.names(VIRTKIT_LIST_INACTIVE) == std::vector<std::string>{"life"});

    std::vector<int32_t> types;
    for (const Event &e : take_events())
        types.push_back(e.type);
    CHECK(types == std::vector<int32_t>{VIRTKIT_EVENT_STARTED, VIRTKIT_EVENT_SUSPENDED, VIRTKIT_EVENT_RESUMED,
                                        VIRTKIT_EVENT_STOPPED});
}

TEST_CASE("a QEMU killed from outside is reported shut off as crashed", "[qemu][plugin][qemu-real]")
{
    const TempDir root;
    const std::string uuid1 = fresh_uuid();
    Conn conn(root.path().string());
    REQUIRE(conn.define(guest_xml("victim", uuid1)).code == VIRTKIT_OK);
    REQUIRE(conn.run(ops().domain_start, uuid1).code == VIRTKIT_OK);
    const pid_t pid = qemu_pid_of(uuid1);
    REQUIRE(pid > 0);
    ::kill(pid, SIGKILL);
    for (int i = 0; i < 500 && conn.info(uuid1).state != VIRTKIT_DOMAIN_SHUTOFF; ++i)
        std::this_thread::sleep_for(10ms);
    CHECK(conn.info(uuid1).state == VIRTKIT_DOMAIN_SHUTOFF);
    CHECK(conn.info(uuid1).reason == 3);  // crashed
    CHECK(conn.run(ops().domain_start, uuid1).code == VIRTKIT_OK);  // and it can start again
    CHECK(conn.run(ops().domain_destroy, uuid1).code == VIRTKIT_OK);
}

TEST_CASE("a guest that cannot start fails clearly and leaves nothing running", "[qemu][plugin][qemu-real]")
{
    const TempDir root;
    const std::string uuid1 = fresh_uuid();
    Conn conn(root.path().string());
    const std::string missing_disk = "<disk type='file'><source file='" + root.file("missing.img") +
                                     "'/><target dev='vda'/></disk>";
    REQUIRE(conn.define(guest_xml("nodisk", uuid1, missing_disk)).code == VIRTKIT_OK);
    const Outcome no_disk = conn.run(ops().domain_start, uuid1);
    CHECK(no_disk.code == VIRTKIT_ERR_INVALID_ARG);
    CHECK_THAT(no_disk.message, Catch::Contains("missing.img"));

    const std::string other = fresh_uuid();
    REQUIRE(conn.define(guest_xml("oldmachine", other, "", "pc-i440fx-0.1")).code == VIRTKIT_OK);
    const Outcome no_machine = conn.run(ops().domain_start, other);
    CHECK(no_machine.code == VIRTKIT_ERR_NO_SUPPORT);
    CHECK_THAT(no_machine.message, Catch::Contains("pc-i440fx-0.1"));

    CHECK(conn.names(VIRTKIT_LIST_ACTIVE).empty());
    CHECK(qemu_pid_of(uuid1) < 0);
    CHECK(qemu_pid_of(other) < 0);
}

TEST_CASE("closing the connection leaves the guest running and the next connection takes it over",
          "[qemu][plugin][qemu-real]")
{
    const TempDir root;
    const std::string uuid1 = fresh_uuid();
    const QemuGuard guard(uuid1);
    pid_t pid = -1;
    {
        Conn conn(root.path().string());
        REQUIRE(conn.define(guest_xml("closing", uuid1)).code == VIRTKIT_OK);
        REQUIRE(conn.run(ops().domain_start, uuid1).code == VIRTKIT_OK);
        REQUIRE(conn.run(ops().domain_suspend, uuid1).code == VIRTKIT_OK);
        pid = qemu_pid_of(uuid1);
        REQUIRE(pid > 0);
    }
    CHECK_FALSE(gone(pid));
    take_events();
    Conn again(root.path().string());
    CHECK(again.names(VIRTKIT_LIST_ACTIVE) == std::vector<std::string>{"closing"});
    CHECK(again.info(uuid1).state == VIRTKIT_DOMAIN_PAUSED);
    CHECK(again.info(uuid1).reason == 1);  // paused by the user, remembered
    CHECK(take_events().empty());          // nothing changed, nothing announced
    REQUIRE(again.run(ops().domain_resume, uuid1).code == VIRTKIT_OK);  // the monitor is ours now
    CHECK(again.info(uuid1).state == VIRTKIT_DOMAIN_RUNNING);
    REQUIRE(again.run(ops().domain_destroy, uuid1).code == VIRTKIT_OK);
    CHECK(gone(pid));
    CHECK(again.info(uuid1).reason == 2);  // destroyed
}
