// `virtkit console`: refusals against the test driver, and a real session with
// a busybox shell in an lxc container (root and /bin/busybox only, as the lxc
// plugin's own real-container tests), driven through a pipe as a script would.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "cli_runner.hpp"

namespace fs = std::filesystem;
using virtkit::test::CliResult;
using virtkit::test::CliSandbox;

namespace {

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

// bin/virtkit with stdin and stdout on pipes the test holds, for an interactive session.
class ConsoleProcess {
public:
    explicit ConsoleProcess(const std::vector<std::string> &args)
    {
        int in[2], out[2];
        REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
        REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, in[0], 0);
        posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        posix_spawn_file_actions_adddup2(&actions, out[1], 2);
        std::vector<std::string> argStrings{VIRTKIT_CLI_PATH};
        argStrings.insert(argStrings.end(), args.begin(), args.end());
        std::vector<char *> argv;
        for (auto &a : argStrings)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        char *envp[] = {const_cast<char *>("PATH=/usr/bin:/bin"), const_cast<char *>("LANG=C"), nullptr};
        const int rc = posix_spawn(&pid_, VIRTKIT_CLI_PATH, &actions, nullptr, argv.data(), envp);
        posix_spawn_file_actions_destroy(&actions);
        ::close(in[0]);
        ::close(out[1]);
        stdin_ = in[1];
        stdout_ = out[0];
        REQUIRE(rc == 0);
    }
    ~ConsoleProcess()
    {
        if (pid_ > 0 && exitCode_ < 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        closeStdin();
        ::close(stdout_);
    }

    void send(const std::string &bytes) { REQUIRE(::write(stdin_, bytes.data(), bytes.size()) == ssize_t(bytes.size())); }
    void closeStdin()
    {
        if (stdin_ >= 0)
            ::close(stdin_);
        stdin_ = -1;
    }
    // Reads until `marker` has appeared or the output ends or time runs out.
    bool waitFor(const std::string &marker, std::chrono::milliseconds limit = std::chrono::seconds(10))
    {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (!contains(output_, marker)) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
            pollfd p{stdout_, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
                return false;
            char buffer[4096];
            const ssize_t n = ::read(stdout_, buffer, sizeof buffer);
            if (n <= 0)
                return contains(output_, marker);
            output_.append(buffer, static_cast<std::size_t>(n));
        }
        return true;
    }
    // The exit status, or -1 if it did not exit in time (it is then killed).
    int wait(std::chrono::milliseconds limit = std::chrono::seconds(10))
    {
        waitFor("\x01never\x01", limit);  // collect output until EOF
        for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end;) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                exitCode_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                return exitCode_;
            }
            ::usleep(20000);
        }
        return -1;
    }
    const std::string &output() const { return output_; }

private:
    pid_t pid_ = -1;
    int stdin_ = -1, stdout_ = -1;
    int exitCode_ = -1;
    std::string output_;
};

// An lxc embed root with a busybox rootfs; destroys what runs in it at the end.
class LxcHost {
public:
    explicit LxcHost(const CliSandbox &sandbox) : sandbox_(sandbox)
    {
        const fs::path dir = sandbox.dir();
        fs::permissions(dir, fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
        fs::create_directories(dir / "rootfs/bin");
        for (const char *d : {"proc", "sys", "dev", "tmp"})
            fs::create_directories(dir / "rootfs" / d);
        fs::copy_file("/bin/busybox", dir / "rootfs/bin/busybox");
        for (const char *applet : {"sh", "sleep", "echo"})
            fs::create_symlink("busybox", dir / "rootfs/bin" / applet);
        uri_ = "lxc:///embed?root=" + (dir / "vk").string();
        partition_ = "/virtkit-console-test-" + dir.filename().string().substr(12);
    }
    ~LxcHost()
    {
        for (const auto &name : started_)
            sandbox_.run({"-c", uri_, "destroy", name});
    }
    const std::string &uri() const { return uri_; }

    // Defines (and starts) a container whose init is a shell: interactive on
    // the console, else one that sleeps (without a tty it would end at once).
    void define(const std::string &name, bool withConsole, bool start)
    {
        const std::string file = sandbox_.writeFile(
            name + ".xml",
            "<domain type='lxc'><name>" + name + "</name><memory unit='MiB'>32</memory>"
            "<resource><partition>" + partition_ + "</partition></resource>"
            "<os><type>exe</type><init>/bin/sh</init>" +
                (withConsole ? "" : "<initarg>-c</initarg><initarg>exec sleep 1000</initarg>") + "</os><devices>"
            "<filesystem type='mount'><source dir='" + (sandbox_.dir() / "rootfs").string() +
            "'/><target dir='/'/></filesystem>" + (withConsole ? "<console type='pty'/>" : "") +
            "</devices></domain>");
        const CliResult defined = sandbox_.run({"-c", uri_, "define", file});
        INFO(defined.err);
        REQUIRE(defined.exitCode == 0);
        if (!start)
            return;
        const CliResult started = sandbox_.run({"-c", uri_, "start", name});
        INFO(started.err);
        REQUIRE(started.exitCode == 0);
        started_.push_back(name);
    }

private:
    const CliSandbox &sandbox_;
    std::string uri_, partition_;
    std::vector<std::string> started_;
};

bool canRunContainers(const CliSandbox &sandbox)
{
    if (::geteuid() != 0 || !fs::exists("/bin/busybox")) {
        WARN("skipped: lxc console tests need root and /bin/busybox (busybox-static)");
        return false;
    }
    if (!contains(sandbox.run({"plugins"}).out, "lxc")) {
        WARN("skipped: the lxc plugin is not built (VIRTKIT_PLUGIN_LXC=OFF)");
        return false;
    }
    return true;
}

}  // namespace

TEST_CASE("console refuses a domain without a console, an unknown device and a stopped domain", "[cli][console]")
{
    CliSandbox sandbox;
    const CliResult none = sandbox.runTest("console test");
    CHECK(none.exitCode == 1);
    CHECK(contains(none.err, "error: domain 'test' has no console or serial device"));
    CHECK(!contains(none.out, "Connected to domain"));

    const CliResult unknown = sandbox.runTest("console test --devname serial7");
    CHECK(unknown.exitCode == 1);
    CHECK(contains(unknown.err, "has no console or serial device named 'serial7'"));

    const std::string file = sandbox.writeFile("off.xml", virtkit::test::domainXml("off"));
    const CliResult off = sandbox.runTest("define " + file + "; console off");
    CHECK(off.exitCode == 1);
    CHECK(contains(off.err, "error: domain 'off' is not running"));
}

// (Ctrl+] is not in the name: a ']' breaks catch_discover_tests' CMake list.)
TEST_CASE("console relays a container's shell both ways and detaches on the escape character",
          "[cli][console][lxc-real]")
{
    CliSandbox sandbox;
    if (!canRunContainers(sandbox))
        return;
    LxcHost host(sandbox);
    host.define("con-ct", true, true);

    ConsoleProcess session({"-c", host.uri(), "console", "con-ct"});
    REQUIRE(session.waitFor("Escape character is ^] (Ctrl + ])\n"));
    CHECK(contains(session.output(), "Connected to domain 'con-ct'\n"));

    // The shell computes the marker, so the terminal's echo of the command line cannot pass for it.
    std::random_device random;
    const unsigned a = random() % 100000, b = random() % 100000;
    session.send("echo vk-$((" + std::to_string(a) + "+" + std::to_string(b) + "))-done\n");
    const std::string marker = "vk-" + std::to_string(a + b) + "-done";
    INFO(session.output());
    CHECK(session.waitFor(marker));

    // A second session is refused while the first holds the console; --force attaches anyway
    // (its stdin is /dev/null: it ends as soon as the console goes quiet).
    const CliResult second = sandbox.run({"-c", host.uri(), "console", "con-ct"});
    CHECK(second.exitCode == 1);
    CHECK(contains(second.err, "is in use by another session"));
    const CliResult forced = sandbox.run({"-c", host.uri(), "console", "--force", "con-ct"});
    CHECK(forced.exitCode == 0);
    CHECK(contains(forced.out, "Connected to domain 'con-ct'"));

    session.send("\x1d");
    CHECK(session.wait() == 0);
    // Detached, not stopped: the container still runs.
    CHECK(contains(sandbox.run({"-c", host.uri(), "domstate", "con-ct"}).out, "running"));
}

TEST_CASE("console on lxc refuses a stopped container, one without a console and an unknown device",
          "[cli][console][lxc-real]")
{
    CliSandbox sandbox;
    if (!canRunContainers(sandbox))
        return;
    LxcHost host(sandbox);
    host.define("con-off", true, false);
    host.define("con-plain", false, true);
    host.define("con-tty", true, true);

    const CliResult off = sandbox.run({"-c", host.uri(), "console", "con-off"});
    CHECK(off.exitCode == 1);
    CHECK(contains(off.err, "error: domain 'con-off' is not running"));
    const CliResult plain = sandbox.run({"-c", host.uri(), "console", "con-plain"});
    INFO(plain.err);
    CHECK(plain.exitCode == 1);
    CHECK(contains(plain.err, "error: domain 'con-plain' has no console or serial device"));
    const CliResult unknown = sandbox.run({"-c", host.uri(), "console", "--devname", "serial0", "con-tty"});
    CHECK(unknown.exitCode == 1);
    CHECK(contains(unknown.err, "has no console or serial device named 'serial0'"));
    // console0 is the default name of the first <console>.
    const CliResult named = sandbox.run({"-c", host.uri(), "console", "--devname", "console0", "con-tty"});
    CHECK(named.exitCode == 0);
    CHECK(contains(named.out, "Connected to domain 'con-tty'"));
}

#ifdef VIRTKIT_QEMU_TEST_GUEST
// The guest is plugins/qemu/tests/guest/serial_echo.S: it echoes its serial
// port in upper case, so the answer can only come from inside the guest.
TEST_CASE("console relays a QEMU guest's serial port both ways", "[cli][console][qemu-real]")
{
    CliSandbox sandbox;
    if (!contains(sandbox.run({"plugins"}).out, "qemu")) {
        WARN("skipped: the qemu plugin is not built (VIRTKIT_PLUGIN_QEMU=OFF)");
        return;
    }
    const std::string uri = "qemu:///embed?root=" + (sandbox.dir() / "qemu").string();
    const std::string file = sandbox.writeFile(
        "echo.xml", "<domain type='qemu'><name>con-vm</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>"
                    "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>" VIRTKIT_QEMU_TEST_GUEST "</kernel></os>"
                    "<devices><serial type='pty'/><console type='pty'/><memballoon model='none'/></devices></domain>");
    const CliResult started = sandbox.run({"-c", uri, "define " + file + "; start con-vm"});
    INFO(started.err);
    REQUIRE(started.exitCode == 0);
    struct Destroy {
        const CliSandbox &sandbox;
        const std::string &uri;
        ~Destroy() { sandbox.run({"-c", uri, "destroy", "con-vm"}); }
    } destroy{sandbox, uri};

    ConsoleProcess session({"-c", uri, "console", "con-vm"});
    REQUIRE(session.waitFor("Escape character is ^] (Ctrl + ])\n"));
    session.send("hello from the host\r");
    INFO(session.output());
    CHECK(session.waitFor("HELLO FROM THE HOST", std::chrono::seconds(20)));
    session.send("\x1d");
    CHECK(session.wait() == 0);
    CHECK(contains(sandbox.run({"-c", uri, "domstate", "con-vm"}).out, "running"));
}
#endif
