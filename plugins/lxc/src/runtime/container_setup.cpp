#include "runtime/container_setup.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/network.hpp"

namespace virtkit::lxc {
namespace {

// Thrown inside the child only; turned into the error line.
struct SetupFailure {
    std::string message;
};

[[noreturn]] void fail(const std::string &what, int error = errno)
{
    throw SetupFailure{what + (error ? std::string(": ") + std::strerror(error) : "")};
}

void check(int result, const std::string &what)
{
    if (result != 0)
        fail(what);
}

void make_dirs(const std::string &path)
{
    for (std::size_t slash = 1; slash != std::string::npos;) {
        slash = path.find('/', slash + 1);
        const std::string part = path.substr(0, slash);
        if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST)
            fail("cannot create " + part);
    }
}

// Mount points are reached through the root's own directories before
// pivot_root, so a symlink in the root (say /mnt -> /etc) would put the mount
// on the host's path: refuse any symlink on the way to a mount point.
void refuse_symlinks(const std::string &root, const std::string &inside)
{
    std::string path = root;
    for (std::size_t start = 1; start < inside.size();) {
        const std::size_t slash = inside.find('/', start);
        path += "/" + inside.substr(start, slash - start);
        start = slash == std::string::npos ? inside.size() : slash + 1;
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0)
            return;  // created by us from here on
        if (S_ISLNK(st.st_mode))
            fail("the mount point " + inside + " passes through a symbolic link in the root (" + path + ")", 0);
    }
}

// A bind target must exist and be of the source's kind.
void make_target(const std::string &source, const std::string &target)
{
    struct stat st {};
    if (::stat(source.c_str(), &st) != 0)
        fail("bind source " + source + " is not there");
    if (S_ISDIR(st.st_mode)) {
        make_dirs(target);
        return;
    }
    make_dirs(target.substr(0, target.rfind('/')));
    const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST && errno != EISDIR)
        fail("cannot create mount point " + target);
    if (fd >= 0)
        ::close(fd);
}

// Remounting a bind read-only must keep the flags the kernel locks (in a
// user namespace nosuid/nodev/noexec of the source cannot be dropped).
void remount_readonly(const std::string &target)
{
    struct statvfs st {};
    unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY;
    if (::statvfs(target.c_str(), &st) == 0) {
        if (st.f_flag & ST_NOSUID)
            flags |= MS_NOSUID;
        if (st.f_flag & ST_NODEV)
            flags |= MS_NODEV;
        if (st.f_flag & ST_NOEXEC)
            flags |= MS_NOEXEC;
    }
    check(::mount(nullptr, target.c_str(), nullptr, flags, nullptr), "cannot make " + target + " read-only");
}

void bind(const std::string &source, const std::string &target, bool readonly)
{
    make_target(source, target);
    check(::mount(source.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr),
          "cannot bind " + source + " to " + target);
    if (readonly)
        remount_readonly(target);
}

void mount_filesystems(const ContainerDefinition &def, const std::string &root)
{
    std::vector<const Filesystem *> ordered;
    for (const Filesystem &f : def.filesystems)
        ordered.push_back(&f);
    // Parents before children, so /a/b lands on top of /a.
    std::sort(ordered.begin(), ordered.end(), [](auto *a, auto *b) { return a->target.size() < b->target.size(); });
    for (const Filesystem *f : ordered) {
        refuse_symlinks(root, f->target);
        const std::string target = root + f->target;
        if (f->kind == Filesystem::Kind::bind) {
            bind(f->source, target, f->readonly);
            continue;
        }
        make_dirs(target);
        std::string options = "mode=755";
        if (f->usage_kib)
            options += ",size=" + std::to_string(f->usage_kib) + "k";
        check(::mount("tmpfs", target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | (f->readonly ? MS_RDONLY : 0),
                      options.c_str()),
              "cannot mount a tmpfs on " + f->target);
    }
}

void mount_proc_and_sys(const std::string &root)
{
    const unsigned long safe = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    refuse_symlinks(root, "/proc");
    refuse_symlinks(root, "/sys");
    make_dirs(root + "/proc");
    check(::mount("proc", (root + "/proc").c_str(), "proc", safe, nullptr), "cannot mount /proc");
    // Kernel tunables are host-wide: visible, not writable.
    check(::mount((root + "/proc/sys").c_str(), (root + "/proc/sys").c_str(), nullptr, MS_BIND | MS_REC, nullptr),
          "cannot bind /proc/sys");
    remount_readonly(root + "/proc/sys");
    make_dirs(root + "/sys");
    if (::mount("sysfs", (root + "/sys").c_str(), "sysfs", safe | MS_RDONLY, nullptr) != 0) {
        // A fresh sysfs needs a network namespace of our own user namespace;
        // sharing the host's network, the host's /sys is shown read-only.
        check(::mount("/sys", (root + "/sys").c_str(), nullptr, MS_BIND | MS_REC, nullptr), "cannot mount /sys");
        remount_readonly(root + "/sys");
    }
}

void populate_dev(const std::string &root, const std::string &console_slave)
{
    const std::string dev = root + "/dev";
    refuse_symlinks(root, "/dev");
    make_dirs(dev);
    check(::mount("devfs", dev.c_str(), "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k"), "cannot mount /dev");
    // Bound from the host rather than mknod'ed: works inside a user namespace too.
    for (const char *node : {"null", "zero", "full", "random", "urandom", "tty"})
        bind(std::string("/dev/") + node, dev + "/" + node, false);
    make_dirs(dev + "/pts");
    check(::mount("devpts", (dev + "/pts").c_str(), "devpts", MS_NOSUID | MS_NOEXEC,
                  "newinstance,ptmxmode=0666,mode=0620"),
          "cannot mount /dev/pts");
    check(::symlink("pts/ptmx", (dev + "/ptmx").c_str()), "cannot create /dev/ptmx");
    make_dirs(dev + "/shm");
    check(::mount("shm", (dev + "/shm").c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"), "cannot mount /dev/shm");
    for (const auto &[link, to] : {std::pair{"fd", "/proc/self/fd"}, std::pair{"stdin", "/proc/self/fd/0"},
                                   std::pair{"stdout", "/proc/self/fd/1"}, std::pair{"stderr", "/proc/self/fd/2"}})
        check(::symlink(to, (dev + "/" + link).c_str()), std::string("cannot create /dev/") + link);
    if (!console_slave.empty())
        bind(console_slave, dev + "/console", false);
}

void drop_capabilities(const std::vector<int> &dropped)
{
    for (const int cap : dropped)
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)  // EINVAL: kernel lacks it
            fail("cannot drop capability " + std::to_string(cap));
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    check(static_cast<int>(::syscall(SYS_capget, &header, data)), "cannot read capabilities");
    for (const int cap : dropped) {
        const unsigned mask = ~(1u << (cap % 32));
        auto &d = data[cap / 32];
        d.effective &= mask;
        d.permitted &= mask;
        d.inheritable &= mask;
    }
    check(static_cast<int>(::syscall(SYS_capset, &header, data)), "cannot set capabilities");
    ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

void setup(const ChildPlan &plan)
{
    const ContainerDefinition &def = *plan.def;
    char go = 0;
    if (::read(plan.sync_fd, &go, 1) != 1)
        ::_exit(1);  // the supervisor gave up; it reports why

    // Console: opened now, while the host's /dev/pts is visible and we are still
    // the host's root (the pty belongs to it).
    int console = -1;
    if (!plan.console_slave.empty()) {
        console = ::open(plan.console_slave.c_str(), O_RDWR | O_NOCTTY);
        if (console < 0)
            fail("cannot open the console " + plan.console_slave);
    } else {
        console = ::open("/dev/null", O_RDWR);
    }
    if (!def.uid_map.empty()) {
        // Now root of our own user namespace (the maps are written).
        check(::setresgid(0, 0, 0), "cannot become gid 0 in the user namespace (is gid 0 mapped?)");
        check(::setresuid(0, 0, 0), "cannot become uid 0 in the user namespace (is uid 0 mapped?)");
        ::setgroups(0, nullptr);
    }
    check(::sethostname(def.name.c_str(), def.name.size()), "cannot set the hostname");
    if (def.private_network) {
        if (const std::string e = bring_up_loopback(); !e.empty())
            fail(e, 0);
        for (std::size_t i = 0; i < def.interfaces.size(); ++i)
            if (const std::string e = configure_guest_end(def.interfaces[i], plan.peers[i]); !e.empty())
                fail(e, 0);
    }


    check(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), "cannot make the mount tree private");
    const std::string &root = def.root;
    check(::mount(root.c_str(), root.c_str(), nullptr, MS_BIND | MS_REC, nullptr), "cannot bind the root " + root);
    mount_filesystems(def, root);
    mount_proc_and_sys(root);
    populate_dev(root, plan.console_slave);
    if (def.root_readonly)
        remount_readonly(root);

    check(::chdir(root.c_str()), "cannot enter " + root);
    check(static_cast<int>(::syscall(SYS_pivot_root, ".", ".")), "pivot_root into " + root + " failed");
    check(::umount2(".", MNT_DETACH), "cannot detach the host's root");
    const std::string dir = def.init_dir.empty() ? "/" : def.init_dir;
    check(::chdir(dir.c_str()), "cannot enter the init directory " + dir);

    ::setsid();
    ::ioctl(console, TIOCSCTTY, 0);  // best effort: a console without job control still works
    for (int fd = 0; fd < 3; ++fd)
        check(::dup2(console, fd) < 0 ? -1 : 0, "cannot attach the console");
    if (console > 2)
        ::close(console);

    drop_capabilities(def.dropped_capabilities);

    // Set up and charged to the cgroup: the supervisor now applies the memory
    // limit, which the kernel refuses if it is below what we already use.
    static const char ready[] = "ready\n";
    if (::write(plan.error_fd, ready, sizeof ready - 1) != sizeof ready - 1 || ::read(plan.sync_fd, &go, 1) != 1)
        ::_exit(1);
    ::close(plan.sync_fd);

    std::vector<std::string> env = {"PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/", "TERM=linux",
                                    "container=lxc-libvirt", "container_uuid=" + def.uuid,
                                    "LIBVIRT_LXC_NAME=" + def.name, "LIBVIRT_LXC_UUID=" + def.uuid};
    for (const auto &[name, value] : def.init_env)
        env.push_back(name + "=" + value);
    std::vector<std::string> args = {def.init};
    args.insert(args.end(), def.init_args.begin(), def.init_args.end());
    std::vector<char *> argv, envp;
    for (auto &a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto &e : env)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    ::execve(def.init.c_str(), argv.data(), envp.data());
    fail("cannot execute init " + def.init);
}

}  // namespace

void run_container_child(const ChildPlan &plan)
{
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);  // a supervisor that dies takes the container along
    // Init starts with default signal handling, whatever the supervisor blocks or ignores.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (const int s : {SIGPIPE, SIGCHLD, SIGTERM, SIGINT, SIGHUP})
        ::signal(s, SIG_DFL);
    try {
        setup(plan);
    } catch (const SetupFailure &failure) {
        const std::string line = failure.message + "\n";
        [[maybe_unused]] const ssize_t ignored = ::write(plan.error_fd, line.data(), line.size());
    } catch (const std::exception &e) {
        const std::string line = std::string("container setup failed: ") + e.what() + "\n";
        [[maybe_unused]] const ssize_t ignored = ::write(plan.error_fd, line.data(), line.size());
    }
    ::_exit(1);
}

}  // namespace virtkit::lxc
