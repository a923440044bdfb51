#include "command.hpp"

#include <algorithm>

#include <virtkit/error.hpp>

namespace virtkit::cli {

std::optional<std::string> ParsedCommand::value(const std::string &name) const
{
    const auto it = values.find(name);
    if (it == values.end())
        return std::nullopt;
    return it->second;
}

const std::string &ParsedCommand::required(const std::string &name) const
{
    const auto it = values.find(name);
    if (it == values.end())  // the parser enforces required options; this is a table bug
        throw Error(VIRTKIT_ERR_INTERNAL, "command '" + spec->name + "' lacks option --" + name);
    return it->second;
}

namespace {

std::vector<CommandSpec> buildTable()
{
    std::vector<CommandSpec> table;
    addDomainListCommands(table);
    addLifecycleCommands(table);
    addDomainInfoCommands(table);
    addEventCommands(table);
    addHostCommands(table);
    addVirtkitCommands(table);
    addMigrationCommands(table);
    addQemuCommands(table);
    addConsoleCommands(table);
    for (auto &cmd : table)
        if (cmd.json)
            cmd.options.push_back({"json", OptionSpec::Kind::Flag, false, false, "machine-readable JSON output"});
    std::stable_sort(table.begin(), table.end(),
                     [](const CommandSpec &a, const CommandSpec &b) { return a.name < b.name; });
    return table;
}

}  // namespace

const std::vector<CommandSpec> &commandTable()
{
    static const std::vector<CommandSpec> table = buildTable();
    return table;
}

const CommandSpec *findCommand(const std::string &name)
{
    for (const auto &cmd : commandTable())
        if (cmd.name == name)
            return &cmd;
    return nullptr;
}

}  // namespace virtkit::cli
