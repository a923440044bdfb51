// qemu-monitor-command and domcapabilities, as virsh has them.
#include <ostream>

#include <virtkit/connection.hpp>
#include <virtkit/domain.hpp>

#include "command.hpp"
#include "output.hpp"
#include "session.hpp"

namespace virtkit::cli {

namespace {

// JSON text re-indented with two spaces (virsh --pretty); strings are kept as they are.
std::string prettyJson(const std::string &text)
{
    std::string out;
    int depth = 0;
    bool inString = false, escaped = false;
    const auto newline = [&] { out += '\n' + std::string(static_cast<std::size_t>(depth) * 2, ' '); };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (inString) {
            out += c;
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
            continue;
        }
        switch (c) {
        case '"': inString = true; out += c; break;
        case ' ': case '\n': case '\t': case '\r': break;
        case '{': case '[': {
            const char close = c == '{' ? '}' : ']';
            std::size_t next = text.find_first_not_of(" \n\t\r", i + 1);
            if (next != std::string::npos && text[next] == close) {  // {} and [] stay on one line
                out += c;
                out += close;
                i = next;
                break;
            }
            out += c;
            ++depth;
            newline();
            break;
        }
        case '}': case ']': --depth; newline(); out += c; break;
        case ',': out += c; newline(); break;
        case ':': out += ": "; break;
        default: out += c;
        }
    }
    return out;
}

void monitorCommand(Session &session, const ParsedCommand &cmd)
{
    Domain dom = session.domain(cmd);
    const bool hmp = cmd.flag("hmp");
    const std::string reply =
        session.connection().monitorCommand(dom.uuid(), cmd.required("cmd"), hmp ? VIRTKIT_MONITOR_HMP : 0);
    if (hmp || !cmd.flag("pretty"))
        session.out() << reply << (reply.empty() || reply.back() != '\n' ? "\n" : "");
    else
        session.out() << prettyJson(reply) << '\n';
}

void domcapabilities(Session &session, const ParsedCommand &cmd)
{
    printDocument(session, session.connection().domainCapabilities(cmd.value("emulatorbin").value_or(""),
                                                                    cmd.value("arch").value_or(""),
                                                                    cmd.value("machine").value_or(""),
                                                                    cmd.value("virttype").value_or("")));
}

}  // namespace

void addQemuCommands(std::vector<CommandSpec> &table)
{
    using K = OptionSpec::Kind;
    table.push_back({"qemu-monitor-command", "domain", "QEMU Monitor Command",
                     "QEMU Monitor Command: pass a QMP command (JSON) or, with --hmp, a human monitor command "
                     "to the domain's QEMU and print its reply.",
                     {{"domain", K::Value, true, true, "domain name, id or uuid"},
                      {"cmd", K::Value, true, true, "command"},
                      {"hmp", K::Flag, false, false, "command is in human monitor protocol"},
                      {"pretty", K::Flag, false, false, "pretty-print any qemu monitor protocol output"}},
                     monitorCommand, false});
    table.push_back({"domcapabilities", "host", "domain capabilities",
                     "Returns capabilities of emulator with respect to host and libvirt.",
                     {{"virttype", K::Value, false, false, "virtualization type (/domain/@type)"},
                      {"emulatorbin", K::Value, false, false, "path to emulator binary (/domain/devices/emulator)"},
                      {"arch", K::Value, false, false, "domain architecture (/domain/os/type/@arch)"},
                      {"machine", K::Value, false, false, "machine type (/domain/os/type/@machine)"}},
                     domcapabilities, false});
}

}  // namespace virtkit::cli
