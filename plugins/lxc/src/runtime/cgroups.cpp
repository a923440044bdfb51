#include "runtime/cgroups.hpp"

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <virtkit/error.hpp>

namespace virtkit::lxc {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_file(const fs::path &file)
{
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// write(2) directly so the kernel's refusal (EBUSY, EINVAL...) reaches the message.
void write_file(const fs::path &file, const std::string &value)
{
    const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        throw Error(VIRTKIT_ERR_SYSTEM, "cannot open " + file.string() + ": " + std::strerror(errno));
    const ssize_t written = ::write(fd, value.data(), value.size());
    const int saved = errno;
    ::close(fd);
    if (written != static_cast<ssize_t>(value.size()))
        throw Error(VIRTKIT_ERR_SYSTEM, "the kernel refused '" + value + "' for " + file.string() + ": " +
                                            std::strerror(saved));
}

bool has_words(const std::string &text, std::initializer_list<const char *> words)
{
    std::istringstream in(text);
    std::vector<std::string> have{std::istream_iterator<std::string>(in), {}};
    for (const char *w : words)
        if (std::find(have.begin(), have.end(), w) == have.end())
            return false;
    return true;
}

std::uint64_t stat_value(const std::string &text, const std::string &key)
{
    std::istringstream in(text);
    std::string k;
    std::uint64_t v = 0;
    while (in >> k >> v)
        if (k == key)
            return v;
    return 0;
}

}  // namespace

std::string CgroupLayout::describe() const
{
    if (version == CgroupVersion::v2)
        return "cgroup v2 at " + unified.string();
    std::string text = "cgroup v1 (";
    for (const auto &[controller, mount] : v1)
        text += (text.back() == '(' ? "" : ", ") + controller + " at " + mount.string();
    return text + ")";
}

CgroupLayout CgroupLayout::detect()
{
    CgroupLayout layout;
    std::ifstream mounts("/proc/self/mounts");
    std::string line;
    std::vector<std::pair<std::string, fs::path>> v1;
    fs::path unified;
    while (std::getline(mounts, line)) {
        std::istringstream in(line);
        std::string device, point, type, options;
        in >> device >> point >> type >> options;
        if (type == "cgroup2" && unified.empty()) {
            unified = point;
        } else if (type == "cgroup") {
            std::istringstream opts(options);
            for (std::string opt; std::getline(opts, opt, ',');)
                for (const char *c : {"memory", "cpu", "cpuacct", "freezer", "pids"})
                    if (opt == c)
                        v1.emplace_back(c, point);
        }
    }
    if (!unified.empty() && has_words(read_file(unified / "cgroup.controllers"), {"memory", "cpu", "pids"}) &&
        fs::exists(unified / "cgroup.kill")) {
        layout.version = CgroupVersion::v2;
        layout.unified = unified;
        return layout;
    }
    // Unconditionally needed in v1: memory limit and freezer (suspend, kill all).
    for (const char *needed : {"memory", "freezer", "cpu"})
        if (std::none_of(v1.begin(), v1.end(), [&](const auto &p) { return p.first == needed; }))
            throw Error(VIRTKIT_ERR_SYSTEM, std::string("no usable cgroup hierarchy: the unified (v2) hierarchy ") +
                                                (unified.empty() ? "is not mounted" : "lacks memory/cpu/pids") +
                                                " and no v1 '" + needed + "' hierarchy is mounted");
    layout.version = CgroupVersion::v1;
    layout.v1 = v1;
    return layout;
}

ContainerCgroup ContainerCgroup::create(const CgroupLayout &layout, const std::string &partition,
                                        const std::string &leaf)
{
    std::vector<fs::path> roots;
    if (layout.version == CgroupVersion::v2) {
        roots.push_back(layout.unified);
    } else {
        for (const auto &[controller, mount] : layout.v1)
            if (std::find(roots.begin(), roots.end(), mount) == roots.end())
                roots.push_back(mount);  // co-mounted controllers share one directory
    }
    const fs::path relative = fs::path(partition.substr(1)) / leaf;
    ContainerCgroup cgroup(layout.version, {});
    cgroup.roots_ = roots;
    try {
        for (const fs::path &root : roots) {
            if (layout.version == CgroupVersion::v2) {
                // Every level down to the leaf must hand the controllers on.
                fs::path level = root;
                for (const auto &part : fs::path(partition.substr(1))) {
                    write_file(level / "cgroup.subtree_control", "+memory +cpu +pids");
                    level /= part;
                    fs::create_directory(level);
                }
                write_file(level / "cgroup.subtree_control", "+memory +cpu +pids");
            } else {
                fs::create_directories(root / partition.substr(1));
            }
            const fs::path dir = root / relative;
            if (::mkdir(dir.c_str(), 0755) != 0)
                throw Error(VIRTKIT_ERR_SYSTEM, "cannot create cgroup " + dir.string() + ": " + std::strerror(errno));
            cgroup.dirs_.push_back(dir);
        }
    } catch (const std::exception &e) {
        cgroup.kill_and_remove();
        throw Error(VIRTKIT_ERR_SYSTEM, e.what());
    }
    return cgroup;
}

fs::path ContainerCgroup::dir_with(const std::string &file) const
{
    for (const fs::path &dir : dirs_)
        if (fs::exists(dir / file))
            return dir;
    throw Error(VIRTKIT_ERR_SYSTEM, "no cgroup directory of this container has " + file);
}

bool ContainerCgroup::exists() const
{
    return std::any_of(dirs_.begin(), dirs_.end(), [](const fs::path &d) { return fs::exists(d); });
}

void ContainerCgroup::limit_memory(std::uint64_t kib)
{
    const std::string bytes = std::to_string(kib * 1024);
    if (version_ == CgroupVersion::v2)
        write_file(dir_with("memory.max") / "memory.max", bytes);
    else
        write_file(dir_with("memory.limit_in_bytes") / "memory.limit_in_bytes", bytes);
}

void ContainerCgroup::limit_cpu(std::uint32_t vcpus, bool quota, std::uint64_t shares)
{
    constexpr std::uint64_t period = 100000;
    if (version_ == CgroupVersion::v2) {
        const fs::path dir = dir_with("cpu.max");
        if (quota)
            write_file(dir / "cpu.max", std::to_string(vcpus * period) + " " + std::to_string(period));
        if (shares)  // the kernel's own shares -> weight mapping
            write_file(dir / "cpu.weight", std::to_string(1 + ((shares - 2) * 9999) / 262142));
    } else {
        const fs::path dir = dir_with("cpu.shares");
        if (quota)
            write_file(dir / "cpu.cfs_quota_us", std::to_string(vcpus * period));
        if (shares)
            write_file(dir / "cpu.shares", std::to_string(shares));
    }
}

void ContainerCgroup::add(pid_t pid)
{
    for (const fs::path &dir : dirs_)
        write_file(dir / "cgroup.procs", std::to_string(pid));
}

void ContainerCgroup::freeze()
{
    const bool v2 = version_ == CgroupVersion::v2;
    const fs::path dir = dir_with(v2 ? "cgroup.freeze" : "freezer.state");
    write_file(dir / (v2 ? "cgroup.freeze" : "freezer.state"), v2 ? "1" : "FROZEN");
    for (int i = 0; i < 500; ++i) {
        if (frozen())
            return;
        if (!exists())  // removed meanwhile (another process finished the container)
            throw Error(VIRTKIT_ERR_OPERATION_FAILED, "the container's cgroup is gone");
        std::this_thread::sleep_for(10ms);
    }
    throw Error(VIRTKIT_ERR_TIMEOUT, "the container's tasks did not freeze within 5 s");
}

void ContainerCgroup::thaw()
{
    const bool v2 = version_ == CgroupVersion::v2;
    const fs::path dir = dir_with(v2 ? "cgroup.freeze" : "freezer.state");
    write_file(dir / (v2 ? "cgroup.freeze" : "freezer.state"), v2 ? "0" : "THAWED");
}

bool ContainerCgroup::frozen() const
{
    try {
        if (version_ == CgroupVersion::v2)
            return stat_value(read_file(dir_with("cgroup.events") / "cgroup.events"), "frozen") == 1;
        return read_file(dir_with("freezer.state") / "freezer.state").rfind("FROZEN", 0) == 0;
    } catch (const Error &) {
        return false;
    }
}

std::vector<pid_t> ContainerCgroup::pids() const
{
    std::vector<pid_t> result;
    for (const fs::path &dir : dirs_) {
        std::ifstream in(dir / "cgroup.procs");
        for (pid_t pid; in >> pid;)
            if (std::find(result.begin(), result.end(), pid) == result.end())
                result.push_back(pid);
    }
    return result;
}

bool ContainerCgroup::oom_killed() const
{
    try {
        if (version_ == CgroupVersion::v2)
            return stat_value(read_file(dir_with("memory.events") / "memory.events"), "oom_kill") > 0;
        const fs::path dir = dir_with("memory.oom_control");
        return stat_value(read_file(dir / "memory.oom_control"), "oom_kill") > 0 ||
               std::stoull("0" + read_file(dir / "memory.failcnt")) > 0;
    } catch (const std::exception &) {
        return false;
    }
}

std::uint64_t ContainerCgroup::memory_limit_bytes() const
{
    const std::string file = version_ == CgroupVersion::v2 ? "memory.max" : "memory.limit_in_bytes";
    const std::string text = read_file(dir_with(file) / file);
    return text.rfind("max", 0) == 0 ? UINT64_MAX : std::stoull(text);
}

std::uint64_t ContainerCgroup::cpu_time_ns() const
{
    try {
        if (version_ == CgroupVersion::v2)
            return stat_value(read_file(dir_with("cpu.stat") / "cpu.stat"), "usage_usec") * 1000;
        return std::stoull("0" + read_file(dir_with("cpuacct.usage") / "cpuacct.usage"));
    } catch (const std::exception &) {
        return 0;
    }
}

void ContainerCgroup::kill_and_remove()
{
    if (exists() && !pids().empty()) {
        try {
            if (version_ == CgroupVersion::v2 && fs::exists(dir_with("cgroup.kill") / "cgroup.kill")) {
                write_file(dir_with("cgroup.kill") / "cgroup.kill", "1");
            } else {
                // Freeze so nothing forks between reading the list and the kill;
                // a frozen task dies of SIGKILL once thawed.
                try {
                    freeze();
                } catch (const Error &) {
                }
                for (const pid_t pid : pids())
                    ::kill(pid, SIGKILL);
                try {
                    thaw();
                } catch (const Error &) {
                }
            }
        } catch (const Error &) {
        }
        for (int i = 0; i < 500 && !pids().empty(); ++i) {
            for (const pid_t pid : pids())
                ::kill(pid, SIGKILL);
            std::this_thread::sleep_for(10ms);
        }
    }
    for (const fs::path &dir : dirs_) {
        for (int i = 0; i < 200 && ::rmdir(dir.c_str()) != 0 && errno == EBUSY; ++i)
            std::this_thread::sleep_for(10ms);
        // Empty partitions we may have made go too; a busy one (another
        // container) stays, which rmdir tells us with EBUSY/ENOTEMPTY.
        for (fs::path parent = dir.parent_path(); parent.has_relative_path() && parent.parent_path() != parent;
             parent = parent.parent_path()) {
            const bool is_root = std::find(roots_.begin(), roots_.end(), parent) != roots_.end() ||
                                 fs::exists(parent / "cgroup.sane_behavior") || parent == "/sys/fs/cgroup" ||
                                 (fs::exists(parent / "cgroup.controllers") && !fs::exists(parent / "cgroup.type"));
            if (is_root || ::rmdir(parent.c_str()) != 0)
                break;
        }
    }
}

}  // namespace virtkit::lxc
