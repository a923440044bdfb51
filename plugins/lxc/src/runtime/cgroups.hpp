// The container's cgroup.  The host's layout is detected, not assumed:
// cgroup v2 when the unified hierarchy offers memory, cpu and pids, else the
// v1 hierarchies (a hybrid host such as this one has v2 mounted with no
// controllers beside v1 memory/cpu/freezer/pids).  One ContainerCgroup is a
// set of directories (one for v2, one per v1 hierarchy) treated as one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

namespace virtkit::lxc {

enum class CgroupVersion { v1, v2 };

struct CgroupLayout {
    CgroupVersion version = CgroupVersion::v2;
    std::filesystem::path unified;                          // v2 mount
    std::vector<std::pair<std::string, std::filesystem::path>> v1;  // controller -> mount
    std::string describe() const;

    // Reads /proc/self/mounts; throws Error(SYSTEM) when neither layout has
    // the controllers a container needs.
    static CgroupLayout detect();
};

class ContainerCgroup {
public:
    ContainerCgroup(CgroupVersion version, std::vector<std::filesystem::path> dirs)
        : version_(version), dirs_(std::move(dirs))
    {
    }
    // mkdir PARTITION/LEAF in every hierarchy; throws Error(SYSTEM), leaving none made.
    static ContainerCgroup create(const CgroupLayout &layout, const std::string &partition, const std::string &leaf);

    CgroupVersion version() const { return version_; }
    const std::vector<std::filesystem::path> &dirs() const { return dirs_; }
    bool exists() const;

    // Each throws Error with the kernel's reason when it refuses the value.
    void limit_memory(std::uint64_t kib);
    void limit_cpu(std::uint32_t vcpus, bool quota, std::uint64_t shares);
    void add(pid_t pid);

    void freeze();  // returns once every task is frozen
    void thaw();
    bool frozen() const;
    std::vector<pid_t> pids() const;
    bool oom_killed() const;
    std::uint64_t memory_limit_bytes() const;
    std::uint64_t cpu_time_ns() const;  // 0 when unknown

    // SIGKILL everything inside (frozen first so nothing forks meanwhile), wait
    // until empty, then remove the directories and empty parents we may have
    // made.  Safe to call on a cgroup that is partly or wholly gone.
    void kill_and_remove();

private:
    std::filesystem::path dir_with(const std::string &file) const;
    CgroupVersion version_;
    std::vector<std::filesystem::path> dirs_;
    std::vector<std::filesystem::path> roots_;  // hierarchy mounts, for removing empty parents
};

}  // namespace virtkit::lxc
