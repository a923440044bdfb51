// Reaching virtkitd: a UNIX socket, TLS with client certificates, plain TCP,
// or ssh running a netcat on the far side (libvirt's way) whose stdio is our
// socket.  Every failure to reach the daemon is NO_CONNECT naming the endpoint.
#include "channel.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/StreamSocketImpl.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/StreamCopier.h>

#include <virtkit/error.hpp>
#include <virtkit/remote_protocol.hpp>

namespace virtkit::remote {
namespace {

using Poco::Net::HTTPClientSession;

const Poco::Timespan kConnectTimeout(10, 0);
// Long enough for the slowest driver call (starting a guest, a migration phase).
const Poco::Timespan kReplyTimeout(600, 0);

[[noreturn]] void unreachable(const Endpoint &ep, const std::string &why)
{
    throw Error(VIRTKIT_ERR_NO_CONNECT, "cannot reach virtkitd at " + ep.describe() + ": " + why);
}

// A StreamSocket over an fd we made (the ssh child's end of a socketpair).
class FdSocket : public Poco::Net::StreamSocket {
public:
    explicit FdSocket(int fd) : StreamSocket(new Poco::Net::StreamSocketImpl(fd)) {}
};

std::string sshRemoteCommand(const Endpoint &ep)
{
    if (!ep.command.empty())
        return ep.command;
    // Single-quoted for the remote shell; a quote in the path is closed, escaped, reopened.
    std::string quoted = "'";
    for (const char c : ep.socketPath)
        quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return "nc -U " + quoted + "'";
}

// Spawns ssh with its stdin/stdout on one end of a socketpair; returns ours.
int spawnSsh(const Endpoint &ep)
{
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        unreachable(ep, std::string("socketpair: ") + std::strerror(errno));
    std::vector<std::string> args = {"ssh", "-T", "-e", "none", "-o", "BatchMode=yes"};
    if (ep.port)
        args.insert(args.end(), {"-p", std::to_string(ep.port)});
    if (!ep.user.empty())
        args.insert(args.end(), {"-l", ep.user});
    if (!ep.keyFile.empty())
        args.insert(args.end(), {"-i", ep.keyFile});
    args.insert(args.end(), {"--", ep.host, sshRemoteCommand(ep)});
    std::vector<char *> argv;
    for (auto &a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        unreachable(ep, std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
        ::dup2(fds[1], 0);
        ::dup2(fds[1], 1);
        ::execvp("ssh", argv.data());
        _exit(127);
    }
    ::close(fds[1]);
    // The child is reaped by SIGCHLD's default action only if ignored; we reap
    // it when the socket closes (ssh exits on EOF) from a detached waiter.
    std::thread([pid] { ::waitpid(pid, nullptr, 0); }).detach();
    return fds[0];
}

Poco::Net::Context::Ptr tlsContext(const Endpoint &ep)
{
    namespace fs = std::filesystem;
    const fs::path dir = ep.pkiDir;
    const std::string ca = (dir / "cacert.pem").string();
    const std::string cert = (dir / "clientcert.pem").string();
    const std::string key = (dir / "clientkey.pem").string();
    std::error_code ec;
    if (!ep.noVerify && !fs::exists(ca, ec))
        unreachable(ep, "no CA certificate " + ca + " (set ?pkipath=DIR or ?no_verify=1)");
    // A client certificate is optional here: the daemon decides whether it needs one.
    const bool haveCert = fs::exists(cert, ec) && fs::exists(key, ec);
    try {
        return new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, haveCert ? key : "", haveCert ? cert : "",
                                      fs::exists(ca, ec) ? ca : "",
                                      ep.noVerify ? Poco::Net::Context::VERIFY_NONE
                                                  : Poco::Net::Context::VERIFY_RELAXED);
    } catch (const Poco::Exception &e) {
        unreachable(ep, "TLS setup from " + ep.pkiDir + ": " + e.displayText());
    }
}

}  // namespace

// HTTP/1.1 wants a Host; a UNIX socket has none, so name the daemon.
std::string Channel::hostHeader() const
{
    return endpoint_.host.empty() || endpoint_.transport == Endpoint::Transport::Ssh ? "virtkitd" : endpoint_.host;
}

Channel::Channel(Endpoint endpoint) : endpoint_(std::move(endpoint)) {}
Channel::~Channel() = default;

std::unique_ptr<HTTPClientSession> Channel::connect() const
{
    using Poco::Net::SocketAddress;
    std::unique_ptr<HTTPClientSession> session;
    try {
        switch (endpoint_.transport) {
        case Endpoint::Transport::Unix: {
            Poco::Net::StreamSocket socket;
            socket.connect(SocketAddress(SocketAddress::UNIX_LOCAL, endpoint_.socketPath), kConnectTimeout);
            session = std::make_unique<HTTPClientSession>(socket);
            break;
        }
        case Endpoint::Transport::Tcp: {
            Poco::Net::StreamSocket socket;
            socket.connect(SocketAddress(endpoint_.host, static_cast<Poco::UInt16>(endpoint_.port)), kConnectTimeout);
            session = std::make_unique<HTTPClientSession>(socket);
            break;
        }
        case Endpoint::Transport::Tls: {
            Poco::Net::initializeSSL();
            const auto context = tlsContext(endpoint_);
            Poco::Net::StreamSocket plain;
            plain.connect(SocketAddress(endpoint_.host, static_cast<Poco::UInt16>(endpoint_.port)), kConnectTimeout);
            Poco::Net::SecureStreamSocket secure =
                Poco::Net::SecureStreamSocket::attach(plain, endpoint_.host, context);
            secure.completeHandshake();
            // A plain HTTP session over the secure socket: HTTPSClientSession refuses a connected one.
            session = std::make_unique<HTTPClientSession>(secure);
            break;
        }
        case Endpoint::Transport::Ssh:
            session = std::make_unique<HTTPClientSession>(FdSocket(spawnSsh(endpoint_)));
            break;
        }
    } catch (const Error &) {
        throw;
    } catch (const Poco::Exception &e) {
        unreachable(endpoint_, e.displayText());
    }
    session->setKeepAlive(true);
    session->setTimeout(kConnectTimeout, kReplyTimeout, kReplyTimeout);
    return session;
}

Channel::Reply Channel::request(const std::string &method, const std::string &path, const std::string &body,
                                bool idempotent)
{
    constexpr std::size_t kMaxIdle = 4;
    for (int attempt = 0;; ++attempt) {
        std::unique_ptr<HTTPClientSession> session;
        bool reused = false;
        {
            const std::lock_guard lock(mutex_);
            if (!idle_.empty()) {
                session = std::move(idle_.back());
                idle_.pop_back();
                reused = true;
            }
        }
        bool sent = false;
        try {
            if (!session)
                session = connect();
            Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
            req.setKeepAlive(true);
            req.setHost(hostHeader());
            if (endpoint_.readOnly)
                req.set(kReadOnlyHeader, "1");
            if (!body.empty() || method == "POST" || method == "PUT") {
                req.setContentType("application/json");
                req.setContentLength(static_cast<std::streamsize>(body.size()));
            }
            session->sendRequest(req) << body;
            sent = true;
            Poco::Net::HTTPResponse resp;
            std::istream &in = session->receiveResponse(resp);
            Reply reply;
            reply.status = resp.getStatus();
            Poco::StreamCopier::copyToString(in, reply.body);
            if (resp.getKeepAlive()) {
                const std::lock_guard lock(mutex_);
                if (idle_.size() < kMaxIdle)
                    idle_.push_back(std::move(session));
            }
            return reply;
        } catch (const Error &) {
            throw;
        } catch (const Poco::Exception &e) {
            // A kept-alive session the daemon closed fails on first use: retrying on a fresh one is
            // safe when nothing was sent; otherwise only an idempotent request may be repeated.
            if (attempt == 0 && (reused || !sent) && (!sent || idempotent))
                continue;
            unreachable(endpoint_, e.displayText());
        }
    }
}

std::unique_ptr<Poco::Net::WebSocket> Channel::openWebSocket(const std::string &path)
{
    auto session = connect();
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_GET, path, Poco::Net::HTTPMessage::HTTP_1_1);
    req.setHost(hostHeader());
    if (endpoint_.readOnly)
        req.set(kReadOnlyHeader, "1");
    Poco::Net::HTTPResponse resp;
    try {
        return std::make_unique<Poco::Net::WebSocket>(*session, req, resp);
    } catch (const Poco::Net::WebSocketException &e) {
        // The daemon refused the upgrade; its error rides in a header because
        // Poco leaves the body unreadable after a failed handshake.
        if (resp.has(kErrorHeader))
            throw decodeError(resp.getStatus(), resp.get(kErrorHeader));
        unreachable(endpoint_, "event stream refused: " + e.displayText());
    } catch (const Poco::Exception &e) {
        unreachable(endpoint_, "event stream: " + e.displayText());
    }
}

}  // namespace virtkit::remote
