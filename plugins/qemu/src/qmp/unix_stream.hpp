// A connected AF_UNIX stream socket (non-blocking, close-on-exec) owned as a
// file descriptor; closing happens in the destructor.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace virtkit::qemu {

class UnixStream {
public:
    // Connects to `path`, retrying while the socket does not exist yet or
    // refuses (a QEMU that is still starting) until `timeout` has passed.
    static UnixStream connect(const std::string &path, std::chrono::milliseconds timeout);
    // Adopts an already connected descriptor (tests, socketpair, fd passing).
    explicit UnixStream(int fd) noexcept : fd_(fd) {}

    UnixStream(UnixStream &&other) noexcept;
    UnixStream &operator=(UnixStream &&other) noexcept;
    UnixStream(const UnixStream &) = delete;
    UnixStream &operator=(const UnixStream &) = delete;
    ~UnixStream();

    int fd() const noexcept { return fd_; }
    // The pid of the process at the other end (SO_PEERCRED), -1 if unknown.
    int peer_pid() const noexcept;

    // Writes all of `data` or throws (timeout, peer gone); never raises SIGPIPE.
    void write_all(std::string_view data, std::chrono::steady_clock::time_point deadline) const;

private:
    int fd_ = -1;
};

}  // namespace virtkit::qemu
