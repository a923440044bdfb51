// Connection::open routes a URI to its plugin; Connection::domain resolves a
// user's "name, UUID or ID" the way virsh does.
#include <virtkit/connection.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include <virtkit/context.hpp>
#include <virtkit/error.hpp>
#include <virtkit/uri.hpp>

#include <virtkit/remote.hpp>

#include "plugin_connection.hpp"
#include "remote/remote_connection.hpp"

namespace virtkit {
namespace {

std::string searchedDirs(const PluginRegistry &registry)
{
    std::string out;
    for (const auto &dir : registry.searchPath())
        out += (out.empty() ? "" : ", ") + dir;
    return out.empty() ? "no plugin directories" : out;
}

std::optional<int> asDomainId(const std::string &s)
{
    int id = -1;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || id < 0)
        return std::nullopt;
    return id;
}

// virsh accepts 32 hex digits with or without the dashes.
std::optional<std::string> asUuid(const std::string &s)
{
    std::string digits;
    for (const char c : s) {
        if (c == '-')
            continue;
        if (!std::isxdigit(static_cast<unsigned char>(c)))
            return std::nullopt;
        digits += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (digits.size() != 32)
        return std::nullopt;
    return digits.substr(0, 8) + "-" + digits.substr(8, 4) + "-" + digits.substr(12, 4) + "-" +
           digits.substr(16, 4) + "-" + digits.substr(20);
}

// A lookup that did not find the domain lets the next kind of lookup try.
template <typename Lookup>
std::optional<DomainRef> tryLookup(Lookup lookup)
{
    try {
        return lookup();
    } catch (const Error &e) {
        if (e.code() == VIRTKIT_ERR_NO_DOMAIN || e.code() == VIRTKIT_ERR_NO_SUPPORT ||
            e.code() == VIRTKIT_ERR_INVALID_ARG)
            return std::nullopt;
        throw;
    }
}

}  // namespace

std::shared_ptr<Connection> Connection::open(Context &ctx, const std::string &uriText, bool readOnly)
{
    const Uri uri = Uri::parse(uriText);
    if (auto endpoint = remote::explicitEndpoint(uri, ctx.config(), readOnly))
        return remote::RemoteConnection::open(ctx, uri.str(), std::move(*endpoint));
    if (auto endpoint = remote::localDaemonEndpoint(uri, ctx.config(), readOnly))
        return remote::RemoteConnection::open(ctx, uri.str(), std::move(*endpoint));
    return remote::openInProcess(ctx, uriText, readOnly);
}

namespace remote {

std::shared_ptr<Connection> openInProcess(Context &ctx, const std::string &uriText, bool readOnly)
{
    const Uri uri = Uri::parse(uriText);
    if (!uri.transport().empty())
        throw Error(VIRTKIT_ERR_INVALID_ARG, "URI '" + uri.str() + "' names a transport; only virtkitd "
                                                                  "can serve it, not an in-process plugin");
    PluginRegistry &registry = ctx.registry();
    const PluginEntry *entry = registry.forScheme(uri.driver());
    if (!entry)
        throw Error(VIRTKIT_ERR_NO_CONNECT, "no plugin handles URI scheme '" + uri.driver() +
                                                "' (searched: " + searchedDirs(registry) + ")");
    LoadedPlugin &plugin = registry.load(entry->manifest.id);
    return PluginConnection::open(ctx, plugin, uriText, uri.str(), readOnly);
}

Route routeFor(Context &ctx, const std::string &uriText, bool readOnly)
{
    const Uri uri = Uri::parse(uriText);
    auto endpoint = explicitEndpoint(uri, ctx.config(), readOnly);
    if (!endpoint)
        endpoint = localDaemonEndpoint(uri, ctx.config(), readOnly);
    if (endpoint)
        return {true, endpoint->describe(), endpoint->driverUri};
    return {false, "", uri.str()};
}

Route routeOf(const Connection &conn)
{
    if (const auto *remote = dynamic_cast<const RemoteConnection *>(&conn))
        return {true, remote->endpoint().describe(), remote->endpoint().driverUri};
    return {false, "", conn.uri()};
}

}  // namespace remote

Domain Connection::domain(const std::string &nameUuidOrId)
{
    if (const auto id = asDomainId(nameUuidOrId))
        if (const auto ref = tryLookup([&] { return lookupById(*id); }))
            return domain(*ref);
    if (const auto uuid = asUuid(nameUuidOrId))
        if (const auto ref = tryLookup([&] { return lookupByUuid(*uuid); }))
            return domain(*ref);
    if (const auto ref = tryLookup([&] { return lookupByName(nameUuidOrId); }))
        return domain(*ref);
    throw Error(VIRTKIT_ERR_NO_DOMAIN, "failed to get domain '" + nameUuidOrId + "'");
}

Domain Connection::domain(const DomainRef &ref)
{
    return Domain(shared_from_this(), ref.name, ref.uuid, ref.id);
}

}  // namespace virtkit
