#include "driver_pool.hpp"

#include <filesystem>

#include <virtkit/error.hpp>
#include <virtkit/log.hpp>
#include <virtkit/remote.hpp>
#include <virtkit/uri.hpp>

namespace virtkit::daemon {

DriverPool::DriverPool(Context &ctx, std::string root) : ctx_(ctx), root_(std::move(root)) {}

DriverPool::~DriverPool() { closeAll(); }

std::string DriverPool::mapUri(const std::string &clientUri) const
{
    const Uri uri = Uri::parse(clientUri);
    if (!uri.isLocal())
        throw Error(VIRTKIT_ERR_INVALID_ARG, "virtkitd serves local driver URIs only, not '" + uri.str() + "'");
    if (root_.empty() || uri.driver() == "test")
        return uri.str();
    const std::string &path = uri.path();
    if ((path == "/system" || path == "/session") && uri.query().empty()) {
        const std::string dir = root_ + "/" + uri.driver() + (path == "/session" ? "-session" : "");
        return Uri::parse(uri.driver() + ":///embed?root=" + dir).str();
    }
    if (path == "/embed") {
        const auto root = uri.param("root");
        const auto inside = root ? std::filesystem::path(*root).lexically_normal().string() : "";
        if (root && inside.rfind(root_ + "/", 0) == 0)
            return uri.str();
        throw Error(VIRTKIT_ERR_AUTH, "virtkitd with --root " + root_ + " serves no embed root outside it ('" +
                                          uri.str() + "')");
    }
    throw Error(VIRTKIT_ERR_INVALID_ARG, "virtkitd does not serve '" + uri.str() + "' (use " + uri.driver() +
                                             ":///system or " + uri.driver() + ":///session)");
}

std::shared_ptr<Connection> DriverPool::get(const std::string &clientUri)
{
    const std::string mapped = mapUri(clientUri);
    // One lock for the map: opening is rare, and two clients racing to open
    // the same driver must end up sharing one connection.
    const std::lock_guard lock(mutex_);
    if (const auto found = connections_.find(mapped); found != connections_.end())
        return found->second;
    auto conn = remote::openInProcess(ctx_, mapped, false);
    log::get("daemon")->info("opened driver connection {} for {}", mapped, clientUri);
    connections_.emplace(mapped, conn);
    return conn;
}

void DriverPool::closeAll()
{
    std::map<std::string, std::shared_ptr<Connection>> closing;
    {
        const std::lock_guard lock(mutex_);
        closing.swap(connections_);
    }
    for (auto &[uri, conn] : closing) {
        try {
            conn->close();
        } catch (const std::exception &e) {
            log::get("daemon")->warn("closing {}: {}", uri, e.what());
        }
    }
}

std::size_t DriverPool::size() const
{
    const std::lock_guard lock(mutex_);
    return connections_.size();
}

}  // namespace virtkit::daemon
