// virtkitd's listeners and HTTP handling: UNIX sockets (read-write and
// read-only), TLS with client certificates, loopback TCP when enabled.  All
// listeners share one thread pool, which caps the clients served at once.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <virtkit/config.hpp>

#include "api.hpp"

namespace virtkit::daemon {

struct ListenSpec {
    enum class Kind { Unix, UnixReadOnly, Tls, Tcp, Inherited };
    Kind kind = Kind::Unix;
    std::string path;  // unix
    std::string host;  // tls, tcp
    int port = 0;
    int fd = -1;       // inherited from systemd (LISTEN_FDS)
    bool readOnly = false;
    std::string describe() const;
};

// "unix:PATH", "unix-ro:PATH", "tls:ADDR:PORT", "tcp:127.0.0.1:PORT"; throws Error(INVALID_ARG).
ListenSpec parseListen(const std::string &text);

struct ServerSettings {
    std::vector<ListenSpec> listeners;
    std::string pkiDir;                        // cacert.pem, servercert.pem, serverkey.pem
    std::vector<std::string> allowedSubjects;  // TLS client subjects; empty = any the CA signed
    bool allowTcp = false;
    std::string rwGroup;                       // group allowed on the rw socket (mode 0660)
    unsigned maxClients = 128;
    unsigned requestTimeoutSec = 30;           // whole request (headers + body) must arrive in this
    unsigned keepAliveTimeoutSec = 60;
    std::size_t maxBodyBytes = 4 * 1024 * 1024;
    std::size_t eventQueue = 4096;             // events queued for one client before it is dropped

    // From the config's daemon: section (checked: wrong values are Error(CONFIG)).
    static ServerSettings fromConfig(const Config &config);
};

class Server {
public:
    Server(Api &api, ServerSettings settings);
    ~Server();  // stops

    void start();  // binds every listener; throws Error naming the one that failed
    void stop();   // stops accepting, closes client connections, removes socket files
    // Applies what may change without rebinding (allow-list, limits, timeouts).
    void reload(const ServerSettings &settings);

    // For --timeout: clients connected now, and seconds since the last one left.
    unsigned activeClients() const;
    double idleSeconds() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace virtkit::daemon
