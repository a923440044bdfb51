#include "driver/domain_xml.hpp"

#include <cctype>
#include <map>
#include <set>

#include <virtkit/error.hpp>

#include "soap/xml_tree.hpp"

namespace virtkit::esx::vsphere {

namespace {

std::string attr(const std::string &name, const std::string &value)
{
    return " " + name + "='" + escapeXml(value) + "'";
}

bool endsWith(const std::string &s, const std::string &suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Controller device key -> libvirt bus name.
std::map<std::string, std::string> controllerBuses(const xmlNode *devices)
{
    std::map<std::string, std::string> buses;
    for (const xmlNode *device : children(devices, "VirtualDevice")) {
        const std::string type = xsiType(device);
        const std::string key = text(child(device, "key"));
        if (type == "VirtualIDEController")
            buses[key] = "ide";
        else if (type == "VirtualAHCIController")
            buses[key] = "sata";
        else if (type == "VirtualNVMEController")
            buses[key] = "nvme";
        else if (endsWith(type, "SCSIController") || type == "VirtualLsiLogicController" ||
                 type == "VirtualBusLogicController" || type == "VirtualLsiLogicSASController")
            buses[key] = "scsi";
    }
    return buses;
}

std::string targetName(const std::string &bus, int index)
{
    const std::string prefix = bus == "ide" ? "hd" : bus == "nvme" ? "nvme0n" : "sd";
    if (bus == "nvme")
        return prefix + std::to_string(index + 1);
    std::string suffix;
    for (int i = index; i >= 0; i = i / 26 - 1)
        suffix.insert(suffix.begin(), static_cast<char>('a' + i % 26));
    return prefix + suffix;
}

std::string nicModel(const std::string &type)
{
    static const std::map<std::string, std::string> models = {
        {"VirtualE1000", "e1000"}, {"VirtualE1000e", "e1000e"}, {"VirtualVmxnet3", "vmxnet3"},
        {"VirtualVmxnet2", "vmxnet2"}, {"VirtualVmxnet", "vmxnet"}, {"VirtualPCNet32", "vlance"}};
    const auto it = models.find(type);
    return it == models.end() ? "" : it->second;
}

uint64_t toKiB(const xmlNode *node, const char *what)
{
    const std::string value = text(node);
    std::string unit = attribute(node, "unit");
    if (unit.empty())
        unit = "KiB";
    static const std::map<std::string, double> scale = {
        {"b", 1.0 / 1024}, {"bytes", 1.0 / 1024}, {"KB", 1000.0 / 1024}, {"k", 1}, {"KiB", 1},
        {"MB", 1e6 / 1024}, {"M", 1024}, {"MiB", 1024}, {"GB", 1e9 / 1024}, {"G", 1048576}, {"GiB", 1048576},
        {"TB", 1e12 / 1024}, {"T", 1073741824.0}, {"TiB", 1073741824.0}};
    const auto factor = scale.find(unit);
    if (factor == scale.end())
        throw Error(VIRTKIT_ERR_XML, std::string("<") + what + "> has an unknown unit '" + unit + "'");
    if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos || value.size() > 15)
        throw Error(VIRTKIT_ERR_XML, std::string("<") + what + "> must be a whole number, not '" + value + "'");
    return static_cast<uint64_t>(static_cast<double>(std::stoull(value)) * factor->second);
}

}  // namespace

const std::vector<std::string> &vmConfigPaths()
{
    static const std::vector<std::string> paths = {"name",
                                                   "config.uuid",
                                                   "config.annotation",
                                                   "config.guestId",
                                                   "config.hardware.memoryMB",
                                                   "config.hardware.numCPU",
                                                   "config.hardware.device",
                                                   "config.files.vmPathName"};
    return paths;
}

std::string domainXmlFromConfig(const ObjectProperties &vm)
{
    const uint64_t memoryKiB = static_cast<uint64_t>(vm.integer("config.hardware.memoryMB").value_or(0)) * 1024;
    const std::string guestId = vm.string("config.guestId");
    std::string xml = "<domain type='vmware'>\n";
    xml += "  <name>" + escapeXml(vm.string("name")) + "</name>\n";
    xml += "  <uuid>" + escapeXml(vm.string("config.uuid")) + "</uuid>\n";
    if (const std::string note = vm.string("config.annotation"); !note.empty())
        xml += "  <description>" + escapeXml(note) + "</description>\n";
    xml += "  <memory unit='KiB'>" + std::to_string(memoryKiB) + "</memory>\n";
    xml += "  <currentMemory unit='KiB'>" + std::to_string(memoryKiB) + "</currentMemory>\n";
    xml += "  <vcpu placement='static'>" + std::to_string(vm.integer("config.hardware.numCPU").value_or(1)) +
           "</vcpu>\n";
    xml += "  <os>\n    <type arch='" + std::string(endsWith(guestId, "64Guest") || endsWith(guestId, "_64Guest")
                                                          ? "x86_64"
                                                          : "i686") +
           "'>hvm</type>\n  </os>\n";
    xml += "  <devices>\n";

    const xmlNode *devices = vm.node("config.hardware.device");
    const auto buses = controllerBuses(devices);
    std::map<std::string, int> nextIndex;
    for (const xmlNode *device : children(devices, "VirtualDevice")) {
        const std::string type = xsiType(device);
        const xmlNode *backing = child(device, "backing");
        const std::string file = text(child(backing, "fileName"));
        if (type == "VirtualDisk" || type == "VirtualCdrom") {
            const auto bus = buses.find(text(child(device, "controllerKey")));
            const std::string busName = bus == buses.end() ? "scsi" : bus->second;
            const bool cdrom = type == "VirtualCdrom";
            if (cdrom && file.empty())
                xml += "    <disk type='file' device='cdrom'>\n";
            else
                xml += "    <disk type='file' device='" + std::string(cdrom ? "cdrom" : "disk") + "'>\n      <source" +
                       attr("file", file) + "/>\n";
            xml += "      <target" + attr("dev", targetName(busName, nextIndex[busName]++)) + attr("bus", busName) +
                   "/>\n    </disk>\n";
        } else if (const std::string model = nicModel(type); !model.empty()) {
            const std::string network = text(child(backing, "deviceName"));
            xml += network.empty() ? "    <interface type='user'>\n"
                                   : "    <interface type='bridge'>\n      <source" + attr("bridge", network) + "/>\n";
            if (const std::string mac = text(child(device, "macAddress")); !mac.empty())
                xml += "      <mac" + attr("address", mac) + "/>\n";
            xml += "      <model" + attr("type", model) + "/>\n    </interface>\n";
        }
    }
    xml += "  </devices>\n</domain>\n";
    return xml;
}

DomainSpec parseDomainSpec(const std::string &text_)
{
    const XmlTree tree = XmlTree::parse(text_, "the domain XML");
    const xmlNode *domain = tree.root();
    if (!isNamed(domain, "domain"))
        throw Error(VIRTKIT_ERR_XML, "the root element must be <domain>");
    DomainSpec spec;
    spec.name = text(child(domain, "name"));
    if (spec.name.empty())
        throw Error(VIRTKIT_ERR_XML, "the domain has no <name>");
    if (spec.name.size() > 80)
        throw Error(VIRTKIT_ERR_XML, "a VM name on ESX is at most 80 characters");
    spec.uuid = text(child(domain, "uuid"));
    spec.description = text(child(domain, "description"));
    const xmlNode *memory = child(domain, "memory");
    if (!memory)
        throw Error(VIRTKIT_ERR_XML, "the domain has no <memory>");
    const uint64_t kib = toKiB(memory, "memory");
    if (kib < 4096 || kib % 4096 != 0)
        throw Error(VIRTKIT_ERR_XML, "ESX needs <memory> to be a positive multiple of 4 MiB (got " +
                                         std::to_string(kib) + " KiB)");
    spec.memoryMB = kib / 1024;
    if (const xmlNode *vcpu = child(domain, "vcpu")) {
        const std::string count = text(vcpu);
        if (count.empty() || count.size() > 3 || count.find_first_not_of("0123456789") != std::string::npos ||
            std::stoul(count) == 0)
            throw Error(VIRTKIT_ERR_XML, "<vcpu> must be a number from 1 to 999, not '" + count + "'");
        spec.vcpus = static_cast<uint32_t>(std::stoul(count));
    }
    const std::string arch = attribute(child(child(domain, "os"), "type"), "arch");
    if (!arch.empty() && arch != "x86_64" && arch != "i686")
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "ESX runs x86_64 and i686 guests, not '" + arch + "'");
    spec.x86_64 = arch != "i686";

    const xmlNode *devices = child(domain, "devices");
    for (const xmlNode *device = devices ? devices->children : nullptr; device; device = device->next) {
        if (device->type != XML_ELEMENT_NODE)
            continue;
        const std::string kind = reinterpret_cast<const char *>(device->name);
        if (kind == "interface") {
            const std::string type = attribute(device, "type");
            if (type != "bridge")
                throw Error(VIRTKIT_ERR_NO_SUPPORT, "an <interface type='" + type +
                                                        "'> cannot be created on ESX; use type='bridge' with "
                                                        "<source bridge='PORTGROUP'/>");
            DomainSpec::Interface nic;
            nic.network = attribute(child(device, "source"), "bridge");
            nic.mac = attribute(child(device, "mac"), "address");
            nic.model = attribute(child(device, "model"), "type");
            if (nic.model.empty())
                nic.model = "e1000";
            static const std::set<std::string> models = {"e1000", "e1000e", "vmxnet3", "vlance"};
            if (!models.count(nic.model))
                throw Error(VIRTKIT_ERR_NO_SUPPORT, "interface model '" + nic.model +
                                                        "' is not one of e1000, e1000e, vmxnet3, vlance");
            if (nic.network.empty())
                throw Error(VIRTKIT_ERR_XML, "an <interface type='bridge'> needs <source bridge='PORTGROUP'/>");
            spec.interfaces.push_back(nic);
        } else if (kind == "emulator" || kind == "input" || kind == "graphics" || kind == "video" ||
                   kind == "memballoon") {
            continue;  // the host provides its own; nothing to create
        } else {
            throw Error(VIRTKIT_ERR_NO_SUPPORT,
                        "define on ESX cannot create a <" + kind +
                            "> yet (supported: <interface type='bridge'>); nothing was changed");
        }
    }
    return spec;
}

std::string configSpecXml(const DomainSpec &spec, const std::string &datastore)
{
    auto el = [](const std::string &tag, const std::string &value) {
        return "<" + tag + ">" + escapeXml(value) + "</" + tag + ">";
    };
    // Element order follows the VirtualMachineConfigSpec schema sequence.
    std::string xml = "<config>" + el("name", spec.name);
    if (!spec.uuid.empty())
        xml += el("uuid", spec.uuid);
    xml += el("guestId", spec.x86_64 ? "otherGuest64" : "otherGuest");
    if (!spec.description.empty())
        xml += el("annotation", spec.description);
    xml += "<files>" + el("vmPathName", "[" + datastore + "]") + "</files>";
    xml += el("numCPUs", std::to_string(spec.vcpus)) + el("memoryMB", std::to_string(spec.memoryMB));
    static const std::map<std::string, std::string> types = {
        {"e1000", "VirtualE1000"}, {"e1000e", "VirtualE1000e"}, {"vmxnet3", "VirtualVmxnet3"},
        {"vlance", "VirtualPCNet32"}};
    int key = -1;
    for (const auto &nic : spec.interfaces) {
        xml += "<deviceChange><operation>add</operation><device xsi:type=\"" + types.at(nic.model) + "\">" +
               el("key", std::to_string(key--)) +
               "<backing xsi:type=\"VirtualEthernetCardNetworkBackingInfo\">" + el("deviceName", nic.network) +
               "</backing>";
        xml += nic.mac.empty() ? el("addressType", "generated")
                               : el("addressType", "manual") + el("macAddress", nic.mac);
        xml += "</device></deviceChange>";
    }
    return xml + "</config>";
}

}  // namespace virtkit::esx::vsphere
