// <interface>: user networking, a host bridge (through qemu-bridge-helper),
// a virtual network (= a configured host bridge) or an existing tap device,
// each a -netdev plus the guest NIC -device.
#include <mutex>

#include <virtkit/error.hpp>

#include "command_line/argv_builder.hpp"

namespace virtkit::qemu {
namespace {

std::mutex lookup_mutex;
NetworkBridgeLookup plugin_lookup;  // guarded by lookup_mutex

// libvirt's 'default' network is NAT on virbr0; the same name means the same bridge here.
constexpr const char *default_network = "default";
constexpr const char *default_bridge = "virbr0";

std::string bridge_of_network(const std::string &network, const NetworkBridgeLookup &lookup)
{
    std::optional<std::string> bridge = lookup ? lookup(network) : std::nullopt;
    if (!bridge && network == default_network)
        bridge = default_bridge;
    if (!bridge)
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "virtual network '" + network + "' is not known; map it to a host bridge "
                                            "in virtkit.yaml (plugins: qemu: networks: {" + network + ": <bridge>}) "
                                            "or use <interface type='bridge'>");
    if (bridge->empty())
        throw Error(VIRTKIT_ERR_CONFIG, "plugins.qemu.networks." + network + " names no bridge");
    return *bridge;
}

// <source network='...'/>: only the name can be honoured; a bridge attribute
// (as in live XML read back) must agree with the mapping.
std::string network_bridge(const xmlNode *source, const NetworkBridgeLookup &lookup)
{
    const auto network = source ? xml::attr(source, "network") : std::nullopt;
    if (!network || network->empty())
        throw Error(VIRTKIT_ERR_XML, "<interface type='network'> needs <source network='...'>");
    xml::allow_only(source, {});
    for (const xmlAttr *a = source->properties; a; a = a->next) {
        const std::string name = reinterpret_cast<const char *>(a->name);
        if (name != "network" && name != "bridge")
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "<interface type='network'><source " + name +
                                                    "='...'> is not supported (virtual networks are plain bridges "
                                                    "here)");
    }
    const std::string bridge = bridge_of_network(*network, lookup);
    if (const auto given = xml::attr(source, "bridge"); given && *given != bridge)
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "<source network='" + *network + "' bridge='" + *given +
                                                "'>: the network's bridge is '" + bridge + "'");
    return bridge;
}

std::string nic_driver(const std::string &model)
{
    if (model.empty())
        return "rtl8139";  // libvirt's x86 default
    if (model == "virtio")
        return "virtio-net-pci";
    for (const char *same : {"e1000", "e1000e", "rtl8139", "vmxnet3", "ne2k_pci", "pcnet", "i82559er"})
        if (model == same)
            return model;
    throw Error(VIRTKIT_ERR_NO_SUPPORT, "network card model '" + model + "' is not supported");
}

void check_mac(const std::string &mac)
{
    bool ok = mac.size() == 17;
    for (std::size_t i = 0; ok && i < mac.size(); ++i)
        ok = i % 3 == 2 ? mac[i] == ':' : std::isxdigit(static_cast<unsigned char>(mac[i])) != 0;
    if (!ok)
        throw Error(VIRTKIT_ERR_XML, "'" + mac + "' is not a MAC address");
}

std::string netdev_for(const xmlNode *interface, const std::string &id, const NetworkBridgeLookup &networks)
{
    const std::string type = xml::attr_or(interface, "type", "");
    const xmlNode *source = xml::child(interface, "source");
    if (type == "user") {
        return KeyValueOption("user").add("id", id).str();
    }
    if (type == "bridge") {
        const auto bridge = source ? xml::attr(source, "bridge") : std::nullopt;
        if (!bridge)
            throw Error(VIRTKIT_ERR_XML, "<interface type='bridge'> needs <source bridge='...'>");
        return KeyValueOption("bridge").add("id", id).add("br", *bridge).str();
    }
    if (type == "ethernet") {
        const xmlNode *target = xml::child(interface, "target");
        const auto tap = target ? xml::attr(target, "dev") : std::nullopt;
        if (!tap)
            throw Error(VIRTKIT_ERR_NO_SUPPORT,
                        "<interface type='ethernet'> needs an existing tap named by <target dev='...'>");
        return KeyValueOption("tap").add("id", id).add("ifname", *tap).add("script", "no")
            .add("downscript", "no").str();
    }
    if (type == "network")  // attached exactly as type='bridge'
        return KeyValueOption("bridge").add("id", id).add("br", network_bridge(source, networks)).str();
    throw Error(VIRTKIT_ERR_NO_SUPPORT, "interface type '" + type + "' is not supported");
}

}  // namespace

NetworkBridgeLookup configured_network_bridges()
{
    const std::lock_guard lock(lookup_mutex);
    return plugin_lookup;
}

void set_configured_network_bridges(NetworkBridgeLookup lookup)
{
    const std::lock_guard lock(lookup_mutex);
    plugin_lookup = std::move(lookup);
}

void add_interfaces(const xmlNode *devices, ArgvBuilder &out)
{
    for (const xmlNode *interface : xml::children(devices, "interface")) {
        xml::allow_only(interface, {"source", "mac", "model", "target", "boot", "address", "alias"});
        const int number = out.next("net");
        const std::string netdev = "hostnet" + std::to_string(number);
        out.add("-netdev", netdev_for(interface, netdev, out.options.network_bridges));

        const xmlNode *model = xml::child(interface, "model");
        JsonOption nic("driver", nic_driver(model ? xml::attr_or(model, "type", "") : ""));
        nic.add("netdev", netdev).add("id", "net" + std::to_string(number));
        if (const xmlNode *mac = xml::child(interface, "mac")) {
            const std::string address = xml::attr_or(mac, "address", "");
            check_mac(address);
            nic.add("mac", address);
        }
        out.add_placement(nic, interface);
        out.add_device(nic);
    }
}

}  // namespace virtkit::qemu
