// virtkit.yaml: find it, parse it with yaml-cpp, check every known key's type
// and report the unknown ones.  The parsed result is plain strings, so a
// Config is cheap to copy and safe to read from many threads.
#include <virtkit/config.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include <virtkit/error.hpp>
#include <virtkit/log.hpp>

namespace virtkit {

namespace config_detail {

struct ConfigData {
    std::string source;
    std::vector<std::string> pluginPath;
    std::optional<std::string> defaultUri;
    std::optional<std::string> logSpec;
    // plugin id -> dotted key ("a.b") -> scalar text
    std::map<std::string, std::map<std::string, std::string>> pluginValues;
    std::map<std::string, std::vector<std::string>> daemonValues;  // scalar = one item
    std::vector<std::string> warnings;
};

}  // namespace config_detail

struct Config::Impl : config_detail::ConfigData {};

namespace {

using config_detail::ConfigData;

std::string where(const std::string &origin, const YAML::Mark &mark) {
    return origin + " line " + std::to_string(mark.line + 1);
}

[[noreturn]] void fail(const std::string &origin, const YAML::Node &node, const std::string &what) {
    throw Error(VIRTKIT_ERR_CONFIG, "config " + where(origin, node.Mark()) + ": " + what);
}

const char *typeName(const YAML::Node &node) {
    switch (node.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Null: return "empty";
    default: return "a scalar";
    }
}

// A plain (unquoted) scalar that YAML would read as a number or boolean.
bool looksLikeNumberOrBool(const YAML::Node &node) {
    static const std::regex pattern(
        R"([-+]?(\d[\d_]*(\.\d*)?([eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o[0-7]+|\.inf|\.nan)|true|false|yes|no|on|off)",
        std::regex::icase | std::regex::optimize);
    return node.Tag() == "?" && std::regex_match(node.Scalar(), pattern);
}

std::string requireString(const std::string &origin, const YAML::Node &node, const std::string &key,
                          const std::string &expected) {
    if (!node.IsScalar()) {
        fail(origin, node, "'" + key + "' must be " + expected + ", not " + typeName(node));
    }
    if (looksLikeNumberOrBool(node)) {
        fail(origin, node, "'" + key + "' must be " + expected + ", not the value " + node.Scalar() +
                               " (quote it if you mean the text)");
    }
    return node.Scalar();
}

std::vector<std::string> splitColons(const std::string &text) {
    std::vector<std::string> parts;
    std::istringstream in(text);
    for (std::string part; std::getline(in, part, ':');) {
        if (!part.empty()) {
            parts.push_back(part);
        }
    }
    return parts;
}

void readPluginPath(const std::string &origin, const YAML::Node &node, ConfigData &out) {
    static const std::string expected = "a list of directories or a colon-separated string";
    if (node.IsSequence()) {
        for (const auto &item : node) {
            out.pluginPath.push_back(requireString(origin, item, "plugin_path", "a list of directory names"));
        }
    } else {
        out.pluginPath = splitColons(requireString(origin, node, "plugin_path", expected));
    }
}

void readLog(const std::string &origin, const YAML::Node &node, ConfigData &out) {
    std::string spec;
    if (node.IsMap()) {
        for (const auto &entry : node) {
            const auto key = entry.first.as<std::string>();
            if (key == "level") {
                spec = requireString(origin, entry.second, "log.level", "a level such as warn");
            } else {
                out.warnings.push_back("unknown key 'log." + key + "' in " + where(origin, entry.first.Mark()));
            }
        }
        if (spec.empty()) {
            return;
        }
    } else {
        spec = requireString(origin, node, "log", "a spec such as \"qemu=debug,*=warn\" or a map with 'level'");
    }
    try {
        log::validateSpec(spec);
    } catch (const Error &e) {
        fail(origin, node, e.what());
    }
    out.logSpec = spec;
}

// Flattens nested maps to dotted keys; lists are kept out (scalars only).
void flattenPluginSection(const YAML::Node &node, const std::string &prefix,
                          std::map<std::string, std::string> &out) {
    for (const auto &entry : node) {
        const std::string key = prefix + entry.first.as<std::string>();
        if (entry.second.IsScalar()) {
            out[key] = entry.second.Scalar();
        } else if (entry.second.IsMap()) {
            flattenPluginSection(entry.second, key + ".", out);
        }
    }
}

void readPlugins(const std::string &origin, const YAML::Node &node, ConfigData &out) {
    if (!node.IsMap()) {
        fail(origin, node, std::string("'plugins' must be a map of plugin id to settings, not ") + typeName(node));
    }
    for (const auto &entry : node) {
        const auto id = entry.first.as<std::string>();
        auto &values = out.pluginValues[id];
        if (entry.second.IsMap()) {
            flattenPluginSection(entry.second, "", values);
        } else if (!entry.second.IsNull()) {
            fail(origin, entry.second, "'plugins." + id + "' must be a map of settings, not " + typeName(entry.second));
        }
    }
}

// virtkitd's settings; the daemon checks the values, the parser the shape.
void readDaemon(const std::string &origin, const YAML::Node &node, ConfigData &out) {
    static const std::vector<std::string> known = {
        "socket_dir", "listen", "pki_dir", "tls_allowed_subjects", "allow_tcp", "unix_rw_group",
        "max_clients", "request_timeout", "keepalive_timeout", "event_queue", "max_body_bytes"};
    if (!node.IsMap()) {
        fail(origin, node, std::string("'daemon' must be a map of settings, not ") + typeName(node));
    }
    for (const auto &entry : node) {
        const auto key = entry.first.as<std::string>();
        if (std::find(known.begin(), known.end(), key) == known.end()) {
            out.warnings.push_back("unknown key 'daemon." + key + "' in " + where(origin, entry.first.Mark()));
            continue;
        }
        auto &values = out.daemonValues[key];
        if (entry.second.IsSequence()) {
            for (const auto &item : entry.second) {
                if (!item.IsScalar()) {
                    fail(origin, item, "'daemon." + key + "' must list scalars, not " + typeName(item));
                }
                values.push_back(item.Scalar());
            }
        } else if (entry.second.IsScalar()) {
            values.push_back(entry.second.Scalar());
        } else if (!entry.second.IsNull()) {
            fail(origin, entry.second, "'daemon." + key + "' must be a value or a list, not " + typeName(entry.second));
        }
    }
}

ConfigData parse(const std::string &yaml, const std::string &origin) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml);
    } catch (const YAML::Exception &e) {
        throw Error(VIRTKIT_ERR_CONFIG, "config " + where(origin, e.mark) + ", column " +
                                            std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
    ConfigData out;
    out.source = origin;
    if (root.IsNull()) {
        return out;  // an empty file is a valid, empty config
    }
    if (!root.IsMap()) {
        fail(origin, root, std::string("the top level must be a map of settings, not ") + typeName(root));
    }
    try {
        for (const auto &entry : root) {
            const auto key = entry.first.as<std::string>();
            const YAML::Node &value = entry.second;
            if (key != "default_uri" && key != "plugin_path" && key != "log" && key != "plugins" &&
                key != "daemon") {
                out.warnings.push_back("unknown key '" + key + "' in " + where(origin, entry.first.Mark()));
            } else if (value.IsNull()) {
                continue;  // "key:" with nothing after it leaves the default
            } else if (key == "default_uri") {
                out.defaultUri = requireString(origin, value, key, "a URI such as qemu:///system");
            } else if (key == "plugin_path") {
                readPluginPath(origin, value, out);
            } else if (key == "log") {
                readLog(origin, value, out);
            } else if (key == "daemon") {
                readDaemon(origin, value, out);
            } else {
                readPlugins(origin, value, out);
            }
        }
    } catch (const YAML::Exception &e) {  // e.g. a key that is itself a map
        throw Error(VIRTKIT_ERR_CONFIG, "config " + where(origin, e.mark) + ": " + e.msg);
    }
    return out;
}

std::string readWholeFile(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(VIRTKIT_ERR_CONFIG, "cannot read config file " + path + ": " + std::strerror(errno));
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        throw Error(VIRTKIT_ERR_CONFIG, "cannot read config file " + path + ": " + std::strerror(errno));
    }
    return text.str();
}

std::string envOrEmpty(const char *name) {
    const char *value = std::getenv(name);
    return value ? value : "";
}

// The files to try, in order, when VIRTKIT_CONFIG is not set.
std::vector<std::string> searchOrder() {
    std::vector<std::string> files;
    const std::string xdg = envOrEmpty("XDG_CONFIG_HOME");
    const std::string home = envOrEmpty("HOME");
    if (!xdg.empty() && xdg.front() == '/') {  // the XDG spec ignores relative values
        files.push_back(xdg + "/virtkit/virtkit.yaml");
    } else if (!home.empty()) {
        files.push_back(home + "/.config/virtkit/virtkit.yaml");
    }
    files.push_back(std::string(VIRTKIT_SYSCONFDIR) + "/virtkit/virtkit.yaml");
    if (files.back() != "/etc/virtkit/virtkit.yaml") {
        files.push_back("/etc/virtkit/virtkit.yaml");
    }
    return files;
}

}  // namespace

Config::Config() : impl_(std::make_unique<Impl>()) {}
Config::~Config() = default;
Config::Config(const Config &other) : impl_(std::make_unique<Impl>(*other.impl_)) {}
Config &Config::operator=(const Config &other) {
    if (this != &other) {
        impl_ = std::make_unique<Impl>(*other.impl_);
    }
    return *this;
}

Config Config::load() {
    const std::string named = envOrEmpty("VIRTKIT_CONFIG");
    if (!named.empty()) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(named, ec)) {
            throw Error(VIRTKIT_ERR_CONFIG, "VIRTKIT_CONFIG names " + named +
                                                ", which is not a readable file (unset VIRTKIT_CONFIG to use the "
                                                "default search order)");
        }
        return loadFile(named);
    }
    for (const auto &file : searchOrder()) {
        std::error_code ec;
        if (std::filesystem::exists(file, ec)) {
            return loadFile(file);
        }
    }
    return Config();
}

Config Config::loadFile(const std::string &path) {
    return fromString(readWholeFile(path), path);
}

Config Config::fromString(const std::string &yaml, const std::string &origin) {
    Config config;
    static_cast<ConfigData &>(*config.impl_) = parse(yaml, origin);
    return config;
}

const std::string &Config::source() const { return impl_->source; }
std::vector<std::string> Config::pluginPath() const { return impl_->pluginPath; }
std::optional<std::string> Config::defaultUri() const { return impl_->defaultUri; }
std::optional<std::string> Config::logSpec() const { return impl_->logSpec; }
const std::vector<std::string> &Config::warnings() const { return impl_->warnings; }

std::optional<std::string> Config::daemonValue(const std::string &key) const {
    const auto found = impl_->daemonValues.find(key);
    if (found == impl_->daemonValues.end() || found->second.empty()) {
        return std::nullopt;
    }
    return found->second.front();
}

std::vector<std::string> Config::daemonList(const std::string &key) const {
    const auto found = impl_->daemonValues.find(key);
    return found == impl_->daemonValues.end() ? std::vector<std::string>{} : found->second;
}

std::optional<std::string> Config::pluginValue(const std::string &plugin, const std::string &key) const {
    const auto section = impl_->pluginValues.find(plugin);
    if (section == impl_->pluginValues.end()) {
        return std::nullopt;
    }
    const auto value = section->second.find(key);
    if (value == section->second.end()) {
        return std::nullopt;
    }
    return value->second;
}

}  // namespace virtkit
