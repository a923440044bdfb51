// Plugin manifests, read with yaml-cpp before (and instead of) running any
// plugin code.  Everything a manifest alone can refuse is refused here.
#include "plugin_manifest.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include <yaml-cpp/yaml.h>

namespace virtkit::detail {
namespace {

namespace fs = std::filesystem;

const char *const kRequiredKeys =
    "manifest_version, id, library, version, abi {major, min_minor} and uri_schemes";

struct Refusal {
    int code;
    std::string message;
};

std::string abiText(uint32_t major, uint32_t minor)
{
    return std::to_string(major) + "." + std::to_string(minor);
}

std::string lineOf(const YAML::Node &node)
{
    return " (line " + std::to_string(node.Mark().line + 1) + ")";
}

bool isIdChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

// URI scheme characters without '+', which separates driver and transport.
bool isValidScheme(const std::string &s)
{
    if (s.empty() || s.front() < 'a' || s.front() > 'z')
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    });
}

class ManifestParser {
public:
    explicit ManifestParser(fs::path file) : file_(std::move(file)) {}

    ManifestReading read()
    {
        ManifestReading out;
        PluginManifest &m = out.entry.manifest;
        m.manifestPath = file_.string();
        m.id = file_.stem().string();
        try {
            parseInto(m, out.warnings);
            checkAbi(m);
        } catch (const Refusal &r) {
            out.entry.status = PluginStatus::Refused;
            out.entry.refusal = r.message;
            out.refusalCode = r.code;
        }
        return out;
    }

private:
    [[noreturn]] void malformed(const std::string &what) const
    {
        throw Refusal{VIRTKIT_ERR_CONFIG, "plugin manifest " + file_.string() + " " + what +
                                              "; reinstall the plugin or fix the manifest"};
    }

    YAML::Node required(const YAML::Node &map, const std::string &key, const std::string &shownAs) const
    {
        const YAML::Node node = map[key];
        if (!node.IsDefined() || node.IsNull())
            malformed("has no '" + shownAs + "' key; a manifest needs " + kRequiredKeys);
        return node;
    }

    std::string text(const YAML::Node &map, const std::string &key, const std::string &shownAs) const
    {
        const YAML::Node node = required(map, key, shownAs);
        if (!node.IsScalar() || node.Scalar().empty())
            malformed("has an empty or non-text '" + shownAs + "'" + lineOf(node));
        return node.Scalar();
    }

    uint32_t number(const YAML::Node &map, const std::string &key, const std::string &shownAs) const
    {
        const YAML::Node node = required(map, key, shownAs);
        const std::string s = node.IsScalar() ? node.Scalar() : std::string();
        uint32_t value = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
        if (s.empty() || ec != std::errc() || end != s.data() + s.size())
            malformed("has '" + shownAs + "' = '" + s + "'" + lineOf(node) +
                      ", which is not a non-negative integer");
        return value;
    }

    void warnUnknownKeys(const YAML::Node &map, const std::set<std::string> &known, const std::string &prefix,
                         std::vector<std::string> &warnings) const
    {
        for (const auto &kv : map) {
            const std::string key = kv.first.Scalar();
            if (!known.count(key))
                warnings.push_back("plugin manifest " + file_.string() + ": unknown key '" + prefix + key +
                                   "'" + lineOf(kv.first) + " is ignored");
        }
    }

    void parseInto(PluginManifest &m, std::vector<std::string> &warnings) const
    {
        YAML::Node root;
        try {
            root = YAML::LoadFile(file_.string());
        } catch (const YAML::ParserException &e) {
            malformed("is not valid YAML (line " + std::to_string(e.mark.line + 1) + ": " + e.msg + ")");
        } catch (const YAML::Exception &e) {
            malformed("cannot be read (" + e.msg + ")");
        }
        if (!root.IsMap())
            malformed("is not a YAML mapping of keys");

        const uint32_t manifestVersion = number(root, "manifest_version", "manifest_version");
        if (manifestVersion != kManifestVersion)
            throw Refusal{VIRTKIT_ERR_ABI, "plugin manifest " + file_.string() + " has manifest_version " +
                                               std::to_string(manifestVersion) +
                                               ", but this virtkit reads manifest_version " +
                                               std::to_string(kManifestVersion) +
                                               "; install a build of the plugin for virtkit " +
                                               std::to_string(VIRTKIT_PLUGIN_ABI_MAJOR) + ".x"};
        warnUnknownKeys(root,
                        {"manifest_version", "id", "library", "version", "abi", "uri_schemes", "description"},
                        "", warnings);

        const std::string id = text(root, "id", "id");
        if (!std::all_of(id.begin(), id.end(), isIdChar))
            malformed("has id '" + id + "'; an id may use only letters, digits, '_', '-' and '.'");
        m.id = id;

        const fs::path library = text(root, "library", "library");
        m.libraryPath =
            (library.is_absolute() ? library : file_.parent_path() / library).lexically_normal().string();
        m.version = text(root, "version", "version");
        if (const YAML::Node d = root["description"]; d.IsDefined() && !d.IsNull()) {
            if (!d.IsScalar())
                malformed("has a non-text 'description'" + lineOf(d));
            m.description = d.Scalar();
        }

        const YAML::Node abi = required(root, "abi", "abi");
        if (!abi.IsMap())
            malformed("has 'abi'" + lineOf(abi) + " that is not a mapping {major, min_minor}");
        m.abiMajor = number(abi, "major", "abi.major");
        m.abiMinMinor = number(abi, "min_minor", "abi.min_minor");
        warnUnknownKeys(abi, {"major", "min_minor"}, "abi.", warnings);

        const YAML::Node schemes = required(root, "uri_schemes", "uri_schemes");
        if (!schemes.IsSequence() || schemes.size() == 0)
            malformed("has 'uri_schemes'" + lineOf(schemes) + " that is not a non-empty list");
        for (const auto &s : schemes) {
            const std::string scheme = s.IsScalar() ? s.Scalar() : std::string();
            if (!isValidScheme(scheme))
                malformed("lists URI scheme '" + scheme + "'" + lineOf(s) +
                          "; a scheme is lowercase letters, digits, '-' and '.', starting with a letter");
            m.uriSchemes.push_back(scheme);
        }
    }

    // PostgreSQL style: name the file, both versions and what to do.
    void checkAbi(const PluginManifest &m) const
    {
        const std::string who = "plugin '" + m.id + "' (" + file_.string() + ")";
        const std::string host = abiText(VIRTKIT_PLUGIN_ABI_MAJOR, VIRTKIT_PLUGIN_ABI_MINOR);
        if (m.abiMajor != VIRTKIT_PLUGIN_ABI_MAJOR)
            throw Refusal{VIRTKIT_ERR_ABI, who + " is built for plugin ABI " + abiText(m.abiMajor, m.abiMinMinor) +
                                               ", but this virtkit provides ABI " + host +
                                               "; install a build of the plugin for virtkit " +
                                               std::to_string(VIRTKIT_PLUGIN_ABI_MAJOR) + ".x"};
        if (m.abiMinMinor > VIRTKIT_PLUGIN_ABI_MINOR)
            throw Refusal{VIRTKIT_ERR_ABI, who + " needs plugin ABI " + abiText(m.abiMajor, m.abiMinMinor) +
                                               ", but this virtkit provides ABI " + host +
                                               "; upgrade virtkit to a release that provides ABI " +
                                               abiText(m.abiMajor, m.abiMinMinor) +
                                               ", or install an older build of the plugin"};
    }

    fs::path file_;
};

}  // namespace

ManifestReading readPluginManifest(const fs::path &file)
{
    return ManifestParser(file).read();
}

}  // namespace virtkit::detail
