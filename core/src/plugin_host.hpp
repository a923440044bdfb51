// The process-wide side of plugin loading.  dlopen state is per process, and
// the ABI promises a plugin one init() and one shutdown(), so a library is
// loaded and initialised once however many registries (Contexts) use it.
// Registries bind to it: a binding says where the plugin's events go and
// which config it reads.  Private to the core.
#pragma once

#include <memory>
#include <string>

#include <virtkit/plugin_registry.hpp>

namespace virtkit {
class EventBus;
class Config;
}  // namespace virtkit

namespace virtkit::detail {

struct HostBinding {
    EventBus *bus;
    const Config *config;
};

class PluginHost {
public:
    static PluginHost &instance();
    // True once the host has been destroyed at process exit, so that a
    // registry outliving it (a static Context) does not touch it.
    static bool gone();
    ~PluginHost();  // code stays mapped

    // Loads, checks against the manifest and initialises the library once
    // per process, then binds it to `binding`.  Throws Error naming the files.
    LoadedPlugin &load(const PluginManifest &manifest, const HostBinding &binding);
    // The registry behind `binding` is going away: forget it everywhere.
    void unbind(const HostBinding &binding);

    void attachConnection(const LoadedPlugin &plugin, const virtkit_conn *conn, const HostBinding &binding,
                          const std::string &uri);
    void detachConnection(const LoadedPlugin &plugin, const virtkit_conn *conn);

    struct Library;  // public for the C service trampolines only

    // Runs each initialised plugin's shutdown() once; registered with atexit
    // after each init, so it runs before the plugins' static destructors.
    static void shutdownPlugins();

private:
    PluginHost();
    void shutdownAll();
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace virtkit::detail
