// The child side of a container start: runs in the cloned process, inside
// the new namespaces, after the supervisor has mapped ids and moved veths in.
// Never returns: it execs init, or writes why not to `error_fd` and exits.
#pragma once

#include <string>
#include <vector>

#include "driver/container_definition.hpp"

namespace virtkit::lxc {

struct ChildPlan {
    const ContainerDefinition *def = nullptr;
    std::string console_slave;  // host path of the pty slave that becomes /dev/console; empty = none
    std::vector<std::string> peers;  // veth ends moved in, in <interface> order
    int sync_fd = -1;   // read: the supervisor says go, twice (or closes: give up)
    int error_fd = -1;  // write: "ready" before exec, or one line of error text;
                        // close-on-exec, so EOF = exec'd
};

[[noreturn]] void run_container_child(const ChildPlan &plan);

}  // namespace virtkit::lxc
