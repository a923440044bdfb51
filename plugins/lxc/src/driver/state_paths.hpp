// Where an lxc:// connection keeps its files, from its URI:
//   lxc:///                /var/lib/virtkit/lxc (definitions, logs), /run/virtkit/lxc (live state)
//   lxc:///embed?root=DIR  everything under DIR (tests)
#pragma once

#include <filesystem>
#include <string>

namespace virtkit::lxc {

struct StatePaths {
    std::filesystem::path state;    // domains/<uuid>.xml, log/<name>.log
    std::filesystem::path runtime;  // domains/<uuid>.{xml,state,exit}

    // Throws Error(VIRTKIT_ERR_INVALID_ARG) naming the bad part of the URI.
    static StatePaths from_uri(const std::string &uri);
    void create_directories() const;
};

}  // namespace virtkit::lxc
