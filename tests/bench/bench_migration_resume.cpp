// Post-copy recovery latency with real QEMU, through the core's API in one
// process (it owns both QEMU monitors, so it can pause the migration it runs):
//   1. a guest holding N MiB of random data starts on root A;
//   2. migrate(A -> B) with post-copy, switched after 1 s (--timeout-postcopy),
//      post-copy bandwidth limited so that it lasts;
//   3. once the source is in post-copy: abortJob(POSTCOPY) (QEMU migrate-pause);
//      the migration fails with both sides paused as post-copy failed;
//   4. migrate(POSTCOPY | POSTCOPY_RESUME), timed from the call until the
//      destination's job reports status "postcopy" (QEMU postcopy-active), and
//      to the end of the recovery.
// Usage: bench-migration-resume [MiB=128] [postcopy MiB/s=16] [runs=3]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <string>
#include <thread>

#include <unistd.h>

#include <virtkit/connection.hpp>
#include <virtkit/context.hpp>
#include <virtkit/error.hpp>
#include <virtkit/migration.hpp>

using namespace virtkit;
using Clock = std::chrono::steady_clock;

namespace {

double msSince(Clock::time_point t)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::string status(Connection &c, const std::string &uuid)
{
    try {
        return JobStats::parse(c.jobStats(uuid, 0)).status;
    } catch (const Error &) {
        return {};
    }
}

void runOnce(Context &ctx, const std::filesystem::path &work, unsigned mib, unsigned postcopyMibps)
{
    const std::string blob = (work / "blob.bin").string();
    {
        std::mt19937_64 rng(42);
        std::ofstream out(blob, std::ios::binary);
        for (uint64_t i = 0; i < (uint64_t(mib) << 20) / 8; ++i) {
            const uint64_t v = rng();
            out.write(reinterpret_cast<const char *>(&v), sizeof v);
        }
    }
    std::filesystem::create_directories(work / "a");
    std::filesystem::create_directories(work / "b");
    auto src = Connection::open(ctx, "qemu:///embed?root=" + (work / "a").string());
    auto dst = Connection::open(ctx, "qemu:///embed?root=" + (work / "b").string());
    const std::string xml = "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
                            "<name>mig</name><memory unit='MiB'>" + std::to_string(mib + 128) +
                            "</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>"
                            "<qemu:commandline><qemu:arg value='-device'/><qemu:arg value='loader,file=" + blob +
                            ",addr=33554432'/></qemu:commandline></domain>";
    const DomainRef ref = src->defineXml(xml);
    // Guests outlive connections (restart safety): remove them whatever happens.
    struct Cleanup {
        Connection &a, &b;
        std::string uuid;
        ~Cleanup()
        {
            for (Connection *c : {&a, &b}) {
                try { c->domainDestroy(uuid); } catch (const Error &) {}
                try { c->domainUndefine(uuid); } catch (const Error &) {}
            }
        }
    } cleanup{*src, *dst, ref.uuid};
    src->domainStart(ref.uuid);

    MigrateParams params;
    params.bandwidth = 10;
    params.postcopyBandwidth = postcopyMibps;
    params.timeoutSeconds = 1;
    params.timeoutPostcopy = true;
    const uint32_t flags = VIRTKIT_MIGRATE_LIVE | VIRTKIT_MIGRATE_POSTCOPY;
    auto first = std::async(std::launch::async, [&] { return migrate(*src, *dst, ref.uuid, params, flags); });
    while (status(*src, ref.uuid) != "postcopy")
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    src->abortJob(ref.uuid, VIRTKIT_ABORT_JOB_POSTCOPY);
    std::printf("after the pause: source %s, destination %s\n", status(*src, ref.uuid).c_str(),
                status(*dst, ref.uuid).c_str());
    try {
        first.get();
        std::printf("post-copy completed before the pause; use more MiB or less post-copy bandwidth\n");
    } catch (const Error &e) {
        std::printf("after the failed Finish: source %s, destination %s: %s\n", status(*src, ref.uuid).c_str(),
                    status(*dst, ref.uuid).c_str(), e.what());
    }

    MigrateParams resumeParams;
    resumeParams.postcopyBandwidth = postcopyMibps;
    const auto start = Clock::now();
    auto resume = std::async(std::launch::async, [&] {
        return migrate(*src, *dst, ref.uuid, resumeParams, VIRTKIT_MIGRATE_POSTCOPY | VIRTKIT_MIGRATE_POSTCOPY_RESUME);
    });
    double activeMs = -1;
    while (resume.wait_for(std::chrono::milliseconds(2)) != std::future_status::ready)
        if (activeMs < 0 && status(*dst, ref.uuid) == "postcopy")
            activeMs = msSince(start);
    resume.get();
    std::printf("resume -> destination postcopy-active: %.1f ms; resume complete: %.1f ms\n", activeMs,
                msSince(start));
}

}  // namespace

int main(int argc, char **argv)
{
    const unsigned mib = argc > 1 ? std::stoul(argv[1]) : 128;
    const unsigned postcopyMibps = argc > 2 ? std::stoul(argv[2]) : 16;
    const unsigned runs = argc > 3 ? std::stoul(argv[3]) : 3;
    Context ctx;
    for (unsigned i = 0; i < runs; ++i) {
        char pattern[] = "/tmp/vk-bench-resume-XXXXXX";
        if (!mkdtemp(pattern))
            return 1;
        const std::filesystem::path work = pattern;
        try {
            runOnce(ctx, work, mib, postcopyMibps);
        } catch (const std::exception &e) {
            std::fprintf(stderr, "run %u failed: %s\n", i, e.what());
        }
        std::filesystem::remove_all(work);
    }
    return 0;
}
