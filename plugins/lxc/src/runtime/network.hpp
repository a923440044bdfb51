// Container networking: veth pairs made on the host with iproute2's `ip`
// (Debian's iproute2; no lxc-* tool), one end moved into the container's
// network namespace, and ioctl()-level setup of that end from inside.
#pragma once

#include <string>
#include <sys/types.h>

#include "driver/container_definition.hpp"

namespace virtkit::lxc {

// Makes HOST <-> PEER, moves PEER into the netns of `pid`, enslaves HOST to
// the bridge (if any) and brings it up.  Throws Error(SYSTEM) after removing
// what it made.
void create_veth(const Interface &iface, const std::string &host, const std::string &peer, pid_t pid);
// `ip link del` (the pair goes with it); quiet when it is already gone.
void delete_veth(const std::string &host);
bool link_exists(const std::string &name);

// Inside the container's netns: "lo" up; PEER renamed to guest_name, its MAC
// and IPv4 addresses set, brought up.  Return an error text, empty on success
// (they run in the pre-exec child, which reports through a pipe).
std::string bring_up_loopback();
std::string configure_guest_end(const Interface &iface, const std::string &peer);

}  // namespace virtkit::lxc
