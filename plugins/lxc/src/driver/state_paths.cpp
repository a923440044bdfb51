#include "driver/state_paths.hpp"

#include <virtkit/error.hpp>

namespace virtkit::lxc {
namespace {

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
    const std::string prefix = "lxc:///";
    if (uri.rfind(prefix, 0) != 0)
        throw Error(VIRTKIT_ERR_INVALID_ARG, "URI '" + uri + "' is not a local lxc:/// URI");
    const std::string rest = uri.substr(prefix.size());
    const auto question = rest.find('?');
    const std::string path = rest.substr(0, question);
    const std::string query = question == std::string::npos ? "" : rest.substr(question + 1);
    if (path.empty() || path == "system") {
        if (!query.empty())
            throw Error(VIRTKIT_ERR_INVALID_ARG, "URI '" + uri + "' takes no parameters");
        return {"/var/lib/virtkit/lxc", "/run/virtkit/lxc"};
    }
    if (path == "embed") {
        if (query.rfind("root=", 0) != 0 || query.find('&') != std::string::npos)
            throw Error(VIRTKIT_ERR_INVALID_ARG, "URI '" + uri + "' needs exactly one parameter, root=DIR");
        const std::filesystem::path root = percent_decoded(query.substr(5));
        if (!root.is_absolute())
            throw Error(VIRTKIT_ERR_INVALID_ARG, "the embed root in '" + uri + "' must be an absolute path");
        return {root / "state", root / "run"};
    }
    throw Error(VIRTKIT_ERR_INVALID_ARG,
                "URI '" + uri + "' names no lxc instance; use lxc:/// or lxc:///embed?root=DIR");
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
