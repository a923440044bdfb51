// libvirt's domain capabilities document (virsh domcapabilities) from what
// the capability probe learnt about one QEMU binary: what a domain XML may
// ask of it, in domaincaps.rng's format.  Only what this driver can honour
// is "supported='yes'".
#pragma once

#include <string>

#include "capabilities/qemu_capabilities.hpp"

namespace virtkit::qemu {

// Empty arguments take the defaults (x86_64, the binary's default machine,
// kvm when usable else qemu).  Throws Error for an arch, machine or virt
// type the binary or host cannot offer.
std::string domain_capabilities(const QemuCapabilities &caps, const std::string &arch, const std::string &machine,
                                const std::string &virttype, bool kvm_usable);

}  // namespace virtkit::qemu
