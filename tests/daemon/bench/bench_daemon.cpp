// virtkitd throughput and footprint (docs/benchmarks.md, "virtkitd"):
//   build/tests/bench-daemon [seconds-per-run]
// Starts its own daemon under a temp root and measures, over the UNIX socket:
// list and dominfo from 1, 8 and 64 concurrent clients (req/s, p50, p99),
// the daemon's RSS idle and with 1000 domains on the test driver, and event
// fan-out to 10 subscribers.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include <virtkit/connection.hpp>
#include <virtkit/context.hpp>

#include "../harness.hpp"

using namespace virtkit;
using Clock = std::chrono::steady_clock;

namespace {

long rssKiB(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stol(line.substr(6));
    return -1;
}

std::string xml(const std::string &name)
{
    return "<domain type='test'><name>" + name +
           "</name><memory unit='KiB'>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>";
}

void loadRun(Context &ctx, const std::string &uri, const char *what, int clients, double seconds,
             const std::string &uuid)
{
    std::vector<std::vector<double>> latencies(static_cast<std::size_t>(clients));
    std::vector<std::thread> threads;
    std::atomic<bool> go{false};
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&, c] {
            auto conn = Connection::open(ctx, uri);
            conn->listDomains();  // connect before the clock starts
            while (!go)
                std::this_thread::yield();
            const auto end = Clock::now() + std::chrono::duration<double>(seconds);
            auto &mine = latencies[static_cast<std::size_t>(c)];
            while (Clock::now() < end) {
                const auto t0 = Clock::now();
                if (std::string(what) == "list")
                    conn->listDomains();
                else
                    conn->domainInfo(uuid);
                mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
            }
        });
    }
    const auto start = Clock::now();
    go = true;
    for (auto &t : threads)
        t.join();
    const double took = std::chrono::duration<double>(Clock::now() - start).count();
    std::vector<double> all;
    for (auto &l : latencies)
        all.insert(all.end(), l.begin(), l.end());
    std::sort(all.begin(), all.end());
    const auto pct = [&](double p) { return all.empty() ? 0.0 : all[static_cast<std::size_t>(p * (all.size() - 1))]; };
    std::printf("%-8s clients=%-3d  %8.0f req/s   p50 %7.0f us   p99 %7.0f us\n", what, clients,
                static_cast<double>(all.size()) / took, pct(0.50), pct(0.99));
}

}  // namespace

int main(int argc, char **argv)
{
    const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
    virtkit::test::TempDir root;
    virtkit::test::Daemon daemon(root.str(), {}, "log: { level: warn }\n");
    Context ctx(Config(), std::vector<std::string>{});
    const std::string uri = daemon.testUri();
    auto admin = Connection::open(ctx, uri);
    const std::string uuid = admin->lookupByName("test").uuid;
    std::printf("daemon RSS idle (test driver open, 1 domain): %ld KiB\n", rssKiB(daemon.pid()));

    for (const char *what : {"list", "dominfo"})
        for (const int clients : {1, 8, 64})
            loadRun(ctx, uri, what, clients, seconds, uuid);

    for (int i = 0; i < 1000; ++i)
        admin->defineXml(xml("bench" + std::to_string(i)));
    std::printf("daemon RSS with 1000 more domains defined: %ld KiB\n", rssKiB(daemon.pid()));
    loadRun(ctx, uri, "list", 8, seconds, uuid);

    // Event fan-out: 10 subscribers, each must get every event.
    constexpr int kSubscribers = 10, kRounds = 1000;
    std::mutex mutex;
    std::condition_variable cv;
    long delivered = 0;
    std::vector<std::shared_ptr<Connection>> watchers;
    std::vector<EventBus::Subscription> subs;
    for (int i = 0; i < kSubscribers; ++i) {
        watchers.push_back(Connection::open(ctx, uri));
        subs.push_back(watchers.back()->subscribe({}, [&](const Event &) {
            const std::lock_guard lock(mutex);
            ++delivered;
            cv.notify_all();
        }));
    }
    const long expected = 2L * kRounds * kSubscribers;
    const auto start = Clock::now();
    for (int i = 0; i < kRounds; ++i) {
        const auto ref = admin->defineXml(xml("fan"));
        admin->domainUndefine(ref.uuid);
    }
    const double produce = std::chrono::duration<double>(Clock::now() - start).count();
    std::unique_lock lock(mutex);
    cv.wait_for(lock, std::chrono::seconds(60), [&] { return delivered >= expected; });
    const double took = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("event fan-out: %d subscribers, %d events each, %ld/%ld delivered in %.2f s "
                "(%.0f events/s delivered; producing took %.2f s)\n",
                kSubscribers, 2 * kRounds, delivered, expected, took, static_cast<double>(delivered) / took, produce);
    return delivered == expected ? 0 : 1;
}
