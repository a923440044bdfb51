#include "driver/container_definition.hpp"

#include <algorithm>
#include <array>
#include <linux/capability.h>

#include <virtkit/error.hpp>
#include <virtkit/sdk_uuid.hpp>

#include "xml/xml_document.hpp"

namespace virtkit::lxc {
namespace {

// Index = capability number (linux/capability.h), name as libvirt's XML spells it.
constexpr std::array<const char *, 41> capability_names = {
    "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
    "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
    "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
    "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write", "audit_control", "setfcap",
    "mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf",
    "checkpoint_restore"};

// What a container loses when the XML says nothing: the host-wide knobs a
// container must not turn (kernel modules, clock, raw I/O, audit and MAC policy).
constexpr std::array<int, 6> default_dropped = {CAP_SYS_MODULE, CAP_SYS_TIME, CAP_SYS_RAWIO, CAP_AUDIT_CONTROL,
                                                CAP_MAC_OVERRIDE, CAP_MAC_ADMIN};

std::uint64_t number(const std::string &text, const std::string &where)
{
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 19)
        throw Error(VIRTKIT_ERR_XML, where + " must be a non-negative integer, not '" + text + "'");
    return std::stoull(text);
}

std::uint32_t number32(const std::string &text, const std::string &where)
{
    const std::uint64_t value = number(text, where);
    if (value > 0xffffffffu)
        throw Error(VIRTKIT_ERR_XML, where + " is out of range");
    return static_cast<std::uint32_t>(value);
}

void check_absolute(const std::string &path, const std::string &where)
{
    if (path.empty() || path.front() != '/' || path.find("/../") != std::string::npos ||
        (path.size() >= 3 && path.compare(path.size() - 3, 3, "/..") == 0))
        throw Error(VIRTKIT_ERR_XML, where + " must be an absolute path without '..', not '" + path + "'");
}

void parse_os(ContainerDefinition &def, const xmlNode *os)
{
    if (!os)
        throw Error(VIRTKIT_ERR_XML, "a container needs <os><type>exe</type><init>...</init></os>");
    xml::allow_only(os, "<os>", {"type", "init", "initarg", "initenv", "initdir"});
    if (xml::child_text(os, "type").value_or("") != "exe")
        throw Error(VIRTKIT_ERR_XML, "<os><type> must be 'exe' for an lxc container");
    const std::string arch = xml::attr_or(xml::child(os, "type"), "arch", "x86_64");
    if (arch != "x86_64")
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "<os><type arch='" + arch + "'> is not supported; this host runs x86_64");
    def.init = xml::child_text(os, "init").value_or("");
    check_absolute(def.init, "<os><init>");
    for (const xmlNode *arg : xml::children(os, "initarg"))
        def.init_args.push_back(xml::text(arg));
    for (const xmlNode *env : xml::children(os, "initenv")) {
        const std::string name = xml::attr_or(env, "name", "");
        if (name.empty() || name.find('=') != std::string::npos)
            throw Error(VIRTKIT_ERR_XML, "<initenv> needs a name without '='");
        def.init_env.emplace_back(name, xml::text(env));
    }
    if (const auto dir = xml::child_text(os, "initdir")) {
        check_absolute(*dir, "<os><initdir>");
        def.init_dir = *dir;
    }
}

void parse_capabilities(ContainerDefinition &def, const xmlNode *caps)
{
    std::array<bool, capability_names.size()> drop{};
    const std::string policy = xml::attr_or(caps, "policy", "default");
    if (policy == "default") {
        for (const int cap : default_dropped)
            drop[static_cast<std::size_t>(cap)] = true;
    } else if (policy == "deny") {
        drop.fill(true);
    } else if (policy != "allow") {
        throw Error(VIRTKIT_ERR_XML, "<capabilities policy='" + policy + "'> must be default, allow or deny");
    }
    for (const xmlNode *cap : xml::children(caps)) {
        const std::string name = xml::name(cap);
        const auto found = std::find_if(capability_names.begin(), capability_names.end(),
                                        [&](const char *n) { return name == n; });
        if (found == capability_names.end())
            throw Error(VIRTKIT_ERR_XML, "<capabilities><" + name + "> names no Linux capability");
        const std::string state = xml::attr_or(cap, "state", "");
        if (state != "on" && state != "off")
            throw Error(VIRTKIT_ERR_XML, "<capabilities><" + name + "> needs state='on' or state='off'");
        drop[static_cast<std::size_t>(found - capability_names.begin())] = state == "off";
    }
    for (std::size_t i = 0; i < drop.size(); ++i)
        if (drop[i])
            def.dropped_capabilities.push_back(static_cast<int>(i));
}

void parse_features(ContainerDefinition &def, const xmlNode *features)
{
    xml::allow_only(features, "<features>", {"privnet", "capabilities"});
    def.private_network = xml::child(features, "privnet") != nullptr;
    parse_capabilities(def, xml::child(features, "capabilities"));
}

std::vector<IdRange> parse_ranges(const xmlNode *idmap, const char *kind)
{
    std::vector<IdRange> result;
    for (const xmlNode *range : xml::children(idmap, kind)) {
        const std::string where = std::string("<idmap><") + kind + ">";
        IdRange r;
        r.start = number32(xml::attr_or(range, "start", ""), where + " start");
        r.target = number32(xml::attr_or(range, "target", ""), where + " target");
        r.count = number32(xml::attr_or(range, "count", ""), where + " count");
        result.push_back(r);
    }
    return result;
}

void parse_filesystem(ContainerDefinition &def, const xmlNode *fs)
{
    xml::allow_only(fs, "<filesystem>", {"source", "target", "readonly", "driver"});
    const std::string type = xml::attr_or(fs, "type", "mount");
    const std::string access = xml::attr_or(fs, "accessmode", "passthrough");
    if (access != "passthrough")
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "<filesystem accessmode='" + access + "'> is not supported; use passthrough");
    if (const xmlNode *driver = xml::child(fs, "driver"); driver && xml::attr_or(driver, "type", "path") != "path")
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "<filesystem><driver type='" + xml::attr_or(driver, "type", "") +
                                                "'> is not supported");
    const xmlNode *source = xml::child(fs, "source");
    Filesystem f;
    f.target = xml::attr_or(xml::child(fs, "target"), "dir", "");
    check_absolute(f.target, "<filesystem><target dir>");
    f.readonly = xml::child(fs, "readonly") != nullptr;
    if (type == "mount") {
        f.source = xml::attr_or(source, "dir", "");
        check_absolute(f.source, "<filesystem type='mount'><source dir>");
    } else if (type == "ram") {
        f.kind = Filesystem::Kind::ram;
        f.usage_kib = to_kib(xml::attr_or(source, "usage", "0"), xml::attr_or(source, "units", "KiB"),
                             "<filesystem type='ram'><source usage>");
    } else {
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "<filesystem type='" + type + "'> is not supported; use mount or ram");
    }
    for (const Filesystem &other : def.filesystems)
        if (other.target == f.target)
            throw Error(VIRTKIT_ERR_XML, "two filesystems have the target " + f.target);
    if (f.target == "/") {
        if (f.kind != Filesystem::Kind::bind)
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "the root filesystem must be type='mount'");
        if (!def.root.empty())
            throw Error(VIRTKIT_ERR_XML, "two filesystems have the target /");
        def.root = f.source;
        def.root_readonly = f.readonly;
        return;
    }
    def.filesystems.push_back(f);
}

bool valid_ifname(const std::string &name)
{
    return !name.empty() && name.size() < 16 && name.find_first_of("/ :\t\n") == std::string::npos;
}

void parse_interface(ContainerDefinition &def, const xmlNode *iface)
{
    xml::allow_only(iface, "<interface>", {"source", "mac", "target", "guest", "ip", "route", "link"});
    Interface i;
    i.type = xml::attr_or(iface, "type", "");
    if (i.type == "bridge") {
        i.bridge = xml::attr_or(xml::child(iface, "source"), "bridge", "");
        if (!valid_ifname(i.bridge))
            throw Error(VIRTKIT_ERR_XML, "<interface type='bridge'> needs <source bridge='NAME'/>");
    } else if (i.type == "ethernet") {
        if (xml::child(iface, "source"))
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "<interface type='ethernet'><source> is not supported");
    } else {
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "<interface type='" + i.type +
                                                "'> is not supported by the lxc driver; use ethernet or bridge");
    }
    i.host_name = xml::attr_or(xml::child(iface, "target"), "dev", "");
    i.guest_name = xml::attr_or(xml::child(iface, "guest"), "dev", "eth" + std::to_string(def.interfaces.size()));
    for (const std::string *n : {&i.host_name, &i.guest_name})
        if (!n->empty() && !valid_ifname(*n))
            throw Error(VIRTKIT_ERR_XML, "interface name '" + *n + "' is not a valid Linux interface name");
    i.mac = xml::attr_or(xml::child(iface, "mac"), "address", "");
    if (!i.mac.empty() && (i.mac.size() != 17 || i.mac.find_first_not_of("0123456789abcdefABCDEF:") != std::string::npos))
        throw Error(VIRTKIT_ERR_XML, "<mac address='" + i.mac + "'> is not a MAC address");
    for (const xmlNode *ip : xml::children(iface, "ip")) {
        const std::string family = xml::attr_or(ip, "family", "ipv4");
        const std::string address = xml::attr_or(ip, "address", "");
        const bool v6 = family == "ipv6";
        if (!v6 && family != "ipv4")
            throw Error(VIRTKIT_ERR_XML, "<interface><ip family='" + family + "'> must be ipv4 or ipv6");
        if (address.empty() || address.find_first_not_of(v6 ? "0123456789abcdefABCDEF:." : "0123456789.") != std::string::npos)
            throw Error(VIRTKIT_ERR_XML, "<interface><ip address='" + address + "'> is not an " + family + " address");
        const unsigned prefix = number32(xml::attr_or(ip, "prefix", v6 ? "64" : "24"), "<interface><ip prefix>");
        if (prefix > (v6 ? 128u : 32u))
            throw Error(VIRTKIT_ERR_XML, "<interface><ip prefix> is too large for " + family);
        (v6 ? i.ipv6 : i.ipv4).emplace_back(address, prefix);
    }
    for (const xmlNode *route : xml::children(iface, "route")) {
        const bool v6 = xml::attr_or(route, "family", "ipv4") == "ipv6";
        const std::string address = xml::attr_or(route, "address", v6 ? "::" : "0.0.0.0");
        const std::string prefix = xml::attr_or(route, "prefix", "0");
        const std::string gateway = xml::attr_or(route, "gateway", "");
        if (address != (v6 ? "::" : "0.0.0.0") || prefix != "0" || gateway.empty())
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "<interface><route address='" + address +
                                                    "'> is not supported; only default routes (address " +
                                                    (v6 ? "::" : "0.0.0.0") + " with a gateway) are");
        std::string &slot = v6 ? i.ipv6_gateway : i.ipv4_gateway;
        if (!slot.empty())
            throw Error(VIRTKIT_ERR_XML, "an <interface> has two default routes of one family");
        slot = gateway;
    }
    if (const xmlNode *link = xml::child(iface, "link"))
        i.up = xml::attr_or(link, "state", "up") != "down";
    def.interfaces.push_back(i);
}

void parse_devices(ContainerDefinition &def, const xmlNode *devices)
{
    xml::allow_only(devices, "<devices>", {"emulator", "filesystem", "interface", "console"});
    for (const xmlNode *fs : xml::children(devices, "filesystem"))
        parse_filesystem(def, fs);
    for (const xmlNode *iface : xml::children(devices, "interface"))
        parse_interface(def, iface);
    for (const xmlNode *console : xml::children(devices, "console")) {
        xml::allow_only(console, "<console>", {"target", "source"});
        if (xml::attr_or(console, "type", "pty") != "pty")
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "<console type='" + xml::attr_or(console, "type", "") +
                                                    "'> is not supported; use pty");
        const std::string target = xml::attr_or(xml::child(console, "target"), "type", "lxc");
        if (target != "lxc")
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "<console><target type='" + target + "'> is not supported; use lxc");
        ++def.consoles;
    }
    if (def.consoles > 1)
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "only one <console> per container is supported");
}

void parse_lifecycle_actions(const xmlNode *domain)
{
    for (const char *element : {"on_poweroff", "on_reboot", "on_crash"}) {
        const auto action = xml::child_text(domain, element);
        if (action && *action != "destroy")
            throw Error(VIRTKIT_ERR_NO_SUPPORT, std::string("<") + element + ">" + *action + " is not supported; " +
                                                    "a container that stops is left shut off (use destroy)");
    }
}

}  // namespace

std::uint64_t to_kib(const std::string &text, const std::string &unit, const std::string &where)
{
    const std::uint64_t value = number(text, where);
    struct Unit {
        const char *name;
        std::uint64_t bytes;
    };
    static const Unit units[] = {{"b", 1},           {"bytes", 1},         {"KB", 1000},
                                 {"k", 1024},        {"KiB", 1024},        {"MB", 1000000},
                                 {"M", 1u << 20},    {"MiB", 1u << 20},    {"GB", 1000000000},
                                 {"G", 1u << 30},    {"GiB", 1u << 30},    {"TB", 1000000000000ull},
                                 {"T", 1ull << 40},  {"TiB", 1ull << 40}};
    for (const Unit &u : units)
        if (unit == u.name) {
            if (value > (std::uint64_t{1} << 53) / u.bytes)
                throw Error(VIRTKIT_ERR_XML, where + " is too large");
            return (value * u.bytes + 1023) / 1024;
        }
    throw Error(VIRTKIT_ERR_XML, where + " has an unknown unit '" + unit + "'");
}

ContainerDefinition ContainerDefinition::parse(const std::string &text)
{
    XmlDocument document(text);
    xmlNode *domain = document.root();
    if (xml::name(domain) != "domain")
        throw Error(VIRTKIT_ERR_XML, "the document's root element must be <domain>");
    if (xml::attr_or(domain, "type", "") != "lxc")
        throw Error(VIRTKIT_ERR_XML, "the lxc driver takes <domain type='lxc'> only");
    xml::allow_only(domain, "<domain>",
                    {"name", "uuid", "title", "description", "metadata", "memory", "currentMemory", "vcpu",
                     "cputune", "resource", "os", "features", "idmap", "clock", "on_poweroff", "on_reboot",
                     "on_crash", "devices"});
    ContainerDefinition def;
    def.name = xml::child_text(domain, "name").value_or("");
    if (def.name.empty() || def.name.size() > 63 || def.name.find_first_of("/\\ \t\n'\"") != std::string::npos ||
        def.name.front() == '.' || def.name.front() == '-')
        throw Error(VIRTKIT_ERR_XML, "a container needs a <name> of 1-63 bytes without '/', quotes or blanks "
                                     "(it is also the hostname)");
    if (const auto uuid = xml::child_text(domain, "uuid")) {
        const auto canonical = sdk::canonicalUuid(*uuid);
        if (!canonical)
            throw Error(VIRTKIT_ERR_XML, "<uuid> '" + *uuid + "' is not a UUID");
        def.uuid = *canonical;
        def.xml = text;
    } else {
        def.uuid = sdk::randomUuid();
        xmlNode *element = xmlNewNode(nullptr, reinterpret_cast<const xmlChar *>("uuid"));
        xmlNodeSetContent(element, reinterpret_cast<const xmlChar *>(def.uuid.c_str()));
        xmlAddNextSibling(xml::child(domain, "name"), element);
        def.xml = document.to_string();
    }

    if (const xmlNode *memory = xml::child(domain, "memory"))
        def.memory_kib = to_kib(xml::text(memory), xml::attr_or(memory, "unit", "KiB"), "<memory>");
    if (const auto vcpu = xml::child_text(domain, "vcpu")) {
        def.vcpus = number32(*vcpu, "<vcpu>");
        def.vcpus_given = true;
        if (def.vcpus == 0)
            throw Error(VIRTKIT_ERR_XML, "<vcpu> must be at least 1");
    }
    if (const xmlNode *cputune = xml::child(domain, "cputune")) {
        xml::allow_only(cputune, "<cputune>", {"shares"});
        if (const auto shares = xml::child_text(cputune, "shares")) {
            def.cpu_shares = number(*shares, "<cputune><shares>");
            if (def.cpu_shares < 2 || def.cpu_shares > 262144)
                throw Error(VIRTKIT_ERR_XML, "<cputune><shares> must be between 2 and 262144");
        }
    }
    if (const xmlNode *resource = xml::child(domain, "resource")) {
        xml::allow_only(resource, "<resource>", {"partition"});
        if (const auto partition = xml::child_text(resource, "partition")) {
            check_absolute(*partition, "<resource><partition>");
            if (partition->find_first_of(" \t\n") != std::string::npos || partition->find("//") != std::string::npos)
                throw Error(VIRTKIT_ERR_XML, "<resource><partition> '" + *partition + "' is not a cgroup path");
            def.partition = *partition;
        }
    }
    if (const auto offset = xml::attr(xml::child(domain, "clock"), "offset"); offset && *offset != "utc")
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "<clock offset='" + *offset + "'> is not supported; containers share the "
                                                                          "host clock (utc)");
    parse_lifecycle_actions(domain);
    parse_os(def, xml::child(domain, "os"));
    parse_features(def, xml::child(domain, "features"));
    if (const xmlNode *idmap = xml::child(domain, "idmap")) {
        xml::allow_only(idmap, "<idmap>", {"uid", "gid"});
        def.uid_map = parse_ranges(idmap, "uid");
        def.gid_map = parse_ranges(idmap, "gid");
        if (def.uid_map.empty() || def.gid_map.empty())
            throw Error(VIRTKIT_ERR_XML, "<idmap> needs both <uid> and <gid> ranges");
    }
    parse_devices(def, xml::child(domain, "devices"));
    if (def.root.empty())
        throw Error(VIRTKIT_ERR_XML, "a container needs <filesystem type='mount'> with <target dir='/'/> for its root");
    def.private_network = def.private_network || !def.interfaces.empty();
    return def;
}

}  // namespace virtkit::lxc
