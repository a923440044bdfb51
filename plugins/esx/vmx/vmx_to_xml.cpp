// VMX -> domain XML: the general settings here, devices in
// vmx_to_xml_disks.cpp and vmx_to_xml_devices.cpp.  Output follows the
// element order of libvirt's vmx2xml.
#include <algorithm>
#include <cstdint>

#include "vmx_reader.hpp"
#include "vmx_values.hpp"
#include "xml_node.hpp"

namespace virtkit::esx::vmx {

namespace {

void checkHeader(VmxReader &r)
{
    if (const auto encoding = r.string(".encoding");
        encoding && !equalsIgnoringCase(*encoding, "UTF-8") && !equalsIgnoringCase(*encoding, "UTF8"))
        fail(VIRTKIT_ERR_NO_SUPPORT, "VMX .encoding \"" + *encoding + "\" is not supported; only UTF-8 is");
    const auto config = r.integer("config.version", 0, 1000);
    if (!config)
        fail(VIRTKIT_ERR_CONFIG, "VMX entry 'config.version' is missing (is this a .vmx file?)");
    if (*config != 8)
        fail(VIRTKIT_ERR_NO_SUPPORT, "VMX config.version " + std::to_string(*config) + " is not supported; only 8 is");
    const auto hardware = r.integer("virtualHW.version", 0, 1000);
    if (!hardware)
        fail(VIRTKIT_ERR_CONFIG, "VMX entry 'virtualHW.version' is missing");
    if (*hardware < 4)
        fail(VIRTKIT_ERR_NO_SUPPORT,
             "VMX virtualHW.version " + std::to_string(*hardware) + " is not supported; it must be 4 or later");
}

void general(VmxReader &r, XmlNode &domain)
{
    const auto displayName = r.string("displayName");
    if (!displayName || displayName->empty())
        fail(VIRTKIT_ERR_CONFIG, "VMX entry 'displayName' is missing or empty; a domain needs a name");
    const auto name = unescapeHex(*displayName, '%');
    if (!name || !isXmlText(*name))
        fail(VIRTKIT_ERR_CONFIG, "VMX entry 'displayName' has a broken %XX escape or one that decodes to a control character or invalid UTF-8");
    domain.add(XmlNode("name", *name));

    Uuid uuid{};
    if (const auto text = r.string("uuid.bios")) {
        const auto parsed = parseUuid(*text);
        if (!parsed)
            fail(VIRTKIT_ERR_CONFIG, "VMX entry 'uuid.bios' is not a UUID: \"" + *text + "\"");
        uuid = *parsed;
    }
    domain.add(XmlNode("uuid", formatUuid(uuid)));

    const auto genid = r.integer("vm.genid", INT64_MIN, INT64_MAX);
    const auto genidX = r.integer("vm.genidX", INT64_MIN, INT64_MAX);
    if (genid && genidX) {
        Uuid id{};
        for (int i = 0; i < 8; ++i) {
            id[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(static_cast<unsigned long long>(*genid) >> (56 - 8 * i));
            id[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(static_cast<unsigned long long>(*genidX) >> (56 - 8 * i));
        }
        domain.add(XmlNode("genid", formatUuid(id)));
    } else if (genid || genidX) {
        r.warn("VMX has only one of 'vm.genid' and 'vm.genidX'; no <genid> was made");
    }

    if (const auto annotation = r.string("annotation"); annotation && !annotation->empty()) {
        const auto text = unescapeHex(*annotation, '|');
        if (!text || !isXmlText(*text))
            fail(VIRTKIT_ERR_CONFIG, "VMX entry 'annotation' has a broken |XX escape or one that decodes to a "
                                     "control character or invalid UTF-8");
        domain.add(XmlNode("description", *text));
    }

    const long long memoryKiB = r.integer("memsize", 1, max_memsize_mib).value_or(32) * 1024;
    long long currentKiB = memoryKiB;
    if (const auto max = r.integer("sched.mem.max", 0, max_memsize_mib, true); max && *max >= 0)
        currentKiB = std::min(memoryKiB, *max * 1024);
    domain.add(XmlNode("memory", std::to_string(memoryKiB))).attr("unit", "KiB");
    domain.add(XmlNode("currentMemory", std::to_string(currentKiB))).attr("unit", "KiB");
    if (const auto min = r.integer("sched.mem.minsize", 0, max_memsize_mib); min && *min > 0)
        domain.add(XmlNode("memtune"))
            .add(XmlNode("min_guarantee", std::to_string(std::min(memoryKiB, *min * 1024))))
            .attr("unit", "KiB");

    const long long vcpus = r.integer("numvcpus", 1, max_vcpus).value_or(1);
    XmlNode &vcpu = domain.add(XmlNode("vcpu", std::to_string(vcpus)));
    vcpu.attr("placement", "static");
    if (const auto affinity = r.string("sched.cpu.affinity"); affinity && !equalsIgnoringCase(*affinity, "all")) {
        const auto cpus = parseCpuSet(*affinity);
        if (!cpus || cpus->empty())
            fail(VIRTKIT_ERR_CONFIG, "VMX entry 'sched.cpu.affinity' must be \"all\" or a list of host CPU numbers (0-" +
                                         std::to_string(max_cpu) + "), not \"" + *affinity + "\"");
        if (static_cast<long long>(cpus->size()) < vcpus)
            fail(VIRTKIT_ERR_CONFIG, "VMX entry 'sched.cpu.affinity' lists " + std::to_string(cpus->size()) +
                                         " host CPUs, fewer than numvcpus (" + std::to_string(vcpus) + ")");
        vcpu.attributes.insert(vcpu.attributes.begin() + 1, {"cpuset", formatCpuSet(*cpus)});
    }

    if (const auto shares = r.string("sched.cpu.shares")) {
        long long value = 0;
        if (equalsIgnoringCase(*shares, "low"))
            value = vcpus * 500;
        else if (equalsIgnoringCase(*shares, "normal"))
            value = vcpus * 1000;
        else if (equalsIgnoringCase(*shares, "high"))
            value = vcpus * 2000;
        else {
            const auto number = parseInteger(*shares);
            if (!number || *number < 0 || *number > max_shares)
                fail(VIRTKIT_ERR_CONFIG, "VMX entry 'sched.cpu.shares' must be low, normal, high or 0-" +
                                             std::to_string(max_shares) + ", not \"" + *shares + "\"");
            value = *number;
        }
        domain.add(XmlNode("cputune")).add(XmlNode("shares", std::to_string(value)));
    }

    XmlNode &os = domain.add(XmlNode("os"));
    if (const auto firmware = r.string("firmware")) {
        if (equalsIgnoringCase(*firmware, "efi"))
            os.attr("firmware", "efi");
        else if (!equalsIgnoringCase(*firmware, "bios"))
            fail(VIRTKIT_ERR_NO_SUPPORT, "VMX firmware \"" + *firmware + "\" is not supported (bios or efi)");
    }
    const auto guestOS = r.string("guestOS").value_or("");
    os.add(XmlNode("type", "hvm")).attr("arch", endsWithIgnoringCase(guestOS, "-64") ? "x86_64" : "i686");
    if (r.boolean("smbios.reflecthost", false))
        os.add(XmlNode("smbios")).attr("mode", "host");

    if (const auto cores = r.integer("cpuid.coresPerSocket", 1, max_vcpus)) {
        if (vcpus % *cores != 0)
            fail(VIRTKIT_ERR_CONFIG, "VMX numvcpus (" + std::to_string(vcpus) +
                                         ") is not a multiple of cpuid.coresPerSocket (" + std::to_string(*cores) + ")");
        domain.add(XmlNode("cpu"))
            .add(XmlNode("topology"))
            .attr("sockets", std::to_string(vcpus / *cores))
            .attr("dies", "1")
            .attr("clusters", "1")
            .attr("cores", std::to_string(*cores))
            .attr("threads", "1");
    }

    domain.add(XmlNode("clock")).attr("offset", "utc");
    domain.add(XmlNode("on_poweroff", "destroy"));
    domain.add(XmlNode("on_reboot", "restart"));
    domain.add(XmlNode("on_crash", "destroy"));
}

}  // namespace

}  // namespace virtkit::esx::vmx

namespace virtkit::esx {

std::string vmxToDomainXml(const std::string &text, const VmxContext &context)
{
    using namespace vmx;
    VmxFile file = VmxFile::parse(text);
    VmxReader r(file, context);
    checkHeader(r);
    XmlNode domain("domain");
    domain.attr("type", "vmware");
    if (!context.datacenterPath.empty())
        domain.attr("xmlns:vmware", "http://libvirt.org/schemas/domain/vmware/1.0");
    general(r, domain);
    XmlNode &devices = domain.add(XmlNode("devices"));
    addDisksAndControllers(r, devices);
    addOtherDevices(r, devices);
    if (!context.datacenterPath.empty())
        domain.add(XmlNode("vmware:datacenterpath", context.datacenterPath));
    for (const std::string &key : file.unusedKeys())
        r.warn("VMX entry '" + key + "' has no domain XML equivalent and was ignored");
    return domain.format();
}

}  // namespace virtkit::esx
