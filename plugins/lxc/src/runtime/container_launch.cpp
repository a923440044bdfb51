#include "runtime/container_launch.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <linux/openat2.h>
#include <poll.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <virtkit/error.hpp>

#include "runtime/container_setup.hpp"
#include "runtime/network.hpp"

namespace virtkit::lxc {
namespace {

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(Fd &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd &operator=(Fd &&other) noexcept
    {
        reset(std::exchange(other.fd_, -1));
        return *this;
    }
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1)
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_;
};

// The init path is resolved inside the root (an absolute symlink such as
// /sbin/init -> /bin/busybox means the root's busybox, not the host's).
void check_root(const ContainerDefinition &def)
{
    struct stat st {};
    if (::stat(def.root.c_str(), &st) != 0)
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, "the container root " + def.root + " does not exist: " +
                                                      std::strerror(errno));
    if (!S_ISDIR(st.st_mode))
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, "the container root " + def.root + " is not a directory");
    const Fd root(::open(def.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT;
    const Fd init(static_cast<int>(::syscall(SYS_openat2, root.get(), def.init.c_str(), &how, sizeof how)));
    if (init.get() < 0)
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, "the container root " + def.root + " has no init " + def.init + ": " +
                                                      std::strerror(errno));
    if (::fstat(init.get(), &st) != 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, "init " + def.init + " in " + def.root +
                                                      " is not an executable file");
    for (const Filesystem &f : def.filesystems)
        if (f.kind == Filesystem::Kind::bind && ::stat(f.source.c_str(), &st) != 0)
            throw Error(VIRTKIT_ERR_OPERATION_FAILED, "the bind mount source " + f.source + " does not exist: " +
                                                          std::strerror(errno));
}

// A pty pair: returns the master, sets `slave_path`.
Fd open_pty(std::string &slave_path, bool raw)
{
    Fd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK));
    if (master.get() < 0 || ::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0)
        throw Error(VIRTKIT_ERR_SYSTEM, std::string("cannot allocate a console pty: ") + std::strerror(errno));
    char name[128];
    if (::ptsname_r(master.get(), name, sizeof name) != 0)
        throw Error(VIRTKIT_ERR_SYSTEM, "cannot name the console pty");
    slave_path = name;
    if (raw) {
        // The user's terminal does the line editing; this side passes bytes.
        const Fd slave(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
        termios t{};
        if (slave.get() >= 0 && ::tcgetattr(slave.get(), &t) == 0) {
            ::cfmakeraw(&t);
            ::tcsetattr(slave.get(), TCSANOW, &t);
        }
    }
    return master;
}

void write_map(pid_t pid, const char *file, const std::vector<IdRange> &ranges)
{
    std::string text;
    for (const IdRange &r : ranges)
        text += std::to_string(r.start) + " " + std::to_string(r.target) + " " + std::to_string(r.count) + "\n";
    const std::string path = "/proc/" + std::to_string(pid) + "/" + file;
    const Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (fd.get() < 0 || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, std::string("the kernel refused the <idmap> ") +
                                                      (std::strcmp(file, "uid_map") == 0 ? "uid" : "gid") +
                                                      " ranges (" + text.substr(0, text.size() - 1) + "): " +
                                                      std::strerror(errno));
}

std::string read_all(int fd)
{
    std::string text;
    char buffer[512];
    for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) != 0;) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
    while (!text.empty() && text.back() == '\n')
        text.pop_back();
    return text;
}

// One line from the child, without its newline; empty at EOF.
std::string read_line(int fd)
{
    std::string text;
    char c = 0;
    for (ssize_t n; (n = ::read(fd, &c, 1)) != 0 && c != '\n';) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        text += c;
    }
    return text;
}

void kill_and_reap(pid_t pid)
{
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
    }
}

}  // namespace

void remove_container_leftovers(ContainerCgroup &cgroup, const std::vector<std::string> &host_veths)
{
    cgroup.kill_and_remove();
    for (const std::string &veth : host_veths)
        delete_veth(veth);
}

LaunchedContainer launch_container(const ContainerDefinition &def, const std::string &leaf,
                                   const std::string &link_prefix)
{
    check_root(def);
    for (const Interface &i : def.interfaces)
        if (!i.bridge.empty() && !link_exists(i.bridge))
            throw Error(VIRTKIT_ERR_OPERATION_FAILED, "the bridge " + i.bridge + " does not exist on the host");

    LaunchedContainer result;
    const CgroupLayout layout = CgroupLayout::detect();
    result.cgroup = ContainerCgroup::create(layout, def.partition, leaf);
    pid_t child = -1;
    Fd host_console, container_console;
    try {
        result.cgroup.limit_cpu(def.vcpus, def.vcpus_given, def.cpu_shares);

        ChildPlan plan;
        plan.def = &def;
        if (def.consoles) {
            host_console = open_pty(result.console_path, true);
            container_console = open_pty(plan.console_slave, false);
        }
        for (std::size_t i = 0; i < def.interfaces.size(); ++i) {
            const std::string host =
                def.interfaces[i].host_name.empty() ? link_prefix + "h" + std::to_string(i) : def.interfaces[i].host_name;
            result.host_veths.push_back(host);
            plan.peers.push_back(link_prefix + "g" + std::to_string(i));
        }
        int sync[2], errors[2];
        if (::pipe2(sync, O_CLOEXEC) != 0 || ::pipe2(errors, O_CLOEXEC) != 0)
            throw Error(VIRTKIT_ERR_SYSTEM, std::string("cannot make pipes: ") + std::strerror(errno));
        Fd sync_read(sync[0]), sync_write(sync[1]), error_read(errors[0]), error_write(errors[1]);
        plan.sync_fd = sync_read.get();
        plan.error_fd = error_write.get();

        unsigned long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
        if (def.private_network)
            flags |= CLONE_NEWNET;
        if (!def.uid_map.empty())
            flags |= CLONE_NEWUSER;
        // fork-like clone (no new stack): the child gets a copy of everything.
        child = static_cast<pid_t>(::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
        if (child < 0)
            throw Error(VIRTKIT_ERR_SYSTEM, std::string("cannot create the container's namespaces: ") +
                                                std::strerror(errno));
        if (child == 0) {
            sync_write.reset();
            error_read.reset();
            run_container_child(plan);
        }
        sync_read.reset();
        error_write.reset();

        if (!def.uid_map.empty()) {
            write_map(child, "uid_map", def.uid_map);
            write_map(child, "gid_map", def.gid_map);
        }
        result.cgroup.add(child);
        for (std::size_t i = 0; i < def.interfaces.size(); ++i)
            create_veth(def.interfaces[i], result.host_veths[i], plan.peers[i], child);

        const char go = 'g';
        if (::write(sync_write.get(), &go, 1) != 1)
            throw Error(VIRTKIT_ERR_SYSTEM, "the container process vanished before it could start");
        const std::string line = read_line(error_read.get());
        if (line != "ready")
            throw Error(VIRTKIT_ERR_OPERATION_FAILED,
                        "cannot start the container: " + (line.empty() ? "its first process ended during setup" : line));
        if (def.memory_kib) {
            try {
                result.cgroup.limit_memory(def.memory_kib);
            } catch (const Error &e) {
                throw Error(VIRTKIT_ERR_OPERATION_FAILED, "cannot start the container: its memory limit of " +
                                                              std::to_string(def.memory_kib) +
                                                              " KiB is below what it already uses (" + e.what() + ")");
            }
        }
        if (::write(sync_write.get(), &go, 1) != 1)
            throw Error(VIRTKIT_ERR_SYSTEM, "the container process vanished before it could start");
        sync_write.reset();
        const std::string failure = read_all(error_read.get());
        if (!failure.empty())
            throw Error(VIRTKIT_ERR_OPERATION_FAILED, "cannot start the container: " + failure);
        // EOF and no message: init was exec'd, or the child died first (the
        // OOM killer, when the memory limit is too small to even start).
        int status = 0;
        if (::waitpid(child, &status, WNOHANG) == child) {
            child = -1;
            if (result.cgroup.oom_killed())
                throw Error(VIRTKIT_ERR_OPERATION_FAILED,
                            "cannot start the container: its memory limit of " + std::to_string(def.memory_kib) +
                                " KiB is too small (the kernel's OOM killer ended init)");
            throw Error(VIRTKIT_ERR_OPERATION_FAILED, "cannot start the container: init ended at once (" +
                                                          (WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                                                               : "status " + std::to_string(WEXITSTATUS(status))) +
                                                          ")");
        }
    } catch (...) {
        if (child > 0)
            kill_and_reap(child);
        remove_container_leftovers(result.cgroup, result.host_veths);
        throw;
    }
    result.init = child;
    result.host_console = host_console.release();
    result.container_console = container_console.release();
    return result;
}

}  // namespace virtkit::lxc
