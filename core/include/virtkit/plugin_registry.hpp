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

// EventKind::Plugin events carry one of these as `type`; payloadJson is
// {"id": ..., "manifest": ..., "message": ...}.
enum PluginEventType : int32_t { PluginLoaded = 0, PluginRefused = 1 };

// A loaded, initialised plugin.  Lives until process exit.
struct LoadedPlugin {
    const PluginManifest *manifest = nullptr;
    const virtkit_plugin_descriptor *descriptor = nullptr;
    virtkit_driver_ops ops{};  // zero-filled beyond what the plugin provided
};

class PluginRegistry {
public:
    PluginRegistry(EventBus &bus, const Config &config);
    // A plugin is loaded and initialised once per process, however many
    // registries use it; its shutdown() runs once at process exit and its
    // code stays mapped.  The destructor only stops events reaching `bus`.
    ~PluginRegistry();
    PluginRegistry(const PluginRegistry &) = delete;
    PluginRegistry &operator=(const PluginRegistry &) = delete;

    // Search order: dirs given here (first wins on duplicate schemes).
    // Default: VIRTKIT_PLUGIN_PATH (colon-separated), the config's
    // plugin_path, then <exe dir>/../lib/virtkit/plugins.
    static std::vector<std::string> defaultSearchPath(const Config &config);

    // Read every *.yaml manifest in the dirs; never dlopens.  Refusals that a
    // manifest alone shows (other ABI major, malformed manifest) are recorded.
    void scan(const std::vector<std::string> &dirs);

    const std::vector<PluginEntry> &entries() const;
    // The dirs the last scan() searched, as given (for error messages).
    const std::vector<std::string> &searchPath() const;
    // "scheme 'qemu' is claimed by both A (path) and B (path); using A".
    const std::vector<std::string> &warnings() const;

    // The plugin for a URI driver name ("qemu" for "qemu+ssh://..."), or
    // nullptr.  Routing uses manifests only.
    const PluginEntry *forScheme(const std::string &driver) const;

    // Load and init (once).  Throws Error naming the file and what to do.
    LoadedPlugin &load(const std::string &id);

    // Connections register their plugin handle so that events the plugin
    // emits for it carry the connection's URI.  Thread-safe.
    void attachConnection(const LoadedPlugin &plugin, const virtkit_conn *conn, const std::string &uri);
    void detachConnection(const LoadedPlugin &plugin, const virtkit_conn *conn);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace virtkit
