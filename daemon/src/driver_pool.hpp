// The daemon's driver connections: one in-process Connection per driver URI,
// opened on first use and shared by every client (QEMU's monitor takes one
// client, so the daemon must be the only process holding it).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <virtkit/connection.hpp>
#include <virtkit/context.hpp>

namespace virtkit::daemon {

class DriverPool {
public:
    // root: --root DIR ("" = the drivers' own system/session state).
    DriverPool(Context &ctx, std::string root);
    ~DriverPool();

    // The URI the daemon opens for what a client asked:
    // with a root, qemu:///system -> qemu:///embed?root=ROOT/qemu,
    // qemu:///session -> qemu:///embed?root=ROOT/qemu-session (lxc alike);
    // test:/// URIs unchanged.  An embed root outside ROOT is refused.
    std::string mapUri(const std::string &clientUri) const;
    // Opens (once) and returns the shared connection; throws the driver's Error.
    std::shared_ptr<Connection> get(const std::string &clientUri);
    // Closes every driver connection; guests keep running (the drivers detach).
    void closeAll();
    std::size_t size() const;
    Context &context() { return ctx_; }

private:
    Context &ctx_;
    const std::string root_;
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<Connection>> connections_;  // by mapped URI
};

}  // namespace virtkit::daemon
