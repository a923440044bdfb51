// dominfo, domstate, dumpxml, domuuid, domname, domid.
#include <cstdio>
#include <ostream>

#include <virtkit/connection.hpp>

#include "command.hpp"
#include "domain_format.hpp"
#include "json.hpp"
#include "output.hpp"
#include "session.hpp"

namespace virtkit::cli {

namespace {

// virsh's "%-15s %s" layout.
void field(std::ostream &out, const std::string &label, const std::string &value)
{
    out << label << std::string(label.size() < 15 ? 15 - label.size() : 0, ' ') << ' ' << value << '\n';
}

std::string cpuTimeText(uint64_t ns)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ns) / 1e9);
    return buf;
}

// The hypervisor log a driver names in the live XML
// (<metadata><virtkit:runtime log='PATH'/>, written by the qemu driver).
std::string runtimeLogPath(const std::string &xml)
{
    const auto element = xml.find(":runtime ");
    if (element == std::string::npos || xml.find("https://virtkit.dev/schemas/runtime/1.0") == std::string::npos)
        return "";
    const auto end = xml.find('>', element);
    const auto attr = xml.find(" log=", element);
    if (attr == std::string::npos || attr > end || attr + 6 > xml.size())
        return "";
    const char quote = xml[attr + 5];
    const auto close = xml.find(quote, attr + 6);
    if (close == std::string::npos)
        return "";
    std::string path;
    for (std::size_t i = attr + 6; i < close; ++i) {  // the five predefined entities
        if (xml[i] != '&') {
            path += xml[i];
            continue;
        }
        const auto semi = xml.find(';', i);
        const std::string entity = xml.substr(i + 1, semi - i - 1);
        path += entity == "amp" ? "&" : entity == "lt" ? "<" : entity == "gt" ? ">" : entity == "quot" ? "\"" : "'";
        i = semi;
    }
    return path;
}

void dominfo(Session &session, const ParsedCommand &cmd)
{
    Domain dom = session.domain(cmd);
    const DomainInfo info = dom.info();
    const bool autostart = dom.autostart();
    const std::string osType = dom.osType();
    std::ostream &out = session.out();
    if (session.json(cmd)) {
        JsonObject obj;
        addIdJson(obj, dom.id());
        obj.add("name", dom.name()).add("uuid", dom.uuid()).add("os_type", osType);
        obj.add("state", domainStateName(info.state)).add("reason", domainStateReasonName(info.state, info.reason));
        obj.add("vcpus", info.vcpus).add("cpu_time_ns", info.cpuTimeNs);
        obj.add("max_memory_kib", info.maxMemKiB).add("used_memory_kib", info.memoryKiB);
        obj.add("persistent", info.persistent).add("autostart", autostart);
        if (const std::string log = runtimeLogPath(dom.xml()); !log.empty())
            obj.add("log", log);
        out << obj.str() << '\n';
        return;
    }
    field(out, "Id:", idText(dom.id()));
    field(out, "Name:", dom.name());
    field(out, "UUID:", dom.uuid());
    field(out, "OS Type:", osType);
    field(out, "State:", domainStateName(info.state));
    field(out, "CPU(s):", std::to_string(info.vcpus));
    if (info.cpuTimeNs != 0)  // virsh omits a zero CPU time
        field(out, "CPU time:", cpuTimeText(info.cpuTimeNs));
    field(out, "Max memory:", std::to_string(info.maxMemKiB) + " KiB");
    field(out, "Used memory:", std::to_string(info.memoryKiB) + " KiB");
    field(out, "Persistent:", info.persistent ? "yes" : "no");
    field(out, "Autostart:", autostart ? "enable" : "disable");
}

void domstate(Session &session, const ParsedCommand &cmd)
{
    const DomainInfo info = session.domain(cmd).info();
    if (session.json(cmd)) {
        session.out() << JsonObject()
                             .add("state", domainStateName(info.state))
                             .add("reason", domainStateReasonName(info.state, info.reason))
                             .str()
                      << '\n';
        return;
    }
    session.out() << stateText(info.state, info.reason, cmd.flag("reason")) << '\n';
}

void dumpxml(Session &session, const ParsedCommand &cmd)
{
    printDocument(session, session.domain(cmd).xml());
}

void domuuid(Session &session, const ParsedCommand &cmd)
{
    printValue(session, cmd, "uuid", session.domain(cmd).uuid());
}

void domid(Session &session, const ParsedCommand &cmd)
{
    Domain dom = session.domain(cmd);
    if (session.json(cmd)) {
        JsonObject obj;
        addIdJson(obj, dom.id());
        session.out() << obj.str() << '\n';
        return;
    }
    session.out() << idText(dom.id()) << '\n';
}

// virsh's domname takes an ID or a UUID, not a name.
void domname(Session &session, const ParsedCommand &cmd)
{
    const std::string &key = cmd.required("domain");
    Connection &conn = session.connection();
    const bool numeric = !key.empty() && key.find_first_not_of("0123456789") == std::string::npos && key.size() < 10;
    const DomainRef ref = numeric ? conn.lookupById(std::stoi(key)) : conn.lookupByUuid(key);
    printValue(session, cmd, "name", ref.name);
}

}  // namespace

void addDomainInfoCommands(std::vector<CommandSpec> &table)
{
    using K = OptionSpec::Kind;
    const OptionSpec domain{"domain", K::Value, true, true, "domain name, id or uuid"};
    table.push_back({"dominfo", "domain", "domain information", "Returns basic information about the domain.",
                     {domain}, dominfo, true});
    table.push_back({"domstate", "domain", "domain state", "Returns state about a domain.",
                     {domain, {"reason", K::Flag, false, false, "also print reason for the state"}}, domstate, true});
    table.push_back({"dumpxml", "domain", "domain information in XML",
                     "Output the domain information as an XML dump to stdout.", {domain}, dumpxml, false});
    table.push_back({"domuuid", "domain", "convert a domain name or id to domain UUID",
                     "Convert a domain name or id to domain UUID.", {domain}, domuuid, true});
    table.push_back({"domid", "domain", "convert a domain name or UUID to domain id",
                     "Convert a domain name or UUID to domain id.", {domain}, domid, true});
    table.push_back({"domname", "domain", "convert a domain id or UUID to domain name",
                     "Convert a domain id or UUID to domain name.",
                     {{"domain", K::Value, true, true, "domain id or uuid"}}, domname, true});
}

}  // namespace virtkit::cli
