// <controller>: USB, PCI/PCIe topology, SCSI, virtio-serial, IDE/SATA/FDC.
#include <virtkit/error.hpp>

#include "command_line/argv_builder.hpp"

namespace virtkit::qemu {
namespace {

struct ModelDriver {
    const char *model;
    const char *driver;
};

constexpr ModelDriver usb_models[] = {
    {"piix3-uhci", "piix3-usb-uhci"}, {"piix4-uhci", "piix4-usb-uhci"}, {"ehci", "usb-ehci"},
    {"ich9-ehci1", "ich9-usb-ehci1"}, {"ich9-uhci1", "ich9-usb-uhci1"}, {"ich9-uhci2", "ich9-usb-uhci2"},
    {"ich9-uhci3", "ich9-usb-uhci3"}, {"qemu-xhci", "qemu-xhci"},       {"nec-xhci", "nec-usb-xhci"}};
constexpr ModelDriver pci_models[] = {
    {"pci-bridge", "pci-bridge"},           {"pcie-root-port", "pcie-root-port"},
    {"pcie-switch-upstream-port", "x3130-upstream"}, {"pcie-switch-downstream-port", "xio3130-downstream"},
    {"dmi-to-pci-bridge", "i82801b11-bridge"},      {"pcie-to-pci-bridge", "pcie-pci-bridge"},
    {"pci-expander-bus", "pxb"},            {"pcie-expander-bus", "pxb-pcie"}};
constexpr ModelDriver scsi_models[] = {{"virtio-scsi", "virtio-scsi-pci"}, {"lsilogic", "lsi"},
                                       {"lsisas1068", "mptsas1068"},     {"lsisas1078", "megasas"},
                                       {"vmpvscsi", "pvscsi"}};

template <std::size_t N>
std::string driver_for(const ModelDriver (&table)[N], const std::string &model, const std::string &what)
{
    for (const ModelDriver &entry : table)
        if (model == entry.model)
            return entry.driver;
    throw Error(VIRTKIT_ERR_NO_SUPPORT, what + " model '" + model + "' is not supported");
}

std::string usb_id(int index) { return index == 0 ? "usb" : "usb" + std::to_string(index); }

void add_usb(const xmlNode *controller, int index, ArgvBuilder &out)
{
    const std::string model = controller ? xml::attr_or(controller, "model", "") : "";
    if (model == "none")
        return;
    const std::string chosen = model.empty() ? (out.q35 ? "qemu-xhci" : "piix3-uhci") : model;
    JsonOption device("driver", driver_for(usb_models, chosen, "USB controller"));
    if (const xmlNode *master = controller ? xml::child(controller, "master") : nullptr) {
        device.add("masterbus", usb_id(index) + ".0");
        device.add("firstport", static_cast<std::int64_t>(
                                    parse_number(xml::attr_or(master, "startport", "0"), "<master startport>")));
    } else {
        device.add("id", usb_id(index));
        out.controllers.insert(usb_id(index));
    }
    if (controller)
        out.add_placement(device, controller);
    out.add_device(device);
}

void add_pci(const xmlNode *controller, int index, ArgvBuilder &out)
{
    const std::string model = xml::attr_or(controller, "model", "");
    if (model == "pci-root" || model == "pcie-root") {
        if (index != 0 || (model == "pcie-root") != out.q35)
            throw Error(VIRTKIT_ERR_XML, "a " + model + " controller must be index 0 of a matching machine type");
        return;
    }
    const std::string id = "pci." + std::to_string(index);
    std::string driver = driver_for(pci_models, model, "PCI controller");
    // <model name='...'/> picks a specific QEMU device for the model
    if (const xmlNode *named = xml::child(controller, "model"); named && xml::attr(named, "name")) {
        const std::string name = *xml::attr(named, "name");
        const bool known = name == driver || (model == "pcie-root-port" && name == "ioh3420") ||
                           (model == "pci-bridge" && name == "pci-bridge");
        if (!known)
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "PCI controller model name '" + name + "' is not supported for " + model);
        driver = name;
    }
    JsonOption device("driver", driver);
    const xmlNode *target = xml::child(controller, "target");
    const auto target_number = [&](const char *name, std::uint64_t fallback) {
        const auto text = target ? xml::attr(target, name) : std::nullopt;
        if (!text)
            return static_cast<std::int64_t>(fallback);
        return static_cast<std::int64_t>(parse_address_number(*text, std::string("<target ") + name + ">"));
    };
    if (model == "pci-bridge")
        device.add("chassis_nr", target_number("chassisNr", static_cast<std::uint64_t>(index)));
    if (model == "pcie-root-port" || model == "pcie-switch-downstream-port") {
        device.add("port", target_number("port", static_cast<std::uint64_t>(index)));
        device.add("chassis", target_number("chassis", static_cast<std::uint64_t>(index)));
    }
    if (model == "pci-expander-bus" || model == "pcie-expander-bus")
        device.add("bus_nr", target_number("busNr", static_cast<std::uint64_t>(index)));
    device.add("id", id);
    out.add_placement(device, controller);
    out.add_device(device);
    out.controllers.insert(id);
}

}  // namespace

std::string ensure_controller(ArgvBuilder &out, const std::string &type, int index)
{
    const std::string id = type + std::to_string(index);
    if (out.controllers.count(id))
        return id;
    if (type == "scsi") {
        // libvirt's x86 default SCSI controller model
        out.add_device(JsonOption("driver", "lsi").add("id", id));
        out.scsi_models[index] = "lsi";
    } else if (type == "virtio-serial") {
        out.add_device(JsonOption("driver", "virtio-serial-pci").add("id", id));
    } else {
        throw Error(VIRTKIT_ERR_INTERNAL, "no implicit controller of type '" + type + "'");
    }
    out.controllers.insert(id);
    return id;
}

void add_controllers(const xmlNode *devices, ArgvBuilder &out)
{
    bool usb_declared = false;
    for (const xmlNode *controller : xml::children(devices, "controller")) {
        xml::allow_only(controller, {"model", "target", "address", "alias", "master"});
        const std::string type = xml::attr_or(controller, "type", "");
        const int index = static_cast<int>(parse_number(xml::attr_or(controller, "index", "0"), "controller index"));
        const std::string model = xml::attr_or(controller, "model", "");
        if (type == "usb") {
            usb_declared = true;
            add_usb(controller, index, out);
        } else if (type == "pci") {
            add_pci(controller, index, out);
        } else if (type == "scsi") {
            const std::string driver = driver_for(scsi_models, model.empty() ? "lsilogic" : model, "SCSI controller");
            JsonOption device("driver", driver);
            device.add("id", "scsi" + std::to_string(index));
            out.add_placement(device, controller);
            out.add_device(device);
            out.controllers.insert("scsi" + std::to_string(index));
            out.scsi_models[index] = driver;
        } else if (type == "virtio-serial") {
            JsonOption device("driver", "virtio-serial-pci");
            device.add("id", "virtio-serial" + std::to_string(index));
            out.add_placement(device, controller);
            out.add_device(device);
            out.controllers.insert("virtio-serial" + std::to_string(index));
        } else if ((type == "ide" && !out.q35 && index == 0) || (type == "sata" && out.q35 && index == 0) ||
                   (type == "fdc" && index == 0)) {
            // built into the machine type
        } else if (type == "sata") {
            JsonOption device("driver", "ahci");
            device.add("id", "sata" + std::to_string(index));
            out.add_placement(device, controller);
            out.add_device(device);
            out.controllers.insert("sata" + std::to_string(index));
        } else {
            throw Error(VIRTKIT_ERR_NO_SUPPORT,
                        "controller type '" + type + "' index " + std::to_string(index) + " is not supported");
        }
    }
    if (!usb_declared)
        add_usb(nullptr, 0, out);  // libvirt adds the machine's default USB controller
}

}  // namespace virtkit::qemu
