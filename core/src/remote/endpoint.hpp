// Where a remote Connection talks to virtkitd, worked out from the URI
// (libvirt's meaning of +unix/+tls/+tcp/+ssh and ?socket=, ?pkipath=,
// ?no_verify=, ?keyfile=, ?command=).  Deciding needs only the URI, the config
// and the file system, so it stays in the core; talking (channel.hpp) is in
// the remote driver library.
#pragma once

#include <optional>
#include <string>

#include <virtkit/config.hpp>
#include <virtkit/uri.hpp>

namespace virtkit::remote {

struct Endpoint {
    enum class Transport { Unix, Tls, Tcp, Ssh };
    Transport transport = Transport::Unix;
    std::string socketPath;  // unix (local end; for ssh the remote daemon's socket)
    std::string host;        // tls, tcp, ssh
    int port = 0;
    std::string user;        // ssh
    std::string pkiDir;      // tls: cacert.pem, clientcert.pem, clientkey.pem
    bool noVerify = false;   // tls: do not check the server's certificate
    std::string keyFile;     // ssh -i
    std::string command;     // ssh: the remote helper command (default nc -U)
    bool readOnly = false;
    std::string driverUri;   // what the daemon opens: the URI without transport, host and client params

    std::string describe() const;  // "unix:/run/virtkit/virtkit-sock", "tls:host:16514", ...
};

// The daemon's default sockets (overridable by the config's daemon.socket_dir).
std::string defaultSocketDir(const Config &config);
inline constexpr int kDefaultTlsPort = 16514;
inline constexpr int kDefaultTcpPort = 16509;

// The endpoint for a URI naming a transport or a host; nullopt for a local URI
// (the caller may still find a local daemon with localDaemonEndpoint).
std::optional<Endpoint> explicitEndpoint(const Uri &uri, const Config &config, bool readOnly);
// For a local qemu/lxc system or session URI: the daemon's socket if one
// exists and accepts a connection now.  test:/// URIs stay in-process, as in libvirt.
std::optional<Endpoint> localDaemonEndpoint(const Uri &uri, const Config &config, bool readOnly);

}  // namespace virtkit::remote
