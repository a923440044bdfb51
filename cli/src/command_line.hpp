// From text to commands, as virsh does it: one argument is a command string
// (';' or newline separates commands; single quotes, double quotes and
// backslash quote as in virsh); several arguments are words, a lone ";"
// word separating commands.  Errors are Error(VIRTKIT_ERR_INVALID_ARG).
#pragma once

#include <string>
#include <vector>

#include "command.hpp"

namespace virtkit::cli {

using CommandWords = std::vector<std::string>;

std::vector<CommandWords> splitCommandString(const std::string &text);
std::vector<CommandWords> splitCommandArgv(const std::vector<std::string> &words);

// Matches the words against the command table: unknown command or option,
// missing value, missing required option, unexpected data.  "--help"
// anywhere turns the command into `help <command>`.
ParsedCommand parseCommand(const CommandWords &words);

}  // namespace virtkit::cli
