// virtkit: parse the whole invocation first (a typo anywhere runs nothing,
// as in virsh), then run the commands in order over one connection.  Like
// virsh, a failing command reports and the next one still runs; unlike
// virsh, the exit status is 1 if any command failed, not just the last.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <virtkit/error.hpp>

#include "invocation.hpp"

namespace {

using namespace virtkit::cli;

void reportError(const std::string &message)
{
    std::cout.flush();  // keep stdout and stderr in order on a terminal
    std::cerr << "error: " << message << std::endl;
}

// Runs one command; false if it failed (and the error has been printed).
bool runCommand(Session &session, const virtkit::cli::ParsedCommand &cmd)
{
    try {
        cmd.spec->handler(session, cmd);
        session.endCommand(cmd);
        return true;
    } catch (const std::bad_alloc &) {
        reportError("out of memory in command '" + cmd.spec->name + "'");
    } catch (const std::exception &e) {
        reportError(e.what());
    }
    return false;
}

int run(const std::vector<std::string> &args)
{
    const Invocation inv = parseInvocation(args);
    if (inv.action == Invocation::Action::ShowVersion) {
        std::cout << VIRTKIT_CLI_VERSION << '\n';
        return 0;
    }
    if (inv.action == Invocation::Action::ShowHelp) {
        std::cout << usageText();
        return 0;
    }
    if (inv.commands.empty()) {
        reportError("no command given; try 'virtkit help' (virtkit has no interactive shell)");
        return 1;
    }
    std::vector<ParsedCommand> commands;
    for (const auto &words : inv.commands)
        commands.push_back(parseCommand(words));

    Session session(inv.options, std::cout);
    bool allSucceeded = true;
    for (const auto &cmd : commands) {
        allSucceeded = runCommand(session, cmd) && allSucceeded;
        if (session.broken())
            break;
    }
    std::cout.flush();
    if (!std::cout) {
        reportError("cannot write to standard output");
        return 1;
    }
    return allSucceeded ? 0 : 1;
}

}  // namespace

int main(int argc, char **argv)
{
    try {
        return run(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const std::exception &e) {
        reportError(e.what());
    } catch (...) {
        reportError("unexpected failure (not a std::exception)");
    }
    return 1;
}
