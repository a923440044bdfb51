// <serial>, <console>, <channel>: a -chardev backend (pty, file, unix, tcp,
// null) and the frontend device (ISA serial, virtio console or port).
#include <virtkit/error.hpp>

#include "command_line/argv_builder.hpp"

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

void add_serial(const xmlNode *serial, ArgvBuilder &out)
{
    const int number = out.next("serial");
    const std::string chardev = "charserial" + std::to_string(number);
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

void add_virtio_port(const xmlNode *element, bool console, const std::string &chardev_prefix, ArgvBuilder &out)
{
    const int number = out.next(chardev_prefix);
    const std::string chardev = chardev_prefix + std::to_string(number);
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

void add_character_devices(const xmlNode *devices, ArgvBuilder &out)
{
    const auto serials = xml::children(devices, "serial");
    for (const xmlNode *serial : serials) {
        check_children(serial);
        add_serial(serial, out);
    }
    for (const xmlNode *console : xml::children(devices, "console")) {
        check_children(console);
        const std::string kind = target_type(console, "serial");
        if (kind == "serial") {
            // libvirt: the first serial console is the first <serial> itself
            if (serials.empty())
                add_serial(console, out);
        } else if (kind == "virtio") {
            add_virtio_port(console, true, "charconsole", out);
        } else {
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "console target type '" + kind + "' is not supported");
        }
    }
    for (const xmlNode *channel : xml::children(devices, "channel")) {
        check_children(channel);
        const std::string kind = target_type(channel, "");
        if (kind != "virtio")
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "channel target type '" + kind + "' is not supported (virtio)");
        add_virtio_port(channel, false, "charchannel", out);
    }
}

}  // namespace virtkit::qemu
