#include "driver/state_paths.hpp"

#include <cstdlib>
#include <unistd.h>

#include <virtkit/error.hpp>
#include <virtkit/sdk_uri.hpp>

namespace virtkit::qemu {
namespace {

std::filesystem::path env_dir(const char *variable, const std::filesystem::path &fallback)
{
    const char *value = std::getenv(variable);
    return value && *value == '/' ? std::filesystem::path(value) : fallback;
}

}  // namespace

StatePaths StatePaths::from_uri(const std::string &uri)
{
    const sdk::LocalInstance instance = sdk::localInstance(uri, "qemu", {"system", "session"});
    if (instance.name == "embed")
        return {instance.embedRoot / "state", instance.embedRoot / "run", instance.embedRoot / "cache"};
    if (instance.name == "system")
        return {"/var/lib/virtkit/qemu", "/run/virtkit/qemu", "/var/cache/virtkit/qemu"};
    const char *home = std::getenv("HOME");
    const std::filesystem::path home_dir = home && *home ? home : "/";
    return {env_dir("XDG_CONFIG_HOME", home_dir / ".config") / "virtkit" / "qemu",
            env_dir("XDG_RUNTIME_DIR", home_dir / ".cache" / "virtkit" / "run") / "virtkit" / "qemu",
            env_dir("XDG_CACHE_HOME", home_dir / ".cache") / "virtkit" / "qemu"};
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
