// The event bus as a subscriber sees it: what arrives, in which order, and
// what a slow neighbour can and cannot do to it.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>

#include <virtkit/event_bus.hpp>
#include <virtkit/log.hpp>

using namespace virtkit;
using namespace std::chrono_literals;

namespace {

Event lifecycle(const std::string &domain, int32_t type, int32_t detail = 0, const std::string &conn = "test:///default") {
    Event e;
    e.kind = EventKind::Lifecycle;
    e.connection = conn;
    e.domainName = domain;
    e.domainUuid = "uuid-of-" + domain;
    e.type = type;
    e.detail = detail;
    return e;
}

// Collects delivered events; safe to read after flush().
struct Recorder {
    std::mutex mutex;
    std::vector<Event> events;
    EventBus::Handler handler() {
        return [this](const Event &e) {
            const std::lock_guard lock(mutex);
            events.push_back(e);
        };
    }
    std::size_t size() {
        const std::lock_guard lock(mutex);
        return events.size();
    }
};

// A handler that blocks until opened: a subscriber as slow as we like.
struct Gate {
    std::mutex mutex;
    std::condition_variable cv;
    bool open = false;
    void wait() {
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return open; });
    }
    void close() {
        const std::lock_guard lock(mutex);
        open = false;
    }
    void release() {
        {
            const std::lock_guard lock(mutex);
            open = true;
        }
        cv.notify_all();
    }
};

// Waits for a condition that another thread makes true; the bound only
// keeps a broken bus from hanging the suite.
template <class Pred> bool eventually(Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

}  // namespace

TEST_CASE("handlers run on a bus thread, never inside publish()", "[bus]") {
    EventBus bus;
    Gate gate;
    std::promise<std::thread::id> handlerThread;
    auto sub = bus.subscribe({}, [&](const Event &) {
        handlerThread.set_value(std::this_thread::get_id());
        gate.wait();  // if this ran inside publish(), publish() would never return
    });
    bus.publish(lifecycle("vm1", VIRTKIT_EVENT_STARTED));
    const auto id = handlerThread.get_future().get();
    CHECK(id != std::this_thread::get_id());
    gate.release();
    bus.flush();
    CHECK(sub.deliveredCount() == 1);
}

TEST_CASE("each publisher thread's events arrive in the order it published them", "[bus]") {
    constexpr int kThreads = 8;
    constexpr int kPerThread = 20000;
    EventBus bus;
    Recorder all;
    Recorder second;
    auto subAll = bus.subscribe({}, all.handler(), kThreads * kPerThread);
    auto subSecond = bus.subscribe({}, second.handler(), kThreads * kPerThread);

    std::vector<std::thread> publishers;
    for (int t = 0; t < kThreads; ++t) {
        publishers.emplace_back([&bus, t] {
            const std::string domain = "vm" + std::to_string(t);
            for (int i = 0; i < kPerThread; ++i) {
                bus.publish(lifecycle(domain, VIRTKIT_EVENT_STARTED, i));
            }
        });
    }
    for (auto &p : publishers) {
        p.join();
    }
    bus.flush();

    for (Recorder *rec : {&all, &second}) {
        REQUIRE(rec->events.size() == static_cast<std::size_t>(kThreads * kPerThread));
        std::map<std::string, int32_t> nextDetail;
        uint64_t lastSeq = 0;
        bool perDomainInOrder = true;
        bool seqIncreasing = true;
        for (const Event &e : rec->events) {
            perDomainInOrder = perDomainInOrder && e.detail == nextDetail[e.domainName]++;
            seqIncreasing = seqIncreasing && e.seq > lastSeq;
            lastSeq = e.seq;
        }
        CHECK(perDomainInOrder);
        CHECK(seqIncreasing);
    }
    CHECK(subAll.overflowCount() == 0);
    // Both subscribers saw the same total order.
    bool sameOrder = true;
    for (std::size_t i = 0; i < all.events.size(); ++i) {
        sameOrder = sameOrder && all.events[i].seq == second.events[i].seq;
    }
    CHECK(sameOrder);
}

TEST_CASE("filters select by connection, domain name or UUID, kind and lifecycle type", "[bus]") {
    EventBus bus;
    Recorder byConn, byName, byUuid, byKind, byType, everything;
    EventFilter conn, name, uuid, kind, type;
    conn.connection = "qemu:///system";
    name.domain = "web";
    uuid.domain = "uuid-of-db";
    kind.kind = EventKind::Job;
    type.kind = EventKind::Lifecycle;
    type.type = VIRTKIT_EVENT_STOPPED;
    auto s1 = bus.subscribe(conn, byConn.handler());
    auto s2 = bus.subscribe(name, byName.handler());
    auto s3 = bus.subscribe(uuid, byUuid.handler());
    auto s4 = bus.subscribe(kind, byKind.handler());
    auto s5 = bus.subscribe(type, byType.handler());
    auto s6 = bus.subscribe({}, everything.handler());

    bus.publish(lifecycle("web", VIRTKIT_EVENT_STARTED, 0, "qemu:///system"));
    bus.publish(lifecycle("db", VIRTKIT_EVENT_STOPPED, 2, "test:///default"));
    Event job = lifecycle("web", 0, 0, "test:///default");
    job.kind = EventKind::Job;
    job.payloadJson = R"({"progress":50})";
    bus.publish(job);
    bus.flush();

    REQUIRE(byConn.events.size() == 1);
    CHECK(byConn.events[0].domainName == "web");
    CHECK(byName.events.size() == 2);
    REQUIRE(byUuid.events.size() == 1);
    CHECK(byUuid.events[0].domainName == "db");
    REQUIRE(byKind.events.size() == 1);
    CHECK(byKind.events[0].payloadJson == R"({"progress":50})");
    REQUIRE(byType.events.size() == 1);
    CHECK(byType.events[0].detail == 2);
    CHECK(everything.events.size() == 3);
}

TEST_CASE("a slow subscriber slows neither the publisher nor a fast subscriber, and reports its overflow",
          "[bus]") {
    auto captured = std::make_shared<std::ostringstream>();
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*captured);
    log::configure("bus=warn");
    log::get("bus")->sinks().push_back(sink);

    constexpr std::size_t kCapacity = 8;
    constexpr int kEvents = 1000;
    EventBus bus;
    Gate gate;
    std::atomic<int> slowSeen{0};
    Recorder fast;
    auto slow = bus.subscribe({}, [&](const Event &) { ++slowSeen; gate.wait(); }, kCapacity);
    auto fastSub = bus.subscribe({}, fast.handler());

    // The slow handler is blocked for the whole loop: if publish() waited
    // for it, this loop would never finish.
    for (int i = 0; i < kEvents; ++i) {
        bus.publish(lifecycle("vm", VIRTKIT_EVENT_STARTED, i));
    }
    CHECK(eventually([&] { return fast.size() == kEvents; }));
    CHECK(slow.overflowCount() >= kEvents - kCapacity);
    CHECK(fastSub.overflowCount() == 0);

    gate.release();
    bus.flush();
    CHECK(slow.deliveredCount() + slow.overflowCount() == static_cast<uint64_t>(kEvents));
    CHECK(slow.deliveredCount() <= kCapacity);

    const auto warningsAbout = [&] {
        sink->flush();
        const std::string text = captured->str();
        std::size_t count = 0;
        for (auto at = text.find("too slow"); at != std::string::npos; at = text.find("too slow", at + 1)) {
            ++count;
        }
        return count;
    };
    CHECK(warningsAbout() == 1);  // one burst, one warning

    // Once it has caught up, a new burst warns again.
    gate.close();
    for (int i = 0; i < kEvents; ++i) {
        bus.publish(lifecycle("vm", VIRTKIT_EVENT_STARTED, i));
    }
    gate.release();
    bus.flush();
    CHECK(warningsAbout() == 2);
    CHECK(slow.overflowCount() >= 2 * (kEvents - kCapacity));

    auto &sinks = log::get("bus")->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
}

TEST_CASE("an unsubscribed handler receives nothing more", "[bus]") {
    EventBus bus;
    Recorder rec;
    auto sub = bus.subscribe({}, rec.handler());
    bus.publish(lifecycle("vm", VIRTKIT_EVENT_STARTED));
    bus.flush();
    sub.unsubscribe();
    CHECK_FALSE(sub);
    bus.publish(lifecycle("vm", VIRTKIT_EVENT_STOPPED));
    bus.flush();
    REQUIRE(rec.events.size() == 1);
    CHECK(rec.events[0].type == VIRTKIT_EVENT_STARTED);

    SECTION("destroying the subscription unsubscribes too") {
        Recorder scoped;
        {
            auto temporary = bus.subscribe({}, scoped.handler());
            bus.publish(lifecycle("vm", VIRTKIT_EVENT_STARTED));
            bus.flush();
        }
        bus.publish(lifecycle("vm", VIRTKIT_EVENT_STOPPED));
        bus.flush();
        CHECK(scoped.events.size() == 1);
    }
    SECTION("overwriting a subscription by a move unsubscribes the old one") {
        Recorder first, second;
        auto slot = bus.subscribe({}, first.handler());
        slot = bus.subscribe({}, second.handler());
        bus.publish(lifecycle("vm", VIRTKIT_EVENT_STARTED));
        bus.flush();
        CHECK(first.events.empty());
        CHECK(second.events.size() == 1);
    }
}

TEST_CASE("a handler may unsubscribe itself", "[bus]") {
    EventBus bus;
    std::atomic<int> calls{0};
    std::promise<void> unsubscribed;
    EventBus::Subscription sub;
    sub = bus.subscribe({}, [&](const Event &) {
        if (++calls == 1) {
            sub.unsubscribe();
            unsubscribed.set_value();
        }
    });
    for (int i = 0; i < 100; ++i) {
        bus.publish(lifecycle("vm", VIRTKIT_EVENT_STARTED, i));
    }
    unsubscribed.get_future().wait();
    bus.flush();
    CHECK(calls == 1);
}

TEST_CASE("flush() returns only after everything published before it was handled", "[bus]") {
    EventBus bus;
    std::atomic<int> handled{0};
    auto sub = bus.subscribe({}, [&](const Event &) {
        std::this_thread::sleep_for(200us);
        ++handled;
    });
    for (int i = 0; i < 50; ++i) {
        bus.publish(lifecycle("vm", VIRTKIT_EVENT_STARTED, i));
    }
    bus.flush();
    CHECK(handled == 50);

    SECTION("with no subscribers it returns at once") {
        EventBus empty;
        empty.publish(lifecycle("vm", VIRTKIT_EVENT_STARTED));
        empty.flush();
        SUCCEED();
    }
}

TEST_CASE("a handler that throws does not stop later deliveries", "[bus]") {
    log::configure("bus=off");  // the error it logs is expected here
    EventBus bus;
    std::atomic<int> calls{0};
    auto sub = bus.subscribe({}, [&](const Event &) {
        if (++calls == 1) {
            throw std::runtime_error("handler failure");
        }
    });
    for (int i = 0; i < 3; ++i) {
        bus.publish(lifecycle("vm", VIRTKIT_EVENT_STARTED, i));
    }
    bus.flush();
    CHECK(calls == 3);
    log::configure("");
}

TEST_CASE("publish() stamps a sequence number and a time unless given", "[bus]") {
    EventBus bus;
    Recorder rec;
    auto sub = bus.subscribe({}, rec.handler());
    const auto before = std::chrono::system_clock::now();
    bus.publish(lifecycle("vm", VIRTKIT_EVENT_STARTED));
    bus.publish(lifecycle("vm", VIRTKIT_EVENT_STOPPED));
    Event stamped = lifecycle("vm", VIRTKIT_EVENT_CRASHED);
    stamped.time = std::chrono::system_clock::time_point(std::chrono::seconds(1000));
    bus.publish(stamped);
    bus.flush();
    REQUIRE(rec.events.size() == 3);
    CHECK(rec.events[0].seq > 0);
    CHECK(rec.events[1].seq > rec.events[0].seq);
    CHECK(rec.events[0].time >= before);
    CHECK(rec.events[2].time == stamped.time);
}

TEST_CASE("a subscription may outlive its bus", "[bus]") {
    EventBus::Subscription sub;
    {
        EventBus bus;
        sub = bus.subscribe({}, [](const Event &) {});
        bus.publish(lifecycle("vm", VIRTKIT_EVENT_STARTED));
        bus.flush();
    }
    CHECK(sub.deliveredCount() == 1);
    sub.unsubscribe();
    CHECK_FALSE(sub);
}
