// The global options before the first command word (virsh's getopt with
// "+": options stop at the first non-option), and the commands after them.
#pragma once

#include <string>
#include <vector>

#include "command_line.hpp"
#include "session.hpp"

namespace virtkit::cli {

struct Invocation {
    enum class Action { RunCommands, ShowHelp, ShowVersion };
    Action action = Action::RunCommands;
    GlobalOptions options;
    std::vector<CommandWords> commands;
};

// Throws Error(VIRTKIT_ERR_INVALID_ARG) on an unknown or incomplete option.
Invocation parseInvocation(const std::vector<std::string> &args);

// `virtkit --help`.
std::string usageText();

}  // namespace virtkit::cli
