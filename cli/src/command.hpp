// The command table's vocabulary: what a command accepts (CommandSpec) and
// what one use of it said (ParsedCommand).  Modelled on virsh's vshCmdDef.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace virtkit::cli {

class Session;
struct ParsedCommand;

struct OptionSpec {
    enum class Kind { Flag, Value };
    std::string name;         // without "--"
    Kind kind = Kind::Flag;
    bool positional = false;  // a Value that may be given without its --name
    bool required = false;
    std::string help;
};

using CommandHandler = void (*)(Session &, const ParsedCommand &);

struct CommandSpec {
    std::string name;
    std::string group;        // help keyword: "domain", "monitor", "host", "virtkit"
    std::string summary;      // one line for `help`
    std::string description;  // paragraph for `help CMD`
    std::vector<OptionSpec> options;
    CommandHandler handler = nullptr;
    bool json = false;        // accepts --json (added to options by the table)
};

struct ParsedCommand {
    const CommandSpec *spec = nullptr;
    std::map<std::string, std::string> values;
    std::set<std::string> flags;

    bool flag(const std::string &name) const { return flags.count(name) != 0; }
    std::optional<std::string> value(const std::string &name) const;
    // The value of an option the table marks required.
    const std::string &required(const std::string &name) const;
};

// Every command, in help order.  Built once; immutable.
const std::vector<CommandSpec> &commandTable();
const CommandSpec *findCommand(const std::string &name);

// The group files contribute their commands to the table.
void addDomainListCommands(std::vector<CommandSpec> &table);
void addLifecycleCommands(std::vector<CommandSpec> &table);
void addDomainInfoCommands(std::vector<CommandSpec> &table);
void addHostCommands(std::vector<CommandSpec> &table);
void addEventCommands(std::vector<CommandSpec> &table);
void addVirtkitCommands(std::vector<CommandSpec> &table);
void addMigrationCommands(std::vector<CommandSpec> &table);
void addQemuCommands(std::vector<CommandSpec> &table);
void addConsoleCommands(std::vector<CommandSpec> &table);

}  // namespace virtkit::cli
