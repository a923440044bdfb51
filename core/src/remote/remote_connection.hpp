// A Connection served by virtkitd.  The core needs only which endpoint it took
// (routeOf) and to hand it a peer-to-peer migration; the implementation, HTTP
// over Poco Net/NetSSL and OpenSSL, lives in its own library,
// libvirtkit-remote.so (core/remote/), installed beside libvirtkit-core and
// loaded on the first URI that goes to a daemon.  Every other program (a
// local `virtkit list`) never pays for loading and relocating those libraries.
#pragma once

#include <memory>
#include <string>

#include <virtkit/connection.hpp>
#include <virtkit/migration.hpp>

#include "endpoint.hpp"

namespace virtkit::remote {

class RemoteConnection : public Connection {
public:
    // Loads the remote driver library (once per process; never unloaded, like
    // plugins) and asks the daemon at `endpoint` to open endpoint.driverUri.
    // Without the library: Error(NO_CONNECT) "remote driver not installed: ...".
    static std::shared_ptr<Connection> open(Context &ctx, const std::string &clientUri, Endpoint endpoint);
    ~RemoteConnection() override;  // out of line: the type_info lives in the core, for dynamic_cast

    virtual const Endpoint &endpoint() const = 0;
    // migrate --p2p with this connection as the source: the source's daemon runs
    // virtkit::migratePeerToPeer itself (POST .../domains/{uuid}/migrate).
    virtual MigrationResult migratePeerToPeer(const std::string &uuid, const std::string &destUri,
                                              const MigrateParams &params, uint32_t flags) = 0;
};

// What libvirtkit-remote.so hands the core.  Core and library come from one
// build, so C++ types cross; `version` catches a library of another build.
struct RemoteDriver {
    const char *version;  // the library's VIRTKIT_VERSION
    std::shared_ptr<Connection> (*open)(Context &ctx, const std::string &clientUri, Endpoint endpoint);
};

inline constexpr const char *kRemoteDriverFile = "libvirtkit-remote.so";
inline constexpr const char *kRemoteDriverEntry = "virtkit_remote_driver";

}  // namespace virtkit::remote

// The library's one exported symbol.
extern "C" const virtkit::remote::RemoteDriver *virtkit_remote_driver();
