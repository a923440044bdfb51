// capabilities, version, uri, hostname, domxml-from-native, domxml-to-native.
#include <ostream>

#include <virtkit/connection.hpp>
#include <virtkit/domain_xml.hpp>
#include <virtkit/remote.hpp>

#include "command.hpp"
#include "file_input.hpp"
#include "json.hpp"
#include "output.hpp"
#include "session.hpp"

namespace virtkit::cli {

namespace {

void capabilities(Session &session, const ParsedCommand &)
{
    printDocument(session, session.connection().capabilities());
}

// major*1000000 + minor*1000 + micro -> "major.minor.micro"
std::string versionText(uint64_t v)
{
    return std::to_string(v / 1000000) + "." + std::to_string(v / 1000 % 1000) + "." + std::to_string(v % 1000);
}

std::string pluginVersion(Session &session, const std::string &id)
{
    for (const auto &entry : session.context().registry().entries())
        if (entry.manifest.id == id)
            return entry.manifest.version;
    return "unknown";
}

void version(Session &session, const ParsedCommand &cmd)
{
    Connection &conn = session.connection();
    const std::string driver = conn.driverName();
    const std::string driverVersion = pluginVersion(session, driver);
    const std::string hypervisor = versionText(conn.hypervisorVersion());
    std::ostream &out = session.out();
    if (session.json(cmd)) {
        out << JsonObject()
                   .add("compiled_against", VIRTKIT_CLI_VERSION)
                   .add("library", VIRTKIT_CLI_VERSION)
                   .add("driver", driver)
                   .add("driver_version", driverVersion)
                   .add("hypervisor_version", hypervisor)
                   .str()
            << '\n';
        return;
    }
    out << "Compiled against library: virtkit " << VIRTKIT_CLI_VERSION << '\n'
        << "Using library: virtkit " << VIRTKIT_CLI_VERSION << '\n'
        << "Using API: " << driver << ' ' << driverVersion << '\n'
        << "Running hypervisor: " << driver << ' ' << hypervisor << '\n';
}

// --path (virtkit extra): which way the connection went, in-process or through virtkitd.
void uri(Session &session, const ParsedCommand &cmd)
{
    Connection &conn = session.connection();
    if (!cmd.flag("path"))
        return printValue(session, cmd, "uri", conn.uri());
    const remote::Route route = remote::routeOf(conn);
    if (session.json(cmd)) {
        session.out() << JsonObject()
                             .add("uri", conn.uri())
                             .add("via", route.viaDaemon ? "virtkitd" : "in-process")
                             .add("endpoint", route.endpoint)
                             .add("driver_uri", route.driverUri)
                             .str()
                      << '\n';
        return;
    }
    session.out() << conn.uri() << '\n'
                  << (route.viaDaemon ? "via virtkitd at " + route.endpoint + " (daemon opens " + route.driverUri + ")"
                                      : "in-process (plugin '" + conn.driverName() + "')")
                  << '\n';
}

void hostname(Session &session, const ParsedCommand &cmd)
{
    printValue(session, cmd, "hostname", session.connection().hostname());
}

void xmlFromNative(Session &session, const ParsedCommand &cmd)
{
    const std::string native = readInputFile(cmd.required("config"), DomainXml::kMaxBytes);
    printDocument(session, session.connection().domainXmlFromNative(cmd.required("format"), native));
}

void xmlToNative(Session &session, const ParsedCommand &cmd)
{
    const std::string xml = readInputFile(cmd.required("xml"), DomainXml::kMaxBytes);
    printDocument(session, session.connection().domainXmlToNative(cmd.required("format"), xml));
}

}  // namespace

void addHostCommands(std::vector<CommandSpec> &table)
{
    using K = OptionSpec::Kind;
    const OptionSpec format{"format", K::Value, true, true, "source config data format"};
    table.push_back({"capabilities", "host", "capabilities", "Returns capabilities of hypervisor/driver.", {},
                     capabilities, false});
    table.push_back({"version", "host", "show version", "Display the system version information.", {}, version, true});
    table.push_back({"uri", "host", "print the hypervisor canonical URI", "Print the hypervisor canonical URI.",
                     {{"path", K::Flag, false, false, "also say whether the connection is in-process or through virtkitd"}},
                     uri, true});
    table.push_back({"hostname", "host", "print the hypervisor hostname", "Print the hypervisor hostname.", {},
                     hostname, true});
    table.push_back({"domxml-from-native", "domain", "Convert native config to domain XML",
                     "Convert native guest configuration format to domain XML format.",
                     {format, {"config", K::Value, true, true, "config data file to import from"}}, xmlFromNative, false});
    table.push_back({"domxml-to-native", "domain", "Convert domain XML to native config",
                     "Convert domain XML config to a native guest configuration format.",
                     {{"format", K::Value, true, true, "target config data type format"},
                      {"xml", K::Value, true, true, "xml data file to export from"}},
                     xmlToNative, false});
}

}  // namespace virtkit::cli
