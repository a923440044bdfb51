// Event bus benchmark: throughput and publish->handler latency, one publisher
// to 1 and to 8 subscribers.  Prints a table; see docs/benchmarks.md.
//
//   bench-event-bus [--quick]
//
// Throughput: the publisher builds and publishes N events as fast as it can
// (queues sized so nothing is dropped); the rate counts until flush() says
// every subscriber has handled every event.
// Latency: events are published at a fixed rate; each handler measures
// now - event.time (stamped just before publish()).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <virtkit/event_bus.hpp>

using namespace virtkit;
using Clock = std::chrono::steady_clock;

namespace {

// A realistic event: a URI, a name and a 36-character UUID.
Event sampleEvent(uint64_t i) {
    Event e;
    e.kind = EventKind::Lifecycle;
    e.connection = "qemu:///system";
    e.domainName = "vm-" + std::to_string(i % 64);
    e.domainUuid = "6695eb01-f6a4-8304-79aa-97f2502e1" + std::to_string(100 + i % 64);
    e.type = VIRTKIT_EVENT_STARTED;
    e.detail = static_cast<int32_t>(i % 6);
    return e;
}

struct Row {
    std::string scenario;
    int subscribers = 0;
    uint64_t events = 0;
    double publishPerSec = 0;    // publish() calls per second, publisher side
    double deliveredPerSec = 0;  // handler calls per second, all subscribers together
    uint64_t dropped = 0;
    double p50us = -1, p99us = -1, maxUs = -1;
};

double seconds(Clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

Row throughput(int subscribers, uint64_t events) {
    EventBus bus;
    std::vector<std::unique_ptr<std::atomic<uint64_t>>> counts;
    std::vector<EventBus::Subscription> subs;
    for (int s = 0; s < subscribers; ++s) {
        counts.push_back(std::make_unique<std::atomic<uint64_t>>(0));
        auto *count = counts.back().get();
        subs.push_back(bus.subscribe({}, [count](const Event &) { count->fetch_add(1, std::memory_order_relaxed); },
                                     events));
    }
    const auto start = Clock::now();
    for (uint64_t i = 0; i < events; ++i) {
        bus.publish(sampleEvent(i));
    }
    const auto published = Clock::now();
    bus.flush();
    const auto done = Clock::now();

    Row row{"throughput", subscribers, events};
    uint64_t delivered = 0;
    for (const auto &sub : subs) {
        delivered += sub.deliveredCount();
        row.dropped += sub.overflowCount();
    }
    row.publishPerSec = static_cast<double>(events) / seconds(published - start);
    row.deliveredPerSec = static_cast<double>(delivered) / seconds(done - start);
    return row;
}

Row latency(int subscribers, double ratePerSec, double durationSec) {
    const auto events = static_cast<uint64_t>(ratePerSec * durationSec);
    EventBus bus;
    std::vector<std::vector<int64_t>> samples(static_cast<std::size_t>(subscribers));
    std::vector<EventBus::Subscription> subs;
    for (auto &mine : samples) {
        mine.reserve(events);
        subs.push_back(bus.subscribe({}, [&mine](const Event &e) {
            const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now() - e.time);
            mine.push_back(ns.count());
        }));
    }
    const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / ratePerSec));
    const auto start = Clock::now();
    auto next = start;
    for (uint64_t i = 0; i < events; ++i) {
        while (Clock::now() < next) {
            std::this_thread::yield();  // lets a subscriber sharing this core run
        }
        next += interval;
        Event e = sampleEvent(i);
        e.time = std::chrono::system_clock::now();
        bus.publish(std::move(e));
    }
    const auto published = Clock::now();
    bus.flush();

    Row row{"latency @" + std::to_string(static_cast<int>(ratePerSec / 1000)) + "k/s", subscribers, events};
    std::vector<int64_t> all;
    for (std::size_t s = 0; s < subs.size(); ++s) {
        row.dropped += subs[s].overflowCount();
        all.insert(all.end(), samples[s].begin(), samples[s].end());
    }
    row.publishPerSec = static_cast<double>(events) / seconds(published - start);
    row.deliveredPerSec = static_cast<double>(all.size()) / seconds(published - start);
    if (!all.empty()) {
        std::sort(all.begin(), all.end());
        const auto at = [&](double q) {
            const auto index = static_cast<std::size_t>(q * static_cast<double>(all.size() - 1));
            return static_cast<double>(all[index]) / 1000.0;
        };
        row.p50us = at(0.50);
        row.p99us = at(0.99);
        row.maxUs = static_cast<double>(all.back()) / 1000.0;
    }
    return row;
}

std::string micros(double value) {
    if (value < 0) {
        return "-";
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", value);
    return text;
}

void print(const Row &r) {
    std::printf("%-18s %4d %9llu %12.0f %12.0f %8llu %9s %9s %9s\n", r.scenario.c_str(), r.subscribers,
                static_cast<unsigned long long>(r.events), r.publishPerSec, r.deliveredPerSec,
                static_cast<unsigned long long>(r.dropped), micros(r.p50us).c_str(), micros(r.p99us).c_str(),
                micros(r.maxUs).c_str());
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char **argv) {
    const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    const uint64_t events = quick ? 200'000 : 2'000'000;
    const double latencySeconds = quick ? 0.5 : 3.0;

    throughput(1, events / 10);  // warm-up: allocator, page faults, thread start

    std::printf("%-18s %4s %9s %12s %12s %8s %9s %9s %9s\n", "scenario", "subs", "events", "publish/s",
                "delivered/s", "dropped", "p50 us", "p99 us", "max us");
    for (const int subs : {0, 1, 8}) {
        print(throughput(subs, events));
    }
    for (const int subs : {1, 8}) {
        for (const double rate : {10'000.0, 100'000.0}) {
            print(latency(subs, rate, latencySeconds));
        }
    }
    return 0;
}
