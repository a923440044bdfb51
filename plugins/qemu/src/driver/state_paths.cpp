#include "driver/state_paths.hpp"

#include <cstdlib>
#include <unistd.h>

#include <virtkit/error.hpp>

namespace virtkit::qemu {
namespace {

std::filesystem::path env_dir(const char *variable, const std::filesystem::path &fallback)
{
    const char *value = std::getenv(variable);
    return value && *value == '/' ? std::filesystem::path(value) : fallback;
}

std::string percent_decoded(const std::string &text)
{
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
            out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

}  // namespace

StatePaths StatePaths::from_uri(const std::string &uri)
{
    const std::string prefix = "qemu:///";
    if (uri.rfind(prefix, 0) != 0)
        throw Error(VIRTKIT_ERR_INVALID_ARG, "URI '" + uri + "' is not a local qemu:/// URI");
    const std::string rest = uri.substr(prefix.size());
    const auto question = rest.find('?');
    const std::string path = rest.substr(0, question);
    const std::string query = question == std::string::npos ? "" : rest.substr(question + 1);

    if (path == "system" || path == "session") {
        if (!query.empty())
            throw Error(VIRTKIT_ERR_INVALID_ARG, "URI '" + uri + "' takes no parameters");
        if (path == "system")
            return {"/var/lib/virtkit/qemu", "/run/virtkit/qemu", "/var/cache/virtkit/qemu"};
        const char *home = std::getenv("HOME");
        const std::filesystem::path home_dir = home && *home ? home : "/";
        return {env_dir("XDG_CONFIG_HOME", home_dir / ".config") / "virtkit" / "qemu",
                env_dir("XDG_RUNTIME_DIR", home_dir / ".cache" / "virtkit" / "run") / "virtkit" / "qemu",
                env_dir("XDG_CACHE_HOME", home_dir / ".cache") / "virtkit" / "qemu"};
    }
    if (path == "embed") {
        if (query.rfind("root=", 0) != 0 || query.find('&') != std::string::npos)
            throw Error(VIRTKIT_ERR_INVALID_ARG, "URI '" + uri + "' needs exactly one parameter, root=DIR");
        const std::filesystem::path root = percent_decoded(query.substr(5));
        if (!root.is_absolute())
            throw Error(VIRTKIT_ERR_INVALID_ARG, "the embed root in '" + uri + "' must be an absolute path");
        return {root / "state", root / "run", root / "cache"};
    }
    throw Error(VIRTKIT_ERR_INVALID_ARG,
                "URI '" + uri + "' names no qemu instance; use qemu:///system, qemu:///session or qemu:///embed?root=DIR");
}

void StatePaths::create_directories() const
{
    for (const auto &dir : {state / "domains", state / "log", runtime / "domains", cache}) {
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec)
            throw Error(VIRTKIT_ERR_SYSTEM, "cannot create " + dir.string() + ": " + ec.message());
    }
}

}  // namespace virtkit::qemu
