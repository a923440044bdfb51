// Loads plugin libraries with Boost.DLL, checks their descriptor against the
// manifest, hands them the host services table and keeps them for the life
// of the process.  Every check names the files involved and what to do.
#include "plugin_host.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <boost/dll/shared_library.hpp>

#include <virtkit/config.hpp>
#include <virtkit/error.hpp>
#include <virtkit/event_bus.hpp>
#include <virtkit/log.hpp>

namespace virtkit::detail {

struct PluginHost::Library {
    PluginManifest manifest;
    boost::dll::shared_library library;
    virtkit_host_services services{};
    LoadedPlugin plugin;
    PluginHost::Impl *host = nullptr;
    bool initialised = false;
    bool shutDown = false;
};

struct PluginHost::Impl {
    std::mutex loadMutex;  // serialises load(); never held by a service call
    std::map<std::string, std::unique_ptr<Library>> libraries;  // by canonical path
    std::map<std::string, Error> failures;                      // by canonical path
    std::vector<std::unique_ptr<Library>> refused;              // refused after init ran

    mutable std::mutex routeMutex;  // bindings and connections, used by services
    std::map<const Library *, std::vector<const HostBinding *>> bindings;
    std::map<std::pair<const LoadedPlugin *, const virtkit_conn *>, std::pair<const HostBinding *, std::string>>
        connections;
    std::atomic<bool> exiting{false};

    void bind(const Library &lib, const HostBinding &binding)
    {
        const std::lock_guard lock(routeMutex);
        auto &list = bindings[&lib];
        if (std::find(list.begin(), list.end(), &binding) == list.end())
            list.push_back(&binding);
    }

    // Events of a registered connection go to its registry's bus, tagged
    // with its URI; others go to every registry that uses the plugin.
    void publish(const Library &lib, const virtkit_conn *conn, Event event)
    {
        const std::lock_guard lock(routeMutex);
        if (conn) {
            const auto it = connections.find({&lib.plugin, conn});
            if (it != connections.end()) {
                event.connection = it->second.second;
                it->second.first->bus->publish(std::move(event));
                return;
            }
        }
        const auto it = bindings.find(&lib);
        if (it != bindings.end())
            for (const HostBinding *binding : it->second)
                binding->bus->publish(event);
    }

    // The newest registry's config: with several Contexts in one process, a
    // plugin reads the config of the one that used it last.
    std::optional<std::string> configValue(const Library &lib, const std::string &key) const
    {
        const std::lock_guard lock(routeMutex);
        const auto it = bindings.find(&lib);
        if (it == bindings.end() || it->second.empty())
            return std::nullopt;
        return it->second.back()->config->pluginValue(lib.manifest.id, key);
    }
};

namespace {

namespace fs = std::filesystem;

spdlog::level::level_enum spdlogLevel(int32_t level)
{
    switch (level) {
    case VIRTKIT_LOG_TRACE: return spdlog::level::trace;
    case VIRTKIT_LOG_DEBUG: return spdlog::level::debug;
    case VIRTKIT_LOG_WARN: return spdlog::level::warn;
    case VIRTKIT_LOG_ERROR: return spdlog::level::err;
    default: return spdlog::level::info;
    }
}

// ---- host services: C entry points, never throw ----

void serviceLog(void *ctx, int32_t level, const char *message) noexcept
{
    const auto *lib = static_cast<const PluginHost::Library *>(ctx);
    if (!lib)
        return;
    const char *text = message ? message : "";
    try {
        // spdlog may already be gone while plugins shut down at process exit.
        if (lib->host->exiting) {
            if (level >= VIRTKIT_LOG_WARN)
                std::fprintf(stderr, "[%s] %s\n", lib->manifest.id.c_str(), text);
            return;
        }
        log::get(lib->manifest.id)->log(spdlogLevel(level), "{}", text);
    } catch (...) {
    }
}

std::string copyText(const char *s)
{
    return s ? std::string(s) : std::string();
}

int32_t serviceEmitEvent(void *ctx, const virtkit_event *event) noexcept
{
    const auto *lib = static_cast<const PluginHost::Library *>(ctx);
    if (!lib || !event || event->struct_size < offsetof(virtkit_event, conn))
        return VIRTKIT_ERR_INVALID_ARG;
    try {
        virtkit_event e{};  // fields a smaller (older) struct lacks stay zero
        std::memcpy(&e, event, std::min<size_t>(event->struct_size, sizeof e));
        if (e.kind < VIRTKIT_EVENT_LIFECYCLE || e.kind > VIRTKIT_EVENT_DEVICE)
            return VIRTKIT_ERR_INVALID_ARG;
        Event out;
        out.kind = static_cast<EventKind>(e.kind);
        out.domainName = copyText(e.domain_name);
        out.domainUuid = copyText(e.domain_uuid);
        out.type = e.type;
        out.detail = e.detail;
        out.payloadJson = copyText(e.payload_json);
        lib->host->publish(*lib, e.conn, std::move(out));
        return VIRTKIT_OK;
    } catch (...) {
        return VIRTKIT_ERR_INTERNAL;
    }
}

int32_t serviceConfigGet(void *ctx, const char *key, char *buf, size_t buflen) noexcept
{
    const auto *lib = static_cast<const PluginHost::Library *>(ctx);
    if (!lib || !key)
        return 0;
    try {
        const std::optional<std::string> value = lib->host->configValue(*lib, key);
        if (!value)
            return 0;
        if (!buf || buflen < value->size() + 1)
            return -1;
        std::memcpy(buf, value->c_str(), value->size() + 1);
        return 1;
    } catch (...) {
        return 0;
    }
}

// ---- loading ----

std::string canonicalKey(const std::string &path)
{
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(path, ec);
    return ec ? path : canonical.string();
}

std::string hex(uint32_t v)
{
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08X", v);
    return buf;
}

class LibraryLoader {
public:
    explicit LibraryLoader(const PluginManifest &m) : m_(m), who_("plugin '" + m.id + "': ") {}

    // dlopen + find and check the descriptor; no plugin function but the
    // entry point has run yet.
    std::unique_ptr<PluginHost::Library> open() const
    {
        std::error_code fsError;
        if (!fs::exists(m_.libraryPath, fsError))
            throw Error(VIRTKIT_ERR_NO_CONNECT, who_ + "library " + m_.libraryPath + " named by manifest " +
                                                    m_.manifestPath + " does not exist; reinstall the plugin");
        auto lib = std::make_unique<PluginHost::Library>();
        lib->manifest = m_;
        boost::dll::fs::error_code ec;
        // RTLD_NODELETE: the code stays mapped even if a handle is closed.
        const auto mode = static_cast<boost::dll::load_mode::type>(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        lib->library.load(boost::dll::fs::path(m_.libraryPath), mode, ec);
        if (ec) {
            const char *detail = dlerror();  // Boost keeps only a bare errno text
            throw Error(VIRTKIT_ERR_NO_CONNECT,
                        who_ + "cannot load library " + m_.libraryPath + " named by manifest " + m_.manifestPath +
                            ": " + ec.message() + (detail ? std::string(" (") + detail + ")" : std::string()) +
                            "; check that it is a plugin built for this system");
        }
        if (!lib->library.has(VIRTKIT_PLUGIN_ENTRY_SYMBOL))
            throw Error(VIRTKIT_ERR_ABI, who_ + m_.libraryPath + " is not a virtkit plugin (no " +
                                             VIRTKIT_PLUGIN_ENTRY_SYMBOL + " symbol); check that manifest " +
                                             m_.manifestPath + " names the right library");
        const auto &entry = lib->library.get<const virtkit_plugin_descriptor *()>(VIRTKIT_PLUGIN_ENTRY_SYMBOL);
        lib->plugin.descriptor = entry();
        check(lib->plugin.descriptor);
        return lib;
    }

    // Also used when a library already loaded is named by another manifest.
    void check(const virtkit_plugin_descriptor *d) const
    {
        const std::string file = m_.libraryPath;
        if (!d)
            throw Error(VIRTKIT_ERR_ABI, who_ + file + " returned no descriptor from " +
                                             VIRTKIT_PLUGIN_ENTRY_SYMBOL + "; the plugin is broken, reinstall it");
        if (d->magic != VIRTKIT_PLUGIN_MAGIC)
            throw Error(VIRTKIT_ERR_ABI, who_ + file + " has descriptor magic " + hex(d->magic) + ", expected " +
                                             hex(VIRTKIT_PLUGIN_MAGIC) +
                                             "; it is not a virtkit plugin, or it is corrupt");
        if (d->struct_size < sizeof(virtkit_plugin_descriptor))
            throw Error(VIRTKIT_ERR_ABI, who_ + file + " has a descriptor of " + std::to_string(d->struct_size) +
                                             " bytes, but plugin ABI " +
                                             std::to_string(VIRTKIT_PLUGIN_ABI_MAJOR) + " needs " +
                                             std::to_string(sizeof(virtkit_plugin_descriptor)) +
                                             "; install a build of the plugin for virtkit " +
                                             std::to_string(VIRTKIT_PLUGIN_ABI_MAJOR) + ".x");
        if (d->abi_major != m_.abiMajor || d->abi_major != VIRTKIT_PLUGIN_ABI_MAJOR)
            throw Error(VIRTKIT_ERR_ABI,
                        who_ + file + " is built for plugin ABI " + std::to_string(d->abi_major) + "." +
                            std::to_string(d->abi_minor) + ", but its manifest " + m_.manifestPath +
                            " says ABI major " + std::to_string(m_.abiMajor) + " and this virtkit provides ABI " +
                            std::to_string(VIRTKIT_PLUGIN_ABI_MAJOR) + "." +
                            std::to_string(VIRTKIT_PLUGIN_ABI_MINOR) +
                            "; install a consistent build of the plugin for virtkit " +
                            std::to_string(VIRTKIT_PLUGIN_ABI_MAJOR) + ".x");
        const std::string descriptorId = d->id ? d->id : "";
        if (descriptorId != m_.id)
            throw Error(VIRTKIT_ERR_ABI, who_ + file + " identifies itself as '" + descriptorId +
                                             "', but its manifest " + m_.manifestPath + " says '" + m_.id +
                                             "'; reinstall the plugin so library and manifest match");
        if (!d->init)
            throw Error(VIRTKIT_ERR_ABI, who_ + file + " has no init function in its descriptor; reinstall it");
    }

    // Negotiate: hand over the services, take a copy of the operations.
    void init(PluginHost::Library &lib) const
    {
        virtkit_host_services &s = lib.services;
        s.struct_size = sizeof s;
        s.abi_major = VIRTKIT_PLUGIN_ABI_MAJOR;
        s.abi_minor = VIRTKIT_PLUGIN_ABI_MINOR;
        s.ctx = &lib;
        s.log = serviceLog;
        s.emit_event = serviceEmitEvent;
        s.config_get = serviceConfigGet;

        const virtkit_driver_ops *ops = nullptr;
        virtkit_error err{};
        err.struct_size = sizeof err;
        const int32_t rc = lib.plugin.descriptor->init(&s, &ops, &err);
        err.message[VIRTKIT_ERROR_MESSAGE_MAX - 1] = '\0';
        if (rc != VIRTKIT_OK) {
            // Keep the plugin's own code (CONFIG for a bad config section, ...):
            // it says more than "cannot connect".
            int32_t code = err.code != VIRTKIT_OK ? err.code : rc;
            if (code < VIRTKIT_ERR_INTERNAL || code > VIRTKIT_ERR_ABI)
                code = VIRTKIT_ERR_NO_CONNECT;
            throw Error(code, who_ + m_.libraryPath + " failed to initialise: " +
                                  (err.message[0] ? err.message : "no reason given") + " (code " +
                                  std::to_string(rc) + ")");
        }
        lib.initialised = true;
        // Registered after dlopen ran the plugin's static constructors, so it
        // runs before their destructors (exit runs handlers in reverse).
        std::atexit(PluginHost::shutdownPlugins);
        if (!ops || ops->struct_size < sizeof(uint32_t))
            throw Error(VIRTKIT_ERR_ABI, who_ + m_.libraryPath +
                                             " returned no operations table from init; the plugin is broken");
        const size_t size = std::min<size_t>(ops->struct_size, sizeof(virtkit_driver_ops));
        std::memcpy(&lib.plugin.ops, ops, size);
        lib.plugin.ops.struct_size = static_cast<uint32_t>(size);
    }

private:
    const PluginManifest &m_;
    const std::string who_;
};

}  // namespace

namespace {
std::atomic<bool> hostGone{false};  // trivially destructible: safe to read after exit
}  // namespace

PluginHost::PluginHost() : impl_(std::make_unique<Impl>()) {}

bool PluginHost::gone()
{
    return hostGone;
}

PluginHost &PluginHost::instance()
{
    static PluginHost host;
    return host;
}

// Each plugin's shutdown() once, at exit; the code stays mapped.
void PluginHost::shutdownPlugins()
{
    if (!hostGone)
        instance().shutdownAll();
}

void PluginHost::shutdownAll()
{
    const auto shutdown = [](Library &lib) {
        if (lib.initialised && !lib.shutDown && lib.plugin.descriptor->shutdown)
            lib.plugin.descriptor->shutdown();
        lib.shutDown = true;
    };
    for (auto &[path, lib] : impl_->libraries)
        shutdown(*lib);
    for (auto &lib : impl_->refused)
        shutdown(*lib);
}

PluginHost::~PluginHost()
{
    shutdownAll();
    hostGone = true;
    impl_->exiting = true;
    // shared_library closes its handle; RTLD_NODELETE keeps the code mapped.
}

LoadedPlugin &PluginHost::load(const PluginManifest &manifest, const HostBinding &binding)
{
    const std::lock_guard lock(impl_->loadMutex);
    const std::string key = canonicalKey(manifest.libraryPath);
    const LibraryLoader loader(manifest);
    if (const auto it = impl_->libraries.find(key); it != impl_->libraries.end()) {
        loader.check(it->second->plugin.descriptor);
        impl_->bind(*it->second, binding);
        return it->second->plugin;
    }
    if (const auto it = impl_->failures.find(key); it != impl_->failures.end())
        throw it->second;

    std::unique_ptr<Library> lib;
    try {
        lib = loader.open();
        lib->host = impl_.get();
        lib->plugin.manifest = &lib->manifest;
        impl_->bind(*lib, binding);  // services may be used inside init()
        loader.init(*lib);
    } catch (const Error &e) {
        if (lib) {
            const std::lock_guard routeLock(impl_->routeMutex);
            impl_->bindings.erase(lib.get());
        }
        // A library whose init ran keeps its services table for good: the
        // plugin may hold on to it.
        if (lib)
            impl_->refused.push_back(std::move(lib));
        impl_->failures.emplace(key, e);
        throw;
    }
    LoadedPlugin &plugin = lib->plugin;
    impl_->libraries.emplace(key, std::move(lib));
    return plugin;
}

void PluginHost::unbind(const HostBinding &binding)
{
    const std::lock_guard lock(impl_->routeMutex);
    for (auto &[lib, list] : impl_->bindings)
        list.erase(std::remove(list.begin(), list.end(), &binding), list.end());
    for (auto it = impl_->connections.begin(); it != impl_->connections.end();)
        it = it->second.first == &binding ? impl_->connections.erase(it) : std::next(it);
}

void PluginHost::attachConnection(const LoadedPlugin &plugin, const virtkit_conn *conn,
                                  const HostBinding &binding, const std::string &uri)
{
    const std::lock_guard lock(impl_->routeMutex);
    impl_->connections[{&plugin, conn}] = {&binding, uri};
}

void PluginHost::detachConnection(const LoadedPlugin &plugin, const virtkit_conn *conn)
{
    const std::lock_guard lock(impl_->routeMutex);
    impl_->connections.erase({&plugin, conn});
}

}  // namespace virtkit::detail
