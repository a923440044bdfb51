// The migration commands through the built CLI.  "[migration]": bad input
// against test:///default (refused before anything is touched).
// "[migration-e2e]": real QEMU (TCG here) between two qemu:///embed roots.
#include <catch2/catch.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <thread>

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

// Two qemu:///embed roots and one guest whose RAM holds a random blob (QEMU's
// generic loader device), destroyed and undefined on both hosts at the end.
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
    std::string src, dst;

private:
    static std::string readFile(const std::string &path)
    {
        std::ifstream in(path, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
    CliSandbox sb_;
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

}  // namespace

// Hidden ("[.]"), a known bug: when the kill lands after the source QEMU completed the
// stream, the re-derived job resumes a post-migrate source and leaves the destination
// paused; the next migrate is then refused by QEMU.  See docs/migration.md, "Not done".
TEST_CASE("the managing process killed mid-migration: a restarted CLI re-derives the job and the guest migrates later",
          "[.][migration-e2e][known-bug]")
{
    TwoHosts h(64, 256);
    auto migrating =
        std::async(std::launch::async, [&] { return h.on(h.src, "migrate --live --bandwidth 8 mig '" + h.dst + "'"); });
    std::this_thread::sleep_for(2500ms);
    const pid_t pid = findCli(h.src, "migrate");
    REQUIRE(pid > 0);
    REQUIRE(::kill(pid, SIGKILL) == 0);  // our own child, by id
    CHECK(migrating.get().exitCode != 0);

    // The restarted manager: the job is re-derived (pre-copy, destination never ran: cancelled, source resumed).
    const CliResult info = h.on(h.src, "domjobinfo mig");
    INFO(info.out << info.err);
    CHECK(info.exitCode == 0);
    CHECK(h.state(h.src).rfind("running", 0) == 0);
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
