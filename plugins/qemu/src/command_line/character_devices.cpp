// <serial>, <console>, <channel>: a -chardev backend (pty, file, unix, tcp,
// null) and the frontend device (ISA serial, virtio console or port).
#include <virtkit/error.hpp>

#include "command_line/argv_builder.hpp"
#include "command_line/command_line.hpp"
#include "command_line/domain_document.hpp"

namespace virtkit::qemu {
namespace {

std::string chardev_for(const xmlNode *element, const std::string &id)
{
    const std::string type = xml::attr_or(element, "type", "pty");
    const xmlNode *source = xml::child(element, "source");
    const auto source_attr = [&](const char *name) {
        const auto value = source ? xml::attr(source, name) : std::nullopt;
        if (!value)
            throw Error(VIRTKIT_ERR_XML, xml::where(element) + " of type '" + type + "' needs <source " + name + "=...>");
        return *value;
    };
    if (type == "pty" || type == "null")
        return KeyValueOption(type).add("id", id).str();
    if (type == "file")
        return KeyValueOption("file").add("id", id).add("path", source_attr("path")).str();
    if (type == "unix") {
        const bool server = xml::attr_or(source, "mode", "bind") == "bind";
        KeyValueOption option("socket");
        option.add("id", id).add("path", source_attr("path")).add_flag("server", server);
        if (server)
            option.add_flag("wait", false);
        return option.str();
    }
    if (type == "tcp") {
        const bool server = xml::attr_or(source, "mode", "bind") == "bind";
        KeyValueOption option("socket");
        option.add("id", id).add("host", source_attr("host")).add("port", source_attr("service"))
            .add_flag("server", server);
        if (server)
            option.add_flag("wait", false);
        return option.str();
    }
    throw Error(VIRTKIT_ERR_NO_SUPPORT, xml::where(element) + " type '" + type + "' is not supported");
}

void check_children(const xmlNode *element) { xml::allow_only(element, {"source", "target", "address", "alias"}); }

std::string target_type(const xmlNode *element, const std::string &fallback)
{
    const xmlNode *target = xml::child(element, "target");
    return target ? xml::attr_or(target, "type", fallback) : fallback;
}

void add_serial(const xmlNode *serial, int number, const std::string &chardev, ArgvBuilder &out)
{
    std::string kind = target_type(serial, "isa-serial");
    if (kind == "serial")
        kind = "isa-serial";
    out.add("-chardev", chardev_for(serial, chardev));
    if (kind != "isa-serial" && kind != "usb-serial" && kind != "pci-serial")
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "serial target type '" + kind + "' is not supported");
    JsonOption device("driver", kind);  // the target type names the QEMU device
    device.add("chardev", chardev).add("id", "serial" + std::to_string(number));
    if (kind == "isa-serial")
        device.add("index", static_cast<std::int64_t>(number));
    out.add_placement(device, serial);
    out.add_device(device);
}

void add_virtio_port(const xmlNode *element, bool console, int number, const std::string &chardev, ArgvBuilder &out)
{
    out.add("-chardev", chardev_for(element, chardev));
    const std::string bus = ensure_controller(out, "virtio-serial", 0);
    JsonOption device("driver", console ? "virtconsole" : "virtserialport");
    device.add("bus", bus + ".0");
    if (const xmlNode *address = xml::child(element, "address"); address && xml::attr(address, "port"))
        device.add("nr", static_cast<std::int64_t>(parse_number(*xml::attr(address, "port"), "virtio-serial port")));
    device.add("chardev", chardev);
    if (!console) {
        const xmlNode *target = xml::child(element, "target");
        if (const auto name = target ? xml::attr(target, "name") : std::nullopt)
            device.add("name", *name);
    }
    device.add("id", (console ? "console" : "channel") + std::to_string(number));
    out.add_device(device);
}

}  // namespace

std::vector<CharacterDevice> character_devices(const xmlNode *devices)
{
    std::vector<CharacterDevice> found;
    int serials_made = 0, consoles_made = 0, channels_made = 0;
    const auto numbered = [](const char *prefix, int &count) {
        const int number = count++;
        return std::pair{number, prefix + std::to_string(number)};
    };
    const auto serials = xml::children(devices, "serial");
    for (const xmlNode *serial : serials) {
        check_children(serial);
        const auto [number, chardev] = numbered("charserial", serials_made);
        found.push_back({serial, CharacterDevice::serial, number, chardev});
    }
    for (const xmlNode *console : xml::children(devices, "console")) {
        check_children(console);
        const std::string kind = target_type(console, "serial");
        if (kind == "serial") {
            // libvirt: a serial console is the first <serial> itself
            if (serials.empty()) {
                const auto [number, chardev] = numbered("charserial", serials_made);
                found.push_back({console, CharacterDevice::serial, number, chardev});
            } else {
                found.push_back({console, CharacterDevice::serial_console_of_first_serial, 0, "charserial0"});
            }
        } else if (kind == "virtio") {
            const auto [number, chardev] = numbered("charconsole", consoles_made);
            found.push_back({console, CharacterDevice::virtio_console, number, chardev});
        } else {
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "console target type '" + kind + "' is not supported");
        }
    }
    for (const xmlNode *channel : xml::children(devices, "channel")) {
        check_children(channel);
        const std::string kind = target_type(channel, "");
        if (kind != "virtio")
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "channel target type '" + kind + "' is not supported (virtio)");
        const auto [number, chardev] = numbered("charchannel", channels_made);
        found.push_back({channel, CharacterDevice::virtio_channel, number, chardev});
    }
    return found;
}

void add_character_devices(const xmlNode *devices, ArgvBuilder &out)
{
    for (const CharacterDevice &device : character_devices(devices)) {
        if (device.role != CharacterDevice::serial_console_of_first_serial &&
            xml::attr_or(device.element, "type", "pty") == "pty")
            out.pty_chardevs.push_back(device.chardev);
        switch (device.role) {
        case CharacterDevice::serial:
            add_serial(device.element, device.number, device.chardev, out);
            break;
        case CharacterDevice::serial_console_of_first_serial:
            break;
        case CharacterDevice::virtio_console:
        case CharacterDevice::virtio_channel:
            add_virtio_port(device.element, device.role == CharacterDevice::virtio_console, device.number,
                            device.chardev, out);
            break;
        }
    }
}

std::string with_pty_paths(std::string_view domain_xml, const std::map<std::string, std::string> &pty_by_chardev)
{
    const auto x = [](const std::string &text) { return reinterpret_cast<const xmlChar *>(text.c_str()); };
    DomainDocument document(domain_xml);
    for (const CharacterDevice &device : character_devices(xml::child(document.root(), "devices"))) {
        auto *element = const_cast<xmlNode *>(device.element);  // a node of `document`, which is ours
        const auto path = pty_by_chardev.find(device.chardev);
        if (xml::attr_or(element, "type", "pty") != "pty" || path == pty_by_chardev.end())
            continue;
        auto *source = const_cast<xmlNode *>(xml::child(element, "source"));
        if (!source) {  // first child, where libvirt writes it
            source = xmlNewDocNode(element->doc, nullptr, x("source"), nullptr);
            if (element->children)
                xmlAddPrevSibling(element->children, source);
            else
                xmlAddChild(element, source);
        }
        xmlSetProp(source, x("path"), x(path->second));
        if (xml::name(element) == "console")
            xmlSetProp(element, x("tty"), x(path->second));
    }
    return document.to_string();
}

}  // namespace virtkit::qemu
