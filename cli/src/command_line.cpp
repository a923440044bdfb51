#include "command_line.hpp"

#include <virtkit/error.hpp>

namespace virtkit::cli {

namespace {

[[noreturn]] void usageError(const std::string &message)
{
    throw Error(VIRTKIT_ERR_INVALID_ARG, message);
}

bool isBlank(char c) { return c == ' ' || c == '\t'; }
bool endsCommand(char c) { return c == ';' || c == '\n'; }

// One token starting at text[pos] (not blank, not a separator).
std::string readToken(const std::string &text, std::size_t &pos)
{
    std::string token;
    bool single = false, dbl = false;
    while (pos < text.size()) {
        const char c = text[pos];
        if (!single && !dbl && (isBlank(c) || endsCommand(c)))
            break;
        if (!dbl && c == '\'') {
            single = !single;
            pos++;
            continue;
        }
        if (!single && c == '"') {
            dbl = !dbl;
            pos++;
            continue;
        }
        if (!single && c == '\\') {
            if (++pos == text.size())
                usageError("dangling \\ at the end of the command string");
            if (text[pos] == '\n') {  // line continuation
                pos++;
                continue;
            }
        }
        token += text[pos++];
    }
    if (single)
        usageError("missing ' in the command string");
    if (dbl)
        usageError("missing \" in the command string");
    return token;
}

}  // namespace

std::vector<CommandWords> splitCommandString(const std::string &text)
{
    std::vector<CommandWords> commands(1);
    std::size_t pos = 0;
    while (pos < text.size()) {
        const char c = text[pos];
        if (isBlank(c)) {
            pos++;
        } else if (c == '\\' && pos + 1 < text.size() && text[pos + 1] == '\n') {
            pos += 2;
        } else if (endsCommand(c)) {
            commands.emplace_back();
            pos++;
        } else if (c == '#' && commands.back().empty()) {  // comment to end of line
            while (pos < text.size() && text[pos] != '\n')
                pos++;
        } else {
            commands.back().push_back(readToken(text, pos));
        }
    }
    std::erase_if(commands, [](const CommandWords &w) { return w.empty(); });
    return commands;
}

std::vector<CommandWords> splitCommandArgv(const std::vector<std::string> &words)
{
    std::vector<CommandWords> commands(1);
    for (const auto &word : words) {
        if (word == ";")
            commands.emplace_back();
        else
            commands.back().push_back(word);
    }
    std::erase_if(commands, [](const CommandWords &w) { return w.empty(); });
    return commands;
}

namespace {

const OptionSpec *findOption(const CommandSpec &cmd, const std::string &name)
{
    for (const auto &opt : cmd.options)
        if (opt.name == name)
            return &opt;
    return nullptr;
}

ParsedCommand helpFor(const std::string &command)
{
    ParsedCommand help;
    help.spec = findCommand("help");
    help.values["command"] = command;
    return help;
}

void checkRequired(const ParsedCommand &parsed)
{
    const CommandSpec &cmd = *parsed.spec;
    for (const auto &opt : cmd.options) {
        if (!opt.required || parsed.values.count(opt.name))
            continue;
        if (opt.positional)
            usageError("command '" + cmd.name + "' requires <" + opt.name + "> option");
        usageError("command '" + cmd.name + "' requires --" + opt.name + " option");
    }
}

}  // namespace

ParsedCommand parseCommand(const CommandWords &words)
{
    const CommandSpec *cmd = findCommand(words.at(0));
    if (!cmd)
        usageError("unknown command: '" + words[0] + "'");
    ParsedCommand parsed;
    parsed.spec = cmd;
    bool onlyData = false;
    for (std::size_t i = 1; i < words.size(); i++) {
        const std::string &word = words[i];
        if (!onlyData && word == "--") {
            onlyData = true;
            continue;
        }
        if (!onlyData && word.size() > 2 && word.starts_with("--")) {
            if (word == "--help")
                return helpFor(cmd->name);
            const auto eq = word.find('=');
            const std::string name = word.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
            const OptionSpec *opt = findOption(*cmd, name);
            if (!opt)
                usageError("command '" + cmd->name + "' doesn't support option --" + name);
            if (parsed.values.count(name) || parsed.flags.count(name))
                usageError("option --" + name + " already seen");
            if (opt->kind == OptionSpec::Kind::Flag) {
                if (eq != std::string::npos)
                    usageError("option --" + name + " of command '" + cmd->name + "' takes no value");
                parsed.flags.insert(name);
            } else if (eq != std::string::npos) {
                parsed.values[name] = word.substr(eq + 1);
            } else if (i + 1 < words.size()) {
                parsed.values[name] = words[++i];
            } else {
                usageError("expected syntax: --" + name + " <string>");
            }
            continue;
        }
        const OptionSpec *slot = nullptr;
        for (const auto &opt : cmd->options)
            if (opt.positional && !parsed.values.count(opt.name)) {
                slot = &opt;
                break;
            }
        if (!slot)
            usageError("unexpected data '" + word + "' for command '" + cmd->name + "'");
        parsed.values[slot->name] = word;
    }
    checkRequired(parsed);
    return parsed;
}

}  // namespace virtkit::cli
