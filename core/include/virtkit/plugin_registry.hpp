// Finds plugins by their YAML manifests without loading any plugin code,
// routes URI schemes to plugins, and loads a plugin (Boost.DLL) only when a
// connection needs it.  Loaded plugins are never unloaded.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <virtkit/plugin.h>

namespace virtkit {

class EventBus;
class Config;

struct PluginManifest {
    std::string id;
    std::string manifestPath;  // absolute
    std::string libraryPath;   // absolute, resolved against the manifest's dir
    std::string version;
    std::string description;
    uint32_t abiMajor = 0;
    uint32_t abiMinMinor = 0;  // the host minor the plugin needs at least
    std::vector<std::string> uriSchemes;
};

enum class PluginStatus { Available, Loaded, Refused };

struct PluginEntry {
    PluginManifest manifest;
    PluginStatus status = PluginStatus::Available;
    std::string refusal;  // why, when Refused
};

// A loaded, initialised plugin.  Lives until process exit.
struct LoadedPlugin {
    const PluginManifest *manifest = nullptr;
    const virtkit_plugin_descriptor *descriptor = nullptr;
    virtkit_driver_ops ops{};  // zero-filled beyond what the plugin provided
};

class PluginRegistry {
public:
    PluginRegistry(EventBus &bus, const Config &config);
    ~PluginRegistry();  // calls each loaded plugin's shutdown(); keeps code mapped

    // Search order: dirs given here (first wins on duplicate schemes).
    // Default: VIRTKIT_PLUGIN_PATH (colon-separated), the config's
    // plugin_path, then <exe dir>/../lib/virtkit/plugins.
    static std::vector<std::string> defaultSearchPath(const Config &config);

    // Read every *.yaml manifest in the dirs; never dlopens.  Refusals that a
    // manifest alone shows (other ABI major, malformed manifest) are recorded.
    void scan(const std::vector<std::string> &dirs);

    const std::vector<PluginEntry> &entries() const;
    // "scheme 'qemu' is claimed by both A (path) and B (path); using A".
    const std::vector<std::string> &warnings() const;

    // The plugin for a URI driver name ("qemu" for "qemu+ssh://..."), or
    // nullptr.  Routing uses manifests only.
    const PluginEntry *forScheme(const std::string &driver) const;

    // Load and init (once).  Throws Error naming the file and what to do.
    LoadedPlugin &load(const std::string &id);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace virtkit
