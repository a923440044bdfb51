// Reading one plugin manifest (<id>.yaml beside the plugin's .so).  Private
// to the core: the registry is the only caller.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <virtkit/plugin_registry.hpp>

namespace virtkit::detail {

inline constexpr int kManifestVersion = 1;

struct ManifestReading {
    PluginEntry entry;                  // Available, or Refused with the reason
    int refusalCode = VIRTKIT_OK;       // the Error code load() will throw
    std::vector<std::string> warnings;  // e.g. unknown keys
};

// Never throws for bad content: a broken manifest becomes a Refused entry
// whose id falls back to the file's stem, so listings can still show it.
ManifestReading readPluginManifest(const std::filesystem::path &file);

}  // namespace virtkit::detail
