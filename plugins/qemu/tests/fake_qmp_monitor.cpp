#include "fake_qmp_monitor.hpp"

#include <cstring>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

namespace virtkit::qemu::testing {
namespace {

constexpr int io_limit_ms = 5000;  // a fake never waits forever

void wait_readable(int fd, const char *what)
{
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, io_limit_ms) <= 0)
        throw std::runtime_error(std::string("fake monitor timed out waiting for ") + what);
}

}  // namespace

void FakeQmpPeer::send(const std::string &bytes)
{
    if (::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(bytes.size()))
        throw std::runtime_error("fake monitor could not send");
}

void FakeQmpPeer::greet()
{
    send(R"({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7"}, "capabilities": ["oob"]}})"
         "\r\n");
}

Poco::JSON::Object::Ptr FakeQmpPeer::receive()
{
    for (;;) {
        const std::size_t newline = buffered_.find('\n');
        if (newline != std::string::npos) {
            const std::string line = buffered_.substr(0, newline);
            buffered_.erase(0, newline + 1);
            Poco::JSON::Parser parser;
            return parser.parse(line).extract<Poco::JSON::Object::Ptr>();
        }
        wait_readable(fd_, "a command");
        char chunk[4096];
        const ssize_t n = ::read(fd_, chunk, sizeof(chunk));
        if (n <= 0)
            throw std::runtime_error("client closed the connection while the fake waited for a command");
        buffered_.append(chunk, static_cast<std::size_t>(n));
    }
}

Poco::JSON::Object::Ptr FakeQmpPeer::receive_unless_closed()
{
    while (buffered_.find('\n') == std::string::npos) {
        wait_readable(fd_, "a command");
        char chunk[4096];
        const ssize_t n = ::read(fd_, chunk, sizeof(chunk));
        if (n <= 0)
            return nullptr;
        buffered_.append(chunk, static_cast<std::size_t>(n));
    }
    return receive();
}

std::string FakeQmpPeer::id_of(const Poco::JSON::Object::Ptr &command)
{
    std::ostringstream out;
    Poco::JSON::Stringifier::condense(command->get("id"), out);
    return out.str();
}

void FakeQmpPeer::reply(const Poco::JSON::Object::Ptr &command, const std::string &return_json)
{
    send(R"({"return": )" + return_json + R"(, "id": )" + id_of(command) + "}\r\n");
}

void FakeQmpPeer::reply_error(const Poco::JSON::Object::Ptr &command, const std::string &desc)
{
    send(R"({"id": )" + id_of(command) + R"(, "error": {"class": "GenericError", "desc": ")" + desc + "\"}}\r\n");
}

void FakeQmpPeer::event(const std::string &name, const std::string &data_json)
{
    send(R"({"timestamp": {"seconds": 1700000000, "microseconds": 123456}, "event": ")" + name +
         R"(", "data": )" + data_json + "}\r\n");
}

void FakeQmpPeer::negotiate()
{
    greet();
    const Poco::JSON::Object::Ptr command = receive();
    if (command->getValue<std::string>("execute") != "qmp_capabilities")
        throw std::runtime_error("client did not start with qmp_capabilities");
    reply(command, "{}");
}

void FakeQmpPeer::close()
{
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

void FakeQmpPeer::wait_for_client_to_close()
{
    char chunk[4096];
    while (fd_ >= 0) {
        pollfd pfd{fd_, POLLIN, 0};
        if (::poll(&pfd, 1, io_limit_ms) <= 0 || ::read(fd_, chunk, sizeof(chunk)) <= 0)
            break;
    }
    close();
}

FakeQmpMonitor::FakeQmpMonitor(Script script)
{
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string path = socket_path();
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0 ||
        ::listen(listen_fd_, 1) != 0)
        throw std::runtime_error("fake monitor cannot listen on " + path);
    thread_ = std::thread([this, script = std::move(script)] { serve(script); });
}

FakeQmpMonitor::~FakeQmpMonitor() { finish(); }

std::string FakeQmpMonitor::finish()
{
    if (thread_.joinable())
        thread_.join();
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        listen_fd_ = -1;
    }
    return failure_;
}

void FakeQmpMonitor::serve(const Script &script)
{
    try {
        wait_readable(listen_fd_, "a client");
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0)
            throw std::runtime_error("fake monitor accept failed");
        FakeQmpPeer peer(fd);
        try {
            script(peer);
            peer.wait_for_client_to_close();
        } catch (...) {
            peer.close();
            throw;
        }
    } catch (const std::exception &e) {
        failure_ = e.what();
    }
}

}  // namespace virtkit::qemu::testing
