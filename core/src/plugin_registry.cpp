// Discovery and routing from manifests alone; loading on demand through the
// process-wide PluginHost.  Refusals are kept as entries so that
// `virtkit plugins` can show why a plugin is not usable.
#include <virtkit/plugin_registry.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <set>

#include <virtkit/config.hpp>
#include <virtkit/error.hpp>
#include <virtkit/event_bus.hpp>
#include <virtkit/log.hpp>

#include "plugin_host.hpp"
#include "plugin_manifest.hpp"

namespace virtkit {
namespace {

namespace fs = std::filesystem;

std::string jsonString(const std::string &s)
{
    std::string out = "\"";
    for (const char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += c;
            }
        }
    }
    return out + "\"";
}

// *.yaml files of one dir, sorted by file name so that the winner of a
// scheme claimed twice is predictable.  A missing dir is simply empty.
std::vector<fs::path> manifestsIn(const fs::path &dir)
{
    std::vector<fs::path> files;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code typeError;
        if (it->path().extension() == ".yaml" && fs::is_regular_file(it->path(), typeError))
            files.push_back(it->path());
    }
    std::sort(files.begin(), files.end(),
              [](const fs::path &a, const fs::path &b) { return a.filename() < b.filename(); });
    return files;
}

std::string joined(const std::vector<std::string> &items)
{
    std::string out;
    for (const auto &item : items)
        out += (out.empty() ? "" : ", ") + item;
    return out;
}

}  // namespace

struct PluginRegistry::Impl {
    Impl(EventBus &b, const Config &c) : bus(b), binding{&b, &c} {}

    EventBus &bus;
    detail::HostBinding binding;
    bool boundToHost = false;

    mutable std::mutex mutex;
    std::vector<PluginEntry> entries;
    std::vector<int> refusalCodes;  // parallel to entries
    std::vector<std::string> warnings;
    std::vector<std::string> searchPath;
    std::map<std::string, size_t> schemes;          // scheme -> usable entry
    std::map<std::string, size_t> refusedSchemes;   // scheme -> refused entry, to explain
    std::map<std::string, LoadedPlugin *> loaded;   // by id

    void publish(PluginEventType type, const PluginEntry &entry) const
    {
        Event event;
        event.kind = EventKind::Plugin;
        event.type = type;
        event.payloadJson = "{\"id\": " + jsonString(entry.manifest.id) +
                            ", \"manifest\": " + jsonString(entry.manifest.manifestPath) +
                            ", \"message\": " + jsonString(entry.refusal) + "}";
        bus.publish(std::move(event));
    }

    void refuse(size_t index, int code, const std::string &why)
    {
        entries[index].status = PluginStatus::Refused;
        entries[index].refusal = why;
        refusalCodes[index] = code;
        log::get("core")->info("{}", why);
        publish(PluginRefused, entries[index]);
    }

    void add(detail::ManifestReading reading, std::map<std::string, size_t> &byId)
    {
        for (auto &w : reading.warnings)
            warnings.push_back(std::move(w));
        const PluginManifest &m = reading.entry.manifest;
        if (const auto it = byId.find(m.id); it != byId.end()) {
            warnings.push_back("plugin '" + m.id + "' (" + m.manifestPath + ") is shadowed by " +
                               entries[it->second].manifest.manifestPath +
                               ", which comes first in the search path; using the latter");
            return;
        }
        byId[m.id] = entries.size();
        const bool refused = reading.entry.status == PluginStatus::Refused;
        const std::string why = reading.entry.refusal;
        entries.push_back(std::move(reading.entry));
        refusalCodes.push_back(VIRTKIT_OK);
        if (loaded.count(entries.back().manifest.id))
            entries.back().status = PluginStatus::Loaded;
        else if (refused)
            refuse(entries.size() - 1, reading.refusalCode, why);
    }

    void route()
    {
        schemes.clear();
        refusedSchemes.clear();
        for (size_t i = 0; i < entries.size(); ++i) {
            const PluginManifest &m = entries[i].manifest;
            for (const auto &scheme : m.uriSchemes) {
                if (entries[i].status == PluginStatus::Refused) {
                    refusedSchemes.emplace(scheme, i);
                    continue;
                }
                const auto [it, claimed] = schemes.emplace(scheme, i);
                if (!claimed) {
                    const PluginManifest &first = entries[it->second].manifest;
                    warnings.push_back("scheme '" + scheme + "' is claimed by both '" + first.id + "' (" +
                                       first.manifestPath + ") and '" + m.id + "' (" + m.manifestPath +
                                       "); using '" + first.id + "'");
                }
            }
        }
    }

    const PluginEntry *findEntry(const std::string &id) const
    {
        const auto it = std::find_if(entries.begin(), entries.end(),
                                     [&](const PluginEntry &e) { return e.manifest.id == id; });
        return it == entries.end() ? nullptr : &*it;
    }
};

PluginRegistry::PluginRegistry(EventBus &bus, const Config &config) : impl_(std::make_unique<Impl>(bus, config))
{
}

PluginRegistry::~PluginRegistry()
{
    if (impl_->boundToHost && !detail::PluginHost::gone())
        detail::PluginHost::instance().unbind(impl_->binding);
}

std::vector<std::string> PluginRegistry::defaultSearchPath(const Config &config)
{
    std::vector<std::string> dirs;
    if (const char *env = std::getenv("VIRTKIT_PLUGIN_PATH")) {
        std::string rest = env;
        for (size_t colon; !rest.empty(); rest = colon == std::string::npos ? "" : rest.substr(colon + 1)) {
            colon = rest.find(':');
            const std::string dir = rest.substr(0, colon);
            if (!dir.empty())
                dirs.push_back(dir);
        }
    }
    for (const auto &dir : config.pluginPath())
        dirs.push_back(dir);
    // A build tree and an install prefix look alike: bin/ beside lib/virtkit/plugins.
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec)
        dirs.push_back((exe.parent_path() / ".." / VIRTKIT_PLUGIN_DIR_REL).lexically_normal().string());
    return dirs;
}

void PluginRegistry::scan(const std::vector<std::string> &dirs)
{
    const std::lock_guard lock(impl_->mutex);
    impl_->entries.clear();
    impl_->refusalCodes.clear();
    impl_->warnings.clear();
    impl_->searchPath = dirs;

    std::set<fs::path> seenDirs;  // the same dir twice in the path is read once
    std::map<std::string, size_t> byId;
    for (const auto &dir : dirs) {
        std::error_code ec;
        const fs::path absolute = fs::absolute(dir, ec).lexically_normal();
        const fs::path canonical = fs::weakly_canonical(absolute, ec);
        if (!seenDirs.insert(ec ? absolute : canonical).second)
            continue;
        for (const auto &file : manifestsIn(absolute))
            impl_->add(detail::readPluginManifest(file), byId);
    }
    impl_->route();
    for (const auto &w : impl_->warnings)
        log::get("core")->warn("{}", w);
}

const std::vector<PluginEntry> &PluginRegistry::entries() const
{
    return impl_->entries;
}

const std::vector<std::string> &PluginRegistry::warnings() const
{
    return impl_->warnings;
}

const std::vector<std::string> &PluginRegistry::searchPath() const
{
    return impl_->searchPath;
}

const PluginEntry *PluginRegistry::forScheme(const std::string &driver) const
{
    std::string scheme = driver;
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const std::lock_guard lock(impl_->mutex);
    if (const auto it = impl_->schemes.find(scheme); it != impl_->schemes.end())
        return &impl_->entries[it->second];
    if (const auto it = impl_->refusedSchemes.find(scheme); it != impl_->refusedSchemes.end())
        return &impl_->entries[it->second];
    return nullptr;
}

LoadedPlugin &PluginRegistry::load(const std::string &id)
{
    const std::lock_guard lock(impl_->mutex);
    if (const auto it = impl_->loaded.find(id); it != impl_->loaded.end())
        return *it->second;
    const PluginEntry *found = impl_->findEntry(id);
    if (!found)
        throw Error(VIRTKIT_ERR_NO_CONNECT, "no plugin with id '" + id + "' (searched: " +
                                                (impl_->searchPath.empty() ? std::string("no plugin directories")
                                                                           : joined(impl_->searchPath)) +
                                                ")");
    const size_t index = static_cast<size_t>(found - impl_->entries.data());
    PluginEntry &entry = impl_->entries[index];
    if (entry.status == PluginStatus::Refused)
        throw Error(impl_->refusalCodes[index], entry.refusal);

    impl_->boundToHost = true;
    try {
        LoadedPlugin &plugin = detail::PluginHost::instance().load(entry.manifest, impl_->binding);
        impl_->loaded[id] = &plugin;
        entry.status = PluginStatus::Loaded;
        log::get("core")->debug("loaded plugin '{}' {} from {}", id,
                                plugin.descriptor->version ? plugin.descriptor->version : "",
                                entry.manifest.libraryPath);
        impl_->publish(PluginLoaded, entry);
        return plugin;
    } catch (const Error &e) {
        impl_->refuse(index, e.code(), e.what());
        throw;
    }
}

void PluginRegistry::attachConnection(const LoadedPlugin &plugin, const virtkit_conn *conn, const std::string &uri)
{
    detail::PluginHost::instance().attachConnection(plugin, conn, impl_->binding, uri);
}

void PluginRegistry::detachConnection(const LoadedPlugin &plugin, const virtkit_conn *conn)
{
    if (!detail::PluginHost::gone())
        detail::PluginHost::instance().detachConnection(plugin, conn);
}

}  // namespace virtkit
