// Domain XML <-> vSphere VM configuration, for dumpxml and define.
//
// dumpxml is built from the VM's config properties (not from its .vmx file:
// the properties are what the host actually runs, and they need no datastore
// download).  define builds a VirtualMachineConfigSpec for CreateVM_Task.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vsphere/property_set.hpp"

namespace virtkit::esx::vsphere {

// Config properties dumpxml reads.
const std::vector<std::string> &vmConfigPaths();

std::string domainXmlFromConfig(const ObjectProperties &vm);

struct DomainSpec {
    std::string name;
    std::string uuid;  // may be empty: the server picks one
    std::string description;
    uint64_t memoryMB = 0;
    uint32_t vcpus = 1;
    bool x86_64 = true;
    // Interfaces: network name, MAC (may be empty), model (e1000, e1000e, vmxnet3, vlance)
    struct Interface {
        std::string network;
        std::string mac;
        std::string model;
    };
    std::vector<Interface> interfaces;
};

// Throws Error(XML) for malformed XML and Error(NO_SUPPORT) for what a VM
// created through the API cannot have yet (naming the element), so define
// never silently drops a part of the definition.
DomainSpec parseDomainSpec(const std::string &xml);

// <config>…</config> for CreateVM_Task, files placed on `datastore`.
std::string configSpecXml(const DomainSpec &spec, const std::string &datastore);

}  // namespace virtkit::esx::vsphere
