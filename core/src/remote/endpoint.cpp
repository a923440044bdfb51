// Which daemon endpoint a URI names, if any.  Only the URI, the config and a
// connect() probe of a local socket: no network library, so every program can
// route cheaply and load the remote driver (remote_driver.cpp) only when a URI
// really goes to virtkitd.
#include "endpoint.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include <virtkit/error.hpp>

namespace virtkit::remote {
namespace {

// URI parameters the client consumes; the daemon never sees them.
bool isClientParam(const std::string &name)
{
    return name == "socket" || name == "pkipath" || name == "no_verify" || name == "keyfile" || name == "command" ||
           name == "no_tty" || name == "known_hosts" || name == "sshauth" || name == "netcat" || name == "mode";
}

std::string driverUriOf(const Uri &uri)
{
    std::string out = uri.driver() + "://" + uri.path();
    char sep = '?';
    for (const auto &[name, value] : uri.query()) {
        if (isClientParam(name))
            continue;
        out += sep + name + "=" + value;
        sep = '&';
    }
    return Uri::parse(out).str();  // re-parse: canonical escaping
}

// Whether someone listens on the UNIX socket at `path` now.  A full backlog
// makes connect() wait; SO_SNDTIMEO bounds that wait on Linux.
bool acceptsConnection(const std::string &path)
{
    sockaddr_un addr{};
    if (path.size() >= sizeof addr.sun_path)
        return false;
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    const timeval timeout{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    const bool ok = ::connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

}  // namespace

std::string Endpoint::describe() const
{
    switch (transport) {
    case Transport::Unix: return "unix:" + socketPath;
    case Transport::Tls: return "tls:" + host + ":" + std::to_string(port);
    case Transport::Tcp: return "tcp:" + host + ":" + std::to_string(port);
    case Transport::Ssh: return "ssh:" + (user.empty() ? "" : user + "@") + host + ":" + socketPath;
    }
    return "?";
}

std::string defaultSocketDir(const Config &config)
{
    if (const auto dir = config.daemonValue("socket_dir"))
        return *dir;
    return "/run/virtkit";
}

std::optional<Endpoint> explicitEndpoint(const Uri &uri, const Config &config, bool readOnly)
{
    if (uri.transport().empty() && uri.host().empty())
        return std::nullopt;
    // libvirt: a host without a transport means TLS to the remote daemon, but only for
    // daemon-backed drivers; esx://host/ and the like are their own plugins' business.
    if (uri.transport().empty() && uri.driver() != "qemu" && uri.driver() != "lxc" && uri.driver() != "test")
        return std::nullopt;
    Endpoint ep;
    ep.readOnly = readOnly;
    ep.driverUri = driverUriOf(uri);
    ep.host = uri.host();
    ep.user = uri.user();
    const std::string sockDir = defaultSocketDir(config);
    ep.socketPath = uri.param("socket").value_or(sockDir + (readOnly ? "/virtkit-sock-ro" : "/virtkit-sock"));
    const std::string &t = uri.transport();
    if (t == "unix") {
        if (!uri.host().empty())
            throw Error(VIRTKIT_ERR_INVALID_ARG, "invalid URI '" + uri.str() + "': the unix transport takes no host");
        ep.transport = Endpoint::Transport::Unix;
    } else if (t == "tls" || t.empty()) {  // libvirt: a host without a transport means TLS
        ep.transport = Endpoint::Transport::Tls;
        ep.port = uri.port() ? uri.port() : kDefaultTlsPort;
        ep.pkiDir = uri.param("pkipath").value_or(config.daemonValue("pki_dir").value_or("/etc/pki/virtkit"));
        ep.noVerify = uri.param("no_verify").value_or("0") == "1";
    } else if (t == "tcp") {
        ep.transport = Endpoint::Transport::Tcp;
        ep.port = uri.port() ? uri.port() : kDefaultTcpPort;
    } else if (t == "ssh") {
        ep.transport = Endpoint::Transport::Ssh;
        ep.port = uri.port();
        ep.keyFile = uri.param("keyfile").value_or("");
        ep.command = uri.param("command").value_or("");
        if (!uri.param("socket"))
            ep.socketPath = std::string("/run/virtkit") + (readOnly ? "/virtkit-sock-ro" : "/virtkit-sock");
    } else {
        throw Error(VIRTKIT_ERR_INVALID_ARG, "invalid URI '" + uri.str() + "': unknown transport '" + t +
                                                 "' (unix, tls, tcp or ssh)");
    }
    if (ep.transport != Endpoint::Transport::Unix && ep.host.empty())
        ep.host = "localhost";
    return ep;
}

std::optional<Endpoint> localDaemonEndpoint(const Uri &uri, const Config &config, bool readOnly)
{
    if (!uri.isLocal() || uri.driver() == "test" || (uri.path() != "/system" && uri.path() != "/session"))
        return std::nullopt;
    Endpoint ep;
    ep.readOnly = readOnly;
    ep.driverUri = driverUriOf(uri);
    ep.socketPath = defaultSocketDir(config) + (readOnly ? "/virtkit-sock-ro" : "/virtkit-sock");
    std::error_code ec;
    if (!std::filesystem::is_socket(ep.socketPath, ec))
        return std::nullopt;
    // A stale socket file of a dead daemon must not capture the URI.
    if (!acceptsConnection(ep.socketPath))
        return std::nullopt;
    return ep;
}

}  // namespace virtkit::remote
