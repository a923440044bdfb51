// Whether KVM can run guests here: the device opens read-write and answers
// KVM_GET_API_VERSION with the stable API version (12).
#pragma once

#include <string>

namespace virtkit::qemu {

struct KvmStatus {
    bool usable = false;
    std::string reason;  // why not, for messages; empty when usable
};

KvmStatus probe_kvm(const std::string &device = "/dev/kvm");

}  // namespace virtkit::qemu
