// The HTTP channel to virtkitd over the endpoint the core chose
// (core/src/remote/endpoint.hpp): a UNIX socket, TLS with client
// certificates, plain TCP, or ssh running a netcat on the far side.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "remote/endpoint.hpp"

namespace Poco::Net {
class HTTPClientSession;
class WebSocket;
}  // namespace Poco::Net

namespace virtkit::remote {

// HTTP/1.1 conversations with the daemon: kept-alive sessions are reused, and a
// request that finds them all busy (a migration's Perform still running while
// jobStats polls) opens another, so calls on one Connection run in parallel.
class Channel {
public:
    explicit Channel(Endpoint endpoint);
    ~Channel();

    struct Reply {
        int status = 0;
        std::string body;
    };
    // Throws Error(NO_CONNECT) when the daemon cannot be reached.  A request
    // that may not have reached the daemon is retried once only if `idempotent`.
    Reply request(const std::string &method, const std::string &path, const std::string &body, bool idempotent);
    // A WebSocket upgrade on a fresh connection (events).
    std::unique_ptr<Poco::Net::WebSocket> openWebSocket(const std::string &path);
    const Endpoint &endpoint() const { return endpoint_; }

private:
    std::unique_ptr<Poco::Net::HTTPClientSession> connect() const;
    std::string hostHeader() const;

    const Endpoint endpoint_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Poco::Net::HTTPClientSession>> idle_;  // at most kMaxIdle kept
};

}  // namespace virtkit::remote
