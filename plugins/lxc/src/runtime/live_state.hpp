// What a running container leaves in the runtime directory so that any later
// process opening the same URI can find it again:
//   <uuid>.xml    the definition it was started from (the supervisor's input)
//   <uuid>.state  written atomically by the supervisor once init runs
//   <uuid>.exit   written by the supervisor when init has ended
// A pid alone is not an identity (pids are reused), so each is saved with its
// start time from /proc/PID/stat and checked against it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "runtime/cgroups.hpp"

namespace virtkit::lxc {

struct ProcessIdentity {
    pid_t pid = 0;
    std::uint64_t start_time = 0;  // field 22 of /proc/PID/stat, clock ticks since boot

    static ProcessIdentity of(pid_t pid);  // start_time 0 when there is no such process
    // Same process and not yet a zombie.  PID 1 here reaps orphans slowly, so a
    // zombie counts as dead.
    bool alive() const;
};

struct LiveState {
    ProcessIdentity supervisor;
    ProcessIdentity init;
    CgroupVersion cgroup_version = CgroupVersion::v1;
    std::vector<std::filesystem::path> cgroup_dirs;
    std::string console;                // host pty path, empty without a console
    std::vector<std::string> host_veths;  // host ends, in <interface> order

    ContainerCgroup cgroup() const { return {cgroup_version, cgroup_dirs}; }
    void save(const std::filesystem::path &file) const;  // atomically
    static std::optional<LiveState> load(const std::filesystem::path &file);
};

// How init ended, as the supervisor saw it.
struct ExitRecord {
    bool exited = false;  // true: exit code; false: killed by signal
    int code = 0;         // exit status or signal number
    bool oom = false;
    void save(const std::filesystem::path &file) const;
    static std::optional<ExitRecord> load(const std::filesystem::path &file);
};

void write_atomically(const std::filesystem::path &file, const std::string &text);

}  // namespace virtkit::lxc
