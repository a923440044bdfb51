#pragma once

#include <string>

#include "node_description.hpp"

namespace virtkit::testdriver {

// libvirt's test driver capabilities: an i686 host with its NUMA cells and
// hvm and xen guests of domain type 'test'.  Valid against capability.rng.
std::string capabilitiesXml(const NodeInfo &node);

}  // namespace virtkit::testdriver
