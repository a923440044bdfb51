// Capability probing of a real QEMU binary, its cache, and the KVM check.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sys/stat.h>

#include <virtkit/error.hpp>

#include "capabilities/kvm.hpp"
#include "capabilities/qemu_capabilities.hpp"
#include "error_code.hpp"
#include "real_qemu.hpp"

using namespace std::chrono_literals;
using virtkit::qemu::testing::error_code_of;
using namespace virtkit::qemu;
using virtkit::qemu::testing::qemu_binary;
using virtkit::qemu::testing::TempDir;

namespace {

// A script that runs the real QEMU: a binary whose mtime a test may change.
std::string wrapper_in(const TempDir &dir)
{
    const std::string path = dir.file("qemu-wrapper");
    std::ofstream(path) << "#!/bin/sh\nexec " << qemu_binary() << " \"$@\"\n";
    ::chmod(path.c_str(), 0755);
    return path;
}

}  // namespace

TEST_CASE("KVM is usable only when the device answers the KVM API", "[qemu][kvm]")
{
    const KvmStatus missing = probe_kvm("/nonexistent/kvm");
    CHECK_FALSE(missing.usable);
    CHECK_THAT(missing.reason, Catch::Contains("/nonexistent/kvm"));
    const KvmStatus not_kvm = probe_kvm("/dev/null");
    CHECK_FALSE(not_kvm.usable);
    CHECK_THAT(not_kvm.reason, Catch::Contains("KVM_GET_API_VERSION"));
}

TEST_CASE("probing real QEMU reports its version, machine types, CPU models and devices", "[qemu][qemu-real][caps]")
{
    const QemuCapabilities caps = probe_capabilities(qemu_binary(), 10s);
    CHECK(caps.version.major >= 7);
    const MachineType *pc = caps.machine("pc");
    REQUIRE(pc);
    CHECK(pc->name.rfind("pc-i440fx-", 0) == 0);
    CHECK(caps.machine("q35"));
    CHECK_FALSE(caps.machine("no-such-machine"));
    CHECK(std::count_if(caps.machines.begin(), caps.machines.end(), [](const auto &m) { return m.is_default; }) == 1);
    CHECK(std::find(caps.cpu_models.begin(), caps.cpu_models.end(), "qemu64") != caps.cpu_models.end());
    CHECK(caps.has_device("virtio-blk-pci"));
    CHECK(caps.has_device("e1000"));
    CHECK_FALSE(caps.has_device("no-such-device"));
    CHECK(caps.kvm_enabled == probe_kvm().usable);
}

TEST_CASE("capabilities survive a round trip through the cache format", "[qemu][qemu-real][caps]")
{
    const QemuCapabilities caps = probe_capabilities(qemu_binary(), 10s);
    const QemuCapabilities back = QemuCapabilities::from_json(caps.to_json());
    CHECK(back.binary == caps.binary);
    CHECK(back.stamp == caps.stamp);
    CHECK(back.version.number() == caps.version.number());
    CHECK(back.machines.size() == caps.machines.size());
    CHECK(back.machine("pc")->name == caps.machine("pc")->name);
    CHECK(back.cpu_models == caps.cpu_models);
    CHECK(back.device_types == caps.device_types);
    CHECK(error_code_of([] { QemuCapabilities::from_json("{\"format\": 0}"); }) == VIRTKIT_ERR_CONFIG);
    CHECK(error_code_of([] { QemuCapabilities::from_json("not json"); }) == VIRTKIT_ERR_CONFIG);
}

TEST_CASE("the capability cache probes once per binary version, also across processes", "[qemu][qemu-real][caps]")
{
    const TempDir dir;
    const std::string binary = wrapper_in(dir);
    const auto cache_dir = dir.path() / "cache";
    {
        CapabilityCache cache(cache_dir);
        const auto first = cache.get(binary);
        const auto second = cache.get(binary);
        CHECK(cache.probes_run() == 1);
        CHECK(first == second);
    }
    {
        CapabilityCache reopened(cache_dir);  // as a later process would
        CHECK(reopened.get(binary)->machine("pc"));
        CHECK(reopened.probes_run() == 0);

        std::ofstream(binary, std::ios::app) << "# changed\n";  // new size and mtime: a new binary
        CHECK(reopened.get(binary)->machine("pc"));
        CHECK(reopened.probes_run() == 1);
    }
}

TEST_CASE("probing something that is not QEMU fails clearly and leaves nothing running", "[qemu][qemu-real][caps]")
{
    const TempDir dir;
    CHECK(error_code_of([&] { probe_capabilities(dir.file("missing"), 5s); }) == VIRTKIT_ERR_NO_SUPPORT);
    const std::string liar = dir.file("fake-qemu");
    std::ofstream(liar) << "#!/bin/sh\necho 'this is not qemu' >&2\nexit 3\n";
    ::chmod(liar.c_str(), 0755);
    try {
        probe_capabilities(liar, 5s);
        FAIL("a fake binary passed the probe");
    } catch (const virtkit::Error &e) {
        CHECK_THAT(e.what(), Catch::Contains("fake-qemu") && Catch::Contains("exited before its monitor") && Catch::Contains("this is not qemu"));
    }
}
