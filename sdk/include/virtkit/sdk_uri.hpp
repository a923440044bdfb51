// virtkit/sdk_uri.hpp — header-only helpers for the URIs a driver serves:
// percent-decoding, and libvirt's local URIs
//   scheme:///NAME            a named instance (qemu:///system, lxc:///)
//   scheme:///embed?root=DIR  a whole driver instance under DIR (tests run two
//                             such "hosts" side by side)
// Needs only <virtkit/error.hpp>; works with or without <virtkit/sdk.hpp>.
// Every refusal is an Error(VIRTKIT_ERR_INVALID_ARG) naming the URI.
#pragma once

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <virtkit/error.hpp>

namespace virtkit::sdk {

// `text` with every %XX escape decoded; nullopt when an escape is malformed
// ('%' without two hex digits) or decodes to NUL, which no name or path holds.
inline std::optional<std::string> percentDecoded(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        const char *digits = text.data() + i + 1;
        const char *end = text.data() + std::min(i + 3, text.size());
        unsigned value = 0;
        const auto parsed = std::from_chars(digits, end, value, 16);
        if (end - digits != 2 || parsed.ec != std::errc() || parsed.ptr != end || value == 0)
            return std::nullopt;
        out += static_cast<char>(value);
        i += 2;
    }
    return out;
}

// `scheme:///PATH[?QUERY]` taken apart, path and query decoded.
struct LocalUri {
    std::string path;                                        // without the leading '/': "system", "embed", ""
    std::vector<std::pair<std::string, std::string>> query;  // in order; "flag" alone has the value ""

    std::optional<std::string> param(std::string_view name) const
    {
        for (const auto &[key, value] : query)
            if (key == name)
                return value;
        return std::nullopt;
    }
};

// Refuses anything but `scheme:///...` (a host, another scheme, a transport,
// a fragment, a malformed escape, a query parameter without a name).
inline LocalUri parseLocalUri(const std::string &uri, std::string_view scheme)
{
    const std::string prefix = std::string(scheme) + ":///";
    if (uri.compare(0, prefix.size(), prefix) != 0)
        throw Error(VIRTKIT_ERR_INVALID_ARG, "URI '" + uri + "' is not a local " + prefix + " URI");
    const std::string rest = uri.substr(prefix.size());
    if (rest.find('#') != std::string::npos)
        throw Error(VIRTKIT_ERR_INVALID_ARG, "URI '" + uri + "' has a fragment, which a driver URI does not take");
    const auto decoded = [&uri](std::string_view text) {
        auto result = percentDecoded(text);
        if (!result)
            throw Error(VIRTKIT_ERR_INVALID_ARG, "URI '" + uri + "' has a malformed %-escape or a %00");
        return *result;
    };
    const auto question = rest.find('?');
    LocalUri local;
    local.path = decoded(std::string_view(rest).substr(0, question));
    if (question == std::string::npos || question + 1 == rest.size())
        return local;
    const std::string_view query = std::string_view(rest).substr(question + 1);
    for (std::size_t start = 0; start <= query.size();) {
        const std::size_t end = std::min(query.find('&', start), query.size());
        const std::string_view item = query.substr(start, end - start);
        const std::size_t equals = std::min(item.find('='), item.size());
        if (equals == 0)
            throw Error(VIRTKIT_ERR_INVALID_ARG, "URI '" + uri + "' has a query parameter without a name");
        local.query.emplace_back(decoded(item.substr(0, equals)),
                                 equals < item.size() ? decoded(item.substr(equals + 1)) : std::string());
        start = end + 1;
    }
    return local;
}

// The instance a local URI names: one of `names` (taking no parameters) or
// "embed" with exactly one parameter, root=DIR, an absolute path.
struct LocalInstance {
    std::string name;                 // one of the names given, or "embed"
    std::filesystem::path embedRoot;  // DIR for "embed", else empty
};

inline LocalInstance localInstance(const std::string &uri, std::string_view scheme,
                                   std::initializer_list<std::string_view> names)
{
    LocalUri local = parseLocalUri(uri, scheme);
    if (local.path == "embed") {
        if (local.query.size() != 1 || local.query.front().first != "root")
            throw Error(VIRTKIT_ERR_INVALID_ARG, "URI '" + uri + "' needs exactly one parameter, root=DIR");
        std::filesystem::path root = local.query.front().second;
        if (!root.is_absolute())
            throw Error(VIRTKIT_ERR_INVALID_ARG, "the embed root in '" + uri + "' must be an absolute path");
        return {"embed", std::move(root)};
    }
    std::string usage;
    for (const std::string_view name : names) {
        if (local.path == name) {
            if (!local.query.empty())
                throw Error(VIRTKIT_ERR_INVALID_ARG, "URI '" + uri + "' takes no parameters");
            return {std::move(local.path), {}};
        }
        usage += std::string(scheme) + ":///" + std::string(name) + ", ";
    }
    throw Error(VIRTKIT_ERR_INVALID_ARG, "URI '" + uri + "' names no " + std::string(scheme) + " instance; use " +
                                             usage + "or " + std::string(scheme) + ":///embed?root=DIR");
}

}  // namespace virtkit::sdk
