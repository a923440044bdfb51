#include "command_line/command_line.hpp"

#include <algorithm>
#include <charconv>

#include <virtkit/error.hpp>

#include "command_line/argv_builder.hpp"

namespace virtkit::qemu {
namespace {

constexpr std::string_view qemu_namespace = "http://libvirt.org/schemas/domain/qemu/1.0";

// Top-level elements: those that become QEMU options, plus those that are
// only descriptive and change nothing in the guest.
void check_top_level(const xmlNode *domain)
{
    for (const xmlNode *c = domain->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (c->ns) {
            const std::string href = c->ns->href ? reinterpret_cast<const char *>(c->ns->href) : "";
            if (href == qemu_namespace && xml::name(c) == "commandline")
                continue;
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "the qemu driver cannot honour the <" + xml::name(c) +
                                                    "> element of namespace '" + href + "'");
        }
    }
    xml::allow_only(domain, {"name", "uuid", "title", "description", "metadata", "memory", "currentMemory",
                             "maxMemory", "vcpu", "cpu", "os", "features", "clock", "on_poweroff", "on_reboot",
                             "on_crash", "pm", "devices", "seclabel"},
                    true);
    for (const xmlNode *label : xml::children(domain, "seclabel"))
        if (xml::attr_or(label, "type", "") != "none")
            throw Error(VIRTKIT_ERR_NO_SUPPORT,
                        "the qemu driver applies no security labels; only <seclabel type='none'/> is accepted");
}

std::string emulator_of(const xmlNode *devices, const CommandLineOptions &options)
{
    const auto path = xml::child_text(devices, "emulator");
    if (!path)
        return options.default_emulator;
    if (path->empty() || path->front() != '/')
        throw Error(VIRTKIT_ERR_XML, "<emulator> must be an absolute path, not '" + *path + "'");
    check_option_value(*path, "<emulator>");
    return *path;
}

void add_monitor(ArgvBuilder &out)
{
    KeyValueOption chardev("socket");
    chardev.add("id", "charmonitor");
    if (out.options.monitor_fd >= 0)
        chardev.add("fd", static_cast<std::uint64_t>(out.options.monitor_fd));
    else if (!out.options.monitor_socket.empty())
        chardev.add("path", out.options.monitor_socket);
    else
        throw Error(VIRTKIT_ERR_INTERNAL, "no QMP monitor socket was given for the command line");
    chardev.add_flag("server", true).add_flag("wait", false);
    out.add("-chardev", chardev.str());
    out.add("-mon", "chardev=charmonitor,id=monitor,mode=control");
}

}  // namespace

std::vector<std::string> QemuCommandLine::argv() const
{
    std::vector<std::string> all{emulator};
    all.insert(all.end(), args.begin(), args.end());
    return all;
}

std::uint64_t parse_number(const std::string &text, const std::string &what)
{
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty())
        throw Error(VIRTKIT_ERR_XML, what + " must be a non-negative integer, not '" + text + "'");
    return value;
}

std::uint64_t parse_address_number(const std::string &text, const std::string &what)
{
    if (text.rfind("0x", 0) != 0)
        return parse_number(text, what);
    std::uint64_t value = 0;
    const char *begin = text.data() + 2, *end = text.data() + text.size();
    const auto [stop, ec] = std::from_chars(begin, end, value, 16);
    if (ec != std::errc() || stop != end || begin == end)
        throw Error(VIRTKIT_ERR_XML, what + " must be a number, not '" + text + "'");
    return value;
}

std::int64_t parse_signed(const std::string &text, const std::string &what)
{
    std::int64_t value = 0;
    const auto [stop, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || stop != text.data() + text.size() || text.empty())
        throw Error(VIRTKIT_ERR_XML, what + " must be an integer, not '" + text + "'");
    return value;
}

std::uint64_t parse_kib(const xmlNode *element, const char *value_attribute)
{
    const std::string what = xml::where(element) + (value_attribute ? std::string(" ") + value_attribute : "");
    const std::uint64_t value =
        parse_number(value_attribute ? xml::attr_or(element, value_attribute, "") : xml::text(element), what);
    std::string unit = xml::attr_or(element, "unit", "KiB");
    std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::tolower(c); });
    struct Unit {
        const char *name;
        std::uint64_t bytes;
    };
    static constexpr Unit units[] = {{"b", 1}, {"bytes", 1}, {"kb", 1000}, {"k", 1024}, {"kib", 1024},
                                     {"mb", 1000000}, {"m", 1 << 20}, {"mib", 1 << 20}, {"gb", 1000000000},
                                     {"g", 1 << 30}, {"gib", 1 << 30}, {"tb", 1000000000000},
                                     {"t", 1ull << 40}, {"tib", 1ull << 40}};
    for (const Unit &u : units)
        if (unit == u.name) {
            if (value > UINT64_MAX / u.bytes)
                throw Error(VIRTKIT_ERR_XML, what + " is too large");
            return (value * u.bytes + 1023) / 1024;
        }
    throw Error(VIRTKIT_ERR_XML, what + " has an unknown unit '" + unit + "'");
}

void ArgvBuilder::add_placement(JsonOption &device, const xmlNode *element) const
{
    if (const xmlNode *address = xml::child(element, "address")) {
        const std::string type = xml::attr_or(address, "type", "");
        if (type == "pci") {
            const auto number = [&](const char *name) {
                return parse_address_number(xml::attr_or(address, name, "0"), xml::where(address) + " " + name);
            };
            if (number("domain") != 0)
                throw Error(VIRTKIT_ERR_NO_SUPPORT, xml::where(address) + ": only PCI domain 0 is supported");
            const std::uint64_t bus = number("bus");
            const std::string root = q35 ? "pcie.0" : "pci.0";
            device.add("bus", bus == 0 ? root : "pci." + std::to_string(bus));
            std::string addr = "0x" + [](std::uint64_t v) {
                char hex[17];
                const auto r = std::to_chars(hex, hex + sizeof(hex), v, 16);
                return std::string(hex, r.ptr);
            }(number("slot"));
            if (const std::uint64_t function = number("function"); function != 0)
                addr += ".0x" + std::to_string(function);
            device.add("addr", addr);
            if (xml::is_yes(xml::attr(address, "multifunction")))
                device.add_bool("multifunction", true);
        } else if (type != "drive" && type != "virtio-serial" && type != "usb" && !type.empty()) {
            throw Error(VIRTKIT_ERR_NO_SUPPORT, xml::where(address) + ": address type '" + type +
                                                    "' is not supported here");
        }
    }
    if (const xmlNode *boot = xml::child(element, "boot"))
        device.add("bootindex", static_cast<std::int64_t>(
                                    parse_number(xml::attr_or(boot, "order", ""), xml::where(boot) + " order")));
}

QemuCommandLine build_command_line(std::string_view domain_xml, const CommandLineOptions &options)
{
    const DomainDocument document(domain_xml);
    const xmlNode *domain = document.root();
    check_top_level(domain);
    const xmlNode *devices = xml::child(domain, "devices");

    ArgvBuilder out(options);
    QemuCommandLine result;
    result.emulator = emulator_of(devices, options);

    add_system(domain, out);  // -name -S -machine -accel -cpu -m -smp -uuid ...
    out.add("-display", "none");
    out.add("-no-user-config");
    out.add("-nodefaults");
    add_monitor(out);
    if (devices) {
        xml::allow_only(devices, {"emulator", "disk", "controller", "interface", "serial", "console", "channel",
                                  "graphics", "video", "input", "sound", "audio", "memballoon", "rng", "watchdog",
                                  "panic"});
        add_controllers(devices, out);
        add_disks(devices, out);
        add_interfaces(devices, out);
        add_character_devices(devices, out);
        add_display(devices, out);
        add_misc_devices(devices, out);
    } else {
        add_controllers(nullptr, out);
        add_misc_devices(nullptr, out);
    }
    out.add("-msg", "timestamp=on");
    add_passthrough(domain, out);

    result.args = std::move(out.args);
    result.environment = std::move(out.environment);
    result.pty_chardevs = std::move(out.pty_chardevs);
    result.host_cpus = std::move(out.host_cpus);
    return result;
}

}  // namespace virtkit::qemu
