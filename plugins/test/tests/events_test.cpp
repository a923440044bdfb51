// Lifecycle events: libvirt's type/detail values, in order, once per
// connection sharing the state, never emitted under the state lock.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "plugin_fixture.hpp"

using namespace testplugin;

namespace {

constexpr const char *kUuid = "aaaaaaaa-bbbb-cccc-dddd-000000000001";

struct Expected {
    int32_t type, detail;
};

// libvirt's virDomainEvent*DetailType values.
constexpr Expected kDefinedAdded{VIRTKIT_EVENT_DEFINED, 0}, kDefinedUpdated{VIRTKIT_EVENT_DEFINED, 1},
    kUndefinedRemoved{VIRTKIT_EVENT_UNDEFINED, 0}, kStartedBooted{VIRTKIT_EVENT_STARTED, 0},
    kSuspendedPaused{VIRTKIT_EVENT_SUSPENDED, 0}, kResumedUnpaused{VIRTKIT_EVENT_RESUMED, 0},
    kShutdownFinished{VIRTKIT_EVENT_SHUTDOWN, 0}, kStoppedShutdown{VIRTKIT_EVENT_STOPPED, 0},
    kStoppedDestroyed{VIRTKIT_EVENT_STOPPED, 1};

void checkEvents(const std::vector<RecordedEvent> &events, const std::vector<Expected> &expected,
                 const std::string &name = "vm1")
{
    REQUIRE(events.size() == expected.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
        INFO("event " << i);
        CHECK(events[i].type == expected[i].type);
        CHECK(events[i].detail == expected[i].detail);
        CHECK(events[i].name == name);
    }
}

}  // namespace

TEST_CASE("every transition emits libvirt's event type and detail, in order", "[test-driver]")
{
    Connection conn;
    takeEvents();
    conn.define(domainXml("vm1", kUuid));
    conn.define(domainXml("vm1", kUuid, "  <description>v2</description>\n"));
    REQUIRE(conn.start(kUuid).ok());
    REQUIRE(conn.suspend(kUuid).ok());
    REQUIRE(conn.resume(kUuid).ok());
    REQUIRE(conn.reboot(kUuid).ok());  // like libvirt's test driver: no lifecycle event
    REQUIRE(conn.shutdown(kUuid).ok());
    REQUIRE(conn.start(kUuid).ok());
    REQUIRE(conn.destroy(kUuid).ok());
    REQUIRE(conn.undefine(kUuid).ok());

    const auto events = takeEvents();
    checkEvents(events, {kDefinedAdded, kDefinedUpdated, kStartedBooted, kSuspendedPaused, kResumedUnpaused,
                         kShutdownFinished, kStoppedShutdown, kStartedBooted, kStoppedDestroyed, kUndefinedRemoved});
    for (const auto &event : events) {
        CHECK(event.uuid == kUuid);
        CHECK(event.conn == conn.handle());
    }
}

TEST_CASE("a transient domain's events run from started to stopped", "[test-driver]")
{
    Connection conn;
    takeEvents();
    conn.create(domainXml("vm1", kUuid));
    REQUIRE(conn.destroy(kUuid).ok());
    checkEvents(takeEvents(), {kStartedBooted, kStoppedDestroyed});
}

TEST_CASE("defining over a running transient domain makes it persistent, reported as added", "[test-driver]")
{
    Connection conn;
    conn.create(domainXml("vm1", kUuid));
    takeEvents();
    conn.define(domainXml("vm1", kUuid));
    checkEvents(takeEvents(), {kDefinedAdded});
    CHECK(conn.info(kUuid).persistent == 1);
}

TEST_CASE("every connection sharing the state hears each event, tagged with itself", "[test-driver]")
{
    Connection first;
    Connection second;
    takeEvents();
    REQUIRE(first.destroy(first.lookupByName("test").uuid).ok());
    const auto events = takeEvents();
    REQUIRE(events.size() == 2);
    CHECK(events[0].conn != events[1].conn);
    for (const auto &event : events) {
        CHECK((event.conn == first.handle() || event.conn == second.handle()));
        CHECK(event.name == "test");
        CHECK(event.type == kStoppedDestroyed.type);
        CHECK(event.detail == kStoppedDestroyed.detail);
    }
}

TEST_CASE("a node file connection's events stay with it", "[test-driver]")
{
    Connection defaultConn;
    takeEvents();
    char path[] = "/tmp/virtkit-test-node-XXXXXX.xml";
    const int fd = mkstemps(path, 4);
    REQUIRE(fd >= 0);
    const std::string node = "<node>" + domainXml("vm1", kUuid) + "</node>";
    REQUIRE(write(fd, node.data(), node.size()) == static_cast<ssize_t>(node.size()));
    close(fd);
    {
        Connection fileConn(std::string("test://") + path);
        REQUIRE(fileConn.destroy(kUuid).ok());
        const auto events = takeEvents();
        REQUIRE(events.size() == 1);
        CHECK(events[0].conn == fileConn.handle());
    }
    unlink(path);
}

namespace {

std::atomic<bool> g_lookupFinished{false};
virtkit_conn *g_hookConn = nullptr;

// From inside emit_event, ask the plugin something on another thread: if the
// state lock were still held, that call could not finish.
void lookUpFromAnotherThread(const virtkit_event &)
{
    auto lookup = std::async(std::launch::async, [] {
        virtkit_domain_ident ident{};
        ident.struct_size = sizeof ident;
        return attempt([&](virtkit_error *err) { return ops().domain_lookup_by_name(g_hookConn, "vm1", &ident, err); });
    });
    if (lookup.wait_for(std::chrono::seconds(10)) == std::future_status::ready && lookup.get().ok())
        g_lookupFinished = true;
    else
        std::thread([f = std::move(lookup)]() mutable { f.wait(); }).detach();  // do not hang the test on a bug
}

}  // namespace

TEST_CASE("events are emitted after the state lock is released", "[test-driver]")
{
    Connection conn;
    g_hookConn = conn.handle();
    g_lookupFinished = false;
    setEmitHook(lookUpFromAnotherThread);
    conn.define(domainXml("vm1", kUuid));
    setEmitHook(nullptr);
    CHECK(g_lookupFinished);
    takeEvents();
}

TEST_CASE("concurrent transitions from many threads keep the state and the events consistent", "[test-driver]")
{
    Connection conn;
    takeEvents();
    constexpr int kThreads = 4, kRounds = 50;
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            const std::string uuid = "aaaaaaaa-bbbb-cccc-dddd-00000000000" + std::to_string(t);
            const std::string xml = domainXml("worker" + std::to_string(t), uuid);
            for (int round = 0; round < kRounds; ++round) {
                const bool ok = conn.tryDefine(xml).ok() && conn.start(uuid).ok() && conn.suspend(uuid).ok() &&
                                conn.resume(uuid).ok() && conn.destroy(uuid).ok() && conn.undefine(uuid).ok();
                if (!ok)
                    ++failures;
            }
        });
    }
    for (auto &thread : threads)
        thread.join();
    CHECK(failures == 0);
    CHECK(conn.names() == std::vector<std::string>{"test"});

    // Per domain, events arrive in the order of its transitions.
    const auto events = takeEvents();
    CHECK(events.size() == static_cast<std::size_t>(kThreads * kRounds * 6));
    for (int t = 0; t < kThreads; ++t) {
        const std::string name = "worker" + std::to_string(t);
        std::vector<int32_t> types;
        for (const auto &event : events)
            if (event.name == name)
                types.push_back(event.type);
        REQUIRE(types.size() == static_cast<std::size_t>(kRounds * 6));
        for (std::size_t i = 0; i < types.size(); i += 6)
            CHECK(std::vector<int32_t>(types.begin() + i, types.begin() + i + 6) ==
                  std::vector<int32_t>{VIRTKIT_EVENT_DEFINED, VIRTKIT_EVENT_STARTED, VIRTKIT_EVENT_SUSPENDED,
                                       VIRTKIT_EVENT_RESUMED, VIRTKIT_EVENT_STOPPED, VIRTKIT_EVENT_UNDEFINED});
    }
}
