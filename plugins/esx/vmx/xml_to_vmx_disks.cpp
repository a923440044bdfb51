// <disk> and <controller> -> VMX scsiN/sataN/ideB/floppyU entries.
#include <array>
#include <map>
#include <set>
#include <vector>

#include "vmx_values.hpp"
#include "vmx_writer.hpp"

namespace virtkit::esx::vmx {

namespace {

struct Placement {
    std::string bus;
    int controller = 0;
    int busIndex = 0;
    int unit = 0;
};

Placement placementFromName(const std::string &bus, const std::string &dev)
{
    const char *prefix = bus == "ide" ? "hd" : bus == "fdc" ? "fd" : "sd";
    const auto index = diskIndex(dev, prefix);
    if (!index)
        fail(VIRTKIT_ERR_XML, "<target dev='" + dev + "'> is not a " + prefix + "X name for bus '" + bus + "'");
    if (bus == "scsi")
        return {bus, *index / 15, 0, *index % 15 < 7 ? *index % 15 : *index % 15 + 1};
    if (bus == "sata")
        return {bus, *index / 30, 0, *index % 30};
    if (bus == "ide")
        return {bus, 0, *index / 2, *index % 2};
    return {bus, 0, 0, *index};
}

std::string prefixOf(const Placement &where)
{
    if (where.bus == "fdc")
        return "floppy" + std::to_string(where.unit);
    if (where.bus == "ide")
        return "ide" + std::to_string(where.busIndex) + ":" + std::to_string(where.unit);
    return where.bus + std::to_string(where.controller) + ":" + std::to_string(where.unit);
}

void writeDisk(VmxWriter &w, const xmlNode *disk, const Placement &where)
{
    const std::string prefix = prefixOf(where);
    const std::string device = attribute(disk, "device").value_or("disk");
    const std::string type = attribute(disk, "type").value_or("file");
    const xmlNode *source = element(disk, "source");
    const auto file = attribute(source, "file");
    const auto dev = attribute(source, "dev");
    if (type != "file" && type != "block")
        fail(VIRTKIT_ERR_NO_SUPPORT, "<disk type='" + type + "'> is not available on ESX (file, block)");
    for (const char *unsupported : {"shareable", "iotune", "encryption", "auth"})
        if (element(disk, unsupported))
            w.warn("disk " + prefix + ": <" + unsupported + "> has no VMX equivalent and was ignored");
    w.vmx.set(prefix + ".present", "true");

    if ((device == "floppy") != (where.bus == "fdc"))
        fail(VIRTKIT_ERR_NO_SUPPORT, "disk " + prefix + ": floppy drives, and only they, sit on the fdc bus");
    if (device == "floppy") {
        w.vmx.set(prefix + ".fileType", type == "file" ? "file" : "device");
        if (type == "file" && file)
            w.vmx.set(prefix + ".fileName", w.formatFile(*file));
        else if (type == "block" && dev)
            w.vmx.set(prefix + ".fileName", *dev);
        return;
    }

    if (device == "disk") {
        if (type != "file")
            fail(VIRTKIT_ERR_NO_SUPPORT, "disk " + prefix + ": ESX hard disks are .vmdk files, not <disk type='block'>");
        if (!file)
            fail(VIRTKIT_ERR_CONFIG, "disk " + prefix + " has no <source file>");
        if (!endsWithIgnoringCase(*file, ".vmdk"))
            fail(VIRTKIT_ERR_NO_SUPPORT, "disk " + prefix + ": '" + *file + "' is not a .vmdk image, the only hard disk format of ESX");
        if (where.bus == "scsi")
            w.vmx.set(prefix + ".deviceType", "scsi-hardDisk");
        else if (where.bus == "ide")
            w.vmx.set(prefix + ".deviceType", "ata-hardDisk");
        w.vmx.set(prefix + ".fileName", w.formatFile(*file));
        const auto cache = attribute(element(disk, "driver"), "cache");
        if (cache == "writethrough")
            w.vmx.set(prefix + ".writeThrough", "true");
        else if (cache && *cache != "default")
            w.warn("disk " + prefix + ": cache mode '" + *cache + "' has no VMX equivalent");
        if (element(disk, "transient"))
            w.vmx.set(prefix + ".mode", "independent-nonpersistent");
        if (element(disk, "readonly"))
            w.warn("disk " + prefix + ": ESX has no read-only hard disks; <readonly/> was ignored");
        return;
    }
    if (device == "cdrom" && type == "file") {
        w.vmx.set(prefix + ".deviceType", "cdrom-image");
        w.vmx.set(prefix + ".fileName", file ? w.formatFile(*file) : "emptyBackingString");
        return;
    }
    if (device == "cdrom" || device == "lun") {
        if (type != "block")
            fail(VIRTKIT_ERR_NO_SUPPORT, "disk " + prefix + ": <disk device='lun'> must be type 'block'");
        w.vmx.set(prefix + ".deviceType", device == "cdrom" ? "atapi-cdrom" : "cdrom-raw");
        if (attribute(source, "startupPolicy") == "optional" && !dev)
            w.vmx.set(prefix + ".fileName", "auto detect");
        else if (dev)
            w.vmx.set(prefix + ".fileName", *dev);
        return;
    }
    fail(VIRTKIT_ERR_NO_SUPPORT, "<disk device='" + device + "'> is not available on ESX");
}

}  // namespace

void writeDisks(VmxWriter &w, const xmlNode *devices)
{
    std::array<std::optional<std::string>, 4> scsiModels;
    std::set<int> scsiPresent, sataPresent;
    for (const xmlNode *controller : elements(devices, "controller")) {
        const std::string type = attribute(controller, "type").value_or("");
        const long long index = integerAttribute(controller, "index", 0, 1000, 0);
        if (type == "scsi") {
            if (index > 3)
                fail(VIRTKIT_ERR_NO_SUPPORT, "ESX has SCSI controllers 0-3; <controller index='" + std::to_string(index) + "'> is beyond");
            scsiPresent.insert(static_cast<int>(index));
            if (const auto model = attribute(controller, "model")) {
                static const std::map<std::string, std::string> models = {
                    {"buslogic", "buslogic"}, {"lsilogic", "lsilogic"}, {"lsisas1068", "lsisas1068"}, {"vmpvscsi", "pvscsi"}};
                const auto it = models.find(*model);
                if (it == models.end())
                    fail(VIRTKIT_ERR_NO_SUPPORT, "SCSI controller model '" + *model +
                                                     "' is not available on ESX (buslogic, lsilogic, lsisas1068, vmpvscsi)");
                scsiModels[static_cast<std::size_t>(index)] = it->second;
            }
        } else if (type == "sata") {
            if (index > 3)
                fail(VIRTKIT_ERR_NO_SUPPORT, "ESX has SATA controllers 0-3; <controller index='" + std::to_string(index) + "'> is beyond");
            sataPresent.insert(static_cast<int>(index));
        } else if (type != "ide" && type != "fdc") {
            w.warn("<controller type='" + type + "'> has no VMX equivalent and was ignored");
        }
    }

    struct Disk {
        const xmlNode *node;
        Placement where;
    };
    std::vector<Disk> found;
    std::set<std::string> taken;
    for (const xmlNode *disk : elements(devices, "disk")) {
        const xmlNode *target = element(disk, "target");
        const auto dev = attribute(target, "dev");
        if (!dev)
            fail(VIRTKIT_ERR_XML, "<disk> has no <target dev>");
        std::string bus = attribute(target, "bus").value_or("");
        if (bus.empty())
            bus = dev->rfind("hd", 0) == 0 ? "ide" : dev->rfind("fd", 0) == 0 ? "fdc" : "scsi";
        if (bus != "scsi" && bus != "sata" && bus != "ide" && bus != "fdc")
            fail(VIRTKIT_ERR_NO_SUPPORT, "disk bus '" + bus + "' is not available on ESX (scsi, sata, ide, fdc)");
        Placement where = placementFromName(bus, *dev);
        if (const xmlNode *address = element(disk, "address"); address && attribute(address, "type") == "drive") {
            where.controller = static_cast<int>(integerAttribute(address, "controller", 0, 3, 0));
            where.busIndex = static_cast<int>(integerAttribute(address, "bus", 0, 1, 0));
            where.unit = static_cast<int>(integerAttribute(address, "unit", 0, 63, 0));
        }
        const int maxController = bus == "scsi" || bus == "sata" ? 3 : 0;
        const int maxBus = bus == "ide" ? 1 : 0;
        const int maxUnit = bus == "scsi" ? 63 : bus == "sata" ? 29 : 1;
        if (where.controller > maxController || where.busIndex > maxBus || where.unit > maxUnit ||
            (bus == "scsi" && where.unit == 7))
            fail(VIRTKIT_ERR_CONFIG, "disk '" + *dev + "' is at controller " + std::to_string(where.controller) +
                                         " bus " + std::to_string(where.busIndex) + " unit " + std::to_string(where.unit) +
                                         ", which does not exist on an ESX " + bus + " bus");
        if (!taken.insert(prefixOf(where)).second)
            fail(VIRTKIT_ERR_CONFIG, "two disks use the same slot (" + prefixOf(where) + ")");
        if (bus == "scsi")
            scsiPresent.insert(where.controller);
        if (bus == "sata")
            sataPresent.insert(where.controller);
        found.push_back({disk, where});
    }

    for (int index : scsiPresent) {
        w.vmx.set("scsi" + std::to_string(index) + ".present", "true");
        if (scsiModels[static_cast<std::size_t>(index)])
            w.vmx.set("scsi" + std::to_string(index) + ".virtualDev", *scsiModels[static_cast<std::size_t>(index)]);
    }
    for (int index : sataPresent)
        w.vmx.set("sata" + std::to_string(index) + ".present", "true");
    bool floppy[2] = {false, false};
    for (const Disk &disk : found) {
        writeDisk(w, disk.node, disk.where);
        if (disk.where.bus == "fdc")
            floppy[disk.where.unit] = true;
    }
    // VMware assumes a floppy drive unless told otherwise.
    for (int unit = 0; unit < 2; ++unit)
        if (!floppy[unit])
            w.vmx.set("floppy" + std::to_string(unit) + ".present", "false");
}

}  // namespace virtkit::esx::vmx
