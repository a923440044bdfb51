// Restart safety and sharing a root between processes, through the built
// plugin and real QEMU.  The "other process" is a fork of this test that
// opens the same root, does its part and then waits -- or is SIGKILLed.
#include <catch2/catch.hpp>

#include <filesystem>
#include <poll.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "plugin_harness.hpp"

using namespace std::chrono_literals;
using namespace virtkit::qemu::testing;

namespace {

// A forked process that runs `body` on its own connection to `root`, says
// whether it worked and then holds its connection until released or killed.
class Helper {
public:
    template <typename Body>
    Helper(const std::string &root, Body body)
    {
        ops();  // loaded before the fork: the child inherits the table
        REQUIRE(::pipe(to_child_) == 0);
        REQUIRE(::pipe(from_child_) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            // only our own pipe ends: another helper's would keep its pipe open
            for (int fd = 3; fd < 1024; ++fd)
                if (fd != to_child_[0] && fd != from_child_[1])
                    ::close(fd);
            char verdict = 'f';
            try {
                Conn conn(root);
                verdict = body(conn) ? 'o' : 'f';
                (void)!::write(from_child_[1], &verdict, 1);
                char byte;
                while (::read(to_child_[0], &byte, 1) > 0) {  // until the parent closes the pipe
                }
            } catch (...) {
                (void)!::write(from_child_[1], &verdict, 1);
            }
            ::_exit(0);  // the connection was closed above: its QEMUs are detached
        }
        ::close(to_child_[0]);
        ::close(from_child_[1]);
    }
    ~Helper()
    {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            reap();
        }
        ::close(to_child_[1]);
        ::close(from_child_[0]);
    }
    Helper(const Helper &) = delete;
    Helper &operator=(const Helper &) = delete;

    // True when the body ran and returned true.
    bool ready(std::chrono::milliseconds timeout = 30s)
    {
        pollfd p{from_child_[0], POLLIN, 0};
        char verdict = 0;
        return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1 && ::read(from_child_[0], &verdict, 1) == 1 &&
               verdict == 'o';
    }
    pid_t pid() const { return pid_; }
    void kill_now()
    {
        ::kill(pid_, SIGKILL);
        reap();
    }
    // Lets it close its connection and exit normally.
    void release()
    {
        ::close(std::exchange(to_child_[1], -1));
        reap();
    }

private:
    void reap()
    {
        int status = 0;
        ::waitpid(std::exchange(pid_, -1), &status, 0);
    }

    pid_t pid_ = -1;
    int to_child_[2] = {-1, -1};
    int from_child_[2] = {-1, -1};
};

bool wait_until_gone(pid_t pid, std::chrono::milliseconds timeout = 5s)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!gone(pid) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(5ms);
    return gone(pid);
}

std::filesystem::path run_dir(const TempDir &root, const std::string &uuid)
{
    return root.path() / "run" / "domains" / uuid;
}

void define_in(const TempDir &root, const std::string &name, const std::string &uuid)
{
    Conn conn(root.path().string());
    REQUIRE(conn.define(guest_xml(name, uuid)).code == VIRTKIT_OK);
}

}  // namespace

TEST_CASE("a guest outlives its manager killed with SIGKILL; a new connection reconnects and destroys it",
          "[qemu][plugin][qemu-real][restart]")
{
    const TempDir root;
    const std::string uuid = fresh_uuid();
    const QemuGuard guard(uuid);
    define_in(root, "survivor", uuid);
    Helper manager(root.path().string(),
                   [&](Conn &c) { return c.run(ops().domain_start, uuid).code == VIRTKIT_OK; });
    REQUIRE(manager.ready());
    manager.kill_now();
    const pid_t qemu = qemu_pid_of(uuid);
    REQUIRE(qemu > 0);
    CHECK_FALSE(gone(qemu));

    take_events();
    Conn conn(root.path().string());
    CHECK(conn.names(VIRTKIT_LIST_ACTIVE) == std::vector<std::string>{"survivor"});
    CHECK(conn.info(uuid).state == VIRTKIT_DOMAIN_RUNNING);
    CHECK(conn.info(uuid).reason == 1);  // still "booted": the saved reason
    Outcome status;
    CHECK_THAT(conn.monitor(uuid, R"({"execute":"query-status"})", 0, &status), Catch::Contains("\"running\""));
    CHECK(status.code == VIRTKIT_OK);
    REQUIRE(conn.run(ops().domain_destroy, uuid).code == VIRTKIT_OK);
    CHECK(wait_until_gone(qemu, 1s));
    CHECK(conn.info(uuid).reason == 2);  // destroyed
    CHECK_FALSE(std::filesystem::exists(run_dir(root, uuid) / "live.json"));
    const auto events = take_events();
    REQUIRE(events.size() == 1);
    CHECK(events[0].type == VIRTKIT_EVENT_STOPPED);
    CHECK(events[0].detail == 1);  // destroyed
}

TEST_CASE("a QEMU that died while no process managed it is found shut off as crashed, its files cleaned",
          "[qemu][plugin][qemu-real][restart]")
{
    const TempDir root;
    const std::string uuid = fresh_uuid();
    const QemuGuard guard(uuid);
    define_in(root, "lost", uuid);
    {
        Helper manager(root.path().string(),
                       [&](Conn &c) { return c.run(ops().domain_start, uuid).code == VIRTKIT_OK; });
        REQUIRE(manager.ready());
        manager.release();  // exits normally: the guest keeps running
    }
    const pid_t qemu = qemu_pid_of(uuid);
    REQUIRE(qemu > 0);
    ::kill(qemu, SIGKILL);
    REQUIRE(wait_until_gone(qemu));

    take_events();
    {
        Conn conn(root.path().string());
        CHECK(conn.names(VIRTKIT_LIST_ACTIVE).empty());
        CHECK(conn.info(uuid).state == VIRTKIT_DOMAIN_SHUTOFF);
        CHECK(conn.info(uuid).reason == 3);  // crashed
        const auto events = take_events();
        REQUIRE(events.size() == 1);
        CHECK(events[0].type == VIRTKIT_EVENT_STOPPED);
        CHECK(events[0].detail == 5);  // failed
        CHECK_FALSE(std::filesystem::exists(run_dir(root, uuid) / "live.json"));
        CHECK_FALSE(std::filesystem::exists(run_dir(root, uuid) / "monitor.sock"));
    }
    Conn later(root.path().string());
    CHECK(later.info(uuid).reason == 3);  // remembered for later processes
    CHECK(take_events().empty());         // and announced once
    REQUIRE(later.run(ops().domain_start, uuid).code == VIRTKIT_OK);
    CHECK(later.run(ops().domain_destroy, uuid).code == VIRTKIT_OK);
}

TEST_CASE("killing the manager at any moment of a start leaves no QEMU that nothing tracks",
          "[qemu][plugin][qemu-real][restart]")
{
    const TempDir root;
    const std::string uuid = fresh_uuid();
    const QemuGuard guard(uuid);
    define_in(root, "interrupted", uuid);
    int ran = 0, undone = 0;
    for (const auto delay : {0ms, 2ms, 10ms, 30ms, 60ms, 100ms, 200ms, 400ms, 3000ms}) {
        CAPTURE(delay.count());
        {
            Helper manager(root.path().string(), [&](Conn &c) { return c.run(ops().domain_start, uuid).code == VIRTKIT_OK; });
            std::this_thread::sleep_for(delay);
            manager.kill_now();
        }
        Conn conn(root.path().string());
        const pid_t qemu = qemu_pid_of(uuid);
        if (conn.names(VIRTKIT_LIST_ACTIVE).empty()) {
            ++undone;
            CHECK((qemu < 0 || wait_until_gone(qemu)));  // nothing runs untracked
            CHECK(conn.info(uuid).state == VIRTKIT_DOMAIN_SHUTOFF);
        } else {
            ++ran;
            CHECK(conn.info(uuid).state == VIRTKIT_DOMAIN_RUNNING);
            REQUIRE(conn.run(ops().domain_destroy, uuid).code == VIRTKIT_OK);
            CHECK(wait_until_gone(qemu, 1s));
        }
    }
    CHECK(ran + undone == 9);
    CHECK(ran > 0);  // the longest delays let the start finish
}

TEST_CASE("a second process reads a managed guest's state and gets a clear error for monitor operations",
          "[qemu][plugin][qemu-real][lock]")
{
    const TempDir root;
    const std::string uuid = fresh_uuid();
    const QemuGuard guard(uuid);
    define_in(root, "shared", uuid);
    Helper holder(root.path().string(), [&](Conn &c) { return c.run(ops().domain_start, uuid).code == VIRTKIT_OK; });
    REQUIRE(holder.ready());

    Conn conn(root.path().string());
    CHECK(conn.names(VIRTKIT_LIST_ACTIVE) == std::vector<std::string>{"shared"});
    CHECK(conn.info(uuid).state == VIRTKIT_DOMAIN_RUNNING);
    const Outcome suspend = conn.run(ops().domain_suspend, uuid);
    CHECK(suspend.code == VIRTKIT_ERR_OPERATION_INVALID);
    CHECK_THAT(suspend.message, Catch::Contains("managed by another process (pid " + std::to_string(holder.pid()) + ")"));
    Outcome monitor;
    conn.monitor(uuid, R"({"execute":"query-status"})", 0, &monitor);
    CHECK(monitor.code == VIRTKIT_ERR_OPERATION_INVALID);
    CHECK(conn.run(ops().domain_start, uuid).code == VIRTKIT_ERR_OPERATION_INVALID);  // already running
    CHECK(conn.run(ops().domain_undefine, uuid).code == VIRTKIT_ERR_OPERATION_INVALID);

    holder.release();  // the holder exits: the next monitor operation takes over
    REQUIRE(conn.run(ops().domain_suspend, uuid).code == VIRTKIT_OK);
    CHECK(conn.info(uuid).state == VIRTKIT_DOMAIN_PAUSED);
    CHECK(conn.run(ops().domain_destroy, uuid).code == VIRTKIT_OK);
}

TEST_CASE("two processes defining and starting on one root at once keep every definition and distinct ids",
          "[qemu][plugin][qemu-real][lock]")
{
    const TempDir root;
    const std::string a = fresh_uuid(), b = fresh_uuid();
    const QemuGuard guard_a(a), guard_b(b);
    const auto definer = [&](const std::string &prefix, const std::string &starts) {
        return [&, prefix, starts](Conn &c) {
            bool ok = true;
            for (int i = 0; i < 10; ++i)
                ok = ok && c.define(guest_xml(prefix + std::to_string(i), fresh_uuid())).code == VIRTKIT_OK;
            ok = ok && c.define(guest_xml(prefix + "-run", starts)).code == VIRTKIT_OK;
            return ok && c.run(ops().domain_start, starts).code == VIRTKIT_OK;
        };
    };
    Helper one(root.path().string(), definer("one", a));
    Helper two(root.path().string(), definer("two", b));
    REQUIRE(one.ready());
    REQUIRE(two.ready());
    one.release();
    two.release();

    Conn conn(root.path().string());
    CHECK(conn.names(0).size() == 22);
    CHECK(conn.names(VIRTKIT_LIST_ACTIVE).size() == 2);
    virtkit_domain_ident ia{}, ib{};
    ia.struct_size = ib.struct_size = sizeof ia;
    REQUIRE(attempt([&](virtkit_error *e) { return ops().domain_lookup_by_uuid(conn.handle(), a.c_str(), &ia, e); })
                .code == VIRTKIT_OK);
    REQUIRE(attempt([&](virtkit_error *e) { return ops().domain_lookup_by_uuid(conn.handle(), b.c_str(), &ib, e); })
                .code == VIRTKIT_OK);
    CHECK(ia.id > 0);
    CHECK(ib.id > 0);
    CHECK(ia.id != ib.id);
    CHECK(conn.run(ops().domain_destroy, a).code == VIRTKIT_OK);
    CHECK(conn.run(ops().domain_destroy, b).code == VIRTKIT_OK);
}

TEST_CASE("two embed roots side by side each track only their own running guests", "[qemu][plugin][qemu-real][restart]")
{
    const TempDir first, second;
    const std::string one = fresh_uuid(), two = fresh_uuid();
    const QemuGuard guard_one(one), guard_two(two);
    {
        Conn a(first.path().string()), b(second.path().string());
        REQUIRE(a.define(guest_xml("same-name", one)).code == VIRTKIT_OK);
        REQUIRE(b.define(guest_xml("same-name", two)).code == VIRTKIT_OK);
        REQUIRE(a.run(ops().domain_start, one).code == VIRTKIT_OK);
        REQUIRE(b.run(ops().domain_start, two).code == VIRTKIT_OK);
    }
    Conn a(first.path().string()), b(second.path().string());
    CHECK(a.names(VIRTKIT_LIST_ACTIVE) == std::vector<std::string>{"same-name"});
    REQUIRE(a.run(ops().domain_destroy, one).code == VIRTKIT_OK);
    CHECK(a.names(VIRTKIT_LIST_ACTIVE).empty());
    CHECK(b.names(VIRTKIT_LIST_ACTIVE) == std::vector<std::string>{"same-name"});  // untouched
    CHECK(b.info(two).state == VIRTKIT_DOMAIN_RUNNING);
    CHECK(b.run(ops().domain_destroy, two).code == VIRTKIT_OK);
}

TEST_CASE("an autostart domain is started by the first connection after a host boot, and only then",
          "[qemu][plugin][qemu-real][restart]")
{
    const TempDir root;
    const std::string uuid = fresh_uuid();
    const QemuGuard guard(uuid);
    {
        Conn conn(root.path().string());
        REQUIRE(conn.define(guest_xml("boot", uuid)).code == VIRTKIT_OK);
        REQUIRE(attempt([&](virtkit_error *e) { return ops().domain_set_autostart(conn.handle(), uuid.c_str(), 1, e); })
                    .code == VIRTKIT_OK);
        int32_t on = 0;
        REQUIRE(attempt([&](virtkit_error *e) { return ops().domain_get_autostart(conn.handle(), uuid.c_str(), &on, e); })
                    .code == VIRTKIT_OK);
        CHECK(on == 1);
        CHECK(conn.names(VIRTKIT_LIST_ACTIVE).empty());  // this root had its "boot" already
    }
    std::filesystem::remove(root.path() / "run" / "autostarted");  // the runtime dir of a fresh boot
    Conn conn(root.path().string());
    CHECK(conn.names(VIRTKIT_LIST_ACTIVE) == std::vector<std::string>{"boot"});
    REQUIRE(conn.run(ops().domain_destroy, uuid).code == VIRTKIT_OK);
    CHECK(Conn(root.path().string()).names(VIRTKIT_LIST_ACTIVE).empty());  // not again
}
