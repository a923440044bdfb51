// Starting a container, as the supervisor does it: check the root, make the
// cgroup and the console ptys, clone init into new PID, mount, UTS, IPC (and
// net, user) namespaces, map ids, wire veths, then let the child build its
// root (/proc, read-only /sys, a minimal /dev, bind and tmpfs mounts),
// pivot_root into it, drop capabilities and exec init.  Everything either
// succeeds or is undone: no process, cgroup or veth is left by a failure.
// The mounts live only in the container's own mount namespace, so they go
// with its last process.
#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

#include "driver/container_definition.hpp"
#include "runtime/cgroups.hpp"

namespace virtkit::lxc {

struct LaunchedContainer {
    pid_t init = -1;  // our child: the supervisor is init's parent
    ContainerCgroup cgroup{CgroupVersion::v1, {}};
    int host_console = -1;       // master of the pty users attach to
    int container_console = -1;  // master of the pty that is init's console
    std::string console_path;    // host pty path (the <console><source path>)
    std::vector<std::string> host_veths;
};

// `leaf`: the cgroup directory name; `link_prefix`: a short unique stem for
// veth names not given in the XML.  Throws Error having undone everything.
LaunchedContainer launch_container(const ContainerDefinition &def, const std::string &leaf,
                                   const std::string &link_prefix);

// What must go when init has ended (or a launch is undone).
void remove_container_leftovers(ContainerCgroup &cgroup, const std::vector<std::string> &host_veths);

}  // namespace virtkit::lxc
