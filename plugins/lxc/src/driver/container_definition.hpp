// A container as the lxc driver keeps it: the XML as defined plus everything
// the supervisor needs from it.  Parsing refuses whatever the driver cannot
// honour, so a definition that parses can be started as written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace virtkit::lxc {

struct Filesystem {
    enum class Kind { bind, ram };
    Kind kind = Kind::bind;
    std::string source;  // host directory or file (bind)
    std::string target;  // path inside the container
    bool readonly = false;
    std::uint64_t usage_kib = 0;  // ram: tmpfs size, 0 = kernel default
};

struct IdRange {
    std::uint32_t start = 0;   // inside the container
    std::uint32_t target = 0;  // on the host
    std::uint32_t count = 0;
};

struct Interface {
    std::string type;         // "ethernet" or "bridge"
    std::string bridge;       // bridge: host bridge to enslave the host end to
    std::string host_name;    // <target dev>, generated when empty
    std::string guest_name;   // <guest dev>, default eth0, eth1, ...
    std::string mac;          // guest end's MAC, empty = kernel's choice
    std::vector<std::pair<std::string, unsigned>> ipv4, ipv6;  // address, prefix
    std::string ipv4_gateway, ipv6_gateway;  // default routes (<route> to 0.0.0.0 / ::)
    bool up = true;
};

struct ContainerDefinition {
    std::string name;
    std::string uuid;  // canonical lower-case 36-character form
    std::string xml;   // as defined, with a generated <uuid> if it had none

    std::uint64_t memory_kib = 0;  // 0 = no limit
    std::uint32_t vcpus = 1;
    bool vcpus_given = false;      // <vcpu> present: becomes a CPU quota
    std::uint64_t cpu_shares = 0;  // 0 = not set
    std::string partition = "/machine";

    std::string init = "/sbin/init";
    std::vector<std::string> init_args;
    std::vector<std::pair<std::string, std::string>> init_env;
    std::string init_dir;  // empty = "/"

    std::string root;  // host directory holding the container's "/"
    bool root_readonly = false;
    std::vector<Filesystem> filesystems;

    bool private_network = false;  // <privnet/> or any interface
    std::vector<IdRange> uid_map, gid_map;
    std::vector<Interface> interfaces;
    unsigned consoles = 0;
    std::vector<int> dropped_capabilities;  // bounding-set entries removed at start

    // Throws Error (XML / NO_SUPPORT / INVALID_ARG) for what cannot be defined.
    static ContainerDefinition parse(const std::string &xml);
};

// A size element (<memory unit='MiB'>2</memory>, <source usage= units=>) in KiB.
std::uint64_t to_kib(const std::string &number, const std::string &unit, const std::string &where);

}  // namespace virtkit::lxc
