#include "invocation.hpp"

#include <virtkit/error.hpp>

namespace virtkit::cli {

namespace {

[[noreturn]] void badOption(const std::string &message)
{
    throw Error(VIRTKIT_ERR_INVALID_ARG, message + " (see 'virtkit --help')");
}

// Applies one short option letter; returns true if it consumed `value`.
bool applyShort(Invocation &inv, char letter, const std::string *value)
{
    switch (letter) {
    case 'c':
        if (!value)
            badOption("option '-c' requires a URI");
        inv.options.uri = *value;
        return true;
    case 'r': inv.options.readOnly = true; return false;
    case 'q': inv.options.quiet = true; return false;
    case 'v': inv.action = Invocation::Action::ShowVersion; return false;
    case 'h': inv.action = Invocation::Action::ShowHelp; return false;
    default: badOption(std::string("unsupported option '-") + letter + "'");
    }
}

}  // namespace

Invocation parseInvocation(const std::vector<std::string> &args)
{
    Invocation inv;
    std::size_t i = 0;
    for (; i < args.size(); i++) {
        const std::string &arg = args[i];
        if (arg == "--") {
            i++;
            break;
        }
        if (arg.starts_with("--")) {
            const auto eq = arg.find('=');
            const std::string name = arg.substr(0, eq);
            if (name == "--connect") {
                if (eq != std::string::npos)
                    inv.options.uri = arg.substr(eq + 1);
                else if (i + 1 < args.size())
                    inv.options.uri = args[++i];
                else
                    badOption("option '--connect' requires a URI");
            } else if (eq != std::string::npos) {
                badOption("option '" + name + "' takes no value");
            } else if (name == "--readonly") {
                inv.options.readOnly = true;
            } else if (name == "--quiet") {
                inv.options.quiet = true;
            } else if (name == "--json") {
                inv.options.json = true;
            } else if (name == "--version") {
                inv.action = Invocation::Action::ShowVersion;
            } else if (name == "--help") {
                inv.action = Invocation::Action::ShowHelp;
            } else {
                badOption("unsupported option '" + name + "'");
            }
            continue;
        }
        if (arg.size() < 2 || arg[0] != '-')
            break;  // the first command word
        for (std::size_t k = 1; k < arg.size(); k++) {
            // "-cURI" or "-c URI", as getopt
            if (arg[k] == 'c' && k + 1 < arg.size()) {
                const std::string rest = arg.substr(k + 1);
                applyShort(inv, 'c', &rest);
                break;
            }
            const std::string *next = (k + 1 == arg.size() && i + 1 < args.size()) ? &args[i + 1] : nullptr;
            if (applyShort(inv, arg[k], arg[k] == 'c' ? next : nullptr))
                i++;
        }
    }
    const std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    inv.commands = rest.size() == 1 ? splitCommandString(rest[0]) : splitCommandArgv(rest);
    return inv;
}

std::string usageText()
{
    return "\n"
           "virtkit [options]... [<command_string>]\n"
           "virtkit [options]... <command> [args...]\n"
           "\n"
           "  options:\n"
           "    -c | --connect=URI      hypervisor connection URI\n"
           "    -r | --readonly         connect readonly\n"
           "    -q | --quiet            quiet mode\n"
           "         --json             machine-readable output for every command that has it\n"
           "    -v | --version          short version\n"
           "    -h | --help             this help\n"
           "\n"
           "  Several commands: \"cmd1 args; cmd2 args\" as one argument, or words with a ';' word.\n"
           "  'virtkit help' lists the commands, 'virtkit help COMMAND' describes one.\n"
           "\n";
}

}  // namespace virtkit::cli
