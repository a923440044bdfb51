// <disk>: file and block images, raw and qcow2, as -blockdev nodes plus the
// -device that puts them on a virtio, IDE, SATA, SCSI, USB or floppy bus.
#include <virtkit/error.hpp>

#include "command_line/argv_builder.hpp"

namespace virtkit::qemu {
namespace {

// "vdb" -> 1, "sdaa" -> 26: libvirt's disk name to index rule.
int index_from_name(const std::string &dev)
{
    std::size_t prefix = 0;
    for (const char *known : {"xvd", "ubd", "hd", "sd", "vd", "fd"})
        if (dev.rfind(known, 0) == 0) {
            prefix = std::char_traits<char>::length(known);
            break;
        }
    const std::size_t letters = dev.size() - prefix;
    bool ok = prefix > 0 && letters >= 1 && letters <= 3;
    int index = 0;
    for (std::size_t i = prefix; ok && i < dev.size(); ++i) {
        ok = dev[i] >= 'a' && dev[i] <= 'z';
        index = index * 26 + (dev[i] - 'a' + 1);
    }
    if (!ok)
        throw Error(VIRTKIT_ERR_XML, "disk target '" + dev + "' is not a disk name like 'vda' or 'sdb'");
    return index - 1;
}

std::string default_bus(const std::string &dev)
{
    if (dev.rfind("vd", 0) == 0)
        return "virtio";
    if (dev.rfind("hd", 0) == 0)
        return "ide";
    if (dev.rfind("sd", 0) == 0)
        return "scsi";
    if (dev.rfind("fd", 0) == 0)
        return "fdc";
    throw Error(VIRTKIT_ERR_XML, "disk target '" + dev + "' names no bus; add bus='...'");
}

// The -device driver for a disk of `kind` on `bus`; refuses what cannot be.
std::string device_driver(const std::string &bus, const std::string &kind)
{
    if (kind == "floppy") {
        if (bus != "fdc")
            throw Error(VIRTKIT_ERR_XML, "a floppy can sit only on the fdc bus, not '" + bus + "'");
        return "floppy";
    }
    if (bus == "virtio" && kind == "disk")
        return "virtio-blk-pci";
    if (bus == "ide" || bus == "sata")
        return kind == "cdrom" ? "ide-cd" : "ide-hd";
    if (bus == "scsi")
        return kind == "cdrom" ? "scsi-cd" : "scsi-hd";
    if (bus == "usb" && kind == "disk")
        return "usb-storage";
    if (bus == "fdc")
        throw Error(VIRTKIT_ERR_XML, "only a floppy can sit on the fdc bus");
    throw Error(VIRTKIT_ERR_NO_SUPPORT, "a " + kind + " on bus '" + bus + "' is not supported");
}

struct CacheMode {
    bool set = false;
    bool direct = false;
    bool no_flush = false;
    bool write_cache = true;
};

CacheMode cache_mode(const std::string &mode)
{
    if (mode.empty() || mode == "default")
        return {};
    if (mode == "none")
        return {true, true, false, true};
    if (mode == "writeback")
        return {true, false, false, true};
    if (mode == "writethrough")
        return {true, false, false, false};
    if (mode == "directsync")
        return {true, true, false, false};
    if (mode == "unsafe")
        return {true, false, true, true};
    throw Error(VIRTKIT_ERR_XML, "disk cache mode '" + mode + "' is not known");
}

Poco::JSON::Object::Ptr cache_object(const CacheMode &cache)
{
    Poco::JSON::Object::Ptr object = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    object->set("direct", cache.direct);
    object->set("no-flush", cache.no_flush);
    return object;
}

// The -blockdev nodes; returns the node the device attaches to, or "" for an
// empty removable drive.
std::string add_block_nodes(const xmlNode *disk, int number, bool read_only, const CacheMode &cache,
                            ArgvBuilder &out)
{
    const std::string type = xml::attr_or(disk, "type", "file");
    if (type != "file" && type != "block")
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "disk type '" + type + "' is not supported (file, block)");
    const xmlNode *source = xml::child(disk, "source");
    const auto path = source ? xml::attr(source, type == "file" ? "file" : "dev") : std::nullopt;
    if (source)
        xml::allow_only(source, {});
    if (!path)
        return "";
    if (path->empty() || path->front() != '/')
        throw Error(VIRTKIT_ERR_XML, "disk source '" + *path + "' must be an absolute path");

    const xmlNode *driver = xml::child(disk, "driver");
    if (driver && xml::attr_or(driver, "name", "qemu") != "qemu")
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "disk driver name must be 'qemu'");
    const std::string format = driver ? xml::attr_or(driver, "type", "raw") : "raw";
    if (format != "raw" && format != "qcow2")
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "disk format '" + format + "' is not supported (raw, qcow2)");

    const std::string storage = "disk" + std::to_string(number) + "-storage";
    JsonOption file("driver", type == "file" ? "file" : "host_device");
    file.add("filename", *path).add("node-name", storage);
    if (driver && xml::attr(driver, "io")) {
        const std::string io = *xml::attr(driver, "io");
        if (io != "native" && io != "threads" && io != "io_uring")
            throw Error(VIRTKIT_ERR_XML, "disk io mode '" + io + "' is not known");
        file.add("aio", io);
    }
    if (driver && xml::attr(driver, "discard"))
        file.add("discard", *xml::attr(driver, "discard") == "unmap" ? "unmap" : "ignore");
    if (cache.set)
        file.add("cache", cache_object(cache));
    if (format == "raw") {
        file.add_bool("read-only", read_only);
        out.add("-blockdev", file.str());
        return storage;
    }
    file.add_bool("auto-read-only", true);
    out.add("-blockdev", file.str());
    const std::string top = "disk" + std::to_string(number) + "-format";
    JsonOption qcow2("node-name", top);
    qcow2.add_bool("read-only", read_only).add("driver", "qcow2").add("file", storage);
    if (cache.set)
        qcow2.add("cache", cache_object(cache));
    out.add("-blockdev", qcow2.str());
    return top;
}

void add_disk(const xmlNode *disk, ArgvBuilder &out)
{
    xml::allow_only(disk, {"driver", "source", "target", "readonly", "shareable", "serial", "boot", "address",
                           "alias", "backingStore"});
    // An empty <backingStore/> says "no backing chain"; a described chain we
    // would not open as written, so it is refused.
    if (const xmlNode *backing = xml::child(disk, "backingStore"); backing && (backing->children || backing->properties))
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "disks with a described <backingStore> chain are not supported yet");
    const std::string kind = xml::attr_or(disk, "device", "disk");
    if (kind != "disk" && kind != "cdrom" && kind != "floppy")
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "disk device '" + kind + "' is not supported (disk, cdrom, floppy)");
    const xmlNode *target = xml::child(disk, "target");
    const auto dev = target ? xml::attr(target, "dev") : std::nullopt;
    if (!dev)
        throw Error(VIRTKIT_ERR_XML, "a <disk> needs <target dev='...'>");
    std::string bus = target ? xml::attr_or(target, "bus", default_bus(*dev)) : default_bus(*dev);
    if (bus == "ide" && out.q35)
        bus = "sata";  // q35's IDE is its built-in AHCI
    const int index = index_from_name(*dev);
    const bool removable = kind != "disk";
    const bool read_only = removable || xml::child(disk, "readonly");
    const xmlNode *driver = xml::child(disk, "driver");
    const CacheMode cache = cache_mode(driver ? xml::attr_or(driver, "cache", "") : "");

    const int number = out.next("disk");
    const std::string node = add_block_nodes(disk, number, read_only, cache, out);
    if (node.empty() && !removable)
        throw Error(VIRTKIT_ERR_XML, "disk '" + *dev + "' has no <source>");

    const xmlNode *address = xml::child(disk, "address");
    const bool drive_address = address && xml::attr_or(address, "type", "") == "drive";
    const auto drive_number = [&](const char *name, int fallback) {
        return drive_address && xml::attr(address, name)
                   ? static_cast<int>(parse_number(*xml::attr(address, name), std::string("drive ") + name))
                   : fallback;
    };
    const std::string driver_name = device_driver(bus, kind);
    JsonOption device("driver", driver_name);
    std::string id;
    if (bus == "virtio") {
        id = "virtio-disk" + std::to_string(index);
    } else if (bus == "ide") {
        const int ide_bus = drive_number("bus", index / 2);
        const int unit = drive_number("unit", index % 2);
        device.add("bus", "ide." + std::to_string(ide_bus)).add("unit", static_cast<std::int64_t>(unit));
        id = "ide0-" + std::to_string(ide_bus) + "-" + std::to_string(unit);
    } else if (bus == "sata") {
        const int controller = drive_number("controller", 0);
        const int unit = drive_number("unit", index);
        const std::string ahci = out.q35 && controller == 0 ? "ide" : "sata" + std::to_string(controller);
        if (ahci != "ide" && !out.controllers.count(ahci))
            throw Error(VIRTKIT_ERR_XML, "disk '" + *dev + "' needs SATA controller " + std::to_string(controller));
        device.add("bus", ahci + "." + std::to_string(unit));
        id = "sata" + std::to_string(controller) + "-0-" + std::to_string(unit);
    } else if (bus == "scsi") {
        const int controller = drive_number("controller", 0);
        const std::string scsi = ensure_controller(out, "scsi", controller);
        const int unit = drive_number("unit", index);
        device.add("bus", scsi + ".0");
        if (out.scsi_models[controller] == "virtio-scsi-pci")
            device.add("channel", static_cast<std::int64_t>(drive_number("bus", 0)))
                .add("scsi-id", static_cast<std::int64_t>(drive_number("target", 0)))
                .add("lun", static_cast<std::int64_t>(unit));
        else
            device.add("scsi-id", static_cast<std::int64_t>(unit));
        id = "scsi" + std::to_string(controller) + "-0-" + std::to_string(unit);
    } else if (bus == "usb") {
        id = "usb-disk" + std::to_string(index);
    } else {  // fdc
        device.add("unit", static_cast<std::int64_t>(drive_number("unit", index)));
        id = "fdc0-0-" + std::to_string(index);
    }
    if (!node.empty())
        device.add("drive", node);
    device.add("id", id);
    out.add_placement(device, disk);
    if (cache.set)
        device.add("write-cache", cache.write_cache ? "on" : "off");
    if (xml::child(disk, "shareable"))
        device.add_bool("share-rw", true);
    if (const auto serial = xml::child_text(disk, "serial"))
        device.add("serial", *serial);
    out.add_device(device);
}

}  // namespace

void add_disks(const xmlNode *devices, ArgvBuilder &out)
{
    for (const xmlNode *disk : xml::children(devices, "disk"))
        add_disk(disk, out);
}

}  // namespace virtkit::qemu
