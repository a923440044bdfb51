// list: virsh's table, --name/--uuid one per line, or --json.
#include <algorithm>
#include <ostream>

#include <virtkit/connection.hpp>
#include <virtkit/error.hpp>

#include "command.hpp"
#include "domain_format.hpp"
#include "json.hpp"
#include "session.hpp"
#include "table.hpp"

namespace virtkit::cli {

namespace {

struct ListedDomain {
    DomainRef ref;
    DomainInfo info;
};

// Running domains by id, then the others by name, as virsh sorts them.
bool listOrder(const ListedDomain &a, const ListedDomain &b)
{
    const bool aActive = a.ref.id >= 0, bActive = b.ref.id >= 0;
    if (aActive != bActive)
        return aActive;
    return aActive ? a.ref.id < b.ref.id : a.ref.name < b.ref.name;
}

std::vector<ListedDomain> collect(Connection &conn, uint32_t flags, bool needInfo)
{
    std::vector<ListedDomain> domains;
    for (auto &ref : conn.listDomains(flags)) {
        ListedDomain d{std::move(ref), {}};
        if (needInfo) {
            try {
                d.info = conn.domainInfo(d.ref.uuid);
            } catch (const Error &e) {
                if (e.code() == VIRTKIT_ERR_NO_DOMAIN)
                    continue;  // undefined while we were listing
                throw;
            }
        }
        domains.push_back(std::move(d));
    }
    std::sort(domains.begin(), domains.end(), listOrder);
    return domains;
}

void printJson(std::ostream &out, const std::vector<ListedDomain> &domains)
{
    std::vector<std::string> items;
    for (const auto &d : domains) {
        JsonObject obj;
        addIdJson(obj, d.ref.id);
        obj.add("name", d.ref.name).add("uuid", d.ref.uuid);
        obj.add("state", domainStateName(d.info.state));
        obj.add("reason", domainStateReasonName(d.info.state, d.info.reason));
        obj.add("persistent", d.info.persistent);
        items.push_back(obj.str());
    }
    out << jsonArray(items) << '\n';
}

void list(Session &session, const ParsedCommand &cmd)
{
    uint32_t flags = ListActive;
    if (cmd.flag("all"))
        flags = ListActive | ListInactive;
    else if (cmd.flag("inactive"))
        flags = ListInactive;
    const bool json = session.json(cmd);
    const bool names = cmd.flag("name"), uuids = cmd.flag("uuid");
    const auto domains = collect(session.connection(), flags, json || !(names || uuids));
    std::ostream &out = session.out();
    if (json) {
        printJson(out, domains);
    } else if (names || uuids) {
        for (const auto &d : domains) {
            if (uuids)
                out << d.ref.uuid << (names ? " " : "");
            if (names)
                out << d.ref.name;
            out << '\n';
        }
    } else {
        Table table({"Id", "Name", "State"});
        for (const auto &d : domains)
            table.addRow({idText(d.ref.id), d.ref.name, domainStateName(d.info.state)});
        table.print(out, !session.quiet());
    }
}

}  // namespace

void addDomainListCommands(std::vector<CommandSpec> &table)
{
    using K = OptionSpec::Kind;
    table.push_back({"list", "domain", "list domains",
                     "Returns the list of running domains, or with --all every defined one.",
                     {{"all", K::Flag, false, false, "list inactive & active domains"},
                      {"inactive", K::Flag, false, false, "list inactive domains"},
                      {"name", K::Flag, false, false, "list domain names only"},
                      {"uuid", K::Flag, false, false, "list uuid's only"}},
                     list, true});
}

}  // namespace virtkit::cli
