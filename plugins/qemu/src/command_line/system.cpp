// The machine itself: name, uuid, machine type, accelerator, CPU, memory,
// vCPUs, firmware and boot, features, clock and lifecycle actions.
#include <ctime>
#include <map>
#include <set>

#include <virtkit/error.hpp>

#include "command_line/argv_builder.hpp"

namespace virtkit::qemu {
namespace {

void check_uuid(const std::string &uuid)
{
    const bool dashed = uuid.size() == 36;
    const bool plain = uuid.size() == 32;
    bool ok = dashed || plain;
    for (std::size_t i = 0; ok && i < uuid.size(); ++i) {
        const bool dash_here = dashed && (i == 8 || i == 13 || i == 18 || i == 23);
        ok = dash_here ? uuid[i] == '-' : std::isxdigit(static_cast<unsigned char>(uuid[i])) != 0;
    }
    if (!ok)
        throw Error(VIRTKIT_ERR_XML, "<uuid> '" + uuid + "' is not a UUID");
}

std::string machine_type(const xmlNode *os)
{
    const xmlNode *type = xml::child(os, "type");
    if (!type || xml::text(type) != "hvm")
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "the qemu driver runs only <os><type>hvm</type> guests");
    const std::string arch = xml::attr_or(type, "arch", "x86_64");
    if (arch != "x86_64" && arch != "i686")
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "architecture '" + arch + "' is not supported (x86_64, i686)");
    return xml::attr_or(type, "machine", "pc");
}

bool is_q35(const std::string &machine) { return machine == "q35" || machine.rfind("pc-q35-", 0) == 0; }

// <features> -> machine properties and CPU flags.
void read_features(const xmlNode *features, KeyValueOption &machine, std::vector<std::string> &cpu_flags,
                   bool &acpi)
{
    acpi = false;
    if (!features)
        return;
    xml::allow_only(features, {"acpi", "apic", "pae", "hyperv", "vmport", "smm", "pmu", "kvm"});
    acpi = xml::child(features, "acpi") != nullptr;
    if (const xmlNode *apic = xml::child(features, "apic"); apic && xml::attr(apic, "eoi"))
        cpu_flags.push_back(std::string("kvm-pv-eoi=") + (xml::is_yes(xml::attr(apic, "eoi")) ? "on" : "off"));
    for (const char *name : {"vmport", "smm"})
        if (const xmlNode *f = xml::child(features, name))
            machine.add_flag(name, xml::attr_or(f, "state", "on") == "on");
    if (const xmlNode *pmu = xml::child(features, "pmu"))
        cpu_flags.push_back(std::string("pmu=") + (xml::attr_or(pmu, "state", "on") == "on" ? "on" : "off"));
    if (const xmlNode *kvm = xml::child(features, "kvm")) {
        xml::allow_only(kvm, {"hidden"});
        if (const xmlNode *hidden = xml::child(kvm, "hidden"); hidden && xml::attr_or(hidden, "state", "") == "on")
            cpu_flags.push_back("kvm=off");
    }
    if (const xmlNode *hyperv = xml::child(features, "hyperv")) {
        if (xml::attr_or(hyperv, "mode", "custom") != "custom")
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "only <hyperv mode='custom'> is supported");
        xml::allow_only(hyperv, {"relaxed", "vapic", "spinlocks", "vpindex", "runtime", "synic", "stimer",
                                 "reset", "frequencies", "reenlightenment", "tlbflush", "ipi", "evmcs"});
        for (const xmlNode *f : xml::children(hyperv)) {
            if (xml::attr_or(f, "state", "off") != "on")
                continue;
            const std::string name = xml::name(f);
            if (name == "spinlocks") {
                const std::uint64_t retries = parse_number(xml::attr_or(f, "retries", "4095"), "spinlocks retries");
                char hex[32];
                std::snprintf(hex, sizeof(hex), "hv-spinlocks=0x%llx", static_cast<unsigned long long>(retries));
                cpu_flags.emplace_back(hex);
            } else {
                cpu_flags.push_back("hv-" + name + "=on");
            }
        }
    }
}

// <cpu> -> the -cpu model and its feature flags (flags from <features> come after).
std::string cpu_model(const xmlNode *cpu, bool kvm, std::vector<std::string> &flags)
{
    if (!cpu)
        return flags.empty() ? "" : "qemu64";
    xml::allow_only(cpu, {"model", "feature", "topology", "numa"});
    const std::string mode = xml::attr_or(cpu, "mode", "custom");
    if (mode == "host-passthrough" || mode == "maximum") {
        if (!kvm && mode == "host-passthrough")
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "CPU mode 'host-passthrough' needs KVM; use mode='maximum' for TCG");
        return kvm && mode == "host-passthrough" ? "host" : "max";
    }
    if (mode == "host-model")
        return kvm ? "host" : "max";
    if (mode != "custom")
        throw Error(VIRTKIT_ERR_XML, "<cpu mode='" + mode + "'> is not a CPU mode");
    const auto model = xml::child_text(cpu, "model");
    std::vector<std::string> own;
    for (const xmlNode *feature : xml::children(cpu, "feature")) {
        const std::string name = xml::attr_or(feature, "name", "");
        const std::string policy = xml::attr_or(feature, "policy", "require");
        if (name.empty())
            throw Error(VIRTKIT_ERR_XML, "<cpu><feature> needs a name");
        if (policy == "require" || policy == "force" || policy == "optional")
            own.push_back(name + "=on");
        else if (policy == "disable" || policy == "forbid")
            own.push_back(name + "=off");
        else
            throw Error(VIRTKIT_ERR_XML, "CPU feature policy '" + policy + "' is not known");
    }
    flags.insert(flags.begin(), own.begin(), own.end());
    if (!model)
        return flags.empty() ? "" : "qemu64";
    return *model;
}

// libvirt's cpuset syntax ("0-3,8,^2") -> the sorted set of CPUs.
std::set<std::uint64_t> parse_cpuset(const std::string &text, const std::string &what)
{
    constexpr std::uint64_t max_cpus = 1024;  // CPU_SETSIZE: what sched_setaffinity takes here
    std::set<std::uint64_t> cpus;
    std::size_t at = 0;
    while (at <= text.size()) {
        const std::size_t comma = std::min(text.find(',', at), text.size());
        std::string item = text.substr(at, comma - at);
        at = comma + 1;
        const bool exclude = !item.empty() && item.front() == '^';
        if (exclude)
            item.erase(0, 1);
        const std::size_t dash = item.find('-');
        const std::uint64_t first = parse_number(item.substr(0, dash), what);
        const std::uint64_t last = dash == std::string::npos ? first : parse_number(item.substr(dash + 1), what);
        if (last < first || last >= max_cpus)
            throw Error(VIRTKIT_ERR_XML, what + " has a bad range '" + item + "' (CPUs 0-" +
                                             std::to_string(max_cpus - 1) + ")");
        for (std::uint64_t cpu = first; cpu <= last; ++cpu)
            exclude ? (void)cpus.erase(cpu) : (void)cpus.insert(cpu);
    }
    return cpus;
}

std::string smp(const xmlNode *domain)
{
    const xmlNode *vcpu = xml::child(domain, "vcpu");
    const std::uint64_t max = vcpu ? parse_number(xml::text(vcpu), "<vcpu>") : 1;
    if (vcpu && xml::attr_or(vcpu, "placement", "static") != "static")
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "<vcpu placement='" + xml::attr_or(vcpu, "placement", "") +
                                                "'> is not supported (static, with cpuset)");
    const std::uint64_t current = vcpu && xml::attr(vcpu, "current")
                                      ? parse_number(*xml::attr(vcpu, "current"), "<vcpu current>")
                                      : max;
    if (max == 0 || current == 0 || current > max)
        throw Error(VIRTKIT_ERR_XML, "<vcpu> needs 1 <= current <= maximum");
    std::uint64_t sockets = max, dies = 1, cores = 1, threads = 1;
    if (const xmlNode *topology = xml::child(xml::child(domain, "cpu"), "topology")) {
        sockets = parse_number(xml::attr_or(topology, "sockets", "1"), "<topology sockets>");
        dies = parse_number(xml::attr_or(topology, "dies", "1"), "<topology dies>");
        cores = parse_number(xml::attr_or(topology, "cores", "1"), "<topology cores>");
        threads = parse_number(xml::attr_or(topology, "threads", "1"), "<topology threads>");
        if (sockets * dies * cores * threads != max)
            throw Error(VIRTKIT_ERR_XML, "<cpu><topology> does not multiply out to the <vcpu> count " +
                                             std::to_string(max));
    }
    KeyValueOption option(std::to_string(current));
    if (current != max)
        option.add("maxcpus", max);
    option.add("sockets", sockets);
    if (dies != 1)
        option.add("dies", dies);
    option.add("cores", cores).add("threads", threads);
    return option.str();
}

// <cpu><numa>: one memory backend and one -numa node per cell, in id order,
// cell sizes rounded up to whole MiB as libvirt does; distances as -numa dist.
// Returns the guest's total memory in KiB (the sum of the cells), 0 without cells.
std::uint64_t add_numa(const xmlNode *domain, std::uint64_t vcpus, ArgvBuilder &out)
{
    const xmlNode *numa = xml::child(xml::child(domain, "cpu"), "numa");
    if (!numa)
        return 0;
    xml::allow_only(numa, {"cell"});
    std::map<std::uint64_t, const xmlNode *> cells;
    std::uint64_t position = 0;
    for (const xmlNode *cell : xml::children(numa, "cell")) {
        xml::allow_only(cell, {"distances"});
        const std::uint64_t id = xml::attr(cell, "id") ? parse_number(*xml::attr(cell, "id"), "<numa><cell id>") : position;
        ++position;
        if (!cells.emplace(id, cell).second)
            throw Error(VIRTKIT_ERR_XML, "<numa> has two cells with id " + std::to_string(id));
    }
    if (cells.empty())
        throw Error(VIRTKIT_ERR_XML, "<numa> needs at least one <cell>");
    if (cells.rbegin()->first != cells.size() - 1)
        throw Error(VIRTKIT_ERR_XML, "<numa> cell ids must run from 0 to " + std::to_string(cells.size() - 1));
    std::uint64_t total_kib = 0;
    std::set<std::uint64_t> placed;
    for (const auto &[id, cell] : cells) {
        const std::string node = "ram-node" + std::to_string(id);
        const std::uint64_t kib = (parse_kib(cell, "memory") + 1023) / 1024 * 1024;
        if (kib == 0)
            throw Error(VIRTKIT_ERR_XML, "<numa><cell id='" + std::to_string(id) + "'> needs memory");
        total_kib += kib;
        const std::string access = xml::attr_or(cell, "memAccess", "default");
        if (xml::is_yes(xml::attr(cell, "discard")))
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "<numa><cell discard='yes'> needs file-backed memory, which is not supported");
        if (access == "shared") {  // memfd: shareable (vhost-user) without a file under the state dir
            out.add("-object", JsonOption("qom-type", "memory-backend-memfd").add("id", node)
                                   .add_bool("share", true).add("size", static_cast<std::int64_t>(kib * 1024)).str());
        } else if (access == "default" || access == "private") {
            out.add("-object", JsonOption("qom-type", "memory-backend-ram").add("id", node)
                                   .add("size", static_cast<std::int64_t>(kib * 1024)).str());
        } else {
            throw Error(VIRTKIT_ERR_XML, "<numa><cell memAccess='" + access + "'> is not shared or private");
        }
        KeyValueOption option("node");
        option.add("nodeid", id);
        if (const auto text = xml::attr(cell, "cpus")) {
            const auto cpus = parse_cpuset(*text, "<numa><cell cpus>");
            for (const std::uint64_t cpu : cpus) {
                if (cpu >= vcpus)
                    throw Error(VIRTKIT_ERR_XML, "<numa><cell cpus> names vCPU " + std::to_string(cpu) +
                                                     " of a guest with " + std::to_string(vcpus));
                if (!placed.insert(cpu).second)
                    throw Error(VIRTKIT_ERR_XML, "vCPU " + std::to_string(cpu) + " is in two <numa> cells");
            }
            // contiguous runs, each its own cpus= as QEMU takes several
            for (auto it = cpus.begin(); it != cpus.end();) {
                auto last = it;
                while (std::next(last) != cpus.end() && *std::next(last) == *last + 1)
                    ++last;
                option.add("cpus", *it == *last ? std::to_string(*it) : std::to_string(*it) + "-" + std::to_string(*last));
                it = std::next(last);
            }
        }
        option.add("memdev", node);
        out.add("-numa", option.str());
    }
    for (const auto &[id, cell] : cells)
        for (const xmlNode *sibling : xml::children(xml::child(cell, "distances"), "sibling")) {
            const std::uint64_t to = parse_number(xml::attr_or(sibling, "id", ""), "<distances><sibling id>");
            const std::uint64_t value = parse_number(xml::attr_or(sibling, "value", ""), "<distances><sibling value>");
            if (!cells.count(to) || value < 10 || value > 255 || (to == id) != (value == 10))
                throw Error(VIRTKIT_ERR_XML, "<numa> distance from cell " + std::to_string(id) + " to " +
                                                 std::to_string(to) + " must name a cell and be 10 (itself) or 11-255");
            out.add("-numa", KeyValueOption("dist").add("src", id).add("dst", to).add("val", value).str());
        }
    return total_kib;
}

// -m; with NUMA cells their sum is the guest's memory, as in libvirt.
std::string memory(const xmlNode *domain, std::uint64_t numa_kib)
{
    const xmlNode *memory = xml::child(domain, "memory");
    if (!memory && !numa_kib)
        throw Error(VIRTKIT_ERR_XML, "the domain has no <memory>");
    const std::uint64_t kib = numa_kib ? numa_kib : parse_kib(memory);
    if (const xmlNode *current = xml::child(domain, "currentMemory"); current && parse_kib(current) > kib)
        throw Error(VIRTKIT_ERR_XML, "<currentMemory> is larger than <memory>");
    KeyValueOption option;
    option.add("size", std::to_string(kib) + "k");
    if (const xmlNode *max = xml::child(domain, "maxMemory")) {
        option.add("slots", parse_number(xml::attr_or(max, "slots", ""), "<maxMemory slots>"));
        option.add("maxmem", std::to_string(parse_kib(max)) + "k");
    }
    return option.str();
}

void add_firmware_and_boot(const xmlNode *os, ArgvBuilder &out, KeyValueOption &machine)
{
    xml::allow_only(os, {"type", "boot", "bootmenu", "kernel", "initrd", "cmdline", "loader", "nvram"});
    if (xml::attr(os, "firmware"))
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "automatic firmware selection (<os firmware=...>) is not supported yet; "
                                            "name the <loader> and <nvram>");
    if (const xmlNode *loader = xml::child(os, "loader")) {
        const std::string path = xml::text(loader);
        if (xml::is_yes(xml::attr(loader, "secure")))
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "secure boot loaders are not supported yet");
        if (xml::attr_or(loader, "type", "rom") == "rom") {
            check_option_value(path, "<loader>");  // a bare file name: QEMU splits nothing
            out.add("-bios", path);
        } else {
            const auto add_pflash = [&](int unit, const std::string &file, bool read_only) {
                const std::string storage = "pflash" + std::to_string(unit) + "-storage";
                const std::string format = "pflash" + std::to_string(unit) + "-format";
                out.add("-blockdev", JsonOption("driver", "file").add("filename", file).add("node-name", storage)
                                         .add_bool("read-only", read_only).str());
                out.add("-blockdev", JsonOption("node-name", format).add_bool("read-only", read_only)
                                         .add("driver", "raw").add("file", storage).str());
                machine.add("pflash" + std::to_string(unit), format);
            };
            add_pflash(0, path, xml::is_yes(xml::attr(loader, "readonly")));
            if (const auto nvram = xml::child_text(os, "nvram"))
                add_pflash(1, *nvram, false);
        }
    }
    for (const char *element : {"kernel", "initrd"})
        if (const auto path = xml::child_text(os, element)) {
            check_option_value(*path, element);  // a bare file name: QEMU splits nothing
            out.add(std::string("-") + element, *path);
        }
    if (const auto cmdline = xml::child_text(os, "cmdline")) {
        check_option_value(*cmdline, "<cmdline>");
        out.add("-append", *cmdline);
    }

    const auto boots = xml::children(os, "boot");
    if (!boots.empty() && out.boot_order_on_devices)
        throw Error(VIRTKIT_ERR_XML, "<os><boot> and per-device <boot order> cannot be used together");
    KeyValueOption boot;
    std::string order;
    for (const xmlNode *b : boots) {
        const std::string dev = xml::attr_or(b, "dev", "");
        const char letter = dev == "hd" ? 'c' : dev == "cdrom" ? 'd' : dev == "network" ? 'n' : dev == "fd" ? 'a' : 0;
        if (!letter)
            throw Error(VIRTKIT_ERR_XML, "<os><boot dev='" + dev + "'> is not a boot device");
        order += letter;
    }
    if (!order.empty())
        boot.add("order", order);
    if (const xmlNode *menu = xml::child(os, "bootmenu")) {
        const bool on = xml::is_yes(xml::attr(menu, "enable"));
        boot.add_flag("menu", on);
        if (const auto timeout = xml::attr(menu, "timeout"); on && timeout)
            boot.add("splash-time", parse_number(*timeout, "<bootmenu timeout>"));
    }
    boot.add_flag("strict", true);
    out.add("-boot", boot.str());
}

void add_clock(const xmlNode *clock, ArgvBuilder &out, std::vector<std::string> &cpu_flags)
{
    KeyValueOption rtc;
    const std::string offset = clock ? xml::attr_or(clock, "offset", "utc") : "utc";
    if (offset == "utc" || offset == "localtime") {
        rtc.add("base", offset);
    } else if (offset == "variable" || offset == "absolute") {
        std::time_t when = std::time(nullptr);
        if (offset == "absolute")
            when = static_cast<std::time_t>(parse_number(xml::attr_or(clock, "start", ""), "<clock start>"));
        else if (const auto adjustment = xml::attr(clock, "adjustment"))
            when += parse_signed(*adjustment, "<clock adjustment>");
        std::tm tm{};
        if (offset == "variable" && xml::attr_or(clock, "basis", "utc") == "localtime")
            localtime_r(&when, &tm);
        else
            gmtime_r(&when, &tm);
        char date[32];
        std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
        rtc.add("base", date);
    } else {
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "clock offset '" + offset + "' is not supported");
    }
    if (clock) {
        xml::allow_only(clock, {"timer"});
        for (const xmlNode *timer : xml::children(clock, "timer")) {
            const std::string name = xml::attr_or(timer, "name", "");
            const auto present = xml::attr(timer, "present");
            const std::string policy = xml::attr_or(timer, "tickpolicy", "");
            if (name == "rtc") {
                if (xml::attr_or(timer, "track", "") == "guest")
                    rtc.add("clock", "vm");
                if (policy == "catchup")
                    rtc.add("driftfix", "slew");
                else if (!policy.empty() && policy != "delay")
                    throw Error(VIRTKIT_ERR_NO_SUPPORT, "rtc tickpolicy '" + policy + "' is not supported");
            } else if (name == "pit") {
                if (policy == "delay")
                    out.add("-global", "kvm-pit.lost_tick_policy=delay");
                else if (policy == "discard")
                    out.add("-global", "kvm-pit.lost_tick_policy=discard");
                else if (!policy.empty())
                    throw Error(VIRTKIT_ERR_NO_SUPPORT, "pit tickpolicy '" + policy + "' is not supported");
            } else if (name == "hpet") {
                if (present && *present == "no")
                    out.add("-no-hpet");
            } else if (name == "kvmclock" || name == "hypervclock") {
                if (present)
                    cpu_flags.push_back((name == "kvmclock" ? "kvmclock=" : "hv-time=") +
                                        std::string(*present == "yes" ? "on" : "off"));
            } else {
                throw Error(VIRTKIT_ERR_NO_SUPPORT, "timer '" + name + "' is not supported");
            }
        }
    }
    out.add("-rtc", rtc.str());
}

// <pm>: whether the guest may suspend to RAM (S3) or disk (S4).
void add_power_management(const xmlNode *pm, ArgvBuilder &out)
{
    if (!pm)
        return;
    xml::allow_only(pm, {"suspend-to-mem", "suspend-to-disk"});
    const std::string chipset = out.q35 ? "ICH9-LPC" : "PIIX4_PM";
    for (const auto &[element, state] : {std::pair{"suspend-to-mem", "disable_s3"}, {"suspend-to-disk", "disable_s4"}})
        if (const xmlNode *suspend = xml::child(pm, element)) {
            const bool enabled = xml::is_yes(xml::attr(suspend, "enabled"));
            out.add("-global", chipset + "." + state + "=" + (enabled ? "0" : "1"));
        }
}

void add_lifecycle_actions(const xmlNode *domain, ArgvBuilder &out)
{
    for (const char *event : {"on_poweroff", "on_reboot", "on_crash"}) {
        const auto action = xml::child_text(domain, event);
        if (action && *action != "destroy" && *action != "restart" && *action != "preserve")
            throw Error(VIRTKIT_ERR_NO_SUPPORT, std::string("<") + event + ">" + *action + " is not supported");
    }
    // QEMU stays after a guest poweroff so the manager sees it and decides.
    out.add("-no-shutdown");
    if (xml::child_text(domain, "on_reboot").value_or("restart") == "destroy")
        out.add("-no-reboot");
}

}  // namespace

void add_system(const xmlNode *domain, ArgvBuilder &out)
{
    const auto name = xml::child_text(domain, "name");
    if (!name || name->empty())
        throw Error(VIRTKIT_ERR_XML, "the domain has no <name>");
    const auto uuid = xml::child_text(domain, "uuid");
    if (!uuid)
        throw Error(VIRTKIT_ERR_XML, "the domain has no <uuid>");
    check_uuid(*uuid);
    const xmlNode *os = xml::child(domain, "os");
    if (!os)
        throw Error(VIRTKIT_ERR_XML, "the domain has no <os>");

    const std::string type = xml::attr_or(domain, "type", "");
    if (type == "kvm" && !out.options.kvm_usable)
        throw Error(VIRTKIT_ERR_NO_SUPPORT,
                    "<domain type='kvm'> needs KVM, which is not usable here (/dev/kvm); use type='qemu' for TCG");
    if (type != "kvm" && type != "qemu")
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "domain type '" + type + "' is not run by the qemu driver (kvm, qemu)");
    out.kvm = type == "kvm";

    const std::string machine_name = machine_type(os);
    out.q35 = is_q35(machine_name);
    // Devices with <boot order> decide how <os><boot> is read.
    for (const xmlNode *device : xml::children(xml::child(domain, "devices")))
        if (xml::child(device, "boot"))
            out.boot_order_on_devices = true;

    out.add("-name", KeyValueOption().add("guest", *name).add_flag("debug-threads", true).str());
    out.add("-S");

    KeyValueOption machine(machine_name);
    machine.add_flag("usb", false).add_flag("dump-guest-core", false);
    std::vector<std::string> cpu_flags;
    bool acpi = false;
    read_features(xml::child(domain, "features"), machine, cpu_flags, acpi);
    if (!acpi)
        machine.add_flag("acpi", false);
    std::vector<std::string> firmware_args;
    {
        ArgvBuilder firmware(out.options);
        firmware.boot_order_on_devices = out.boot_order_on_devices;
        add_firmware_and_boot(os, firmware, machine);
        firmware_args = std::move(firmware.args);
    }
    out.add("-machine", machine.str());
    out.add("-accel", out.kvm ? "kvm" : "tcg");

    std::vector<std::string> clock_args;
    {
        ArgvBuilder clock(out.options);
        add_clock(xml::child(domain, "clock"), clock, cpu_flags);
        clock_args = std::move(clock.args);
    }
    const std::string model = cpu_model(xml::child(domain, "cpu"), out.kvm, cpu_flags);
    if (!model.empty()) {
        KeyValueOption cpu(model);
        for (const std::string &flag : cpu_flags) {
            const auto eq = flag.find('=');
            cpu.add(flag.substr(0, eq), flag.substr(eq + 1));
        }
        out.add("-cpu", cpu.str());
    }
    std::vector<std::string> numa_args;
    std::uint64_t numa_kib = 0;
    {
        ArgvBuilder numa(out.options);
        const xmlNode *vcpu = xml::child(domain, "vcpu");
        numa_kib = add_numa(domain, vcpu ? parse_number(xml::text(vcpu), "<vcpu>") : 1, numa);
        numa_args = std::move(numa.args);
    }
    out.add("-m", memory(domain, numa_kib));
    out.add("-smp", smp(domain));
    if (const xmlNode *vcpu = xml::child(domain, "vcpu"); vcpu && xml::attr(vcpu, "cpuset"))
        out.host_cpus = parse_cpuset(*xml::attr(vcpu, "cpuset"), "<vcpu cpuset>");  // pinned once QEMU runs
    out.args.insert(out.args.end(), numa_args.begin(), numa_args.end());
    out.add("-uuid", *uuid);
    out.args.insert(out.args.end(), clock_args.begin(), clock_args.end());
    add_lifecycle_actions(domain, out);
    add_power_management(xml::child(domain, "pm"), out);
    out.args.insert(out.args.end(), firmware_args.begin(), firmware_args.end());
}

}  // namespace virtkit::qemu
