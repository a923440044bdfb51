// Listeners, the per-connection guard (TLS handshake, allow-list, request
// deadline against slow clients), and the HTTP handler around Api.
#include "server.hpp"

#include <fnmatch.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <condition_variable>
#include <filesystem>
#include <list>
#include <thread>

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/ServerSocketImpl.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/ThreadPool.h>

#include <virtkit/error.hpp>
#include <virtkit/log.hpp>
#include <virtkit/remote_protocol.hpp>

#include "event_stream.hpp"

namespace virtkit::daemon {
namespace {

using Clock = std::chrono::steady_clock;
namespace net = Poco::Net;

std::shared_ptr<spdlog::logger> logger() { return log::get("daemon"); }

unsigned positive(const Config &config, const char *key, unsigned fallback, unsigned max)
{
    const auto text = config.daemonValue(key);
    if (!text)
        return fallback;
    try {
        std::size_t used = 0;
        const unsigned long v = std::stoul(*text, &used);
        if (used == text->size() && v > 0 && v <= max)
            return static_cast<unsigned>(v);
    } catch (const std::exception &) {
    }
    throw Error(VIRTKIT_ERR_CONFIG, "config " + config.source() + ": daemon." + key +
                                        " must be a whole number from 1 to " + std::to_string(max) + ", not '" +
                                        *text + "'");
}

bool isLoopback(const std::string &host)
{
    return host == "127.0.0.1" || host == "::1" || host == "localhost" || host.rfind("127.", 0) == 0;
}

// A listening socket systemd handed over (socket activation).
class AdoptedServerSocketImpl : public net::ServerSocketImpl {
public:
    explicit AdoptedServerSocketImpl(int fd) { reset(fd); }
};
class AdoptedServerSocket : public net::ServerSocket {
public:
    explicit AdoptedServerSocket(int fd) : ServerSocket(new AdoptedServerSocketImpl(fd), true) {}
};

// The request deadline: armed while a request is being read, disarmed while
// the daemon works on it.  A client that trickles bytes (slowloris) cannot
// hold a thread longer than requestTimeout: the watchdog shuts its socket.
struct Watch {
    int fd = -1;
    std::string peer;
    bool armed = true;
    Clock::time_point deadline;
};

thread_local Watch *currentWatch = nullptr;

}  // namespace

std::string ListenSpec::describe() const
{
    switch (kind) {
    case Kind::Unix: return "unix:" + path;
    case Kind::UnixReadOnly: return "unix-ro:" + path;
    case Kind::Tls: return "tls:" + host + ":" + std::to_string(port);
    case Kind::Tcp: return "tcp:" + host + ":" + std::to_string(port);
    case Kind::Inherited: return "fd:" + std::to_string(fd) + (readOnly ? " (read-only)" : "");
    }
    return "?";
}

ListenSpec parseListen(const std::string &text)
{
    const auto colon = text.find(':');
    const std::string kind = text.substr(0, colon);
    const std::string rest = colon == std::string::npos ? "" : text.substr(colon + 1);
    ListenSpec spec;
    const auto bad = [&](const std::string &why) {
        throw Error(VIRTKIT_ERR_INVALID_ARG, "bad listen address '" + text + "': " + why +
                                                 " (unix:PATH, unix-ro:PATH, tls:ADDR:PORT or tcp:127.0.0.1:PORT)");
    };
    if (kind == "unix" || kind == "unix-ro") {
        if (rest.empty() || rest[0] != '/')
            bad("a UNIX socket needs an absolute path");
        if (rest.size() >= 108)
            bad("the socket path is longer than a UNIX socket address holds");
        spec.kind = kind == "unix" ? ListenSpec::Kind::Unix : ListenSpec::Kind::UnixReadOnly;
        spec.readOnly = kind == "unix-ro";
        spec.path = rest;
    } else if (kind == "tls" || kind == "tcp") {
        const auto last = rest.rfind(':');
        if (last == std::string::npos || last == 0)
            bad("expected ADDR:PORT");
        spec.kind = kind == "tls" ? ListenSpec::Kind::Tls : ListenSpec::Kind::Tcp;
        spec.host = rest.substr(0, last);
        if (spec.host.size() > 2 && spec.host.front() == '[' && spec.host.back() == ']')
            spec.host = spec.host.substr(1, spec.host.size() - 2);
        try {
            std::size_t used = 0;
            spec.port = std::stoi(rest.substr(last + 1), &used);
            if (used != rest.size() - last - 1 || spec.port < 0 || spec.port > 65535)
                bad("the port must be 0..65535");
        } catch (const std::logic_error &) {
            bad("the port must be a number");
        }
    } else {
        bad("unknown kind '" + kind + "'");
    }
    return spec;
}

ServerSettings ServerSettings::fromConfig(const Config &config)
{
    ServerSettings s;
    for (const auto &text : config.daemonList("listen")) {
        try {
            s.listeners.push_back(parseListen(text));
        } catch (const Error &e) {
            throw Error(VIRTKIT_ERR_CONFIG, "config " + config.source() + ": daemon.listen: " + e.what());
        }
    }
    s.pkiDir = config.daemonValue("pki_dir").value_or("");
    s.allowedSubjects = config.daemonList("tls_allowed_subjects");
    if (const auto tcp = config.daemonValue("allow_tcp")) {
        if (*tcp != "true" && *tcp != "false")
            throw Error(VIRTKIT_ERR_CONFIG, "config " + config.source() + ": daemon.allow_tcp must be true or false");
        s.allowTcp = *tcp == "true";
    }
    s.rwGroup = config.daemonValue("unix_rw_group").value_or("");
    s.maxClients = positive(config, "max_clients", s.maxClients, 4096);
    s.requestTimeoutSec = positive(config, "request_timeout", s.requestTimeoutSec, 3600);
    s.keepAliveTimeoutSec = positive(config, "keepalive_timeout", s.keepAliveTimeoutSec, 3600);
    s.eventQueue = positive(config, "event_queue", static_cast<unsigned>(s.eventQueue), 1u << 20);
    s.maxBodyBytes = positive(config, "max_body_bytes", static_cast<unsigned>(s.maxBodyBytes), 1u << 30);
    return s;
}

struct Server::Impl {
    Api &api;
    ServerSettings settings;
    mutable std::mutex mutex;  // settings (reload) and watches
    std::list<Watch> watches;
    std::atomic<unsigned> active{0};
    std::atomic<int64_t> lastLeftMs{0};
    Poco::ThreadPool pool;
    std::vector<std::unique_ptr<net::TCPServer>> servers;
    std::vector<std::string> socketFiles;
    std::thread watchdog;
    std::atomic<bool> stopping{false};
    net::Context::Ptr tlsContext;

    Impl(Api &a, ServerSettings s)
        : api(a), settings(std::move(s)),
          pool(2, static_cast<int>(settings.maxClients) + 8, 60)  // +8: room for the TCPServer dispatchers
    {
        lastLeftMs = nowMs();
    }

    static int64_t nowMs()
    {
        return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
    }

    ServerSettings current() const
    {
        const std::lock_guard lock(mutex);
        return settings;
    }

    Watch *arm(int fd, std::string peer)
    {
        const std::lock_guard lock(mutex);
        watches.push_back({fd, std::move(peer), true, Clock::now() + std::chrono::seconds(settings.requestTimeoutSec)});
        return &watches.back();
    }

    void setArmed(Watch *w, bool armed)
    {
        if (!w)
            return;
        const std::lock_guard lock(mutex);
        w->armed = armed;
        // The next request gets the whole keep-alive time to start, then the request timeout.
        w->deadline = Clock::now() + std::chrono::seconds(settings.requestTimeoutSec + settings.keepAliveTimeoutSec);
    }

    void disarm(Watch *w)
    {
        const std::lock_guard lock(mutex);
        watches.remove_if([w](const Watch &x) { return &x == w; });
    }

    void watchLoop()
    {
        while (!stopping) {
            std::this_thread::sleep_for(std::chrono::milliseconds(250));
            const std::lock_guard lock(mutex);
            const auto now = Clock::now();
            for (auto &w : watches) {
                if (w.armed && now > w.deadline && w.fd >= 0) {
                    logger()->warn("closing client {}: no complete request within {} s (slow or stalled client)",
                                   w.peer, settings.requestTimeoutSec);
                    ::shutdown(w.fd, SHUT_RDWR);
                    w.fd = -1;
                }
            }
        }
    }

    bool subjectAllowed(const std::string &subject, const std::string &cn) const
    {
        const auto s = current();
        if (s.allowedSubjects.empty())
            return true;
        for (const auto &pattern : s.allowedSubjects)
            if (fnmatch(pattern.c_str(), subject.c_str(), 0) == 0 || fnmatch(pattern.c_str(), cn.c_str(), 0) == 0)
                return true;
        return false;
    }
};

namespace {

std::vector<std::pair<std::string, std::string>> parseQuery(const std::string &query)
{
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t start = 0;
    while (start < query.size()) {
        std::size_t amp = query.find('&', start);
        if (amp == std::string::npos)
            amp = query.size();
        const std::string pair = query.substr(start, amp - start);
        if (!pair.empty()) {
            const auto eq = pair.find('=');
            out.emplace_back(remote::decodeSegment(pair.substr(0, eq)),
                             eq == std::string::npos ? "" : remote::decodeSegment(pair.substr(eq + 1)));
        }
        start = amp + 1;
    }
    return out;
}

void sendJson(net::HTTPServerResponse &response, int status, const std::string &body)
{
    response.setStatus(static_cast<net::HTTPResponse::HTTPStatus>(status));
    response.setContentType("application/json");
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    response.send() << body;
}

class ApiHandler : public net::HTTPRequestHandler {
public:
    ApiHandler(Server::Impl &impl, bool readOnlyListener) : impl_(impl), readOnlyListener_(readOnlyListener) {}

    void handleRequest(net::HTTPServerRequest &request, net::HTTPServerResponse &response) override
    {
        Watch *const watch = currentWatch;
        const ServerSettings settings = impl_.current();
        ApiRequest req;
        req.method = request.getMethod();
        const std::string &target = request.getURI();
        const auto q = target.find('?');
        req.path = target.substr(0, q);
        req.readOnly = readOnlyListener_ || request.get(remote::kReadOnlyHeader, "0") == "1";
        try {
            req.query = parseQuery(q == std::string::npos ? "" : target.substr(q + 1));
        } catch (const Error &e) {
            return refuse(response, 400, e);
        }

        if (Api::isEventsRequest(req) &&
            Poco::icompare(request.get("Upgrade", ""), "websocket") == 0) {
            impl_.setArmed(watch, false);
            streamEvents(impl_.api, req, request, response, settings.eventQueue, impl_.stopping);
            return;
        }

        // The body: refused unread when announced too big; read to a bound otherwise.
        const auto length = request.getContentLength64();
        if (length != net::HTTPMessage::UNKNOWN_CONTENT_LENGTH && length > static_cast<Poco::Int64>(settings.maxBodyBytes)) {
            response.setKeepAlive(false);
            return refuse(response, 413, Error(VIRTKIT_ERR_INVALID_ARG,
                                               "request body of " + std::to_string(length) + " bytes exceeds the " +
                                                   std::to_string(settings.maxBodyBytes) + "-byte limit"));
        }
        std::istream &in = request.stream();
        std::string body;
        char chunk[16384];
        while (in) {
            in.read(chunk, sizeof chunk);
            body.append(chunk, static_cast<std::size_t>(in.gcount()));
            if (body.size() > settings.maxBodyBytes) {
                response.setKeepAlive(false);
                return refuse(response, 413, Error(VIRTKIT_ERR_INVALID_ARG, "request body exceeds the " +
                                                                                std::to_string(settings.maxBodyBytes) +
                                                                                "-byte limit"));
            }
        }
        if (length != net::HTTPMessage::UNKNOWN_CONTENT_LENGTH && static_cast<Poco::Int64>(body.size()) != length) {
            response.setKeepAlive(false);
            return refuse(response, 400, Error(VIRTKIT_ERR_INVALID_ARG,
                                               "truncated request body: " + std::to_string(body.size()) + " of " +
                                                   std::to_string(length) + " bytes"));
        }
        req.body = std::move(body);
        impl_.setArmed(watch, false);
        const ApiReply reply = impl_.api.handle(req);
        sendJson(response, reply.status, reply.body);
        impl_.setArmed(watch, true);
    }

private:
    void refuse(net::HTTPServerResponse &response, int status, const Error &e)
    {
        sendJson(response, status, remote::encodeError(e.code(), e.what()));
    }

    Server::Impl &impl_;
    const bool readOnlyListener_;
};

class HandlerFactory : public net::HTTPRequestHandlerFactory {
public:
    HandlerFactory(Server::Impl &impl, bool readOnly) : impl_(impl), readOnly_(readOnly) {}
    net::HTTPRequestHandler *createRequestHandler(const net::HTTPServerRequest &) override
    {
        return new ApiHandler(impl_, readOnly_);
    }

private:
    Server::Impl &impl_;
    const bool readOnly_;
};

// One client connection: TLS checks first, then HTTP under the deadline watch.
class GuardedConnection : public net::TCPServerConnection {
public:
    GuardedConnection(const net::StreamSocket &socket, Server::Impl &impl, const ListenSpec &spec)
        : TCPServerConnection(socket), impl_(impl), spec_(spec)
    {
    }

    void run() override
    {
        ++impl_.active;
        std::string peer = spec_.describe();
        try {
            if (spec_.kind != ListenSpec::Kind::Unix && spec_.kind != ListenSpec::Kind::UnixReadOnly &&
                spec_.kind != ListenSpec::Kind::Inherited)
                peer = socket().peerAddress().toString();
        } catch (const Poco::Exception &) {
        }
        Watch *watch = impl_.arm(socket().impl()->sockfd(), peer);
        currentWatch = watch;
        try {
            if (spec_.kind == ListenSpec::Kind::Tls && !admitTlsClient(peer))
                throw Poco::Net::NetException("refused");
            const ServerSettings s = impl_.current();
            net::HTTPServerParams::Ptr params = new net::HTTPServerParams;
            params->setTimeout(Poco::Timespan(static_cast<long>(s.requestTimeoutSec), 0));
            params->setKeepAlive(true);
            params->setKeepAliveTimeout(Poco::Timespan(static_cast<long>(s.keepAliveTimeoutSec), 0));
            params->setMaxKeepAliveRequests(10000);
            params->setServerName("virtkitd");
            net::HTTPServerConnection http(socket(), params, new HandlerFactory(impl_, spec_.readOnly));
            http.run();
        } catch (const std::exception &e) {
            logger()->debug("client {}: {}", peer, e.what());
        }
        currentWatch = nullptr;
        impl_.disarm(watch);
        impl_.lastLeftMs = Server::Impl::nowMs();
        --impl_.active;
    }

private:
    bool admitTlsClient(const std::string &peer)
    {
        try {
            net::SecureStreamSocket secure(socket());
            secure.completeHandshake();
            if (!secure.havePeerCertificate()) {
                logger()->warn("TLS client {} refused: no client certificate", peer);
                return false;
            }
            const auto cert = secure.peerCertificate();
            const std::string subject = cert.subjectName();
            if (!impl_.subjectAllowed(subject, cert.commonName())) {
                logger()->warn("TLS client {} refused: subject '{}' is not in daemon.tls_allowed_subjects", peer,
                               subject);
                return false;
            }
            logger()->info("TLS client {} accepted: subject '{}'", peer, subject);
            return true;
        } catch (const Poco::Exception &e) {
            logger()->warn("TLS client {} refused at handshake: {}", peer, e.displayText());
            return false;
        }
    }

    Server::Impl &impl_;
    const ListenSpec spec_;
};

class ConnectionFactory : public net::TCPServerConnectionFactory {
public:
    ConnectionFactory(Server::Impl &impl, ListenSpec spec) : impl_(impl), spec_(std::move(spec)) {}
    net::TCPServerConnection *createConnection(const net::StreamSocket &socket) override
    {
        return new GuardedConnection(socket, impl_, spec_);
    }

private:
    Server::Impl &impl_;
    const ListenSpec spec_;
};

net::Context::Ptr serverTlsContext(const std::string &pkiDir)
{
    namespace fs = std::filesystem;
    const std::string ca = (fs::path(pkiDir) / "cacert.pem").string();
    const std::string cert = (fs::path(pkiDir) / "servercert.pem").string();
    const std::string key = (fs::path(pkiDir) / "serverkey.pem").string();
    for (const auto &file : {ca, cert, key}) {
        std::error_code ec;
        if (!fs::exists(file, ec))
            throw Error(VIRTKIT_ERR_CONFIG, "TLS listener needs " + file + " (daemon.pki_dir or --root DIR/pki)");
    }
    net::initializeSSL();
    try {
        // VERIFY_STRICT: a client without a certificate fails the handshake.
        auto context = new net::Context(net::Context::TLS_SERVER_USE, key, cert, ca, net::Context::VERIFY_STRICT);
        context->disableProtocols(net::Context::PROTO_SSLV2 | net::Context::PROTO_SSLV3 | net::Context::PROTO_TLSV1 |
                                  net::Context::PROTO_TLSV1_1);
        return context;
    } catch (const Poco::Exception &e) {
        throw Error(VIRTKIT_ERR_CONFIG, "TLS setup from " + pkiDir + ": " + e.displayText());
    }
}

gid_t groupId(const std::string &name)
{
    struct group grp {};
    struct group *found = nullptr;
    std::vector<char> buffer(16384);
    if (getgrnam_r(name.c_str(), &grp, buffer.data(), buffer.size(), &found) != 0 || !found)
        throw Error(VIRTKIT_ERR_CONFIG, "daemon.unix_rw_group names no group '" + name + "'");
    return found->gr_gid;
}

net::ServerSocket bindUnix(const ListenSpec &spec, const std::string &rwGroup)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(fs::path(spec.path).parent_path(), ec);
    // We hold the state root's lock, so a socket file left here is a dead daemon's.
    if (fs::is_socket(spec.path, ec))
        fs::remove(spec.path, ec);
    // Bind with a tight umask, then open up: never a moment of wider access.
    const mode_t old = ::umask(0177);
    net::ServerSocket socket;
    try {
        socket.bind(net::SocketAddress(net::SocketAddress::UNIX_LOCAL, spec.path));
        socket.listen(128);
    } catch (const Poco::Exception &e) {
        ::umask(old);
        throw Error(VIRTKIT_ERR_SYSTEM, "cannot listen on " + spec.describe() + ": " + e.displayText());
    }
    ::umask(old);
    mode_t mode = spec.readOnly ? 0666 : 0600;
    if (!spec.readOnly && !rwGroup.empty()) {
        if (::chown(spec.path.c_str(), static_cast<uid_t>(-1), groupId(rwGroup)) != 0)
            throw Error(VIRTKIT_ERR_SYSTEM, "cannot give " + spec.path + " to group " + rwGroup + ": " +
                                                std::strerror(errno));
        mode = 0660;
    }
    ::chmod(spec.path.c_str(), mode);
    return socket;
}

}  // namespace

Server::Server(Api &api, ServerSettings settings) : impl_(std::make_unique<Impl>(api, std::move(settings))) {}

Server::~Server()
{
    try {
        stop();
    } catch (const std::exception &e) {
        logger()->warn("stopping: {}", e.what());
    }
}

void Server::start()
{
    const ServerSettings s = impl_->current();
    net::TCPServerParams::Ptr params = new net::TCPServerParams;
    params->setMaxThreads(static_cast<int>(s.maxClients));
    params->setMaxQueued(static_cast<int>(s.maxClients));
    for (const auto &spec : s.listeners) {
        net::ServerSocket socket;
        switch (spec.kind) {
        case ListenSpec::Kind::Unix:
        case ListenSpec::Kind::UnixReadOnly:
            socket = bindUnix(spec, s.rwGroup);
            impl_->socketFiles.push_back(spec.path);
            break;
        case ListenSpec::Kind::Inherited:
            socket = AdoptedServerSocket(spec.fd);
            break;
        case ListenSpec::Kind::Tcp:
            if (!s.allowTcp)
                throw Error(VIRTKIT_ERR_CONFIG, "refusing plain TCP listener " + spec.describe() +
                                                    ": set daemon.allow_tcp: true to enable it (loopback only)");
            if (!isLoopback(spec.host))
                throw Error(VIRTKIT_ERR_CONFIG, "refusing plain TCP listener " + spec.describe() +
                                                    ": unencrypted TCP is allowed on loopback only; use tls:");
            [[fallthrough]];
        case ListenSpec::Kind::Tls:
            try {
                if (spec.kind == ListenSpec::Kind::Tls && !impl_->tlsContext)
                    impl_->tlsContext = serverTlsContext(s.pkiDir);
                const net::SocketAddress address(spec.host, static_cast<Poco::UInt16>(spec.port));
                // The handshake runs lazily on the client's own thread (GuardedConnection), never in accept.
                if (spec.kind == ListenSpec::Kind::Tls)
                    socket = net::SecureServerSocket(address, 128, impl_->tlsContext);
                else
                    socket = net::ServerSocket(address, 128);
            } catch (const Poco::Exception &e) {
                throw Error(VIRTKIT_ERR_SYSTEM, "cannot listen on " + spec.describe() + ": " + e.displayText());
            }
            break;
        }
        ListenSpec bound = spec;
        if (spec.kind == ListenSpec::Kind::Tls || spec.kind == ListenSpec::Kind::Tcp)
            bound.port = socket.address().port();
        auto server = std::make_unique<net::TCPServer>(new ConnectionFactory(*impl_, bound), impl_->pool, socket, params);
        server->start();
        logger()->info("listening on {}", bound.describe());
        impl_->servers.push_back(std::move(server));
    }
    impl_->watchdog = std::thread([this] { impl_->watchLoop(); });
}

void Server::stop()
{
    if (impl_->stopping.exchange(true))
        return;
    for (auto &server : impl_->servers)
        server->stop();
    {  // wake every client thread blocked on a read
        const std::lock_guard lock(impl_->mutex);
        for (auto &w : impl_->watches)
            if (w.fd >= 0)
                ::shutdown(w.fd, SHUT_RDWR);
    }
    impl_->pool.joinAll();
    if (impl_->watchdog.joinable())
        impl_->watchdog.join();
    impl_->servers.clear();
    for (const auto &file : impl_->socketFiles) {
        std::error_code ec;
        std::filesystem::remove(file, ec);
    }
}

void Server::reload(const ServerSettings &settings)
{
    const std::lock_guard lock(impl_->mutex);
    auto &s = impl_->settings;
    s.allowedSubjects = settings.allowedSubjects;
    s.requestTimeoutSec = settings.requestTimeoutSec;
    s.keepAliveTimeoutSec = settings.keepAliveTimeoutSec;
    s.maxBodyBytes = settings.maxBodyBytes;
    s.eventQueue = settings.eventQueue;
}

unsigned Server::activeClients() const { return impl_->active; }

double Server::idleSeconds() const
{
    if (impl_->active > 0)
        return 0;
    return static_cast<double>(Impl::nowMs() - impl_->lastLeftMs) / 1000.0;
}

}  // namespace virtkit::daemon
