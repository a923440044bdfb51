// The daemon is SIGKILLed while QEMU guests run; a new daemon on the same
// root lists them all and manages them.  Needs qemu-system-x86_64 and the
// qemu plugin (skipped with a warning otherwise); TCG is enough.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <signal.h>

#include <fstream>
#include <thread>

#include <virtkit/connection.hpp>
#include <virtkit/context.hpp>
#include <virtkit/error.hpp>

#include "harness.hpp"

using namespace std::chrono_literals;
using namespace virtkit;
using virtkit::test::Daemon;
using virtkit::test::TempDir;

namespace {

std::string guestXml(const std::string &name)
{
    return "<domain type='qemu'><name>" + name +
           "</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>"
           "<devices><memballoon model='none'/></devices></domain>";
}

// The QEMU running guest `uuid` (by its -uuid argument), -1 if none.
pid_t qemuPidOf(const std::string &uuid)
{
    pid_t found = -1;
    DIR *proc = ::opendir("/proc");
    while (const dirent *entry = proc ? ::readdir(proc) : nullptr) {
        std::ifstream in(std::string("/proc/") + entry->d_name + "/cmdline");
        const std::string cmdline((std::istreambuf_iterator<char>(in)), {});
        if (cmdline.find("qemu-system") != std::string::npos &&
            cmdline.find(std::string("-uuid") + '\0' + uuid) != std::string::npos)
            found = static_cast<pid_t>(std::atoi(entry->d_name));
    }
    if (proc)
        ::closedir(proc);
    return found;
}

// Kills the guests' QEMUs (by pid) whatever happens in the test.
struct GuestReaper {
    std::vector<std::string> uuids;
    ~GuestReaper()
    {
        for (const auto &uuid : uuids)
            if (const pid_t pid = qemuPidOf(uuid); pid > 0)
                ::kill(pid, SIGKILL);
    }
};

}  // namespace

TEST_CASE("guests survive a SIGKILLed daemon and the next daemon manages them", "[daemon][qemu]")
{
    if (!std::filesystem::exists("/usr/bin/qemu-system-x86_64") ||
        !std::filesystem::exists(std::string(VIRTKIT_PLUGIN_BUILD_DIR) + "/libvirtkit-qemu.so")) {
        WARN("skipped: needs /usr/bin/qemu-system-x86_64 and the qemu plugin built");
        return;
    }
    TempDir root;
    Context ctx(Config(), std::vector<std::string>{});
    GuestReaper reaper;
    std::vector<std::string> uuids;
    {
        Daemon first(root.str());
        const std::string uri = "qemu+unix:///system?socket=" + first.socket();
        auto conn = Connection::open(ctx, uri);
        for (const char *name : {"keep1", "keep2"}) {
            const auto ref = conn->defineXml(guestXml(name));
            reaper.uuids.push_back(ref.uuid);
            uuids.push_back(ref.uuid);
            conn->domainStart(ref.uuid);
            CHECK(conn->domainInfo(ref.uuid).state == VIRTKIT_DOMAIN_RUNNING);
        }
        first.kill9();
    }
    for (const auto &uuid : uuids)
        CHECK(qemuPidOf(uuid) > 0);  // the daemon's death took no guest with it

    Daemon second(root.str());
    auto conn = Connection::open(ctx, "qemu+unix:///system?socket=" + second.socket());
    const auto listed = conn->listDomains(ListActive);
    CHECK(listed.size() == 2);
    for (const auto &uuid : uuids) {
        CHECK(conn->domainInfo(uuid).state == VIRTKIT_DOMAIN_RUNNING);
    }
    conn->domainSuspend(uuids[0]);
    CHECK(conn->domainInfo(uuids[0]).state == VIRTKIT_DOMAIN_PAUSED);
    conn->domainDestroy(uuids[0]);
    CHECK(conn->domainInfo(uuids[0]).state == VIRTKIT_DOMAIN_SHUTOFF);
    CHECK(conn->domainInfo(uuids[1]).state == VIRTKIT_DOMAIN_RUNNING);
    conn->domainDestroy(uuids[1]);
    // SIGTERM on a daemon leaves nothing behind but the guests it was told to keep.
    CHECK(second.terminate() == 0);
}
