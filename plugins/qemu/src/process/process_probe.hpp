// Looking at a process we may not have started (a QEMU left by an earlier
// manager): is it alive, is it the QEMU we think, and waiting for its end
// without polling (pidfd).  A zombie counts as dead: PID 1 here reaps
// orphans only every few seconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>

namespace virtkit::qemu {

// Alive and not a zombie.
bool process_alive(pid_t pid);
// Field 22 of /proc/PID/stat (clock ticks since boot); tells a reused pid apart.
std::optional<std::uint64_t> process_start_ticks(pid_t pid);
// True if pid runs a QEMU whose command line has `-uuid UUID`.
bool process_is_qemu_for(pid_t pid, const std::string &uuid);
// A QEMU for `uuid` whose command line also contains `needle` (its monitor
// socket path), found by scanning /proc; -1 if none.  For a start that was
// interrupted before the pid was saved.
pid_t find_qemu_process(const std::string &uuid, const std::string &needle);
// Reaps pid if it is a child of ours that has exited; otherwise does nothing.
void reap_if_child(pid_t pid);

// A pidfd: becomes readable when the process exits (zombie included).
class ProcessWatch {
public:
    explicit ProcessWatch(pid_t pid);  // a pid already gone gives a watch that has exited
    ~ProcessWatch();
    ProcessWatch(const ProcessWatch &) = delete;
    ProcessWatch &operator=(const ProcessWatch &) = delete;

    // True once the process has exited (a zombie has); the caller reaps.
    bool wait_for_exit(std::chrono::milliseconds timeout);
    // Signals exactly this process (pidfd_send_signal: never a reused pid).
    void signal(int signal_number) const;

private:
    pid_t pid_;
    int fd_ = -1;
};

}  // namespace virtkit::qemu
