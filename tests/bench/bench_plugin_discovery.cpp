// Plugin discovery: how long a registry takes to scan plugin directories
// (manifests only, no dlopen), and how long loading + initialising the plugin
// a connection needs adds.  Usage: bench-plugin-discovery [PLUGIN_DIR...]
// (default: the directories a CLI would search).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <virtkit/config.hpp>
#include <virtkit/connection.hpp>
#include <virtkit/context.hpp>
#include <virtkit/event_bus.hpp>
#include <virtkit/plugin_registry.hpp>

namespace {

using Clock = std::chrono::steady_clock;

double micros(Clock::duration d)
{
    return std::chrono::duration<double, std::micro>(d).count();
}

void report(const char *what, std::vector<double> samples)
{
    std::sort(samples.begin(), samples.end());
    const auto at = [&](double q) { return samples[static_cast<size_t>(q * (samples.size() - 1))]; };
    std::printf("%-34s n=%-5zu p50 %9.1f us   p99 %9.1f us   max %9.1f us\n", what, samples.size(), at(0.5),
                at(0.99), samples.back());
}

}  // namespace

int main(int argc, char **argv)
{
    const virtkit::Config config;
    std::vector<std::string> dirs(argv + 1, argv + argc);
    if (dirs.empty())
        dirs = virtkit::PluginRegistry::defaultSearchPath(config);

    virtkit::EventBus bus;
    std::vector<double> scans;
    size_t found = 0;
    for (int i = 0; i < 2000; ++i) {
        virtkit::PluginRegistry registry(bus, config);
        const auto start = Clock::now();
        registry.scan(dirs);
        scans.push_back(micros(Clock::now() - start));
        found = registry.entries().size();
    }
    std::printf("directories:");
    for (const auto &d : dirs)
        std::printf(" %s", d.c_str());
    std::printf("\nplugins found: %zu\n", found);
    report("scan (manifests only)", scans);

    // First open in a process: dlopen + init of the test plugin + connect.
    // Only the first sample pays the dlopen; later ones show the steady cost.
    std::vector<double> opens;
    virtkit::Context ctx(config, dirs);
    for (int i = 0; i < 200; ++i) {
        const auto start = Clock::now();
        auto conn = virtkit::Connection::open(ctx, "test:///default");
        conn->close();
        opens.push_back(micros(Clock::now() - start));
    }
    std::printf("first open of test:///default (dlopen + init + connect): %.1f us\n", opens.front());
    opens.erase(opens.begin());
    report("later opens of test:///default", opens);
    return 0;
}
