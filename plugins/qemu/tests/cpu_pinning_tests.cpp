// <vcpu cpuset>: every thread of a real QEMU runs only on the host CPUs the
// XML names, from before the guest runs; a set with no usable CPU fails the
// start and leaves nothing running.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sched.h>

#include "command_line_support.hpp"
#include "plugin_harness.hpp"
#include "temp_dir.hpp"

using namespace virtkit::qemu::testing;

namespace {

std::string pinned_xml(const std::string &name, const std::string &uuid, const std::string &vcpu)
{
    return "<domain type='qemu'><name>" + name + "</name><uuid>" + uuid + "</uuid><memory unit='MiB'>32</memory>" +
           vcpu + "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices><memballoon model='none'/></devices></domain>";
}

std::string allowed_list(const std::filesystem::path &task)
{
    std::ifstream in(task / "status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("Cpus_allowed_list:", 0) == 0)
            return line.substr(line.find_first_not_of(" \t", 18));
    return "";
}

}  // namespace

TEST_CASE("<vcpu cpuset> is checked at define and placement auto is refused", "[qemu][argv][pinning]")
{
    CHECK(error_code_for(pinned_xml("p", "c7a5fdbd-edaf-9455-926a-d65c16db1809", "<vcpu cpuset='0-1,^1'>1</vcpu>")) ==
          VIRTKIT_OK);
    CHECK(error_code_for(pinned_xml("p", "c7a5fdbd-edaf-9455-926a-d65c16db1809", "<vcpu cpuset='2-1'>1</vcpu>")) ==
          VIRTKIT_ERR_XML);
    CHECK(error_code_for(pinned_xml("p", "c7a5fdbd-edaf-9455-926a-d65c16db1809", "<vcpu cpuset='5000'>1</vcpu>")) ==
          VIRTKIT_ERR_XML);
    CHECK(error_code_for(pinned_xml("p", "c7a5fdbd-edaf-9455-926a-d65c16db1809",
                                    "<vcpu placement='auto'>1</vcpu>")) == VIRTKIT_ERR_NO_SUPPORT);
}

TEST_CASE("every thread of a real QEMU runs only on the CPUs of <vcpu cpuset>", "[qemu][qemu-real][pinning]")
{
    cpu_set_t mine;
    REQUIRE(::sched_getaffinity(0, sizeof mine, &mine) == 0);
    int last = -1;  // the highest CPU this test may use: pinning to it is a real restriction on any host with two
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &mine))
            last = cpu;
    REQUIRE(last >= 0);

    const TempDir root;
    const std::string uuid = fresh_uuid();
    const QemuGuard guard(uuid);
    Conn conn(root.path().string());
    REQUIRE(conn.define(pinned_xml("pinned", uuid, "<vcpu placement='static' cpuset='" + std::to_string(last) +
                                                       ",1000'>2</vcpu>")).code == VIRTKIT_OK);
    REQUIRE(conn.run(ops().domain_start, uuid).code == VIRTKIT_OK);
    const pid_t qemu = qemu_pid_of(uuid);
    REQUIRE(qemu > 0);
    int threads = 0;
    for (const auto &task : std::filesystem::directory_iterator("/proc/" + std::to_string(qemu) + "/task")) {
        ++threads;
        CHECK(allowed_list(task.path()) == std::to_string(last));
    }
    CHECK(threads >= 3);  // main, two vCPUs (and QEMU's helpers)
    CHECK(conn.run(ops().domain_destroy, uuid).code == VIRTKIT_OK);

    // 1000 exists on no machine here: nothing to run on, so the start fails and leaves nothing behind
    const std::string other = fresh_uuid();
    const QemuGuard other_guard(other);
    REQUIRE(conn.define(pinned_xml("nowhere", other, "<vcpu cpuset='1000'>1</vcpu>")).code == VIRTKIT_OK);
    const Outcome refused = conn.run(ops().domain_start, other);
    CHECK(refused.code == VIRTKIT_ERR_INVALID_ARG);
    CHECK_THAT(refused.message, Catch::Contains("no CPU this host can run the guest on"));
    CHECK(qemu_pid_of(other) < 0);
    CHECK(conn.info(other).state == VIRTKIT_DOMAIN_SHUTOFF);
}
