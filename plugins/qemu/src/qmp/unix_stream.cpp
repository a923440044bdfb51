#include "qmp/unix_stream.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

#include <virtkit/error.hpp>

namespace virtkit::qemu {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

int remaining_ms(std::chrono::steady_clock::time_point deadline)
{
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

UnixStream UnixStream::connect(const std::string &path, std::chrono::milliseconds timeout)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(addr.sun_path))
        throw Error(VIRTKIT_ERR_INVALID_ARG,
                    "monitor socket path '" + path + "' is empty or longer than " +
                        std::to_string(sizeof(addr.sun_path) - 1) + " bytes");
    std::memcpy(addr.sun_path, path.data(), path.size());

    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        UnixStream stream(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (stream.fd_ < 0)
            throw Error(VIRTKIT_ERR_SYSTEM, "cannot create a UNIX socket: " + errno_text(errno));
        if (::connect(stream.fd_, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) == 0) {
            const int flags = ::fcntl(stream.fd_, F_GETFL);
            ::fcntl(stream.fd_, F_SETFL, flags | O_NONBLOCK);
            return stream;
        }
        const int err = errno;
        const bool not_there_yet = err == ENOENT || err == ECONNREFUSED;
        if (!not_there_yet || std::chrono::steady_clock::now() >= deadline)
            throw Error(VIRTKIT_ERR_NO_CONNECT,
                        "cannot connect to monitor socket '" + path + "': " + errno_text(err));
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

int UnixStream::peer_pid() const noexcept
{
    ucred credentials{};
    socklen_t size = sizeof credentials;
    if (::getsockopt(fd_, SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0)
        return -1;
    return credentials.pid;
}

UnixStream::UnixStream(UnixStream &&other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

UnixStream &UnixStream::operator=(UnixStream &&other) noexcept
{
    if (this != &other) {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = other.fd_;
        other.fd_ = -1;
    }
    return *this;
}

UnixStream::~UnixStream()
{
    if (fd_ >= 0)
        ::close(fd_);
}

void UnixStream::write_all(std::string_view data, std::chrono::steady_clock::time_point deadline) const
{
    while (!data.empty()) {
        const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (n > 0) {
            data.remove_prefix(static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd pfd{fd_, POLLOUT, 0};
            const int timeout = remaining_ms(deadline);
            if (timeout == 0 || ::poll(&pfd, 1, timeout) == 0)
                throw Error(VIRTKIT_ERR_TIMEOUT, "QMP monitor did not accept a command in time");
            continue;
        }
        throw Error(VIRTKIT_ERR_NO_CONNECT, "cannot write to QMP monitor: " + errno_text(errno));
    }
}

}  // namespace virtkit::qemu
