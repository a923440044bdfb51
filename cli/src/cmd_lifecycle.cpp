// define, create, undefine, start, shutdown, reboot, destroy, suspend,
// resume, autostart: one API call each and virsh's confirmation line.
#include <algorithm>

#include <virtkit/connection.hpp>
#include <virtkit/domain_xml.hpp>
#include <virtkit/error.hpp>

#include "command.hpp"
#include "file_input.hpp"
#include "session.hpp"

namespace virtkit::cli {

namespace {

std::string quoted(const std::string &name) { return "'" + name + "'"; }

// The file's content, with errors that say which command needed it.
std::string readDomainFile(const std::string &path)
{
    return readInputFile(path, DomainXml::kMaxBytes);
}

void define(Session &session, const ParsedCommand &cmd)
{
    const std::string &file = cmd.required("file");
    const std::string xml = readDomainFile(file);
    DomainRef ref;
    try {
        ref = session.connection().defineXml(xml);
    } catch (const Error &e) {
        throw Error(e.code(), "failed to define domain from " + file + ": " + e.what());
    }
    session.extra("Domain " + quoted(ref.name) + " defined from " + file);
}

void create(Session &session, const ParsedCommand &cmd)
{
    const std::string &file = cmd.required("file");
    const std::string xml = readDomainFile(file);
    DomainRef ref;
    try {
        ref = session.connection().createXml(xml);
    } catch (const Error &e) {
        throw Error(e.code(), "failed to create domain from " + file + ": " + e.what());
    }
    session.extra("Domain " + quoted(ref.name) + " created from " + file);
}

// A command that runs one Domain operation and prints "Domain 'x' <done>".
template <void (Domain::*Operation)()>
void domainAction(Session &session, const ParsedCommand &cmd, const char *done)
{
    Domain dom = session.domain(cmd);
    (dom.*Operation)();
    session.extra("Domain " + quoted(dom.name()) + " " + done);
}

// The same for operations that take flags (shutdown, reboot, destroy): the driver's default.
template <void (Domain::*Operation)(uint32_t)>
void domainAction(Session &session, const ParsedCommand &cmd, const char *done)
{
    Domain dom = session.domain(cmd);
    (dom.*Operation)(0);
    session.extra("Domain " + quoted(dom.name()) + " " + done);
}

void start(Session &s, const ParsedCommand &c) { domainAction<&Domain::start>(s, c, "started"); }
// virsh's --mode: a comma-separated list of acpi, agent, initctl, signal, paravirt.
uint32_t shutdownModeFlags(const ParsedCommand &cmd)
{
    uint32_t flags = 0;
    std::string modes = cmd.value("mode").value_or("");
    for (std::size_t start = 0; start < modes.size();) {
        const std::size_t comma = std::min(modes.find(',', start), modes.size());
        const std::string mode = modes.substr(start, comma - start);
        if (mode == "acpi")
            flags |= VIRTKIT_SHUTDOWN_ACPI_POWER_BTN;
        else if (mode == "agent")
            flags |= VIRTKIT_SHUTDOWN_GUEST_AGENT;
        else if (mode == "initctl")
            flags |= VIRTKIT_SHUTDOWN_INITCTL;
        else if (mode == "signal")
            flags |= VIRTKIT_SHUTDOWN_SIGNAL;
        else if (mode == "paravirt")
            flags |= VIRTKIT_SHUTDOWN_PARAVIRT;
        else
            throw Error(VIRTKIT_ERR_INVALID_ARG, "Unknown mode " + mode + " value, expecting "
                                                 "'acpi', 'agent', 'initctl', 'signal' or 'paravirt'");
        start = comma + 1;
    }
    return flags;
}

void shutdown(Session &session, const ParsedCommand &cmd)
{
    const uint32_t flags = shutdownModeFlags(cmd);
    Domain dom = session.domain(cmd);
    dom.shutdown(flags);
    session.extra("Domain " + quoted(dom.name()) + " is being shutdown");
}

void reboot(Session &session, const ParsedCommand &cmd)
{
    const uint32_t flags = shutdownModeFlags(cmd);
    Domain dom = session.domain(cmd);
    dom.reboot(flags);
    session.extra("Domain " + quoted(dom.name()) + " is being rebooted");
}
void destroy(Session &s, const ParsedCommand &c) { domainAction<&Domain::destroy>(s, c, "destroyed"); }
void suspend(Session &s, const ParsedCommand &c) { domainAction<&Domain::suspend>(s, c, "suspended"); }
void resume(Session &s, const ParsedCommand &c) { domainAction<&Domain::resume>(s, c, "resumed"); }
void undefine(Session &s, const ParsedCommand &c) { domainAction<&Domain::undefine>(s, c, "has been undefined"); }

void autostart(Session &session, const ParsedCommand &cmd)
{
    Domain dom = session.domain(cmd);
    const bool on = !cmd.flag("disable");
    dom.setAutostart(on);
    session.extra("Domain " + quoted(dom.name()) + (on ? " marked as autostarted" : " unmarked as autostarted"));
}

OptionSpec domainOption(const std::string &help)
{
    return {"domain", OptionSpec::Kind::Value, true, true, help};
}

OptionSpec fileOption(const std::string &help)
{
    return {"file", OptionSpec::Kind::Value, true, true, help};
}

}  // namespace

void addLifecycleCommands(std::vector<CommandSpec> &table)
{
    const auto simple = [&](const char *name, const char *summary, const char *desc, const char *domHelp,
                            CommandHandler handler) {
        table.push_back({name, "domain", summary, desc, {domainOption(domHelp)}, handler, false});
    };
    table.push_back({"define", "domain", "define (but don't start) a domain from an XML file",
                     "Define a domain.", {fileOption("file containing an XML domain description")}, define, false});
    table.push_back({"create", "domain", "create a domain from an XML file",
                     "Create and start a transient domain.",
                     {fileOption("file containing an XML domain description")}, create, false});
    simple("undefine", "undefine a domain", "Undefine an inactive domain, or convert persistent to transient.",
           "domain name, id or uuid", undefine);
    simple("start", "start a (previously defined) inactive domain", "Start a domain.",
           "name of the inactive domain", start);
    const OptionSpec mode{"mode", OptionSpec::Kind::Value, false, false,
                          "shutdown mode: acpi|agent|initctl|signal|paravirt"};
    table.push_back({"shutdown", "domain", "gracefully shutdown a domain", "Run shutdown in the target domain.",
                     {domainOption("domain name, id or uuid"), mode}, shutdown, false});
    table.push_back({"reboot", "domain", "reboot a domain", "Run a reboot command in the target domain.",
                     {domainOption("domain name, id or uuid"), mode}, reboot, false});
    simple("destroy", "destroy (stop) a domain", "Forcefully stop a given domain, but leave its resources intact.",
           "domain name, id or uuid", destroy);
    simple("suspend", "suspend a domain", "Suspend a running domain.", "domain name, id or uuid", suspend);
    simple("resume", "resume a domain", "Resume a previously suspended domain.", "domain name, id or uuid",
           resume);
    table.push_back({"autostart", "domain", "autostart a domain", "Configure a domain to be automatically started at boot.",
                     {domainOption("domain name, id or uuid"),
                      {"disable", OptionSpec::Kind::Flag, false, false, "disable autostarting"}},
                     autostart, false});
}

}  // namespace virtkit::cli
