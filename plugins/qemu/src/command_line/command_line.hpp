// Domain XML -> the argv of qemu-system-x86_64, as libvirt's qemu driver
// would start it: always paused (-S), no defaults, no user config, QMP on a
// UNIX socket.  What the XML asks and this cannot honour is an Error, never
// silently dropped.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace virtkit::qemu {

struct CommandLineOptions {
    std::string monitor_socket;  // QEMU listens here for QMP (server=on,wait=off)
    int monitor_fd = -1;         // or: an already listening socket passed to QEMU
    std::string default_emulator = "/usr/bin/qemu-system-x86_64";
    bool kvm_usable = false;     // <domain type='kvm'> is refused when false
};

struct QemuCommandLine {
    std::string emulator;
    std::vector<std::string> args;  // without the emulator
    std::vector<std::pair<std::string, std::string>> environment;  // from <qemu:env>

    std::vector<std::string> argv() const;  // emulator, then args
};

// Throws Error: VIRTKIT_ERR_XML for malformed or contradictory XML,
// VIRTKIT_ERR_NO_SUPPORT for what the driver cannot honour.
QemuCommandLine build_command_line(std::string_view domain_xml, const CommandLineOptions &options);

}  // namespace virtkit::qemu
