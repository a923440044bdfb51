// The migration commands through the built CLI.  "[migration]": bad input
// against test:///default (refused before anything is touched).
// "[migration-e2e]": real QEMU (TCG here) between two qemu:///embed roots.
#include <catch2/catch.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "../cli/cli_runner.hpp"

using virtkit::test::CliResult;
using virtkit::test::CliSandbox;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

std::string firstError(const CliResult &r)
{
    const auto lines = r.errorLines();
    return lines.empty() ? std::string() : lines.front();
}

}  // namespace

TEST_CASE("migrate refuses contradictory options before connecting anywhere; the domain keeps running",
          "[migration][cli]")
{
    CliSandbox sb;
    const std::string dest = "qemu:///embed?root=" + (sb.dir() / "never-created").string();
    std::string options, expect;
    SECTION("non-live post-copy")
    {
        options = "--postcopy";
        expect = "post-copy migration requires live migration (--live)";
    }
    SECTION("--postcopy-resume without --postcopy")
    {
        options = "--postcopy-resume";
        expect = "resuming failed post-copy migration requires post-copy to be enabled";
    }
    SECTION("--postcopy-after-precopy without --postcopy")
    {
        options = "--live --postcopy-after-precopy";
        expect = "--postcopy-after-precopy requires --postcopy";
    }
    SECTION("--timeout-postcopy without --timeout")
    {
        options = "--live --postcopy --timeout-postcopy";
        expect = "require --timeout";
    }
    SECTION("both timeout actions")
    {
        options = "--live --postcopy --timeout 5 --timeout-suspend --timeout-postcopy";
        expect = "mutually exclusive";
    }
    SECTION("a timeout that is not a number")
    {
        options = "--live --timeout soon";
        expect = "numeric value 'soon' for <timeout> option is malformed";
    }
    SECTION("a bandwidth that is not a number")
    {
        options = "--live --bandwidth -3";
        expect = "numeric value '-3' for <bandwidth> option is malformed";
    }
    const CliResult r = sb.runTest("migrate " + options + " test '" + dest + "'; domstate test");
    CHECK(r.exitCode == 1);
    CHECK(contains(firstError(r), expect));
    INFO(r.err);
    REQUIRE_FALSE(r.outLines().empty());
    CHECK(r.outLines().front() == "running");
    CHECK_FALSE(std::filesystem::exists(sb.dir() / "never-created"));
}

TEST_CASE("migrate to a destination that cannot be reached fails before any phase", "[migration][cli]")
{
    CliSandbox sb;
    std::string dest, expect;
    SECTION("a daemon socket nobody listens on")
    {
        dest = "qemu+unix:///system?socket=" + (sb.dir() / "no-daemon.sock").string();
        expect = "cannot connect to the destination";
    }
    SECTION("a malformed URI")
    {
        dest = "::not a uri";
        expect = "cannot connect to the destination '::not a uri'";
    }
    SECTION("a scheme no plugin handles")
    {
        dest = "nosuchdriver:///x";
        expect = "no plugin handles URI scheme 'nosuchdriver'";
    }
    const CliResult r = sb.runTest("migrate --live test '" + dest + "'; domstate test");
    CHECK(r.exitCode == 1);
    CHECK(contains(firstError(r), expect));
    INFO(r.err);
    REQUIRE_FALSE(r.outLines().empty());
    CHECK(r.outLines().front() == "running");
}

TEST_CASE("the migration commands are in the command table with virsh's options", "[migration][cli]")
{
    CliSandbox sb;
    const CliResult r = sb.run({"help", "migrate"});
    REQUIRE(r.exitCode == 0);
    for (const char *opt : {"--live", "--p2p", "--postcopy", "--postcopy-after-precopy", "--postcopy-resume",
                            "--persistent", "--undefinesource", "--suspend", "--bandwidth", "--postcopy-bandwidth",
                            "--timeout", "--timeout-suspend", "--timeout-postcopy", "--migrateuri",
                            "--listen-address", "--verbose", "--xml", "--dname"})
        CHECK(contains(r.out, opt));
    for (const char *cmd : {"migrate-postcopy", "domjobabort", "domjobinfo", "migrate-setspeed", "migrate-getspeed"})
        CHECK(sb.run({"help", cmd}).exitCode == 0);
}

// ---------------------------------------------------------------- real QEMU

namespace {

constexpr uint64_t kBlobAddress = 0x2000000;  // 32 MiB: above what the firmware touches

std::string readProcFile(const std::filesystem::path &path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The QEMUs whose command line names `dir` (a root of this test's sandbox: only ours).
std::vector<pid_t> qemusUnder(const std::string &dir)
{
    std::vector<pid_t> pids;
    for (const auto &entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        const std::string cmdline = readProcFile(entry.path() / "cmdline");
        if (contains(cmdline.substr(0, cmdline.find('\0')), "qemu-system") && contains(cmdline, dir))
            pids.push_back(static_cast<pid_t>(std::stol(name)));
    }
    return pids;
}

bool gone(pid_t pid)
{
    const std::string stat = readProcFile("/proc/" + std::to_string(pid) + "/stat");
    const auto end = stat.rfind(')');
    return stat.empty() || end == std::string::npos || stat.compare(end + 2, 1, "Z") == 0;
}

// Whether `pid` holds an established TCP connection: a source QEMU's only TCP
// socket is its migration stream, there once `migrate` connected.
bool hasEstablishedTcp(pid_t pid)
{
    std::vector<std::string> inodes;
    std::error_code ec;
    for (const auto &fd : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        const std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
        if (target.rfind("socket:[", 0) == 0)
            inodes.push_back(target.substr(8, target.size() - 9));
    }
    for (const char *table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::istringstream lines(readProcFile(table));
        std::string line;
        std::getline(lines, line);  // header
        while (std::getline(lines, line)) {
            std::istringstream fields(line);
            std::string f[10];
            for (auto &field : f)
                fields >> field;
            if (f[3] == "01" && std::find(inodes.begin(), inodes.end(), f[9]) != inodes.end())
                return true;
        }
    }
    return false;
}

// Kills (SIGKILL, by pid) every QEMU still running under the sandbox when the
// test ends, however it ends: a failed check must not leave a paused guest behind.
class QemuReaper {
public:
    explicit QemuReaper(std::filesystem::path dir) : dir_(std::move(dir)) {}
    ~QemuReaper()
    {
        for (int round = 0; round < 100; ++round) {
            std::vector<pid_t> alive;
            for (const pid_t pid : qemusUnder(dir_.string() + "/"))
                if (!gone(pid))
                    alive.push_back(pid);
            if (alive.empty())
                return;
            for (const pid_t pid : alive)
                ::kill(pid, SIGKILL);
            std::this_thread::sleep_for(50ms);
        }
    }
    QemuReaper(const QemuReaper &) = delete;
    QemuReaper &operator=(const QemuReaper &) = delete;

private:
    std::filesystem::path dir_;
};

// Two qemu:///embed roots and one guest whose RAM holds a random blob (QEMU's
// generic loader device), destroyed and undefined on both hosts at the end;
// whatever QEMU of theirs is left then is killed (QemuReaper).
class TwoHosts {
public:
    explicit TwoHosts(unsigned blobMiB, unsigned memoryMiB = 128) : blobBytes_(uint64_t(blobMiB) << 20)
    {
        if (!std::filesystem::exists("/usr/bin/qemu-system-x86_64"))
            FAIL("qemu-system-x86_64 is not installed (scripts/setup.sh installs qemu-system-x86)");
        std::filesystem::create_directories(sb_.dir() / "a");
        std::filesystem::create_directories(sb_.dir() / "b");
        src = "qemu:///embed?root=" + (sb_.dir() / "a").string();
        dst = "qemu:///embed?root=" + (sb_.dir() / "b").string();
        blob_ = (sb_.dir() / "blob.bin").string();
        std::mt19937_64 rng(std::random_device{}());
        std::ofstream out(blob_, std::ios::binary);
        for (uint64_t i = 0; i < blobBytes_ / 8; ++i) {
            const uint64_t v = rng();
            out.write(reinterpret_cast<const char *>(&v), sizeof v);
        }
        out.close();
        const std::string xml =
            "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
            "  <name>mig</name>\n"
            "  <memory unit='MiB'>" + std::to_string(memoryMiB) + "</memory>\n"
            "  <vcpu>1</vcpu>\n"
            "  <os><type arch='x86_64' machine='pc'>hvm</type></os>\n"
            "  <qemu:commandline>\n"
            "    <qemu:arg value='-device'/>\n"
            "    <qemu:arg value='loader,file=" + blob_ + ",addr=" + std::to_string(kBlobAddress) + "'/>\n"
            "  </qemu:commandline>\n"
            "</domain>\n";
        const CliResult r = on(src, "define '" + sb_.writeFile("mig.xml", xml) + "'; start mig");
        REQUIRE(r.exitCode == 0);
    }
    ~TwoHosts()
    {
        for (const auto &uri : {src, dst})
            on(uri, "destroy mig; undefine mig");
    }
    TwoHosts(const TwoHosts &) = delete;
    TwoHosts &operator=(const TwoHosts &) = delete;

    CliResult on(const std::string &uri, const std::string &commands) const { return sb_.run({"-c", uri, commands}); }
    std::string state(const std::string &uri) const
    {
        const CliResult r = on(uri, "domstate --reason mig");
        return r.exitCode == 0 && !r.outLines().empty() ? r.outLines().front() : firstError(r);
    }
    // The guest's RAM where the blob was loaded, read back through the monitor (pmemsave).
    bool memoryMatches(const std::string &uri) const
    {
        const std::string dump = (sb_.dir() / "dump.bin").string();
        std::filesystem::remove(dump);
        const CliResult r = on(uri, "qemu-monitor-command --hmp mig 'pmemsave " + std::to_string(kBlobAddress) + " " +
                                        std::to_string(blobBytes_) + " \"" + dump + "\"'");
        if (r.exitCode != 0 || !std::filesystem::exists(dump))
            return false;  // HMP reports its errors as output, with success
        return readFile(dump) == readFile(blob_);
    }
    // The QEMU of root "a" (source) or "b" (destination), or -1.
    pid_t qemuOf(const std::string &uri) const
    {
        const auto pids = qemusUnder((sb_.dir() / (uri == src ? "a" : "b")).string() + "/");
        return pids.empty() ? -1 : pids.front();
    }
    std::string src, dst;

private:
    static std::string readFile(const std::string &path) { return readProcFile(path); }
    CliSandbox sb_;
    QemuReaper reaper_{sb_.dir()};  // after sb_: runs before the sandbox is removed
    uint64_t blobBytes_;
    std::string blob_;
};

}  // namespace

TEST_CASE("pre-copy live migration between two roots: the guest runs on the destination with its memory intact",
          "[migration-e2e]")
{
    TwoHosts h(16);
    REQUIRE(h.memoryMatches(h.src));
    const CliResult r = h.on(h.src, "migrate --live --verbose mig '" + h.dst + "'");
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    CHECK(contains(r.err, "Migration: [100 %]"));
    CHECK(h.state(h.dst) == "running (migrated)");
    CHECK(contains(h.state(h.src), "shut off"));
    CHECK(h.memoryMatches(h.dst));
    const CliResult info = h.on(h.dst, "domjobinfo --completed mig");
    INFO(info.out << info.err);
    CHECK(info.exitCode == 0);
}

TEST_CASE("a pre-copy switched to post-copy by --timeout-postcopy completes, memory intact", "[migration-e2e]")
{
    // 10 MiB/s makes the first pass last seconds: the switch after 1 s happens mid-stream.
    TwoHosts h(64, 256);
    const CliResult r = h.on(h.src, "migrate --live --postcopy --timeout 1 --timeout-postcopy --bandwidth 10 --verbose mig '" +
                                        h.dst + "'");
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    CHECK(contains(r.err, "Migration: switched to post-copy"));
    CHECK(h.state(h.dst) == "running (migrated)");
    CHECK(contains(h.state(h.src), "shut off"));
    CHECK(h.memoryMatches(h.dst));
}

TEST_CASE("bad requests against real QEMU leave both hosts unchanged", "[migration-e2e]")
{
    TwoHosts h(1);
    std::string options, expect;
    SECTION("--postcopy-resume when nothing is paused")
    {
        options = "--postcopy --postcopy-resume";
        expect = "failed at Begin";
    }
    SECTION("the source as its own destination")
    {
        const CliResult r = h.on(h.src, "migrate --live mig '" + h.src + "'");
        CHECK(r.exitCode == 1);
        CHECK(h.state(h.src) == "running (booted)");
        return;
    }
    const CliResult r = h.on(h.src, "migrate " + options + " mig '" + h.dst + "'");
    CHECK(r.exitCode == 1);
    CHECK(contains(firstError(r), expect));
    CHECK(h.state(h.src) == "running (booted)");
    CHECK(contains(h.state(h.dst), "failed to get domain 'mig'"));
}

TEST_CASE("a second migration of a migrating domain is refused and the first completes", "[migration-e2e]")
{
    TwoHosts h(64, 256);
    auto first = std::async(std::launch::async,
                            [&] { return h.on(h.src, "migrate --live --bandwidth 16 mig '" + h.dst + "'"); });
    std::this_thread::sleep_for(1500ms);
    const CliResult second = h.on(h.src, "migrate --live mig '" + h.dst + "'");
    CHECK(second.exitCode == 1);
    INFO(second.err);
    const CliResult r = first.get();
    INFO(r.err);
    CHECK(r.exitCode == 0);
    CHECK(h.state(h.dst) == "running (migrated)");
    CHECK(h.memoryMatches(h.dst));
}

namespace {

// The pid of the virtkit process of this test whose command line names `root` and `word`, or -1.
pid_t findCli(const std::string &root, const std::string &word)
{
    for (const auto &entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        std::ifstream in(entry.path() / "cmdline", std::ios::binary);
        const std::string cmdline{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        if (cmdline.rfind(VIRTKIT_CLI_PATH, 0) == 0 && contains(cmdline, root) && contains(cmdline, word))
            return static_cast<pid_t>(std::stol(name));
    }
    return -1;
}

// Starts `migrate` (8 MiB/s: the 64 MiB blob keeps Perform busy for seconds)
// and SIGKILLs that CLI -- which runs both hosts' sides in embed mode -- once
// the source QEMU's migration stream is connected: inside Perform, for sure.
// `freezeDestination`: SIGSTOP the destination QEMU first, so the stream
// cannot finish before the restarted manager acts; returns its pid.
pid_t killManagerInsidePerform(const TwoHosts &h, bool freezeDestination = false)
{
    const pid_t source = h.qemuOf(h.src);
    REQUIRE(source > 0);
    auto migrating =
        std::async(std::launch::async, [&] { return h.on(h.src, "migrate --live --bandwidth 8 mig '" + h.dst + "'"); });
    pid_t cli = -1;
    for (int i = 0; i < 6000 && cli <= 0; ++i) {  // up to 2 min
        if (hasEstablishedTcp(source))
            cli = findCli(h.src, "migrate");
        else
            std::this_thread::sleep_for(20ms);
    }
    REQUIRE(cli > 0);
    const pid_t destination = h.qemuOf(h.dst);
    if (freezeDestination) {
        REQUIRE(destination > 0);
        REQUIRE(::kill(destination, SIGSTOP) == 0);  // a QEMU of this test's root, by id
    }
    REQUIRE(::kill(cli, SIGKILL) == 0);  // our own child, by id
    CHECK(migrating.get().exitCode != 0);
    return destination;
}

}  // namespace

// The manager is killed inside Perform and the source QEMU then completes the
// stream on its own: the destination holds a whole paused copy that never
// ran.  libvirt's rule: a completed source is not resumed blindly (it cannot
// see whether that copy is gone); it stays paused as the migration's until
// Confirm or domjobabort decides.  Each step waits on a state, never a sleep.
TEST_CASE("the managing process killed after the source QEMU completed: the source is not resumed blindly; "
          "domjobabort keeps the guest here and it migrates later",
          "[migration-e2e]")
{
    TwoHosts h(64, 256);
    killManagerInsidePerform(h);

    // Nobody manages either side now; the source QEMU finishes the stream by
    // itself.  qemu-monitor-command does not re-derive the job: it only watches.
    bool completed = false;
    for (int i = 0; i < 600 && !completed; ++i) {  // 600 looks, minutes at most
        const CliResult q = h.on(h.src, R"(qemu-monitor-command mig '{"execute":"query-migrate"}')");
        completed = contains(q.out, "completed");
        if (!completed)
            std::this_thread::sleep_for(200ms);
    }
    REQUIRE(completed);

    // The restarted manager re-derives the job: kept, waiting, paused as the migration's.
    const CliResult info = h.on(h.src, "domjobinfo mig");
    INFO(info.out << info.err);
    CHECK(info.exitCode == 0);
    CHECK(contains(info.out, "Outgoing migration"));
    CHECK(h.state(h.src) == "paused (migrating)");
    CHECK_FALSE(contains(h.state(h.dst), "running"));

    // A new migration is refused before anything is touched, naming the way out.
    const CliResult refused = h.on(h.src, "migrate --live mig '" + h.dst + "'");
    INFO(refused.err);
    CHECK(refused.exitCode == 1);
    CHECK(contains(refused.err, "domjobabort"));
    CHECK(h.state(h.src) == "paused (migrating)");

    // domjobabort decides: the guest stays here and runs, its memory intact.
    const CliResult aborted = h.on(h.src, "domjobabort mig");
    INFO(aborted.err);
    CHECK(aborted.exitCode == 0);
    CHECK(h.state(h.src) == "running (migration canceled)");
    CHECK(h.memoryMatches(h.src));
    CHECK_FALSE(contains(h.state(h.dst), "running"));

    // The next migration cleans up the destination's stale copy and completes.
    const CliResult again = h.on(h.src, "migrate --live mig '" + h.dst + "'");
    INFO(again.err);
    CHECK(again.exitCode == 0);
    CHECK(h.state(h.dst) == "running (migrated)");
    CHECK(contains(h.state(h.src), "shut off"));
    CHECK(h.memoryMatches(h.dst));
}

// The manager is killed inside Perform while the stream still flows (the
// destination QEMU is frozen so it cannot finish first): the restarted
// manager cancels the migration and the source keeps running (libvirt's
// PERFORM3 rule: Finish never started the destination).
TEST_CASE("the managing process killed mid-stream: the restarted manager cancels the migration, the source runs "
          "on, and the guest migrates later",
          "[migration-e2e]")
{
    TwoHosts h(64, 256);
    const pid_t destination = killManagerInsidePerform(h, true);

    const CliResult info = h.on(h.src, "domjobinfo mig");  // re-derives: cancel, keep running
    INFO(info.out << info.err);
    CHECK(info.exitCode == 0);
    const CliResult status = h.on(h.src, R"(qemu-monitor-command mig '{"execute":"query-migrate"}')");
    INFO(status.out);
    CHECK(contains(status.out, "cancelled"));
    CHECK(h.state(h.src).rfind("running", 0) == 0);
    REQUIRE(::kill(destination, SIGCONT) == 0);  // its stream is gone: it fails its incoming migration
    CHECK_FALSE(contains(h.state(h.dst), "running"));
    CHECK(h.memoryMatches(h.src));

    const CliResult again = h.on(h.src, "migrate --live mig '" + h.dst + "'");
    INFO(again.err);
    CHECK(again.exitCode == 0);
    CHECK(h.state(h.dst) == "running (migrated)");
    CHECK(h.memoryMatches(h.dst));
}

#ifdef VIRTKITD_PATH
namespace {

// One virtkitd per host, each with its own --root; killed (by pid) and its guests destroyed at the end.
class TwoDaemons {
public:
    TwoDaemons()
    {
        if (!std::filesystem::exists("/usr/bin/qemu-system-x86_64"))
            FAIL("qemu-system-x86_64 is not installed");
        for (const char *name : {"a", "b"}) {
            const std::string root = (sb_.dir() / (std::string("root-") + name)).string();
            const std::string sock = (sb_.dir() / (std::string(name) + ".sock")).string();
            std::filesystem::create_directories(root);
            roots_.push_back(root);
            std::vector<std::string> args = {VIRTKITD_PATH, "--root", root, "--listen", "unix:" + sock};
            std::vector<char *> argv;
            for (auto &a : args)
                argv.push_back(a.data());
            argv.push_back(nullptr);
            pid_t pid = -1;
            REQUIRE(posix_spawn(&pid, VIRTKITD_PATH, nullptr, nullptr, argv.data(), environ) == 0);
            pids_.push_back(pid);
            for (int i = 0; i < 100 && !std::filesystem::exists(sock); ++i)
                std::this_thread::sleep_for(50ms);
            REQUIRE(std::filesystem::exists(sock));
            uris.push_back("qemu+unix:///system?socket=" + sock);
        }
        blob_ = (sb_.dir() / "blob.bin").string();
        std::mt19937_64 rng(7);
        std::ofstream out(blob_, std::ios::binary);
        for (int i = 0; i < (8 << 20) / 8; ++i) {
            const uint64_t v = rng();
            out.write(reinterpret_cast<const char *>(&v), sizeof v);
        }
    }
    ~TwoDaemons()
    {
        for (const pid_t pid : pids_) {
            ::kill(pid, SIGTERM);
            ::waitpid(pid, nullptr, 0);
        }
        for (const auto &root : roots_)  // guests outlive their daemon: remove them directly
            sb_.run({"-c", "qemu:///embed?root=" + root + "/qemu", "destroy mig; undefine mig"});
    }
    TwoDaemons(const TwoDaemons &) = delete;
    TwoDaemons &operator=(const TwoDaemons &) = delete;

    CliResult on(int host, const std::string &commands) const { return sb_.run({"-c", uris[host], commands}); }
    std::string state(int host) const
    {
        const CliResult r = on(host, "domstate --reason mig");
        return r.exitCode == 0 && !r.outLines().empty() ? r.outLines().front() : firstError(r);
    }
    void startGuest() const
    {
        const std::string xml =
            "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>mig</name>"
            "<memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>"
            "<qemu:commandline><qemu:arg value='-device'/><qemu:arg value='loader,file=" + blob_ + ",addr=" +
            std::to_string(kBlobAddress) + "'/></qemu:commandline></domain>";
        REQUIRE(on(0, "define '" + sb_.writeFile("mig.xml", xml) + "'; start mig").exitCode == 0);
    }
    bool memoryMatches(int host) const
    {
        const std::string dump = (sb_.dir() / "dump.bin").string();
        std::filesystem::remove(dump);
        on(host, "qemu-monitor-command --hmp mig 'pmemsave " + std::to_string(kBlobAddress) + " " +
                     std::to_string(8 << 20) + " \"" + dump + "\"'");
        std::ifstream a(dump, std::ios::binary), b(blob_, std::ios::binary);
        const std::string x{std::istreambuf_iterator<char>(a), std::istreambuf_iterator<char>()};
        const std::string y{std::istreambuf_iterator<char>(b), std::istreambuf_iterator<char>()};
        return !x.empty() && x == y;
    }
    std::vector<std::string> uris;

private:
    CliSandbox sb_;
    std::vector<std::string> roots_;
    std::vector<pid_t> pids_;
    std::string blob_;
};

}  // namespace

TEST_CASE("through two daemons: --p2p, then post-copy paused by domjobabort --postcopy and resumed",
          "[migration-e2e]")
{
    TwoDaemons h;
    h.startGuest();

    // Peer-to-peer: the source's daemon talks to the destination's daemon itself.
    const CliResult p2p = h.on(0, "migrate --live --p2p mig '" + h.uris[1] + "'");
    INFO(p2p.err);
    REQUIRE(p2p.exitCode == 0);
    CHECK(h.state(1) == "running (migrated)");
    CHECK(h.state(0) == "shut off (migrated)");

    // Client-managed back, switched to post-copy, then paused from another process.
    auto back = std::async(std::launch::async, [&] {
        return h.on(1, "migrate --live --postcopy --timeout 1 --timeout-postcopy --bandwidth 2 --postcopy-bandwidth 1 "
                       "mig '" + h.uris[0] + "'");
    });
    bool inPostcopy = false;
    for (int i = 0; i < 200 && !inPostcopy; ++i) {
        inPostcopy = contains(h.on(1, "domjobinfo mig").out, "Status:           postcopy\n");
        std::this_thread::sleep_for(50ms);
    }
    REQUIRE(inPostcopy);
    CHECK(h.on(1, "domjobabort --postcopy mig").exitCode == 0);
    const CliResult broken = back.get();
    CHECK(broken.exitCode == 1);
    CHECK(contains(firstError(broken), "--postcopy-resume"));
    CHECK(h.state(1) == "paused (post-copy failed)");
    CHECK(h.state(0) == "running (post-copy failed)");  // nothing killed on either side

    const CliResult resumed = h.on(1, "migrate --postcopy --postcopy-resume --postcopy-bandwidth 1000 mig '" +
                                          h.uris[0] + "'");
    INFO(resumed.err);
    CHECK(resumed.exitCode == 0);
    CHECK(h.state(0) == "running (migrated)");
    CHECK(h.state(1) == "shut off (migrated)");
    CHECK(h.memoryMatches(0));
}
#endif
