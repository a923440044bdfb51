// <interface>: user networking, a host bridge (through qemu-bridge-helper)
// or an existing tap device, each a -netdev plus the guest NIC -device.
#include <virtkit/error.hpp>

#include "command_line/argv_builder.hpp"

namespace virtkit::qemu {
namespace {

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

std::string netdev_for(const xmlNode *interface, const std::string &id)
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
    if (type == "network")
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "virtual networks (<interface type='network'>) are not supported "
                                            "yet; use type='bridge' with the network's bridge");
    throw Error(VIRTKIT_ERR_NO_SUPPORT, "interface type '" + type + "' is not supported");
}

}  // namespace

void add_interfaces(const xmlNode *devices, ArgvBuilder &out)
{
    for (const xmlNode *interface : xml::children(devices, "interface")) {
        xml::allow_only(interface, {"source", "mac", "model", "target", "boot", "address", "alias"});
        const int number = out.next("net");
        const std::string netdev = "hostnet" + std::to_string(number);
        out.add("-netdev", netdev_for(interface, netdev));

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
