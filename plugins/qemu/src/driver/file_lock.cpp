#include "driver/file_lock.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <virtkit/error.hpp>

#include "process/process_probe.hpp"

namespace virtkit::qemu {
namespace {

int open_lock_file(const std::string &path)
{
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        throw Error(VIRTKIT_ERR_SYSTEM, "cannot open lock file " + path + ": " + std::strerror(errno));
    return fd;
}

// Fixed width, written over the previous holder's text in place: truncating to
// zero first made ext4 (auto_da_alloc) flush the file, milliseconds per lock.
void write_holder(int fd)
{
    char pid[16];
    const int size = std::snprintf(pid, sizeof pid, "%10ld\n", static_cast<long>(::getpid()));
    (void)!::pwrite(fd, pid, static_cast<size_t>(size), 0);
    struct stat info {};
    if (::fstat(fd, &info) == 0 && info.st_size > size)  // longer text of another writer
        (void)!::ftruncate(fd, size);
}

}  // namespace

std::optional<FileLock> FileLock::try_acquire(const std::string &path)
{
    const int fd = open_lock_file(path);
    int rc;
    while ((rc = ::flock(fd, LOCK_EX | LOCK_NB)) < 0 && errno == EINTR) {
    }
    if (rc < 0) {
        ::close(fd);
        return std::nullopt;
    }
    write_holder(fd);
    return FileLock(fd);
}

std::optional<FileLock> FileLock::try_acquire_settled(const std::string &path, std::chrono::milliseconds settle)
{
    const auto deadline = std::chrono::steady_clock::now() + settle;
    for (;;) {
        if (auto lock = try_acquire(path))
            return lock;
        const auto pid = holder(path);
        if ((pid && process_alive(*pid)) || std::chrono::steady_clock::now() >= deadline)
            return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

FileLock FileLock::acquire(const std::string &path, std::chrono::milliseconds timeout, const std::string &what)
{
    if (timeout.count() < 0) {
        const int fd = open_lock_file(path);
        int rc;
        while ((rc = ::flock(fd, LOCK_EX)) < 0 && errno == EINTR) {
        }
        if (rc < 0) {
            ::close(fd);
            throw Error(VIRTKIT_ERR_SYSTEM, "cannot lock " + path + ": " + std::strerror(errno));
        }
        write_holder(fd);
        return FileLock(fd);
    }
    // flock has no timeout; contention is rare and short, so back off gently
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::milliseconds(1);
    for (;;) {
        if (auto lock = try_acquire(path))
            return std::move(*lock);
        if (std::chrono::steady_clock::now() >= deadline) {
            const auto pid = holder(path);
            throw Error(VIRTKIT_ERR_OPERATION_INVALID,
                        what + " is managed by another process" + (pid ? " (pid " + std::to_string(*pid) + ")" : "") +
                            "; use that process (or virtkitd), or retry when it has exited");
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
}

std::optional<pid_t> FileLock::holder(const std::string &path)
{
    std::ifstream in(path);
    long pid = 0;
    if (in >> pid && pid > 0)
        return static_cast<pid_t>(pid);
    return std::nullopt;
}

FileLock &FileLock::operator=(FileLock &&other) noexcept
{
    if (this != &other) {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = other.fd_;
        other.fd_ = -1;
    }
    return *this;
}

FileLock::~FileLock()
{
    if (fd_ >= 0)
        ::close(fd_);  // releases the flock
}

}  // namespace virtkit::qemu
