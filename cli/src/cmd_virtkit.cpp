// Commands about virtkit itself, needing no connection: plugins, help.
#include <ostream>

#include <virtkit/context.hpp>
#include <virtkit/error.hpp>
#include <virtkit/plugin_registry.hpp>

#include "command.hpp"
#include "json.hpp"
#include "session.hpp"
#include "table.hpp"

namespace virtkit::cli {

namespace {

const char *statusName(PluginStatus status)
{
    switch (status) {
    case PluginStatus::Available: return "available";
    case PluginStatus::Loaded: return "loaded";
    case PluginStatus::Refused: return "refused";
    }
    return "unknown";
}

std::string abiText(const PluginManifest &m) { return std::to_string(m.abiMajor) + "." + std::to_string(m.abiMinMinor); }

std::string joined(const std::vector<std::string> &items, const char *separator)
{
    std::string out;
    for (const auto &item : items)
        out += (out.empty() ? "" : separator) + item;
    return out;
}

void printPluginsJson(std::ostream &out, const PluginRegistry &registry)
{
    std::vector<std::string> plugins;
    for (const auto &entry : registry.entries()) {
        const PluginManifest &m = entry.manifest;
        JsonObject obj;
        obj.add("id", m.id).add("version", m.version).add("description", m.description);
        obj.add("abi_major", m.abiMajor).add("abi_min_minor", m.abiMinMinor);
        obj.addRaw("schemes", jsonStringArray(m.uriSchemes));
        obj.add("status", statusName(entry.status));
        if (entry.status == PluginStatus::Refused)
            obj.add("reason", entry.refusal);
        obj.add("manifest", m.manifestPath).add("library", m.libraryPath);
        plugins.push_back(obj.str());
    }
    out << JsonObject()
               .addRaw("plugins", jsonArray(plugins))
               .addRaw("warnings", jsonStringArray(registry.warnings()))
               .str()
        << '\n';
}

// Looks only at manifests: listing plugins loads none and opens no connection.
void plugins(Session &session, const ParsedCommand &cmd)
{
    const PluginRegistry &registry = session.context().registry();
    std::ostream &out = session.out();
    if (session.json(cmd)) {
        printPluginsJson(out, registry);
        return;
    }
    Table table({"Id", "Version", "ABI", "Schemes", "Status"});
    for (const auto &entry : registry.entries()) {
        const PluginManifest &m = entry.manifest;
        table.addRow({m.id, m.version, abiText(m), joined(m.uriSchemes, ","), statusName(entry.status)});
    }
    table.print(out, !session.quiet());
    for (const auto &entry : registry.entries())
        if (entry.status == PluginStatus::Refused)
            out << "\nrefused: " << entry.manifest.id << " (" << entry.manifest.manifestPath << "): " << entry.refusal
                << '\n';
    for (const auto &warning : registry.warnings())
        out << "\nwarning: " << warning << '\n';
}

struct Group {
    const char *keyword;
    const char *title;
};
constexpr Group kGroups[] = {{"domain", "Domain Management"},
                             {"monitor", "Domain Monitoring"},
                             {"host", "Host and Hypervisor"},
                             {"virtkit", "Virtkit itself"}};

void printGroup(std::ostream &out, const Group &group)
{
    out << " " << group.title << " (help keyword '" << group.keyword << "'):\n";
    for (const auto &cmd : commandTable())
        if (cmd.group == group.keyword)
            out << "    " << cmd.name << std::string(cmd.name.size() < 31 ? 31 - cmd.name.size() : 1, ' ')
                << cmd.summary << '\n';
    out << '\n';
}

std::string synopsis(const CommandSpec &cmd)
{
    std::string text = cmd.name;
    for (const auto &opt : cmd.options) {
        std::string part = opt.positional ? "<" + opt.name + ">" : "--" + opt.name;
        if (!opt.positional && opt.kind == OptionSpec::Kind::Value)
            part += " <string>";
        text += " " + (opt.required ? part : "[" + part + "]");
    }
    return text;
}

void printCommandHelp(std::ostream &out, const CommandSpec &cmd)
{
    out << "  NAME\n    " << cmd.name << " - " << cmd.summary << "\n\n";
    out << "  SYNOPSIS\n    " << synopsis(cmd) << "\n\n";
    out << "  DESCRIPTION\n    " << cmd.description << "\n";
    if (cmd.options.empty())
        return;
    out << "\n  OPTIONS\n";
    for (const auto &opt : cmd.options) {
        std::string left = opt.positional ? "[--" + opt.name + "] <string>" : "--" + opt.name;
        if (!opt.positional && opt.kind == OptionSpec::Kind::Value)
            left += " <string>";
        out << "    " << left << std::string(left.size() < 16 ? 17 - left.size() : 2, ' ') << opt.help << '\n';
    }
}

void help(Session &session, const ParsedCommand &cmd)
{
    std::ostream &out = session.out();
    const auto topic = cmd.value("command");
    if (!topic) {
        out << "Grouped commands:\n\n";
        for (const auto &group : kGroups)
            printGroup(out, group);
        return;
    }
    if (const CommandSpec *spec = findCommand(*topic)) {
        printCommandHelp(out, *spec);
        return;
    }
    for (const auto &group : kGroups)
        if (*topic == group.keyword) {
            printGroup(out, group);
            return;
        }
    throw Error(VIRTKIT_ERR_INVALID_ARG, "command or command group '" + *topic + "' doesn't exist");
}

}  // namespace

void addVirtkitCommands(std::vector<CommandSpec> &table)
{
    using K = OptionSpec::Kind;
    table.push_back({"plugins", "virtkit", "list the hypervisor plugins found",
                     "Every plugin found on the search path: id, version, ABI, URI schemes and status "
                     "(available, loaded, or refused with the reason), then the registry's warnings. "
                     "Reads manifests only; opens no connection.",
                     {}, plugins, true});
    table.push_back({"help", "virtkit", "print help", "Prints global help, command specific help, or help for a "
                     "group of related commands.",
                     {{"command", K::Value, true, false, "Prints global help, command specific help, or help for a group of related commands"}},
                     help, false});
}

}  // namespace virtkit::cli
