// The initial contents of a test connection: libvirt's built-in default
// node, or a node description file (<node> with <cpu>, <memory> and
// <domain> children, a <domain file='...'/> resolved beside the file).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <virtkit/plugin.h>

#include "domain_definition.hpp"

namespace virtkit::testdriver {

struct HostCpu {
    unsigned id = 0, socket = 0, core = 0;
    std::string siblings;
};

struct NumaCell {
    uint64_t memoryKiB = 0;
    std::vector<HostCpu> cpus;
};

// libvirt's virNodeInfo, defaults from its test driver.
struct NodeInfo {
    std::string model = "i686";
    uint64_t memoryKiB = 3 * 1024 * 1024;
    unsigned cpus = 16, mhz = 1400, nodes = 2, sockets = 2, cores = 2, threads = 2;
    std::vector<NumaCell> cells;
};

struct NodeDomain {
    DomainDefinition def;
    // libvirt's test namespace (http://libvirt.org/schemas/domain/test/1.0):
    // <test:runstate>N</test:runstate>, <test:transient/>.
    int runstate = VIRTKIT_DOMAIN_RUNNING;
    bool transient = false;
};

struct NodeDescription {
    NodeInfo info;
    std::vector<NodeDomain> domains;
};

// test:///default: one running domain 'test', two NUMA cells of 8 CPUs.
NodeDescription defaultNodeDescription();

// Throws PluginError: VIRTKIT_ERR_NO_CONNECT when the file cannot be read,
// VIRTKIT_ERR_XML when its content is wrong.
NodeDescription loadNodeDescription(const std::string &absolutePath);

}  // namespace virtkit::testdriver
