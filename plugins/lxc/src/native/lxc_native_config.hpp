// LXC tools configuration (lxc.container.conf(5)) -> libvirt domain XML, for
// both the LXC 2.x keys (lxc.utsname, lxc.rootfs, lxc.id_map, lxc.network.*,
// lxc.cgroup.*) and the 3.x+ keys (lxc.uts.name, lxc.rootfs.path with its
// optional "type:" prefix, lxc.idmap, lxc.net.N.*, lxc.cgroup2.*).  Keys with
// no domain XML equivalent become warnings; what would change the meaning of
// the container if dropped (an fstab file, a non-directory root) is an error.
#pragma once

#include <string>
#include <vector>

namespace virtkit::lxc {

struct ConvertedConfig {
    std::string xml;
    std::vector<std::string> warnings;  // one sentence per ignored key
};

// Throws Error(VIRTKIT_ERR_NO_SUPPORT / INVALID_ARG) naming the line.
ConvertedConfig domain_xml_from_lxc_config(const std::string &config);

}  // namespace virtkit::lxc
