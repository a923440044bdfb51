// Where a qemu:// connection keeps its files, from its URI:
//   qemu:///system          /var/lib/virtkit/qemu, /run/virtkit/qemu
//   qemu:///session         $XDG_CONFIG_HOME/virtkit/qemu, $XDG_RUNTIME_DIR/virtkit/qemu
//   qemu:///embed?root=DIR  everything under DIR (tests use two as two hosts)
#pragma once

#include <filesystem>
#include <string>

namespace virtkit::qemu {

struct StatePaths {
    std::filesystem::path state;    // domain definitions, logs
    std::filesystem::path runtime;  // monitor sockets, live state
    std::filesystem::path cache;    // capability cache

    // Throws Error(VIRTKIT_ERR_INVALID_ARG) naming the bad part of the URI.
    static StatePaths from_uri(const std::string &uri);
    void create_directories() const;
};

}  // namespace virtkit::qemu
