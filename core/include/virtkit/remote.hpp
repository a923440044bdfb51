// Which way Connection::open reaches a URI: in-process through a plugin, or
// through virtkitd (a transport or host in the URI, or a local system/session
// URI while a daemon listens on its socket).  `virtkit uri --path` prints it.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <virtkit/connection.hpp>

namespace virtkit::remote {

struct Route {
    bool viaDaemon = false;
    std::string endpoint;   // "unix:/run/virtkit/virtkit-sock", "tls:host:16514"; "" in-process
    std::string driverUri;  // the URI the daemon (or the plugin) opens
};

// Decides as Connection::open would, now (it probes the local socket).
Route routeFor(Context &ctx, const std::string &uri, bool readOnly);
// The route an open connection took.
Route routeOf(const Connection &conn);
// Always in-process, never through a daemon: what virtkitd itself uses.
std::shared_ptr<Connection> openInProcess(Context &ctx, const std::string &uri, bool readOnly = false);

}  // namespace virtkit::remote
