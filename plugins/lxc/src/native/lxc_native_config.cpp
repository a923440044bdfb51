#include "native/lxc_native_config.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <virtkit/error.hpp>
#include <virtkit/sdk_uuid.hpp>

#include "driver/container_definition.hpp"

namespace virtkit::lxc {
namespace {

struct Entry {
    std::string key, value;
    int line;
};

struct Network {
    std::string type, flags, link, hwaddr, name, macvlan_mode, vlan_id, ipv4_gateway, ipv6_gateway;
    std::vector<std::string> ipv4, ipv6;  // "address/prefix"
};

std::string trim(const std::string &text)
{
    const auto first = text.find_first_not_of(" \t\r");
    const auto last = text.find_last_not_of(" \t\r");
    return first == std::string::npos ? "" : text.substr(first, last - first + 1);
}

std::vector<std::string> words(const std::string &text)
{
    std::istringstream in(text);
    return {std::istream_iterator<std::string>(in), {}};
}

std::string escaped(const std::string &text)
{
    std::string out;
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '\'': out += "&apos;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
    return out;
}

[[noreturn]] void refuse(const Entry &e, const std::string &why)
{
    throw Error(VIRTKIT_ERR_NO_SUPPORT, "line " + std::to_string(e.line) + ": " + e.key + " = " + e.value + ": " + why);
}

// "8m", "1073741824", "512k" -> KiB (tmpfs size= and cgroup byte values).
std::uint64_t bytes_to_kib(const Entry &e, std::string text)
{
    std::uint64_t scale = 1;
    if (!text.empty() && std::string("kKmMgGtT").find(text.back()) != std::string::npos) {
        const char suffix = static_cast<char>(std::tolower(text.back()));
        scale = suffix == 'k' ? 1ull << 10 : suffix == 'm' ? 1ull << 20 : suffix == 'g' ? 1ull << 30 : 1ull << 40;
        text.pop_back();
    }
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 18)
        refuse(e, "not a size");
    return std::stoull(text) * scale / 1024;
}

// "1,2,5-7" -> "1-2,5-7": the canonical form libvirt's XML uses.
std::string cpu_list(const Entry &e)
{
    std::set<unsigned> ids;
    std::istringstream in(e.value);
    for (std::string part; std::getline(in, part, ',');) {
        part = trim(part);
        const auto dash = part.find('-');
        try {
            const unsigned first = static_cast<unsigned>(std::stoul(part.substr(0, dash)));
            const unsigned last = dash == std::string::npos ? first : static_cast<unsigned>(std::stoul(part.substr(dash + 1)));
            if (last < first || last > 4095)
                refuse(e, "not a CPU list");
            for (unsigned i = first; i <= last; ++i)
                ids.insert(i);
        } catch (const std::logic_error &) {
            refuse(e, "not a CPU list");
        }
    }
    std::string out;
    for (auto it = ids.begin(); it != ids.end();) {
        unsigned first = *it, last = *it;
        while (++it != ids.end() && *it == last + 1)
            last = *it;
        out += (out.empty() ? "" : ",") + std::to_string(first) + (last > first ? "-" + std::to_string(last) : "");
    }
    return out;
}

struct Blkio {
    std::string path;
    std::map<std::string, std::string> values;  // weight, read_bytes_sec, ...
};

class Converter {
public:
    explicit Converter(const std::string &config)
    {
        std::istringstream in(config);
        int number = 0;
        for (std::string line; std::getline(in, line);) {
            ++number;
            line = trim(line);
            if (line.empty() || line.front() == '#')
                continue;
            const auto equals = line.find('=');
            if (equals == std::string::npos)
                throw Error(VIRTKIT_ERR_INVALID_ARG, "line " + std::to_string(number) + ": '" + line +
                                                         "' is not 'key = value'");
            entries_.push_back({trim(line.substr(0, equals)), trim(line.substr(equals + 1)), number});
        }
    }

    ConvertedConfig convert()
    {
        for (const Entry &e : entries_)
            take(e);
        if (name_.empty())
            throw Error(VIRTKIT_ERR_INVALID_ARG, "the configuration has no lxc.uts.name (lxc.utsname)");
        if (root_.empty())
            throw Error(VIRTKIT_ERR_INVALID_ARG, "the configuration has no lxc.rootfs.path (lxc.rootfs)");
        return {xml(), warnings_};
    }

private:
    void warn(const Entry &e, const std::string &why)
    {
        warnings_.push_back("line " + std::to_string(e.line) + ": " + e.key + " is not converted: " + why);
    }

    Network &network_v2(const Entry &e)
    {
        if (networks_.empty())
            refuse(e, "comes before the lxc.network.type that starts its interface");
        return networks_.back().second;
    }

    Network &network_v3(const Entry &e, std::string &field)
    {
        // lxc.net.N.field
        const std::string rest = e.key.substr(8);
        const auto dot = rest.find('.');
        const std::string index = rest.substr(0, dot);
        if (dot == std::string::npos || index.empty() || index.find_first_not_of("0123456789") != std::string::npos)
            refuse(e, "expected lxc.net.<index>.<key>");
        field = rest.substr(dot + 1);
        const int i = std::stoi(index);
        for (auto &[n, net] : networks_)
            if (n == i)
                return net;
        networks_.emplace_back(i, Network{});
        return networks_.back().second;
    }

    void take_network(const Entry &e, Network &net, const std::string &field)
    {
        if (field == "type")
            net.type = e.value;
        else if (field == "flags")
            net.flags = e.value;
        else if (field == "link")
            net.link = e.value;
        else if (field == "hwaddr")
            net.hwaddr = e.value;
        else if (field == "name")
            net.name = e.value;
        else if (field == "macvlan.mode")
            net.macvlan_mode = e.value;
        else if (field == "vlan.id")
            net.vlan_id = e.value;
        else if (field == "ipv4" || field == "ipv4.address")
            for (const auto &w : words(e.value))
                net.ipv4.push_back(w);
        else if (field == "ipv6" || field == "ipv6.address")
            for (const auto &w : words(e.value))
                net.ipv6.push_back(w);
        else if (field == "ipv4.gateway")
            net.ipv4_gateway = e.value;
        else if (field == "ipv6.gateway")
            net.ipv6_gateway = e.value;
        else
            warn(e, "no domain XML equivalent for this network key");
    }

    void take_cgroup(const Entry &e, const std::string &key, bool v2)
    {
        if (key == (v2 ? "memory.max" : "memory.limit_in_bytes"))
            hard_limit_ = bytes_to_kib(e, e.value);
        else if (key == (v2 ? "memory.high" : "memory.soft_limit_in_bytes"))
            soft_limit_ = bytes_to_kib(e, e.value);
        else if (key == (v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes"))
            swap_limit_ = bytes_to_kib(e, e.value);
        else if (!v2 && key == "cpu.shares")
            cputune_["shares"] = e.value;
        else if (!v2 && key == "cpu.cfs_period_us")
            cputune_["period"] = e.value;
        else if (!v2 && key == "cpu.cfs_quota_us")
            cputune_["quota"] = e.value;
        else if (v2 && key == "cpu.max") {
            const auto w = words(e.value);
            if (w.empty() || w.size() > 2)
                refuse(e, "expected 'QUOTA [PERIOD]'");
            cputune_["quota"] = w[0] == "max" ? "-1" : w[0];
            if (w.size() == 2)
                cputune_["period"] = w[1];
        } else if (key == "cpuset.cpus")
            cpuset_ = cpu_list(e);
        else if (key == "cpuset.mems")
            nodeset_ = cpu_list(e);
        else if (!v2 && key == "blkio.weight")
            blkio_weight_ = e.value;
        else if (!v2 && key.rfind("blkio.", 0) == 0 && blkio_key(key))
            take_blkio_device(e, *blkio_key(key));
        else
            warn(e, "no domain XML equivalent for this cgroup setting");
    }

    static std::optional<std::string> blkio_key(const std::string &key)
    {
        static const std::map<std::string, std::string> keys = {
            {"blkio.device_weight", "weight"},
            {"blkio.throttle.read_bps_device", "read_bytes_sec"},
            {"blkio.throttle.write_bps_device", "write_bytes_sec"},
            {"blkio.throttle.read_iops_device", "read_iops_sec"},
            {"blkio.throttle.write_iops_device", "write_iops_sec"}};
        const auto found = keys.find(key);
        return found == keys.end() ? std::nullopt : std::optional<std::string>(found->second);
    }

    void take_blkio_device(const Entry &e, const std::string &what)
    {
        const auto w = words(e.value);
        if (w.size() != 2 || w[0].find(':') == std::string::npos)
            refuse(e, "expected 'MAJOR:MINOR VALUE'");
        const std::string path = "/dev/block/" + w[0];
        auto found = std::find_if(blkio_.begin(), blkio_.end(), [&](const Blkio &b) { return b.path == path; });
        if (found == blkio_.end()) {
            blkio_.push_back({path, {}});
            found = blkio_.end() - 1;
        }
        found->values[what] = w[1];
    }

    void take_mount(const Entry &e)
    {
        // fstab fields: source target type options [dump pass]
        const auto f = words(e.value);
        if (f.size() < 4)
            refuse(e, "expected 'SOURCE TARGET TYPE OPTIONS'");
        if (f[2] == "proc" || f[2] == "sysfs")
            return;  // every container gets /proc and a read-only /sys
        const std::string target = f[1].front() == '/' ? f[1] : "/" + f[1];
        std::vector<std::string> options;
        std::istringstream in(f[3]);
        for (std::string o; std::getline(in, o, ',');)
            options.push_back(o);
        const auto has = [&](const char *o) { return std::find(options.begin(), options.end(), o) != options.end(); };
        std::string xml;
        if (f[2] == "tmpfs") {
            std::uint64_t kib = 0;
            for (const auto &o : options)
                if (o.rfind("size=", 0) == 0)
                    kib = bytes_to_kib(e, o.substr(5));
            xml = "    <filesystem type='ram' accessmode='passthrough'>\n      <source usage='" + std::to_string(kib) +
                  "' units='KiB'/>\n";
        } else if (has("bind") || has("rbind")) {
            xml = "    <filesystem type='mount' accessmode='passthrough'>\n      <source dir='" + escaped(f[0]) + "'/>\n";
        } else {
            warn(e, "only bind and tmpfs mounts have a domain XML form");
            return;
        }
        xml += "      <target dir='" + escaped(target) + "'/>\n";
        if (has("ro"))
            xml += "      <readonly/>\n";
        filesystems_ += xml + "    </filesystem>\n";
    }

    void take_idmap(const Entry &e)
    {
        const auto w = words(e.value);
        if (w.size() != 4 || (w[0] != "u" && w[0] != "g"))
            refuse(e, "expected 'u|g CONTAINER_ID HOST_ID COUNT'");
        (w[0] == "u" ? uid_map_ : gid_map_) +=
            std::string("    <") + (w[0] == "u" ? "uid" : "gid") + " start='" + escaped(w[1]) + "' target='" +
            escaped(w[2]) + "' count='" + escaped(w[3]) + "'/>\n";
    }

    void take(const Entry &e)
    {
        const std::string &k = e.key;
        if (k == "lxc.utsname" || k == "lxc.uts.name") {
            name_ = e.value;
        } else if (k == "lxc.rootfs" || k == "lxc.rootfs.path") {
            root_ = e.value;
            const auto colon = root_.find(':');
            if (colon != std::string::npos && root_.front() != '/') {
                const std::string type = root_.substr(0, colon);
                if (type != "dir")
                    refuse(e, "a '" + type + ":' root file system is not supported; only directories (dir:) are");
                root_ = root_.substr(colon + 1);
            }
            if (root_.empty() || root_.front() != '/')
                refuse(e, "the root must be an absolute directory path");
        } else if (k == "lxc.mount" || k == "lxc.mount.fstab") {
            refuse(e, "an fstab file is not read; use lxc.mount.entry lines");
        } else if (k == "lxc.mount.entry") {
            take_mount(e);
        } else if (k == "lxc.id_map" || k == "lxc.idmap") {
            take_idmap(e);
        } else if (k == "lxc.arch") {
            static const std::map<std::string, std::string> arches = {
                {"x86", "i686"}, {"i686", "i686"}, {"i386", "i686"}, {"x86_64", "x86_64"}, {"amd64", "x86_64"}};
            const auto found = arches.find(e.value);
            if (found == arches.end())
                warn(e, "unknown architecture '" + e.value + "'");
            else
                arch_ = found->second;
        } else if (k == "lxc.tty" || k == "lxc.tty.max") {
            if (e.value.empty() || e.value.find_first_not_of("0123456789") != std::string::npos)
                refuse(e, "not a number");
            ttys_ = std::stoi(e.value);
        } else if (k == "lxc.cap.drop" || k == "lxc.cap.keep") {
            for (const auto &w : words(e.value))
                (k == "lxc.cap.drop" ? cap_drop_ : cap_keep_).insert(w);
        } else if (k == "lxc.network.type") {
            networks_.emplace_back(static_cast<int>(networks_.size()), Network{});
            networks_.back().second.type = e.value;
        } else if (k.rfind("lxc.network.", 0) == 0) {
            take_network(e, network_v2(e), k.substr(12));
        } else if (k.rfind("lxc.net.", 0) == 0) {
            std::string field;
            Network &net = network_v3(e, field);
            take_network(e, net, field);
        } else if (k.rfind("lxc.cgroup2.", 0) == 0) {
            take_cgroup(e, k.substr(12), true);
        } else if (k.rfind("lxc.cgroup.", 0) == 0) {
            take_cgroup(e, k.substr(11), false);
        } else if (k == "lxc.autodev" || k == "lxc.pts" || k == "lxc.pty.max") {
            // What these ask for is what every container gets: a private /dev and devpts.
        } else {
            warn(e, "no domain XML equivalent");
        }
    }

    std::string interfaces_and_hostdevs(std::string &hostdevs)
    {
        std::string out;
        for (const auto &[index, n] : networks_) {
            std::string addresses;
            for (const auto &[list, family] : {std::pair{&n.ipv4, "ipv4"}, std::pair{&n.ipv6, "ipv6"}})
                for (const std::string &a : *list) {
                    const auto slash = a.find('/');
                    addresses += "      <ip address='" + escaped(a.substr(0, slash)) + "' family='" + family + "'" +
                                 (slash == std::string::npos ? "" : " prefix='" + escaped(a.substr(slash + 1)) + "'") +
                                 "/>\n";
                }
            if (!n.ipv4_gateway.empty())
                addresses += "      <route family='ipv4' address='0.0.0.0' gateway='" + escaped(n.ipv4_gateway) + "'/>\n";
            if (!n.ipv6_gateway.empty())
                addresses += "      <route family='ipv6' address='::' gateway='" + escaped(n.ipv6_gateway) + "'/>\n";
            const std::string mac = n.hwaddr.empty() ? "" : "      <mac address='" + escaped(n.hwaddr) + "'/>\n";
            const std::string link = n.flags == "up" ? "      <link state='up'/>\n" : "";
            const std::string guest = n.name.empty() ? "" : "      <guest dev='" + escaped(n.name) + "'/>\n";
            if (n.type == "veth") {
                out += std::string("    <interface type='") + (n.link.empty() ? "ethernet" : "bridge") + "'>\n" + mac +
                       (n.link.empty() ? "" : "      <source bridge='" + escaped(n.link) + "'/>\n") + addresses +
                       guest + link + "    </interface>\n";
            } else if (n.type == "macvlan") {
                out += "    <interface type='direct'>\n" + mac + "      <source dev='" + escaped(n.link) + "'" +
                       (n.macvlan_mode.empty() ? "" : " mode='" + escaped(n.macvlan_mode) + "'") + "/>\n" + addresses +
                       guest + link + "    </interface>\n";
            } else if (n.type == "phys" || n.type == "vlan") {
                // libvirt's <hostdev type='net'> passes a host interface through
                // as it is: it has no form for a new name, MAC or link state.
                for (const auto &[value, key] : {std::pair{&n.name, "name"}, std::pair{&n.hwaddr, "hwaddr"},
                                                 std::pair{&n.flags, "flags"}})
                    if (!value->empty())
                        warnings_.push_back("lxc.net." + std::to_string(index) + "." + key + " is not converted: a " +
                                            n.type + " interface becomes a <hostdev>, which keeps the host's " + key);
                const std::string dev = n.type == "vlan" ? n.link + "." + n.vlan_id : n.link;
                hostdevs += "    <hostdev mode='capabilities' type='net'>\n      <source>\n        <interface>" +
                            escaped(dev) + "</interface>\n      </source>\n" + addresses + "    </hostdev>\n";
            }
        }
        return out;
    }

    bool private_network() const
    {
        // No network at all, or only "empty" ones: a namespace with just lo.
        // "none" shares the host's.
        return std::all_of(networks_.begin(), networks_.end(), [](const auto &n) { return n.second.type == "empty"; });
    }

    std::string xml()
    {
        for (const auto &[index, n] : networks_)
            if (n.type != "veth" && n.type != "macvlan" && n.type != "phys" && n.type != "vlan" && n.type != "none" &&
                n.type != "empty")
                throw Error(VIRTKIT_ERR_NO_SUPPORT, "network type '" + n.type + "' (lxc.net." + std::to_string(index) +
                                                        ".type) has no domain XML form");
        const std::uint64_t memory = hard_limit_ ? hard_limit_ : 65536;
        std::string x = "<domain type='lxc'>\n  <name>" + escaped(name_) + "</name>\n  <uuid>" + sdk::randomUuid() +
                        "</uuid>\n  <memory unit='KiB'>" + std::to_string(memory) +
                        "</memory>\n  <currentMemory unit='KiB'>" + std::to_string(memory) + "</currentMemory>\n";
        if (!blkio_weight_.empty() || !blkio_.empty()) {
            x += "  <blkiotune>\n";
            if (!blkio_weight_.empty())
                x += "    <weight>" + escaped(blkio_weight_) + "</weight>\n";
            for (const Blkio &b : blkio_) {
                x += "    <device>\n      <path>" + escaped(b.path) + "</path>\n";
                for (const char *k : {"weight", "read_iops_sec", "write_iops_sec", "read_bytes_sec", "write_bytes_sec"})
                    if (b.values.count(k))
                        x += std::string("      <") + k + ">" + escaped(b.values.at(k)) + "</" + k + ">\n";
                x += "    </device>\n";
            }
            x += "  </blkiotune>\n";
        }
        if (hard_limit_ || soft_limit_ || swap_limit_) {
            x += "  <memtune>\n";
            if (hard_limit_)
                x += "    <hard_limit unit='KiB'>" + std::to_string(hard_limit_) + "</hard_limit>\n";
            if (soft_limit_)
                x += "    <soft_limit unit='KiB'>" + std::to_string(soft_limit_) + "</soft_limit>\n";
            if (swap_limit_)
                x += "    <swap_hard_limit unit='KiB'>" + std::to_string(swap_limit_) + "</swap_hard_limit>\n";
            x += "  </memtune>\n";
        }
        x += "  <vcpu placement='static'" + (cpuset_.empty() ? "" : " cpuset='" + cpuset_ + "'") + ">1</vcpu>\n";
        if (!cputune_.empty()) {
            x += "  <cputune>\n";
            for (const char *k : {"shares", "period", "quota"})
                if (cputune_.count(k))
                    x += std::string("    <") + k + ">" + escaped(cputune_.at(k)) + "</" + k + ">\n";
            x += "  </cputune>\n";
        }
        if (!nodeset_.empty())
            x += "  <numatune>\n    <memory mode='strict' nodeset='" + nodeset_ + "'/>\n  </numatune>\n";
        x += "  <os>\n    <type" + (arch_.empty() ? "" : " arch='" + arch_ + "'") +
             ">exe</type>\n    <init>/sbin/init</init>\n  </os>\n";
        if (!uid_map_.empty() || !gid_map_.empty())
            x += "  <idmap>\n" + uid_map_ + gid_map_ + "  </idmap>\n";
        x += "  <features>\n";
        if (private_network())
            x += "    <privnet/>\n";
        x += capabilities() + "  </features>\n";
        x += "  <clock offset='utc'/>\n  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n"
             "  <on_crash>destroy</on_crash>\n  <devices>\n";
        x += "    <filesystem type='mount' accessmode='passthrough'>\n      <source dir='" + escaped(root_) +
             "'/>\n      <target dir='/'/>\n    </filesystem>\n" + filesystems_;
        std::string hostdevs;
        x += interfaces_and_hostdevs(hostdevs);
        for (int i = 0; i < ttys_; ++i)
            x += "    <console type='pty'>\n      <target type='lxc' port='" + std::to_string(i) + "'/>\n    </console>\n";
        x += hostdevs + "  </devices>\n</domain>\n";
        return x;
    }

    std::string capabilities() const
    {
        if (!cap_keep_.empty()) {
            std::string x = "    <capabilities policy='deny'>\n";
            for (const auto &c : cap_keep_)
                x += "      <" + escaped(c) + " state='on'/>\n";
            return x + "    </capabilities>\n";
        }
        if (cap_drop_.empty())
            return "    <capabilities policy='allow'/>\n";
        std::string x = "    <capabilities policy='allow'>\n";
        for (const auto &c : cap_drop_)
            x += "      <" + escaped(c) + " state='off'/>\n";
        return x + "    </capabilities>\n";
    }

    std::vector<Entry> entries_;
    std::vector<std::string> warnings_;
    std::string name_, root_, arch_, filesystems_, uid_map_, gid_map_, cpuset_, nodeset_, blkio_weight_;
    std::vector<std::pair<int, Network>> networks_;
    std::vector<Blkio> blkio_;
    std::map<std::string, std::string> cputune_;
    std::set<std::string> cap_drop_, cap_keep_;
    std::uint64_t hard_limit_ = 0, soft_limit_ = 0, swap_limit_ = 0;
    int ttys_ = 0;
};

}  // namespace

ConvertedConfig domain_xml_from_lxc_config(const std::string &config) { return Converter(config).convert(); }

}  // namespace virtkit::lxc
