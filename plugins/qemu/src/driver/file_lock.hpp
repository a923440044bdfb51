// An flock(2) on a file, held while the object lives.  Processes on one
// state root use them to take turns: the root lock around changes to the
// definitions and ids, one lock per running domain for whoever holds its
// monitor (QMP serves one client).  The holder writes its pid into the file
// so that others can say who has it.  Opened O_CLOEXEC: a QEMU we start must
// not inherit it, or the lock would live as long as the guest.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>

namespace virtkit::qemu {

class FileLock {
public:
    // Waits for the lock (up to `timeout`, -1 = forever); throws Error
    // OPERATION_INVALID naming the holder's pid when it stays taken.
    static FileLock acquire(const std::string &path, std::chrono::milliseconds timeout, const std::string &what);
    // Takes the lock if it is free now.
    static std::optional<FileLock> try_acquire(const std::string &path);
    // Takes the lock if it is free now, or once it frees within `settle` when
    // the pid in the file is no longer alive: a holder killed while spawning
    // leaves a copy of the descriptor in its child until that child's exec.
    static std::optional<FileLock> try_acquire_settled(const std::string &path, std::chrono::milliseconds settle);
    // The pid the current holder wrote, if any.
    static std::optional<pid_t> holder(const std::string &path);

    FileLock(FileLock &&other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    FileLock &operator=(FileLock &&other) noexcept;
    FileLock(const FileLock &) = delete;
    FileLock &operator=(const FileLock &) = delete;
    ~FileLock();

private:
    explicit FileLock(int fd) noexcept : fd_(fd) {}
    int fd_ = -1;
};

}  // namespace virtkit::qemu
