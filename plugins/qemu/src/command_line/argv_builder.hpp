// Shared state while one domain's command line is built: the argv so far,
// per-class id counters and facts one device class needs from another.
// Each device class has its own file and one add_* entry point below.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "command_line/command_line.hpp"
#include "command_line/domain_document.hpp"
#include "command_line/option_string.hpp"

namespace virtkit::qemu {

class ArgvBuilder {
public:
    explicit ArgvBuilder(const CommandLineOptions &options) : options(options) {}

    void add(std::string flag) { args.push_back(std::move(flag)); }
    void add(std::string flag, std::string value)
    {
        args.push_back(std::move(flag));
        args.push_back(std::move(value));
    }
    void add_device(const JsonOption &device) { add("-device", device.str()); }
    // Adds "bus"/"addr" from an explicit <address type='pci'> and "bootindex"
    // from <boot order>; QEMU picks a free slot when there is no address.
    void add_placement(JsonOption &device, const xmlNode *element) const;
    // The next number for a counter such as "net" or "serial".
    int next(const std::string &counter) { return counters_[counter]++; }

    const CommandLineOptions &options;
    std::vector<std::string> args;
    std::vector<std::pair<std::string, std::string>> environment;
    bool kvm = false;
    bool q35 = false;
    bool boot_order_on_devices = false;  // some device has <boot order=...>
    std::set<std::string> controllers;  // "scsi0", "virtio-serial0", "usb", ...
    std::map<int, std::string> scsi_models;  // index -> driver
    std::vector<std::string> pty_chardevs;   // chardev ids of pty character devices (QemuCommandLine)
    std::set<std::uint64_t> host_cpus;       // <vcpu cpuset> (QemuCommandLine)

private:
    std::map<std::string, int> counters_;
};

// Unsigned integer attribute/text with a clear error naming `what`.
std::uint64_t parse_number(const std::string &text, const std::string &what);
// Decimal or 0x-prefixed hexadecimal (PCI addresses, I/O ports).
std::uint64_t parse_address_number(const std::string &text, const std::string &what);
// A signed decimal integer (clock adjustments).
std::int64_t parse_signed(const std::string &text, const std::string &what);
// A <memory>-style value with its unit attribute, in KiB.
// From the text, or from `value_attribute` (<cell memory='...' unit='...'>).
std::uint64_t parse_kib(const xmlNode *element, const char *value_attribute = nullptr);

void add_system(const xmlNode *domain, ArgvBuilder &out);       // machine, cpu, memory, os, clock...
void add_controllers(const xmlNode *devices, ArgvBuilder &out);
void add_disks(const xmlNode *devices, ArgvBuilder &out);
void add_interfaces(const xmlNode *devices, ArgvBuilder &out);
void add_character_devices(const xmlNode *devices, ArgvBuilder &out);  // serial, console, channel
// Each <serial>, <console> and <channel> with the chardev QEMU knows it by,
// in the order the command line creates them.  Throws what the XML cannot have.
struct CharacterDevice {
    const xmlNode *element;
    enum Role { serial, serial_console_of_first_serial, virtio_console, virtio_channel } role;
    int number;           // per kind: serial0, console0, channel0...
    std::string chardev;  // "charserial0", "charconsole0", "charchannel0"
};
std::vector<CharacterDevice> character_devices(const xmlNode *devices);
void add_display(const xmlNode *devices, ArgvBuilder &out);     // graphics, video, input, sound
void add_misc_devices(const xmlNode *devices, ArgvBuilder &out);  // memballoon, rng, watchdog, panic
void add_passthrough(const xmlNode *domain, ArgvBuilder &out);  // <qemu:commandline>

}  // namespace virtkit::qemu

namespace virtkit::qemu {
// Adds the controller a device needs when the XML did not declare it, as
// libvirt does (type "scsi" or "virtio-serial"); returns its QEMU id.
std::string ensure_controller(ArgvBuilder &out, const std::string &type, int index);
}  // namespace virtkit::qemu
