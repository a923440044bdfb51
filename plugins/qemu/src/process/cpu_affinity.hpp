// Pinning a running QEMU to host CPUs (<vcpu cpuset>), as libvirt does when
// no per-vCPU <cputune> is given: every thread of the process, and so every
// thread it creates later, runs on the set.
#pragma once

#include <cstdint>
#include <set>
#include <sys/types.h>

namespace virtkit::qemu {

// Throws Error(INVALID_ARG) when the set names no CPU this host can use, and
// Error(SYSTEM) when a thread cannot be pinned.
void pin_process_threads(pid_t pid, const std::set<std::uint64_t> &cpus);

}  // namespace virtkit::qemu
