// Domain XML -> VMX.  Everything libvirt's ESX driver can express is
// written; what VMX cannot hold is refused (VIRTKIT_ERR_NO_SUPPORT) when it
// would change the guest, and reported through VmxContext::warn when it is
// only cosmetic.  General settings here, devices in xml_to_vmx_disks.cpp and
// xml_to_vmx_devices.cpp.
#include <cstdint>
#include <map>

#include "vmx_values.hpp"
#include "vmx_writer.hpp"

namespace virtkit::esx::vmx {

namespace {

void general(VmxWriter &w, const xmlNode *domain)
{
    long long vcpus = 1;
    const auto arch = attribute(element(element(domain, "os"), "type"), "arch").value_or("i686");
    if (arch != "i686" && arch != "x86_64")
        fail(VIRTKIT_ERR_NO_SUPPORT, "architecture '" + arch + "' cannot run on ESX (i686 or x86_64)");
    w.vmx.set("guestOS", arch == "x86_64" ? "other-64" : "other");

    if (const xmlNode *uuid = element(domain, "uuid")) {
        const auto parsed = parseUuid(trimmed(textOf(uuid)));
        if (!parsed)
            fail(VIRTKIT_ERR_XML, "<uuid> is not a UUID: '" + textOf(uuid) + "'");
        w.vmx.set("uuid.bios", formatVmwareUuid(*parsed));
    }
    const xmlNode *name = element(domain, "name");
    if (!name || trimmed(textOf(name)).empty())
        fail(VIRTKIT_ERR_XML, "domain XML has no <name>");
    w.vmx.set("displayName", escapeHex(trimmed(textOf(name)), '%'));
    if (const xmlNode *description = element(domain, "description"))
        w.vmx.set("annotation", escapeHex(textOf(description), '|'));

    const xmlNode *memory = element(domain, "memory");
    if (!memory)
        fail(VIRTKIT_ERR_XML, "domain XML has no <memory>");
    const long long memoryKiB = kibibytes(memory);
    long long memsize = mebibytesRoundedUp(memoryKiB);
    if (memsize % 4 != 0) {
        memsize += 4 - memsize % 4;
        w.warn("<memory> was rounded up to " + std::to_string(memsize) + " MiB: ESX needs a multiple of 4 MiB");
    }
    if (memsize < 4 || memsize > max_memsize_mib)
        fail(VIRTKIT_ERR_CONFIG, "<memory> of " + std::to_string(memoryKiB) + " KiB is out of range (4 MiB to " +
                                     std::to_string(max_memsize_mib / (1024 * 1024)) + " TiB)");
    w.vmx.set("memsize", std::to_string(memsize));
    if (const xmlNode *current = element(domain, "currentMemory")) {
        const long long currentKiB = kibibytes(current);
        if (currentKiB < memoryKiB)
            w.vmx.set("sched.mem.max", std::to_string(mebibytesRoundedUp(currentKiB)));
    }
    if (const xmlNode *memtune = element(domain, "memtune")) {
        w.warnAboutUnknownChildren(memtune, {"min_guarantee"});
        if (const xmlNode *min = element(memtune, "min_guarantee"))
            w.vmx.set("sched.mem.minsize", std::to_string(mebibytesRoundedUp(kibibytes(min))));
    }

    if (const xmlNode *vcpu = element(domain, "vcpu")) {
        const auto count = parseInteger(trimmed(textOf(vcpu)));
        if (!count || *count < 1 || *count > max_vcpus)
            fail(VIRTKIT_ERR_CONFIG, "<vcpu> must be between 1 and " + std::to_string(max_vcpus));
        vcpus = *count;
        if (attribute(vcpu, "current"))
            w.warn("<vcpu current> has no VMX equivalent; all " + std::to_string(vcpus) + " vCPUs are online");
        if (const auto cpuset = attribute(vcpu, "cpuset")) {
            const auto cpus = parseCpuSet(*cpuset);
            if (!cpus || cpus->empty())
                fail(VIRTKIT_ERR_CONFIG, "<vcpu cpuset='" + *cpuset + "'> is not a valid CPU set");
            if (static_cast<long long>(cpus->size()) < vcpus)
                fail(VIRTKIT_ERR_CONFIG, "<vcpu cpuset> names fewer host CPUs than there are vCPUs; ESX refuses that");
            std::string list;
            for (int cpu : *cpus)
                list += (list.empty() ? "" : ",") + std::to_string(cpu);
            w.vmx.set("sched.cpu.affinity", list);
        }
    }
    w.vmx.set("numvcpus", std::to_string(vcpus));
    if (const xmlNode *topology = element(element(domain, "cpu"), "topology")) {
        const long long sockets = integerAttribute(topology, "sockets", 1, max_vcpus, 1);
        const long long cores = integerAttribute(topology, "cores", 1, max_vcpus, 1);
        for (const char *one : {"dies", "clusters", "threads"})
            if (integerAttribute(topology, one, 1, max_vcpus, 1) != 1)
                fail(VIRTKIT_ERR_NO_SUPPORT, std::string("<topology ") + one + "> other than 1 cannot be written as VMX");
        if (sockets * cores != vcpus)
            fail(VIRTKIT_ERR_CONFIG, "<topology> gives " + std::to_string(sockets * cores) + " vCPUs but <vcpu> is " +
                                         std::to_string(vcpus));
        w.vmx.set("cpuid.coresPerSocket", std::to_string(cores));
    }
    if (const xmlNode *cputune = element(domain, "cputune")) {
        w.warnAboutUnknownChildren(cputune, {"shares"});
        if (const xmlNode *shares = element(cputune, "shares")) {
            const auto value = parseInteger(trimmed(textOf(shares)));
            if (!value || *value < 0 || *value > max_shares)
                fail(VIRTKIT_ERR_CONFIG, "<cputune><shares> must be between 0 and " + std::to_string(max_shares));
            std::string text = std::to_string(*value);
            if (*value == vcpus * 500)
                text = "low";
            else if (*value == vcpus * 1000)
                text = "normal";
            else if (*value == vcpus * 2000)
                text = "high";
            w.vmx.set("sched.cpu.shares", text);
        }
    }
    if (const auto offset = attribute(element(domain, "clock"), "offset"); offset && *offset != "utc")
        w.warn("<clock offset='" + *offset + "'> has no VMX equivalent; ESX guests keep UTC");
    for (const auto &[event, expected] : std::map<std::string, std::string>{
             {"on_poweroff", "destroy"}, {"on_reboot", "restart"}, {"on_crash", "destroy"}})
        if (const xmlNode *node = element(domain, event.c_str()); node && trimmed(textOf(node)) != expected)
            w.warn("<" + event + "> other than '" + expected + "' has no VMX equivalent");
}

void firmwareAndGenid(VmxWriter &w, const xmlNode *domain)
{
    const xmlNode *os = element(domain, "os");
    if (const auto type = trimmed(textOf(element(os, "type"))); !type.empty() && type != "hvm")
        fail(VIRTKIT_ERR_NO_SUPPORT, "<os><type>" + type + "</type> is not available on ESX (hvm)");
    const auto firmware = attribute(os, "firmware");
    if (firmware == "efi")
        w.vmx.set("firmware", "efi");
    else if (firmware && *firmware != "bios")
        fail(VIRTKIT_ERR_NO_SUPPORT, "firmware '" + *firmware + "' is not available on ESX (bios, efi)");
    const auto smbios = attribute(element(os, "smbios"), "mode");
    if (smbios == "host")
        w.vmx.set("smbios.reflecthost", "true");
    else if (smbios && *smbios != "emulate")
        w.warn("<smbios mode='" + *smbios + "'> has no VMX equivalent");
    w.warnAboutUnknownChildren(os, {"type", "smbios"});

    if (const xmlNode *genid = element(domain, "genid")) {
        const auto uuid = parseUuid(trimmed(textOf(genid)));
        if (!uuid) {
            w.warn("<genid> without a value: ESX generates its own");
            return;
        }
        unsigned long long high = 0, low = 0;
        for (int i = 0; i < 8; ++i) {
            high = high << 8 | (*uuid)[static_cast<std::size_t>(i)];
            low = low << 8 | (*uuid)[static_cast<std::size_t>(8 + i)];
        }
        w.vmx.set("vm.genid", std::to_string(static_cast<long long>(high)));
        w.vmx.set("vm.genidX", std::to_string(static_cast<long long>(low)));
    }
}

}  // namespace

}  // namespace virtkit::esx::vmx

namespace virtkit::esx {

std::string domainXmlToVmx(const std::string &xml, const VmxContext &context)
{
    using namespace vmx;
    const Document doc = parseHardened(xml);
    const xmlNode *domain = xmlDocGetRootElement(doc.get());
    const auto type = attribute(domain, "type");
    if (!type)
        fail(VIRTKIT_ERR_XML, "<domain> has no type attribute");
    if (*type != "vmware")
        fail(VIRTKIT_ERR_NO_SUPPORT, "domain type '" + *type + "' cannot be written as VMX; expected 'vmware'");
    if (context.virtualHwVersion < 4 || context.virtualHwVersion > 99)
        fail(VIRTKIT_ERR_CONFIG, "virtualHW.version " + std::to_string(context.virtualHwVersion) +
                                     " is out of range (4-99)");
    VmxWriter w{context, {}};
    w.warnAboutUnknownChildren(domain, {"name", "uuid", "genid", "description", "memory", "currentMemory", "memtune",
                                        "vcpu", "cputune", "os", "cpu", "clock", "on_poweroff", "on_reboot",
                                        "on_crash", "devices"});
    w.vmx.set(".encoding", "UTF-8");
    w.vmx.set("config.version", "8");
    w.vmx.set("virtualHW.version", std::to_string(context.virtualHwVersion));
    general(w, domain);
    const xmlNode *devices = element(domain, "devices");
    w.warnAboutUnknownChildren(devices, {"disk", "controller", "filesystem", "interface", "serial", "parallel",
                                         "console", "graphics", "video"});
    writeDisks(w, devices);
    writeOtherDevices(w, devices);
    firmwareAndGenid(w, domain);
    return w.vmx.format();
}

}  // namespace virtkit::esx
