// Real containers from Debian's busybox-static, run through LxcConnection and
// the real supervisor.  Root only; each test uses its own embed root and
// cgroup partition and checks that nothing is left behind.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <cstdlib>
#include <optional>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <virtkit/error.hpp>

#include "driver/lxc_connection.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace virtkit::lxc;

namespace {

std::string read(const fs::path &file)
{
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

bool wait_for(const std::function<bool()> &done, std::chrono::milliseconds limit = 5000ms)
{
    for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end;) {
        if (done())
            return true;
        std::this_thread::sleep_for(20ms);
    }
    return done();
}

// A temp dir holding a busybox root (rootfs/), a shared dir (out/), a
// read-only source (ro/) and the embed root (vk/).  Removed at scope exit,
// after destroying whatever still runs.
class Sandbox {
public:
    Sandbox()
    {
        std::string pattern = "/tmp/virtkit-lxc-XXXXXX";
        REQUIRE(::mkdtemp(pattern.data()));
        dir = pattern;
        fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                 fs::perms::others_read | fs::perms::others_exec);
        partition = "/virtkit-test-" + dir.filename().string().substr(12);
        for (const char *d : {"rootfs/bin", "rootfs/sbin", "rootfs/proc", "rootfs/sys", "rootfs/dev", "rootfs/tmp",
                              "rootfs/out", "rootfs/ro", "out", "ro", "vk"})
            fs::create_directories(dir / d);
        fs::copy_file("/bin/busybox", dir / "rootfs/bin/busybox");
        for (const char *applet : {"sh", "ps", "hostname", "cat", "sleep", "touch", "echo", "usleep", "date", "id", "ls", "ip"})
            fs::create_symlink("busybox", dir / "rootfs/bin" / applet);
        std::ofstream(dir / "ro/file") << "host data\n";
    }
    ~Sandbox()
    {
        try {
            LxcConnection conn(uri(), nullptr);
            for (const auto &d : conn.list(VIRTKIT_LIST_ACTIVE))
                conn.destroy(d.uuid);
        } catch (...) {
        }
        std::error_code ignored;
        fs::remove_all(dir, ignored);
    }
    std::string uri() const { return "lxc:///embed?root=" + (dir / "vk").string(); }

    std::string xml(const std::string &name, const std::string &script, const std::string &extra = "",
                    const std::string &root = "") const
    {
        return "<domain type='lxc'><name>" + name + "</name><memory unit='MiB'>48</memory>"
               "<resource><partition>" + partition + "</partition></resource>"
               "<os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>" + script +
               "</initarg></os>" + extra +
               "<devices><filesystem type='mount'><source dir='" + (root.empty() ? (dir / "rootfs").string() : root) +
               "'/><target dir='/'/></filesystem>"
               "<filesystem type='mount'><source dir='" + (dir / "out").string() + "'/><target dir='/out'/></filesystem>"
               "<filesystem type='mount'><source dir='" + (dir / "ro").string() + "'/><target dir='/ro'/><readonly/></filesystem>"
               "<filesystem type='ram'><source usage='1024' units='KiB'/><target dir='/tmp'/></filesystem>"
               "<console type='pty'><target type='lxc' port='0'/></console></devices></domain>";
    }

    // No cgroup of our partition in any hierarchy, no mount under our dir.
    bool nothing_left() const
    {
        for (const auto &entry : fs::directory_iterator("/sys/fs/cgroup"))
            if (fs::exists(entry.path() / partition.substr(1)))
                return false;
        return read("/proc/self/mountinfo").find(dir.string()) == std::string::npos;
    }

    fs::path dir;
    std::string partition;
};

bool can_run_containers() { return ::geteuid() == 0 && fs::exists("/bin/busybox"); }

}  // namespace

TEST_CASE("a busybox container is isolated, limited, freezable and leaves nothing behind", "[lxc-real]")
{
    if (!can_run_containers())
        return;
    ::setenv("VIRTKIT_LXC_SUPERVISOR", VIRTKIT_LXC_SUPERVISOR_PATH, 1);
    Sandbox box;
    std::vector<std::pair<std::string, int>> events;
    std::mutex events_mutex;
    LxcConnection conn(box.uri(), [&](const std::string &, const std::string &, int type, int detail) {
        const std::lock_guard lock(events_mutex);
        events.emplace_back(std::to_string(type), detail);
    });
    const std::string script =
        "hostname > /out/hostname; ps -o pid,comm > /out/ps; cat /proc/1/cmdline > /out/init;"
        " (touch /ro/new 2>/dev/null &amp;&amp; echo writable || echo readonly) > /out/ro;"
        " cat /ro/file > /out/ro-read; echo x > /tmp/t &amp;&amp; echo tmp-ok > /out/tmp;"
        " (while true; do date +%s%N > /out/tick; usleep 20000; done) &amp;"
        " echo done > /out/ready; exec sleep 1000";
    const auto ct = conn.define(box.xml("ct-real", script));
    conn.start(ct.uuid);
    REQUIRE(wait_for([&] { return fs::exists(box.dir / "out/ready"); }));
    CHECK(conn.status(ct.uuid).state == VIRTKIT_DOMAIN_RUNNING);

    CHECK(read(box.dir / "out/hostname") == "ct-real\n");
    const std::string ps = read(box.dir / "out/ps");
    INFO(ps);
    std::istringstream lines(ps);
    std::string header, line;
    std::getline(lines, header);
    int processes = 0;
    bool init_is_pid_1 = false;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        int pid = 0;
        std::string comm;
        fields >> pid >> comm;
        ++processes;
        CHECK(pid < 20);  // a fresh PID namespace, not the host's pids
        init_is_pid_1 = init_is_pid_1 || (pid == 1 && comm == "sh");
    }
    CHECK(init_is_pid_1);
    CHECK(processes <= 4);  // sh (init), the tick loop, its usleep/date, ps itself
    CHECK(read(box.dir / "out/init").rfind("/bin/sh", 0) == 0);
    CHECK(read(box.dir / "out/ro") == "readonly\n");
    CHECK(read(box.dir / "out/ro-read") == "host data\n");
    CHECK(read(box.dir / "out/tmp") == "tmp-ok\n");
    CHECK(!fs::exists(box.dir / "ro/new"));

    const auto live = conn.live_state(ct.uuid);
    REQUIRE(live);
    CHECK(live->cgroup().memory_limit_bytes() == 48u << 20);
    CHECK(conn.status(ct.uuid).cpu_time_ns > 0);  // the container's own accounting
    CHECK(!live->console.empty());
    CHECK(conn.xml(ct.uuid).find("<source path=\"" + live->console + "\"/>") != std::string::npos);

    conn.suspend(ct.uuid);
    CHECK(conn.status(ct.uuid).state == VIRTKIT_DOMAIN_PAUSED);
    const std::string frozen_tick = read(box.dir / "out/tick");
    std::this_thread::sleep_for(300ms);
    CHECK(read(box.dir / "out/tick") == frozen_tick);
    conn.resume(ct.uuid);
    CHECK(wait_for([&] { return read(box.dir / "out/tick") != frozen_tick; }, 2000ms));
    CHECK(conn.status(ct.uuid).state == VIRTKIT_DOMAIN_RUNNING);

    conn.destroy(ct.uuid);
    CHECK(conn.status(ct.uuid).state == VIRTKIT_DOMAIN_SHUTOFF);
    CHECK(conn.status(ct.uuid).reason == 2);  // destroyed
    CHECK(!live->init.alive());
    CHECK(!live->supervisor.alive());
    CHECK(!live->cgroup().exists());
    CHECK(box.nothing_left());
    const std::lock_guard lock(events_mutex);
    std::vector<std::string> types;
    for (const auto &e : events)
        types.push_back(e.first);
    CHECK(types == std::vector<std::string>{"0", "2", "3", "4", "5"});  // defined started suspended resumed stopped
}

TEST_CASE("a container that ends on its own is reported shut off and cleaned up", "[lxc-real]")
{
    if (!can_run_containers())
        return;
    ::setenv("VIRTKIT_LXC_SUPERVISOR", VIRTKIT_LXC_SUPERVISOR_PATH, 1);
    Sandbox box;
    std::atomic<int> stopped{-1};
    LxcConnection conn(box.uri(), [&](const std::string &, const std::string &, int type, int detail) {
        if (type == VIRTKIT_EVENT_STOPPED)
            stopped = detail;
    });
    const auto ct = conn.define(box.xml("ct-exit", "echo bye > /out/bye"));
    conn.start(ct.uuid);
    CHECK(wait_for([&] { return stopped.load() == 0; }));  // STOPPED_SHUTDOWN
    CHECK(conn.status(ct.uuid).state == VIRTKIT_DOMAIN_SHUTOFF);
    CHECK(read(box.dir / "out/bye") == "bye\n");
    CHECK(wait_for([&] { return box.nothing_left(); }));
}

TEST_CASE("a container outlives a SIGKILLed manager and the next one reconnects", "[lxc-real]")
{
    if (!can_run_containers())
        return;
    ::setenv("VIRTKIT_LXC_SUPERVISOR", VIRTKIT_LXC_SUPERVISOR_PATH, 1);
    Sandbox box;
    std::string uuid;
    {
        LxcConnection conn(box.uri(), nullptr);
        uuid = conn.define(box.xml("ct-keep", "echo up > /out/up; exec sleep 1000")).uuid;
    }
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t manager = ::fork();
    if (manager == 0) {  // the helper: open, start, report, then wait to be killed
        try {
            LxcConnection conn(box.uri(), nullptr);
            conn.start(uuid);
            [[maybe_unused]] const ssize_t ignored = ::write(ready[1], "s", 1);
        } catch (...) {
            [[maybe_unused]] const ssize_t ignored = ::write(ready[1], "f", 1);
        }
        for (;;)
            ::pause();
    }
    ::close(ready[1]);
    char answer = 0;
    REQUIRE(::read(ready[0], &answer, 1) == 1);
    ::close(ready[0]);
    ::kill(manager, SIGKILL);
    ::waitpid(manager, nullptr, 0);
    REQUIRE(answer == 's');

    std::optional<LiveState> live;
    {
        LxcConnection conn(box.uri(), nullptr);
        CHECK(conn.status(uuid).state == VIRTKIT_DOMAIN_RUNNING);
        live = conn.live_state(uuid);
        REQUIRE(live);
        CHECK(live->init.alive());
        CHECK(conn.lookup_by_name("ct-keep").id == live->supervisor.pid);
        CHECK(wait_for([&] { return fs::exists(box.dir / "out/up"); }));
    }

    // The supervisor dies too while nobody watches: the next manager cleans up.
    ::kill(live->supervisor.pid, SIGKILL);
    CHECK(wait_for([&] { return !live->init.alive(); }));
    LxcConnection later(box.uri(), nullptr);
    CHECK(later.status(uuid).state == VIRTKIT_DOMAIN_SHUTOFF);
    CHECK(later.status(uuid).reason == 3);  // crashed
    CHECK(!live->cgroup().exists());
    CHECK(box.nothing_left());
}

TEST_CASE("bad container input gives a clear error and leaves nothing", "[lxc-real]")
{
    if (!can_run_containers())
        return;
    ::setenv("VIRTKIT_LXC_SUPERVISOR", VIRTKIT_LXC_SUPERVISOR_PATH, 1);
    Sandbox box;
    LxcConnection conn(box.uri(), nullptr);
    const auto start_error = [&](const std::string &name, const std::string &xml) {
        const auto ct = conn.define(xml);
        std::string message;
        try {
            conn.start(ct.uuid);
            conn.destroy(ct.uuid);
        } catch (const virtkit::Error &e) {
            message = e.what();
        }
        CHECK(conn.status(ct.uuid).state == VIRTKIT_DOMAIN_SHUTOFF);
        CHECK(box.nothing_left());
        CHECK(!fs::exists(box.dir / "vk/run/domains" / (ct.uuid + ".state")));
        INFO(name << ": " << message);
        return message;
    };
    CHECK(start_error("missing root", box.xml("ct-a", "true", "", (box.dir / "nowhere").string()))
              .find("does not exist") != std::string::npos);
    fs::create_directories(box.dir / "empty");
    CHECK(start_error("no init", box.xml("ct-b", "true", "", (box.dir / "empty").string())).find("has no init") !=
          std::string::npos);
    // Two ranges both claiming container uid 0: the kernel refuses the map.
    CHECK(start_error("overlapping idmap", box.xml("ct-c", "true",
                                                   "<idmap><uid start='0' target='100000' count='10'/>"
                                                   "<uid start='0' target='200000' count='10'/>"
                                                   "<gid start='0' target='100000' count='10'/></idmap>"))
              .find("refused the <idmap>") != std::string::npos);
    // A symlink in the root must not carry a mount out to the host's path.
    fs::create_directories(box.dir / "evil/bin");
    fs::copy_file("/bin/busybox", box.dir / "evil/bin/sh");
    fs::create_directories(box.dir / "target-on-host");
    fs::create_symlink(box.dir / "target-on-host", box.dir / "evil/out");
    CHECK(start_error("symlinked mount point", box.xml("ct-e", "true", "", (box.dir / "evil").string()))
              .find("symbolic link") != std::string::npos);
    std::string tiny = box.xml("ct-d", "exec sleep 100");
    tiny.replace(tiny.find("<memory unit='MiB'>48"), 21, "<memory unit='KiB'>4");  // one page
    CHECK(start_error("memory too low", tiny).find("memory") != std::string::npos);
}

TEST_CASE("an idmapped container runs as an unprivileged host user", "[lxc-real]")
{
    if (!can_run_containers())
        return;
    ::setenv("VIRTKIT_LXC_SUPERVISOR", VIRTKIT_LXC_SUPERVISOR_PATH, 1);
    Sandbox box;
    fs::permissions(box.dir / "out", fs::perms::all);
    LxcConnection conn(box.uri(), nullptr);
    const auto ct = conn.define(box.xml("ct-userns", "id -u > /out/uid; echo done > /out/ready; exec sleep 1000",
                                        "<features><privnet/></features>"
                                        "<idmap><uid start='0' target='100000' count='65536'/>"
                                        "<gid start='0' target='100000' count='65536'/></idmap>"));
    conn.start(ct.uuid);
    REQUIRE(wait_for([&] { return fs::exists(box.dir / "out/ready"); }));
    CHECK(read(box.dir / "out/uid") == "0\n");
    const auto live = conn.live_state(ct.uuid);
    REQUIRE(live);
    CHECK(read("/proc/" + std::to_string(live->init.pid) + "/status").find("Uid:\t100000") != std::string::npos);
    conn.destroy(ct.uuid);
    CHECK(box.nothing_left());
}

TEST_CASE("interfaces become veth pairs with the guest end inside the container", "[lxc-real]")
{
    if (!can_run_containers())
        return;
    ::setenv("VIRTKIT_LXC_SUPERVISOR", VIRTKIT_LXC_SUPERVISOR_PATH, 1);
    Sandbox box;
    const std::string tag = box.dir.filename().string().substr(12, 6);
    const std::string bridge = "vktb" + tag, host_eth = "vkte" + tag;
    REQUIRE(std::system(("ip link add " + bridge + " type bridge").c_str()) == 0);
    struct BridgeGuard {
        std::string name;
        ~BridgeGuard() { [[maybe_unused]] int ignored = std::system(("ip link del " + name).c_str()); }
    } guard{bridge};
    LxcConnection conn(box.uri(), nullptr);
    std::string xml = box.xml("ct-net", "ls /sys/class/net > /out/links; ip -4 addr show eth0 > /out/eth0;"
                                        " ip -6 addr show eth0 > /out/eth0-v6; ip route > /out/routes; ip -6 route > /out/routes6;"
                                        " echo done > /out/ready; exec sleep 1000");
    xml.replace(xml.find("</devices>"), 10,
                "<interface type='ethernet'><target dev='" + host_eth + "'/><guest dev='eth0'/>"
                "<mac address='02:00:11:22:33:44'/><ip address='10.213.7.2' prefix='24'/>"
                "<ip family='ipv6' address='fd00:213:7::2' prefix='64'/>"
                "<route family='ipv4' address='0.0.0.0' gateway='10.213.7.1'/>"
                "<route family='ipv6' address='::' gateway='fd00:213:7::1'/></interface>"
                "<interface type='bridge'><source bridge='" + bridge + "'/><guest dev='eth1'/></interface>"
                "</devices>");
    const auto ct = conn.define(xml);
    conn.start(ct.uuid);
    REQUIRE(wait_for([&] { return fs::exists(box.dir / "out/ready"); }));
    const std::string links = read(box.dir / "out/links");
    CHECK(links == "eth0\neth1\nlo\n");  // its own network namespace: no host interfaces
    CHECK(read(box.dir / "out/eth0").find("inet 10.213.7.2/24") != std::string::npos);
    CHECK(read(box.dir / "out/eth0-v6").find("inet6 fd00:213:7::2/64") != std::string::npos);
    CHECK(read(box.dir / "out/routes").find("default via 10.213.7.1 dev eth0") != std::string::npos);
    CHECK(read(box.dir / "out/routes6").find("default via fd00:213:7::1 dev eth0") != std::string::npos);
    CHECK(fs::exists("/sys/class/net/" + host_eth));
    const auto live = conn.live_state(ct.uuid);
    REQUIRE(live);
    REQUIRE(live->host_veths.size() == 2);
    CHECK(fs::read_symlink("/sys/class/net/" + live->host_veths[1] + "/master").filename() == bridge);
    CHECK(conn.xml(ct.uuid).find("<target dev=\"" + live->host_veths[1] + "\"/>") != std::string::npos);
    conn.destroy(ct.uuid);
    CHECK(!fs::exists("/sys/class/net/" + host_eth));
    CHECK(!fs::exists("/sys/class/net/" + live->host_veths[1]));
    CHECK(box.nothing_left());
}

TEST_CASE("shutdown asks init with SIGTERM, then kills the cgroup after the timeout", "[lxc-real]")
{
    if (!can_run_containers())
        return;
    ::setenv("VIRTKIT_LXC_SUPERVISOR", VIRTKIT_LXC_SUPERVISOR_PATH, 1);
    Sandbox box;
    LxcConnection conn(box.uri(), nullptr);
    // Polite init: leaves on SIGTERM.
    const auto polite = conn.define(box.xml("ct-polite", "trap 'echo term > /out/term; exit 0' TERM;"
                                                         " echo done > /out/ready; while true; do usleep 20000; done"));
    conn.start(polite.uuid);
    REQUIRE(wait_for([&] { return fs::exists(box.dir / "out/ready"); }));
    conn.shutdown(polite.uuid, 5000);
    CHECK(read(box.dir / "out/term") == "term\n");
    CHECK(conn.status(polite.uuid).reason == 1);  // shutdown
    // Stubborn init: PID 1 without a handler ignores SIGTERM, so the timeout ends it.
    const auto stubborn = conn.define(box.xml("ct-stubborn", "exec sleep 1000"));
    conn.start(stubborn.uuid);
    const auto live = conn.live_state(stubborn.uuid);
    REQUIRE(live);
    const auto begin = std::chrono::steady_clock::now();
    conn.shutdown(stubborn.uuid, 300);
    CHECK(std::chrono::steady_clock::now() - begin >= 300ms);
    CHECK(!live->init.alive());
    CHECK(conn.status(stubborn.uuid).state == VIRTKIT_DOMAIN_SHUTOFF);
    CHECK(box.nothing_left());
}

TEST_CASE("an autostart container is started by the first connection after boot", "[lxc-real]")
{
    if (!can_run_containers())
        return;
    ::setenv("VIRTKIT_LXC_SUPERVISOR", VIRTKIT_LXC_SUPERVISOR_PATH, 1);
    Sandbox box;
    std::string uuid;
    {
        LxcConnection conn(box.uri(), nullptr);  // this one records the boot as handled
        uuid = conn.define(box.xml("ct-auto", "exec sleep 1000")).uuid;
        CHECK(!conn.autostart(uuid));
        conn.set_autostart(uuid, true);
        CHECK(conn.autostart(uuid));
    }
    {
        LxcConnection conn(box.uri(), nullptr);  // same boot: nothing started
        CHECK(conn.status(uuid).state == VIRTKIT_DOMAIN_SHUTOFF);
    }
    fs::remove(box.dir / "vk/run/autostarted");  // as after a reboot (/run is emptied)
    LxcConnection conn(box.uri(), nullptr);
    CHECK(conn.status(uuid).state == VIRTKIT_DOMAIN_RUNNING);
    conn.destroy(uuid);
    CHECK(box.nothing_left());
}

TEST_CASE("the console pty in the live XML reaches the container's init", "[lxc-real]")
{
    if (!can_run_containers())
        return;
    ::setenv("VIRTKIT_LXC_SUPERVISOR", VIRTKIT_LXC_SUPERVISOR_PATH, 1);
    Sandbox box;
    LxcConnection conn(box.uri(), nullptr);
    const auto ct = conn.define(box.xml("ct-console", "echo ready > /out/ready; read line; echo got:$line > /out/line;"
                                                      " echo hello-from-init; exec sleep 1000"));
    conn.start(ct.uuid);
    const auto live = conn.live_state(ct.uuid);
    REQUIRE(live);
    REQUIRE(live->console.rfind("/dev/pts/", 0) == 0);
    const int fd = ::open(live->console.c_str(), O_RDWR | O_NOCTTY);
    REQUIRE(fd >= 0);
    REQUIRE(wait_for([&] { return fs::exists(box.dir / "out/ready"); }));
    const std::string input = "typed\n";
    CHECK(::write(fd, input.data(), input.size()) == static_cast<ssize_t>(input.size()));
    CHECK(wait_for([&] { return read(box.dir / "out/line") == "got:typed\n"; }));
    std::string output;
    CHECK(wait_for([&] {
        pollfd p{fd, POLLIN, 0};
        char buffer[256];
        while (::poll(&p, 1, 0) > 0) {
            const ssize_t n = ::read(fd, buffer, sizeof buffer);
            if (n <= 0)
                break;
            output.append(buffer, static_cast<std::size_t>(n));
        }
        return output.find("hello-from-init") != std::string::npos;
    }));
    ::close(fd);
    conn.destroy(ct.uuid);
    CHECK(box.nothing_left());
}
