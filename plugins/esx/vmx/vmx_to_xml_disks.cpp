// VMX disk slots -> <disk> and the controllers libvirt adds for them.
// Slots are read in libvirt's order: SCSI, SATA, IDE, floppy.
#include <array>
#include <map>
#include <vector>

#include "vmx_reader.hpp"
#include "vmx_values.hpp"
#include "xml_node.hpp"

namespace virtkit::esx::vmx {

namespace {

struct Slot {
    std::string prefix;  // "scsi0:1"
    std::string bus;     // scsi, sata, ide, fdc
    std::string target;  // sdb
    int controller = 0;
    int busIndex = 0;
    int unit = 0;
};

// Collects the disks of every slot, remembering which controllers they use.
struct DiskReader {
    explicit DiskReader(VmxReader &reader) : r(reader) {}

    VmxReader &r;
    std::vector<XmlNode> disks;
    std::map<std::string, int> maxController;  // bus -> highest controller index a disk uses

    std::string sourceFor(const Slot &slot, const std::optional<std::string> &fileName, bool allowMissing)
    {
        if (!fileName || fileName->empty() || equalsIgnoringCase(*fileName, "emptyBackingString"))
            return {};
        const auto path = r.mapFile(*fileName);
        if (!path) {
            if (!allowMissing)
                fail(VIRTKIT_ERR_CONFIG, "VMX entry '" + slot.prefix + ".fileName' refers to '" + *fileName +
                                             "', which does not exist");
            r.warn(slot.prefix + ": '" + *fileName + "' does not exist; the drive is shown empty");
            return {};
        }
        return *path;
    }

    void disk(const Slot &slot)
    {
        if (!r.boolean(slot.prefix + ".present", false)) {
            r.consumePrefix(slot.prefix + ".");
            return;
        }
        if (r.boolean(slot.prefix + ".clientDevice", false)) {
            r.warn(slot.prefix + " is a client device (media of the vSphere client); it has no domain XML equivalent");
            r.consumePrefix(slot.prefix + ".");
            return;
        }
        for (const char *ignored : {".startConnected", ".redo", ".autodetect", ".allowGuestConnectionControl"})
            r.string(slot.prefix + ignored);

        const bool floppy = slot.bus == "fdc";
        const auto fileName = r.string(slot.prefix + ".fileName");
        std::string type;
        std::string device;
        std::string source;
        bool blockSource = false;
        bool optional = false;
        bool transient = false;
        bool writeThrough = false;

        if (floppy) {
            const std::string fileType = lowercase(r.string(slot.prefix + ".fileType").value_or("device"));
            device = "floppy";
            if (fileType == "file") {
                type = "file";
                source = sourceFor(slot, fileName, true);
            } else if (fileType == "device") {
                type = "block";
                blockSource = true;
                source = fileName.value_or("");
            } else {
                fail(VIRTKIT_ERR_NO_SUPPORT, "VMX " + slot.prefix + ".fileType \"" + fileType + "\" is not supported (file or device)");
            }
        } else {
            std::string deviceType = lowercase(r.string(slot.prefix + ".deviceType").value_or(""));
            if (deviceType.empty()) {
                if (fileName && endsWithIgnoringCase(*fileName, ".vmdk"))
                    deviceType = "hard-disk";
                else if (fileName && endsWithIgnoringCase(*fileName, ".iso"))
                    deviceType = "cdrom-image";
                else
                    fail(VIRTKIT_ERR_CONFIG, "VMX " + slot.prefix + " has no deviceType and its fileName is neither a .vmdk nor an .iso");
            }
            if (deviceType == "hard-disk" || deviceType == "scsi-harddisk" || deviceType == "ata-harddisk") {
                if (!fileName || !endsWithIgnoringCase(*fileName, ".vmdk"))
                    fail(VIRTKIT_ERR_CONFIG, "VMX " + slot.prefix + " is a hard disk, so its fileName must name a .vmdk image");
                type = "file";
                device = "disk";
                source = sourceFor(slot, fileName, false);
                const std::string mode = lowercase(r.string(slot.prefix + ".mode").value_or("persistent"));
                transient = mode == "independent-nonpersistent";
                if (!transient && mode != "persistent" && mode != "independent-persistent" && mode != "undoable" &&
                    mode != "nonpersistent")
                    r.warn(slot.prefix + ".mode \"" + mode + "\" is not known; the disk is treated as persistent");
                writeThrough = r.boolean(slot.prefix + ".writeThrough", false);
            } else if (deviceType == "cdrom-image") {
                type = "file";
                device = "cdrom";
                source = sourceFor(slot, fileName, true);
            } else if (deviceType == "atapi-cdrom" || deviceType == "cdrom-raw" || deviceType == "scsi-passthru") {
                type = "block";
                device = deviceType == "atapi-cdrom" ? "cdrom" : "lun";
                blockSource = true;
                if (fileName && equalsIgnoringCase(*fileName, "auto detect"))
                    optional = true;
                else if (fileName && !equalsIgnoringCase(*fileName, "emptyBackingString"))
                    source = *fileName;
            } else {
                fail(VIRTKIT_ERR_NO_SUPPORT, "VMX " + slot.prefix + ".deviceType \"" + deviceType + "\" is not supported");
            }
        }

        XmlNode node("disk");
        node.attr("type", type).attr("device", device);
        if (writeThrough)
            node.add(XmlNode("driver")).attr("cache", "writethrough");
        if (optional)
            node.add(XmlNode("source")).attr("startupPolicy", "optional");
        else if (!source.empty())
            node.add(XmlNode("source")).attr(blockSource ? "dev" : "file", source);
        node.add(XmlNode("target")).attr("dev", slot.target).attr("bus", slot.bus);
        if (device != "disk" && device != "floppy")
            node.add(XmlNode("readonly"));
        if (transient)
            node.add(XmlNode("transient"));
        node.add(XmlNode("address"))
            .attr("type", "drive")
            .attr("controller", std::to_string(slot.controller))
            .attr("bus", std::to_string(slot.busIndex))
            .attr("target", "0")
            .attr("unit", std::to_string(slot.unit));
        disks.push_back(std::move(node));
        int &max = maxController.try_emplace(slot.bus, -1).first->second;
        max = std::max(max, slot.controller);
    }

    // A disk slot on a controller that is not present is not a disk.
    void absentControllerSlot(const Slot &slot, const std::string &controller)
    {
        if (r.boolean(slot.prefix + ".present", false))
            r.warn(slot.prefix + " was ignored because " + controller + ".present is not true");
        r.consumePrefix(slot.prefix + ".");
    }

    void allDisks(std::array<std::string, 4> &scsiModels)
    {
        for (int c = 0; c < 4; ++c) {
            const std::string controller = "scsi" + std::to_string(c);
            const bool present = r.boolean(controller + ".present", false);
            if (present) {
                if (const auto dev = r.string(controller + ".virtualDev")) {
                    const std::string model = lowercase(*dev);
                    if (model == "pvscsi")
                        scsiModels[static_cast<std::size_t>(c)] = "vmpvscsi";
                    else if (model == "buslogic" || model == "lsilogic" || model == "lsisas1068")
                        scsiModels[static_cast<std::size_t>(c)] = model;
                    else
                        fail(VIRTKIT_ERR_NO_SUPPORT, "VMX " + controller + ".virtualDev \"" + *dev +
                                                         "\" is not supported (buslogic, lsilogic, lsisas1068, pvscsi)");
                }
                if (const auto shared = r.string(controller + ".sharedBus"); shared && !equalsIgnoringCase(*shared, "none"))
                    r.warn(controller + ".sharedBus \"" + *shared + "\" (bus sharing) has no domain XML equivalent");
            } else {
                r.consumePrefix(controller + ".");
            }
            // Units 16-63 exist on pvscsi (ESX 6.7+); libvirt names them on past
            // the controller's 15, so their names can repeat another controller's.
            for (int unit = 0; unit < 64; ++unit) {
                if (unit == 7)  // the controller's own SCSI ID
                    continue;
                const Slot slot{controller + ":" + std::to_string(unit), "scsi",
                                diskName("sd", c * 15 + (unit < 7 ? unit : unit - 1)), c, 0, unit};
                present ? disk(slot) : absentControllerSlot(slot, controller);
            }
        }
        for (int c = 0; c < 4; ++c) {
            const std::string controller = "sata" + std::to_string(c);
            const bool present = r.boolean(controller + ".present", false);
            for (int unit = 0; unit < 30; ++unit) {
                const Slot slot{controller + ":" + std::to_string(unit), "sata", diskName("sd", c * 30 + unit), c, 0, unit};
                present ? disk(slot) : absentControllerSlot(slot, controller);
            }
        }
        for (int bus = 0; bus < 2; ++bus)
            for (int unit = 0; unit < 2; ++unit)
                disk({"ide" + std::to_string(bus) + ":" + std::to_string(unit), "ide", diskName("hd", bus * 2 + unit), 0,
                      bus, unit});
        for (int unit = 0; unit < 2; ++unit)
            disk({"floppy" + std::to_string(unit), "fdc", diskName("fd", unit), 0, 0, unit});
    }
};

}  // namespace

void addDisksAndControllers(VmxReader &r, XmlNode &devices)
{
    DiskReader reader(r);
    std::array<std::string, 4> scsiModels;
    reader.allDisks(scsiModels);
    for (XmlNode &disk : reader.disks)
        devices.add(std::move(disk));
    // Controllers as libvirt adds them implicitly: per bus, 0..highest used.
    for (const std::string bus : {"scsi", "fdc", "ide", "sata"}) {
        const auto it = reader.maxController.find(bus);
        if (it == reader.maxController.end())
            continue;
        for (int index = 0; index <= it->second; ++index) {
            XmlNode &controller = devices.add(XmlNode("controller"));
            controller.attr("type", bus).attr("index", std::to_string(index));
            if (bus == "scsi" && !scsiModels[static_cast<std::size_t>(index)].empty())
                controller.attr("model", scsiModels[static_cast<std::size_t>(index)]);
        }
    }
}

}  // namespace virtkit::esx::vmx
