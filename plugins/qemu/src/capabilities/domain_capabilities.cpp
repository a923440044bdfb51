#include "capabilities/domain_capabilities.hpp"

#include <filesystem>
#include <initializer_list>

#include <virtkit/error.hpp>

namespace virtkit::qemu {
namespace {

std::string escaped(const std::string &text)
{
    std::string out;
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '\'': out += "&apos;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string enum_of(const std::string &name, std::initializer_list<std::string> values, const std::string &indent)
{
    std::string xml = indent + "<enum name='" + name + "'>\n";
    for (const std::string &v : values)
        xml += indent + "  <value>" + v + "</value>\n";
    return xml + indent + "</enum>\n";
}

// <NAME supported='yes'> with enums, or supported='no' when none is offered.
std::string device(const std::string &name, const std::string &enums)
{
    if (enums.empty())
        return "    <" + name + " supported='no'/>\n";
    return "    <" + name + " supported='yes'>\n" + enums + "    </" + name + ">\n";
}

}  // namespace

std::string domain_capabilities(const QemuCapabilities &caps, const std::string &arch, const std::string &machine_name,
                                const std::string &virttype, bool kvm_usable)
{
    if (!arch.empty() && arch != "x86_64" && arch != "i686")
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "arch '" + arch + "' is not offered by " + caps.binary);
    const std::string type = virttype.empty() ? (kvm_usable ? "kvm" : "qemu") : virttype;
    if (type != "kvm" && type != "qemu")
        throw Error(VIRTKIT_ERR_INVALID_ARG, "virttype '" + type + "' is not one of kvm, qemu");
    if (type == "kvm" && !kvm_usable)
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "virttype 'kvm' is not usable on this host (/dev/kvm)");
    const MachineType *machine = nullptr;
    if (machine_name.empty()) {
        for (const MachineType &m : caps.machines)
            if (m.is_default)
                machine = &m;
    } else {
        machine = caps.machine(machine_name);
        if (!machine)
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "machine type '" + machine_name + "' is not offered by " + caps.binary);
    }
    const std::string machine_text = machine ? machine->name : (caps.machines.empty() ? "" : caps.machines[0].name);
    const int max_cpus = machine ? machine->max_cpus : 1;

    std::string xml = "<domainCapabilities>\n";
    xml += "  <path>" + escaped(caps.binary) + "</path>\n";
    xml += "  <domain>" + type + "</domain>\n";
    if (!machine_text.empty())
        xml += "  <machine>" + escaped(machine_text) + "</machine>\n";
    xml += "  <arch>" + (arch.empty() ? std::string("x86_64") : arch) + "</arch>\n";
    xml += "  <vcpu max='" + std::to_string(max_cpus) + "'/>\n";
    xml += "  <iothreads supported='no'/>\n";

    // firmware: BIOS always; UEFI when OVMF is installed (loader given explicitly)
    const bool ovmf = std::filesystem::exists("/usr/share/OVMF/OVMF_CODE.fd");
    xml += "  <os supported='yes'>\n";
    xml += enum_of("firmware", {}, "    ");
    xml += "    <loader supported='yes'>\n";
    if (ovmf)
        xml += "      <value>/usr/share/OVMF/OVMF_CODE.fd</value>\n";
    xml += enum_of("type", {"rom", "pflash"}, "      ");
    xml += enum_of("readonly", {"yes", "no"}, "      ");
    xml += "    </loader>\n  </os>\n";

    xml += "  <cpu>\n";
    xml += "    <mode name='host-passthrough' supported='" + std::string(type == "kvm" ? "yes" : "no") + "'/>\n";
    xml += "    <mode name='maximum' supported='yes'/>\n";
    xml += "    <mode name='host-model' supported='" + std::string(type == "kvm" ? "yes" : "no") + "'/>\n";
    xml += "    <mode name='custom' supported='yes'>\n";
    for (const std::string &model : caps.cpu_models)
        xml += "      <model usable='yes' vendor='unknown'>" + escaped(model) + "</model>\n";
    xml += "    </mode>\n  </cpu>\n";

    xml += "  <memoryBacking supported='no'/>\n";
    xml += "  <devices>\n";
    xml += device("disk", enum_of("diskDevice", {"disk", "cdrom", "floppy"}, "      ") +
                              enum_of("bus", {"ide", "fdc", "scsi", "virtio", "usb", "sata"}, "      ") +
                              enum_of("model", {"virtio"}, "      "));
    xml += device("graphics", enum_of("type", {"vnc"}, "      "));
    std::string video = "      <enum name='modelType'>\n";
    for (const auto &[model, driver] : std::initializer_list<std::pair<const char *, const char *>>{
             {"vga", "VGA"}, {"cirrus", "cirrus-vga"}, {"virtio", "virtio-vga"}, {"bochs", "bochs-display"},
             {"ramfb", "ramfb"}, {"none", ""}})
        if (!*driver || caps.has_device(driver))
            video += std::string("        <value>") + model + "</value>\n";
    xml += device("video", video + "      </enum>\n");
    xml += "    <hostdev supported='no'/>\n";
    xml += device("rng", enum_of("model", {"virtio"}, "      ") + enum_of("backendModel", {"random", "builtin"}, "      "));
    xml += "    <filesystem supported='no'/>\n";
    xml += "    <tpm supported='no'/>\n";
    xml += "    <redirdev supported='no'/>\n";
    xml += device("channel", enum_of("type", {"pty", "unix"}, "      "));
    xml += "    <crypto supported='no'/>\n";
    xml += device("interface", enum_of("backendType", {"default"}, "      "));
    xml += "  </devices>\n";

    xml += "  <features>\n";
    xml += "    <gic supported='no'/>\n";
    xml += "    <vmcoreinfo supported='no'/>\n";
    xml += "    <genid supported='no'/>\n";
    xml += "    <backingStoreInput supported='no'/>\n";
    xml += "    <backup supported='no'/>\n";
    xml += "    <async-teardown supported='no'/>\n";
    xml += "    <ps2 supported='yes'/>\n";
    xml += "    <sev supported='no'/>\n";
    xml += "    <sgx supported='no'/>\n";
    xml += "  </features>\n";
    return xml + "</domainCapabilities>\n";
}

}  // namespace virtkit::qemu
