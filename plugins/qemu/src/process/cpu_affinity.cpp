#include "process/cpu_affinity.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sched.h>
#include <string>

#include <virtkit/error.hpp>

namespace virtkit::qemu {

void pin_process_threads(pid_t pid, const std::set<std::uint64_t> &cpus)
{
    cpu_set_t mask;
    CPU_ZERO(&mask);
    for (const std::uint64_t cpu : cpus)
        if (cpu < CPU_SETSIZE)
            CPU_SET(static_cast<int>(cpu), &mask);
    std::error_code ec;
    for (const auto &task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        const pid_t tid = static_cast<pid_t>(std::stol(task.path().filename().string()));
        if (::sched_setaffinity(tid, sizeof mask, &mask) == 0 || errno == ESRCH)  // ESRCH: that thread just ended
            continue;
        if (errno == EINVAL)
            throw Error(VIRTKIT_ERR_INVALID_ARG, "<vcpu cpuset> names no CPU this host can run the guest on");
        throw Error(VIRTKIT_ERR_SYSTEM, "cannot pin QEMU thread " + std::to_string(tid) + ": " + std::strerror(errno));
    }
    if (ec)
        throw Error(VIRTKIT_ERR_SYSTEM, "cannot list the threads of QEMU (pid " + std::to_string(pid) + "): " + ec.message());
}

}  // namespace virtkit::qemu
