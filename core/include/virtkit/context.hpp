// The process-wide pieces a program needs once: config, logging, the event
// bus and the plugin registry.  Construct one, open connections from it, and
// keep it alive longer than every connection.
#pragma once

#include <string>
#include <vector>

#include <virtkit/config.hpp>
#include <virtkit/event_bus.hpp>
#include <virtkit/plugin_registry.hpp>

namespace virtkit {

class Context {
public:
    // Loads the config (Config::load()), applies logging (VIRTKIT_LOG first,
    // then the config's), scans PluginRegistry::defaultSearchPath().
    Context();
    explicit Context(Config config);
    // For tests: explicit plugin dirs instead of the default search path.
    Context(Config config, std::vector<std::string> pluginDirs);
    ~Context();

    const Config &config() const { return config_; }
    EventBus &bus() { return bus_; }
    PluginRegistry &registry() { return registry_; }
    // VIRTKIT_DEFAULT_URI, then the config's default_uri, then test:///default.
    std::string defaultUri() const;

private:
    Config config_;
    EventBus bus_;           // declared before the registry: plugins emit into it
    PluginRegistry registry_;
};

}  // namespace virtkit
