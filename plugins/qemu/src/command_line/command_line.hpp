// Domain XML -> the argv of qemu-system-x86_64, as libvirt's qemu driver
// would start it: always paused (-S), no defaults, no user config, QMP on a
// UNIX socket.  What the XML asks and this cannot honour is an Error, never
// silently dropped.
#pragma once

#include <functional>
#include <cstdint>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace virtkit::qemu {

// <interface type='network'>: virtkit has no network driver, so a virtual
// network is just a name for a host bridge.  The lookup answers from the
// plugin's config (plugins.qemu.networks.<name>); nullopt = not configured.
using NetworkBridgeLookup = std::function<std::optional<std::string>(const std::string &network)>;
// The plugin-wide lookup (set from the config when a connection opens); empty until then.
NetworkBridgeLookup configured_network_bridges();
void set_configured_network_bridges(NetworkBridgeLookup lookup);

struct CommandLineOptions {
    std::string monitor_socket;  // QEMU listens here for QMP (server=on,wait=off)
    int monitor_fd = -1;         // or: an already listening socket passed to QEMU
    std::string default_emulator = "/usr/bin/qemu-system-x86_64";
    bool kvm_usable = false;     // <domain type='kvm'> is refused when false
    // Network name -> bridge; 'default' is virbr0 unless the lookup says otherwise.
    NetworkBridgeLookup network_bridges = configured_network_bridges();
};

struct QemuCommandLine {
    std::string emulator;
    std::vector<std::string> args;  // without the emulator
    std::vector<std::pair<std::string, std::string>> environment;  // from <qemu:env>
    // Chardev ids of the pty character devices ("charserial0", ...): what to
    // look up in QMP's query-chardev once QEMU has opened them.
    std::vector<std::string> pty_chardevs;
    // <vcpu cpuset='...'>: the host CPUs QEMU's threads are pinned to (empty: no pinning).
    std::set<std::uint64_t> host_cpus;

    std::vector<std::string> argv() const;  // emulator, then args
};

// Throws Error: VIRTKIT_ERR_XML for malformed or contradictory XML,
// VIRTKIT_ERR_NO_SUPPORT for what the driver cannot honour.
QemuCommandLine build_command_line(std::string_view domain_xml, const CommandLineOptions &options);

// The live XML with the pty paths QEMU opened (chardev id -> /dev/pts/N), as
// libvirt shows them: <source path='/dev/pts/N'/>, and tty='...' on <console>.
std::string with_pty_paths(std::string_view domain_xml, const std::map<std::string, std::string> &pty_by_chardev);

}  // namespace virtkit::qemu
