#include "connect/esx_uri.hpp"

#include <cctype>

#include <virtkit/error.hpp>
#include <virtkit/sdk_uri.hpp>

namespace virtkit::esx::vsphere {

namespace {

[[noreturn]] void bad(const std::string &uri, const std::string &why)
{
    throw Error(VIRTKIT_ERR_INVALID_ARG, "invalid URI '" + uri + "': " + why);
}

std::string percentDecode(const std::string &uri, const std::string &text)
{
    auto decoded = sdk::percentDecoded(text);
    if (!decoded)
        bad(uri, "bad percent escape in '" + text + "'");
    return *decoded;
}

bool flag(const std::string &uri, const std::string &key, const std::string &value)
{
    if (value == "0")
        return false;
    if (value == "1")
        return true;
    bad(uri, "query parameter '" + key + "' must be 0 or 1, not '" + value + "'");
}

}  // namespace

EsxUri parseEsxUri(const std::string &uri)
{
    EsxUri result;
    const auto schemeEnd = uri.find("://");
    if (schemeEnd == std::string::npos)
        bad(uri, "expected SCHEME://HOST/");
    result.scheme = uri.substr(0, schemeEnd);
    if (result.scheme != "esx" && result.scheme != "gsx" && result.scheme != "vpx")
        bad(uri, "scheme must be esx, gsx or vpx");
    // libvirt: gsx defaults to http, esx and vpx to https
    result.https = result.scheme != "gsx";

    std::string rest = uri.substr(schemeEnd + 3);
    std::string query;
    if (const auto q = rest.find('?'); q != std::string::npos) {
        query = rest.substr(q + 1);
        rest.resize(q);
    }
    std::string path;
    if (const auto slash = rest.find('/'); slash != std::string::npos) {
        path = rest.substr(slash + 1);
        rest.resize(slash);
    }
    if (const auto at = rest.rfind('@'); at != std::string::npos) {
        result.user = percentDecode(uri, rest.substr(0, at));
        if (result.user.find(':') != std::string::npos)
            bad(uri, "a password in the URI is not accepted; use the auth file or the prompt");
        rest = rest.substr(at + 1);
    }
    if (const auto colon = rest.rfind(':'); colon != std::string::npos && rest.find(']') == std::string::npos) {
        const std::string port = rest.substr(colon + 1);
        rest.resize(colon);
        if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
            std::stoul(port) == 0 || std::stoul(port) > 65535)
            bad(uri, "port '" + port + "' is not a number from 1 to 65535");
        result.port = static_cast<uint16_t>(std::stoul(port));
    }
    result.host = rest;
    if (result.host.empty())
        bad(uri, "a host is required (" + result.scheme + "://HOST/)");

    std::vector<std::string> parts;
    for (std::size_t start = 0; start < path.size();) {
        auto end = path.find('/', start);
        if (end == std::string::npos)
            end = path.size();
        if (end > start)
            parts.push_back(percentDecode(uri, path.substr(start, end - start)));
        start = end + 1;
    }
    if (result.scheme == "vpx") {
        if (parts.size() < 2 || parts.size() > 3)
            bad(uri, "vpx needs a path /DATACENTER/HOST or /DATACENTER/CLUSTER/HOST");
        result.datacenter = parts.front();
        result.hostSystem = parts.back();
        if (parts.size() == 3)
            result.cluster = parts[1];
    } else if (!parts.empty()) {
        bad(uri, result.scheme + " takes no path (got '/" + path + "')");
    }

    for (std::size_t start = 0; start < query.size();) {
        auto end = query.find('&', start);
        if (end == std::string::npos)
            end = query.size();
        const std::string item = query.substr(start, end - start);
        start = end + 1;
        if (item.empty())
            continue;
        const auto eq = item.find('=');
        const std::string key = item.substr(0, eq);
        const std::string value = eq == std::string::npos ? "" : percentDecode(uri, item.substr(eq + 1));
        if (key == "no_verify")
            result.noVerify = flag(uri, key, value);
        else if (key == "auto_answer")
            result.autoAnswer = flag(uri, key, value);
        else if (key == "transport") {
            if (value != "http" && value != "https")
                bad(uri, "transport must be http or https, not '" + value + "'");
            result.https = value == "https";
        } else
            bad(uri, "unknown query parameter '" + key + "' (known: no_verify, transport, auto_answer)");
    }
    return result;
}

}  // namespace virtkit::esx::vsphere
