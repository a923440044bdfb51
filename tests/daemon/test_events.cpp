// Events stream from the daemon, filtered there, while other clients mutate;
// a client that stops reading is dropped without holding up anyone else.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

#include <virtkit/connection.hpp>
#include <virtkit/context.hpp>
#include <virtkit/error.hpp>

#include "harness.hpp"

using namespace std::chrono_literals;
using namespace virtkit;
using virtkit::test::Daemon;
using virtkit::test::RawClient;
using virtkit::test::TempDir;

namespace {

std::string domainXml(const std::string &name)
{
    return "<domain type='test'><name>" + name +
           "</name><memory unit='KiB'>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>";
}

struct Collected {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<Event> events;
    void add(const Event &e)
    {
        const std::lock_guard lock(mutex);
        events.push_back(e);
        changed.notify_all();
    }
    bool waitFor(std::size_t n, std::chrono::milliseconds limit)
    {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, limit, [&] { return events.size() >= n; });
    }
    std::size_t size()
    {
        const std::lock_guard lock(mutex);
        return events.size();
    }
};

Context &context()
{
    static Context ctx(Config(), std::vector<std::string>{});
    return ctx;
}

}  // namespace

TEST_CASE("events stream to a subscriber while another client changes domains", "[daemon][events]")
{
    TempDir root;
    Daemon daemon(root.str());
    auto watcher = Connection::open(context(), daemon.testUri(true));  // the read-only socket may watch
    auto actor = Connection::open(context(), daemon.testUri());

    Collected all, onlyWatched;
    auto subAll = watcher->subscribe({}, [&](const Event &e) { all.add(e); });
    EventFilter filter;
    filter.domain = "watched";
    filter.kind = EventKind::Lifecycle;
    auto subOne = watcher->subscribe(filter, [&](const Event &e) { onlyWatched.add(e); });

    const auto other = actor->defineXml(domainXml("other"));
    const auto watched = actor->defineXml(domainXml("watched"));
    actor->domainStart(other.uuid);
    actor->domainStart(watched.uuid);
    actor->domainDestroy(watched.uuid);

    REQUIRE(onlyWatched.waitFor(3, 5s));
    REQUIRE(all.waitFor(5, 5s));
    std::this_thread::sleep_for(200ms);  // nothing more must arrive
    const std::lock_guard lock(onlyWatched.mutex);
    REQUIRE(onlyWatched.events.size() == 3);
    CHECK(onlyWatched.events[0].type == VIRTKIT_EVENT_DEFINED);
    CHECK(onlyWatched.events[1].type == VIRTKIT_EVENT_STARTED);
    CHECK(onlyWatched.events[2].type == VIRTKIT_EVENT_STOPPED);
    for (const auto &e : onlyWatched.events) {
        CHECK(e.domainName == "watched");
        CHECK(e.domainUuid == watched.uuid);
        CHECK(e.connection == watcher->uri());
    }
    CHECK(all.size() == 5);
}

TEST_CASE("an unknown event filter is refused with the daemon's error", "[daemon][events]")
{
    TempDir root;
    Daemon daemon(root.str());
    RawClient c(daemon.socket());
    c.send("GET /1.0/connections/test%3A%2F%2F%2Fdefault/events?kind=weather HTTP/1.1\r\nHost: x\r\n"
           "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\n\r\n");
    const std::string r = c.readResponse(5s);
    CHECK(virtkit::test::httpStatus(r) == 400);
    CHECK(r.find("unknown event kind 'weather'") != std::string::npos);
}

TEST_CASE("a slow event client is dropped and the others still get every event", "[daemon][events]")
{
    TempDir root;
    Daemon daemon(root.str(), {}, "daemon:\n  event_queue: 256\n");
    // A client that upgrades and then never reads a byte.
    RawClient stuck(daemon.socket());
    stuck.send("GET /1.0/connections/test%3A%2F%2F%2Fdefault/events HTTP/1.1\r\nHost: x\r\n"
               "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n");
    REQUIRE(stuck.readResponse(5s).find("101") != std::string::npos);

    auto watcher = Connection::open(context(), daemon.testUri());
    auto actor = Connection::open(context(), daemon.testUri());
    Collected got;
    auto sub = watcher->subscribe({}, [&](const Event &e) { got.add(e); });
    constexpr int kRounds = 1500;
    for (int i = 0; i < kRounds; ++i) {
        const auto ref = actor->defineXml(domainXml("churn"));
        actor->domainUndefine(ref.uuid);
    }
    got.waitFor(2 * kRounds, 20s);
    const std::string log = daemon.log();
    INFO(log.substr(log.size() > 3000 ? log.size() - 3000 : 0));
    CHECK(got.size() == 2 * kRounds);
    CHECK(daemon.waitLog("dropping event client", 10s));
    CHECK(daemon.running());
}
