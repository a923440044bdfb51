#include "driver/state_paths.hpp"

#include <virtkit/error.hpp>
#include <virtkit/sdk_uri.hpp>

namespace virtkit::lxc {

StatePaths StatePaths::from_uri(const std::string &uri)
{
    const sdk::LocalInstance instance = sdk::localInstance(uri, "lxc", {"", "system"});
    if (instance.name == "embed")
        return {instance.embedRoot / "state", instance.embedRoot / "run"};
    return {"/var/lib/virtkit/lxc", "/run/virtkit/lxc"};
}

void StatePaths::create_directories() const
{
    for (const auto &dir : {state / "domains", state / "log", runtime / "domains"}) {
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec)
            throw Error(VIRTKIT_ERR_SYSTEM, "cannot create " + dir.string() + ": " + ec.message());
    }
}

}  // namespace virtkit::lxc
