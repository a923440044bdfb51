// VMX shared folders, NICs, serial/parallel ports, VNC and SVGA -> XML.
#include <vector>

#include "vmx_reader.hpp"
#include "vmx_values.hpp"
#include "xml_node.hpp"

namespace virtkit::esx::vmx {

namespace {

void sharedFolders(VmxReader &r, XmlNode &devices)
{
    if (r.boolean("isolation.tools.hgfs.disable", true))
        return;
    const long long count = r.integer("sharedFolder.maxNum", 0, 1024).value_or(0);
    for (long long i = 0; i < count; ++i) {
        const std::string prefix = "sharedFolder" + std::to_string(i);
        if (!r.boolean(prefix + ".present", false) || !r.boolean(prefix + ".enabled", false)) {
            r.consumePrefix(prefix + ".");
            continue;
        }
        const auto hostPath = r.string(prefix + ".hostPath");
        const auto guestName = r.string(prefix + ".guestName");
        if (!hostPath || !guestName)
            fail(VIRTKIT_ERR_CONFIG, "VMX " + prefix + " needs both hostPath and guestName");
        r.string(prefix + ".readAccess");
        r.string(prefix + ".expiration");
        XmlNode &fs = devices.add(XmlNode("filesystem"));
        fs.attr("type", "mount").attr("accessmode", "passthrough");
        fs.add(XmlNode("source")).attr("dir", *hostPath);
        fs.add(XmlNode("target")).attr("dir", *guestName);
        if (!r.boolean(prefix + ".writeAccess", false))
            fs.add(XmlNode("readonly"));
    }
}

void ethernet(VmxReader &r, XmlNode &devices, int index)
{
    const std::string prefix = "ethernet" + std::to_string(index);
    if (!r.boolean(prefix + ".present", false)) {
        r.consumePrefix(prefix + ".");
        return;
    }
    for (const char *ignored : {".startConnected", ".generatedAddressOffset", ".wakeOnPcktRcv"})
        r.string(prefix + ignored);

    std::optional<std::string> mac;
    std::string macType;
    const std::string addressType = lowercase(r.string(prefix + ".addressType").value_or("generated"));
    if (addressType == "generated" || addressType == "vpx") {
        mac = r.string(prefix + ".generatedAddress");
        macType = "generated";
    } else if (addressType == "static") {
        mac = r.string(prefix + ".address");
        macType = "static";
    } else {
        fail(VIRTKIT_ERR_CONFIG, "VMX " + prefix + ".addressType \"" + addressType + "\" is not one of generated, vpx, static");
    }
    if (mac) {
        const auto normalized = normalizeMac(*mac);
        if (!normalized)
            fail(VIRTKIT_ERR_CONFIG, "VMX " + prefix + " MAC address \"" + *mac + "\" is malformed");
        mac = normalized;
    }

    std::string model;
    if (const auto dev = r.string(prefix + ".virtualDev")) {
        model = lowercase(*dev);
        if (model != "vlance" && model != "vmxnet" && model != "vmxnet3" && model != "e1000" && model != "e1000e")
            fail(VIRTKIT_ERR_NO_SUPPORT, "VMX " + prefix + ".virtualDev \"" + *dev +
                                             "\" is not supported (vlance, vmxnet, vmxnet3, e1000, e1000e)");
        const auto features = r.string(prefix + ".features");
        if (model == "vmxnet" && features == "15")
            model = "vmxnet2";
    }

    const std::string connection = lowercase(r.string(prefix + ".connectionType").value_or("bridged"));
    const auto networkName = r.string(prefix + ".networkName");
    XmlNode node("interface");
    std::optional<XmlNode> source;
    std::string vnet;
    if (connection == "bridged" || connection == "custom") {
        if (networkName) {
            node.attr("type", "bridge");
            source.emplace("source").attr("bridge", *networkName);
            if (connection == "custom") {
                const auto target = r.string(prefix + ".vnet");
                if (!target)
                    fail(VIRTKIT_ERR_CONFIG, "VMX " + prefix + " has connectionType custom but no vnet");
                vnet = *target;
            }
        } else if (const auto switchId = r.string(prefix + ".dvs.switchId")) {
            const auto uuid = parseUuid(*switchId);
            if (!uuid)
                fail(VIRTKIT_ERR_CONFIG, "VMX " + prefix + ".dvs.switchId is not a UUID: \"" + *switchId + "\"");
            node.attr("type", "vds");
            source.emplace("source").attr("switchid", formatUuid(*uuid));
            if (const auto port = r.integer(prefix + ".dvs.portId", 0, INT32_MAX))
                source->attr("portid", std::to_string(*port));
            if (const auto group = r.string(prefix + ".dvs.portgroupId"))
                source->attr("portgroupid", *group);
            if (const auto id = r.integer(prefix + ".dvs.connectionId", 0, INT64_MAX))
                source->attr("connectionid", std::to_string(*id));
        } else {
            node.attr("type", "null");
        }
    } else if (connection == "nat") {
        node.attr("type", "user");
    } else {
        fail(VIRTKIT_ERR_NO_SUPPORT, "VMX " + prefix + ".connectionType \"" + connection +
                                         "\" is not supported (bridged, custom, nat)");
    }
    if (mac) {
        XmlNode &macNode = node.add(XmlNode("mac"));
        macNode.attr("address", *mac).attr("type", macType);
        if (!r.boolean(prefix + ".checkMACAddress", true))
            macNode.attr("check", "no");
    }
    if (source)
        node.add(*source);
    if (!vnet.empty())
        node.add(XmlNode("target")).attr("dev", vnet);
    if (!model.empty())
        node.add(XmlNode("model")).attr("type", model);
    devices.add(std::move(node));
}

void networkSerial(VmxReader &r, XmlNode &node, const std::string &prefix, const std::string &uri)
{
    const std::string endPoint = lowercase(r.string(prefix + ".network.endPoint").value_or("server"));
    if (endPoint != "server" && endPoint != "client")
        fail(VIRTKIT_ERR_CONFIG, "VMX " + prefix + ".network.endPoint must be server or client, not \"" + endPoint + "\"");
    const std::size_t separator = uri.find("://");
    if (separator == std::string::npos) {
        // vSphere writes opaque tokens here for vSPC proxies; libvirt shows those as a null device.
        if (!uri.empty())
            r.warn(prefix + ".fileName \"" + uri.substr(0, 64) + "\" is not a URI; the port is shown as type 'null'");
        node.attr("type", "null");
        return;
    }
    const std::string scheme = lowercase(uri.substr(0, separator));
    std::string protocol;
    if (scheme == "tcp")
        protocol = "raw";
    else if (scheme == "telnet" || scheme == "telnets")
        protocol = scheme;
    else if (scheme == "ssl" || scheme == "tls" || scheme == "tcp+ssl" || scheme == "tcp+tls")
        protocol = "tls";
    else
        fail(VIRTKIT_ERR_NO_SUPPORT, "VMX " + prefix + ".fileName scheme \"" + scheme +
                                         "\" is not supported (tcp, telnet, telnets, ssl, tls)");
    std::string authority = uri.substr(separator + 3);
    authority = authority.substr(0, authority.find('/'));
    const std::size_t colon = authority.rfind(':');
    const auto port = colon == std::string::npos ? std::nullopt : parseInteger(authority.substr(colon + 1));
    if (!port || *port < 1 || *port > 65535 || colon == 0)
        fail(VIRTKIT_ERR_CONFIG, "VMX " + prefix + ".fileName \"" + uri + "\" needs a host and a port (1-65535)");
    std::string host = authority.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    node.attr("type", "tcp");
    node.add(XmlNode("source"))
        .attr("mode", endPoint == "server" ? "bind" : "connect")
        .attr("host", host)
        .attr("service", std::to_string(*port));
    node.add(XmlNode("protocol")).attr("type", protocol);
}

void characterDevice(VmxReader &r, std::vector<XmlNode> &out, const std::string &kind, int port)
{
    const std::string prefix = kind + std::to_string(port);
    if (!r.boolean(prefix + ".present", false)) {
        r.consumePrefix(prefix + ".");
        return;
    }
    for (const char *ignored : {".startConnected", ".tryNoRxLoss", ".yieldOnMsrRead", ".pipe.endPoint",
                                ".bidirectional", ".autodetect", ".vspc"})
        r.string(prefix + ignored);
    const std::string fileType = lowercase(r.string(prefix + ".fileType").value_or("device"));
    const std::string fileName = r.string(prefix + ".fileName").value_or("");
    XmlNode node(kind);
    if (fileType == "device") {
        node.attr("type", "dev");
        node.add(XmlNode("source")).attr("path", fileName);
    } else if (fileType == "file") {
        const auto path = r.mapFile(fileName);
        if (!path)
            fail(VIRTKIT_ERR_CONFIG, "VMX " + prefix + ".fileName refers to '" + fileName + "', which does not exist");
        node.attr("type", "file");
        node.add(XmlNode("source")).attr("path", *path);
    } else if (fileType == "pipe" && kind == "serial") {
        node.attr("type", "pipe");
        node.add(XmlNode("source")).attr("path", fileName);
    } else if (fileType == "network" && kind == "serial") {
        networkSerial(r, node, prefix, fileName);
    } else if (fileType == "thinprint") {
        r.warn(prefix + " is a ThinPrint virtual printer; it has no domain XML equivalent");
        r.consumePrefix(prefix + ".");
        return;
    } else {
        fail(VIRTKIT_ERR_NO_SUPPORT, "VMX " + prefix + ".fileType \"" + fileType + "\" is not supported");
    }
    node.add(XmlNode("target")).attr("port", std::to_string(port));
    out.push_back(std::move(node));
}

void graphics(VmxReader &r, XmlNode &devices)
{
    if (!r.boolean("RemoteDisplay.vnc.enabled", false)) {
        r.consumePrefix("RemoteDisplay.vnc.");
        return;
    }
    const long long port = r.integer("RemoteDisplay.vnc.port", -1, 65535).value_or(-1);
    XmlNode &node = devices.add(XmlNode("graphics"));
    node.attr("type", "vnc").attr("port", std::to_string(port)).attr("autoport", port < 0 ? "yes" : "no");
    const auto ip = r.string("RemoteDisplay.vnc.ip");
    if (ip)
        node.attr("listen", *ip);
    if (const auto keymap = r.string("RemoteDisplay.vnc.keymap"))
        node.attr("keymap", *keymap);
    if (const auto password = r.string("RemoteDisplay.vnc.password"))
        node.attr("passwd", *password);
    XmlNode &listen = node.add(XmlNode("listen"));
    listen.attr("type", "address");
    if (ip)
        listen.attr("address", *ip);
}

}  // namespace

void addOtherDevices(VmxReader &r, XmlNode &devices)
{
    sharedFolders(r, devices);
    for (int index = 0; index < 10; ++index)
        ethernet(r, devices, index);
    std::vector<XmlNode> serials;
    for (int port = 0; port < 4; ++port)
        characterDevice(r, serials, "serial", port);
    for (XmlNode &serial : serials)
        devices.add(serial);
    for (int port = 0; port < 3; ++port) {
        std::vector<XmlNode> parallels;
        characterDevice(r, parallels, "parallel", port);
        for (XmlNode &parallel : parallels)
            devices.add(std::move(parallel));
    }
    if (!serials.empty()) {
        // libvirt shows the first serial port again as the console.
        XmlNode console = serials.front();
        console.name = "console";
        for (XmlNode &child : console.children)
            if (child.name == "target")
                child.attributes.insert(child.attributes.begin(), {"type", "serial"});
        devices.add(std::move(console));
    }
    graphics(r, devices);
    const long long vram = r.integer("svga.vramSize", 1024, 4LL * 1024 * 1024 * 1024).value_or(4096 * 1024) / 1024;
    r.string("svga.present");
    devices.add(XmlNode("video"))
        .add(XmlNode("model"))
        .attr("type", "vmvga")
        .attr("vram", std::to_string(vram))
        .attr("primary", "yes");
}

}  // namespace virtkit::esx::vmx
