// Benchmark (hidden tag [.bench], not part of ctest's pass/fail): what
// `virtkit list --all` costs against a simulator with 500 VMs, next to
// govmomi's own client listing the same VMs.  Requests are counted by the
// simulator itself, so both sides are counted the same way.
//   build-esx/tests/esx-tests "[bench]"
#include <catch2/catch.hpp>

#include <chrono>
#include <iostream>

#include "driver/esx_connection.hpp"
#include "vcsim_process.hpp"

using namespace virtkit::esx::vsphere;
using namespace virtkit::esx::testing;

namespace {

double millisSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("list --all against 500 VMs: virtkit's esx plugin vs govmomi", "[.bench][esx]")
{
    ESX_REQUIRE_VCSIM();
    REQUIRE(std::string(VIRTKIT_ESX_GOVMOMI_LIST).size() > 0);
    constexpr int vms = 500;
    const Vcsim sim(withModel("esx", vms));
    const AuthFile auth("127.0.0.1", "root", "secret");
    constexpr int rounds = 10;

    auto measure = [&](const char *label, const std::function<std::size_t()> &run) {
        double best = 1e18, total = 0;
        long requests = 0;
        for (int i = 0; i < rounds; ++i) {
            const long before = sim.requestsServed();
            const auto start = std::chrono::steady_clock::now();
            CHECK(run() == vms);
            const double ms = millisSince(start);
            requests = sim.requestsServed() - before;
            best = std::min(best, ms);
            total += ms;
        }
        std::cout << label << ": " << requests << " requests, best " << best << " ms, mean " << total / rounds
                  << " ms (" << rounds << " rounds)\n";
    };

    measure("virtkit esx: open + list --all + close, events on (as the CLI runs it)", [&] {
        EsxConnection conn(sim.uri(), [](const DomainSummary &, virtkit_lifecycle_event, int32_t) {}, nullptr);
        return conn.list(0).size();
    });
    measure("virtkit esx: open + list --all + close, events off", [&] {
        EsxConnection conn(sim.uri(), nullptr, nullptr);
        return conn.list(0).size();
    });
    {
        EsxConnection conn(sim.uri(), nullptr, nullptr);
        measure("virtkit esx: list --all alone on an open connection", [&] { return conn.list(0).size(); });
    }
    measure("virtkit CLI: `virtkit -c esx://… list --all`, one process", [&] {
        const CommandResult result = runCommand({VIRTKIT_ESX_CLI, "-c", sim.uri(), "list", "--all"});
        REQUIRE(result.status == 0);
        std::size_t lines = 0;
        for (std::size_t at = result.output.find("ha-host_VM"); at != std::string::npos;
             at = result.output.find("ha-host_VM", at + 1))
            ++lines;
        return lines;
    });
    const std::string url = "https://127.0.0.1:" + std::to_string(sim.port()) + "/sdk";
    measure("govmomi (Go): login + container view + retrieve + logout, one process", [&] {
        const CommandResult result = runCommand({VIRTKIT_ESX_GOVMOMI_LIST, url, "root", "secret"});
        REQUIRE(result.status == 0);
        return static_cast<std::size_t>(std::stoul(result.output));
    });
}
