#include "connection.hpp"

#include <mutex>

#include <virtkit/sdk_uri.hpp>

#include "plugin_error.hpp"

namespace virtkit::testdriver {

namespace {

constexpr const char *kUsage = "use test:///default or test:///ABSOLUTE/PATH.xml";

[[noreturn]] void refuse(const std::string &uri, const std::string &why)
{
    throw PluginError(VIRTKIT_ERR_NO_CONNECT, "cannot open '" + uri + "': " + why + "; " + kUsage);
}

// The decoded absolute path of test:///PATH; libvirt ignores the query.
std::string pathOf(const std::string &uri)
{
    const auto colon = uri.find(':');
    const std::string scheme = colon == std::string::npos ? "" : uri.substr(0, colon);
    if (scheme != "test")
        refuse(uri, scheme.rfind("test+", 0) == 0 ? "the in-process test driver takes no transport"
                                                  : "not a test URI");
    std::string rest = uri.substr(colon + 1);
    rest = rest.substr(0, rest.find_first_of("?#"));
    if (rest.rfind("//", 0) != 0)
        refuse(uri, "the path must be absolute");
    rest.erase(0, 2);
    const auto slash = rest.find('/');
    const std::string host = rest.substr(0, slash);
    if (!host.empty())
        refuse(uri, "the test driver takes no host ('" + host + "')");
    const auto path = sdk::percentDecoded(slash == std::string::npos ? "" : rest.substr(slash));
    if (!path)
        refuse(uri, "the path has a malformed %-escape or a %00");
    if (path->empty() || *path == "/")
        refuse(uri, "no path given");
    return *path;
}

std::shared_ptr<DriverState> sharedDefaultState(const virtkit_host_services &host)
{
    // The one piece of process-wide state the driver has, as libvirt's defaultConn.
    static std::mutex mutex;
    static std::weak_ptr<DriverState> shared;
    const std::lock_guard lock(mutex);
    if (auto state = shared.lock())
        return state;
    auto state = std::make_shared<DriverState>(host, defaultNodeDescription());
    shared = state;
    return state;
}

}  // namespace

std::unique_ptr<virtkit_conn> openConnection(const std::string &uri, const virtkit_host_services &host)
{
    const std::string path = pathOf(uri);
    auto conn = std::make_unique<virtkit_conn>();
    conn->uri = uri;
    if (path == "/default") {
        conn->state = sharedDefaultState(host);
    } else {
        try {
            conn->state = std::make_shared<DriverState>(host, loadNodeDescription(path));
        } catch (const PluginError &e) {
            const std::string hint = e.code() == VIRTKIT_ERR_NO_CONNECT ? std::string("; ") + kUsage : "";
            throw PluginError(e.code(), "cannot open '" + uri + "': " + e.what() + hint);
        }
    }
    conn->state->attach(conn.get());
    return conn;
}

void closeConnection(std::unique_ptr<virtkit_conn> conn)
{
    conn->state->detach(conn.get());
    // Dropping the last reference ends the state; for test:///default the next open starts afresh.
}

}  // namespace virtkit::testdriver
