// A persistent domain as the qemu driver keeps it: the XML as defined plus
// what it reads from it often.  Parsing also checks that the XML can become a
// QEMU command line, so what cannot be honoured fails at define time.
#pragma once

#include <cstdint>
#include <string>

namespace virtkit::qemu {

struct DomainDefinition {
    std::string name;
    std::string uuid;  // canonical lower-case 36-character form
    std::string xml;   // as defined, with a generated <uuid> if it had none
    std::uint64_t memory_kib = 0;
    std::uint32_t vcpus = 1;

    // Throws Error (XML / NO_SUPPORT) for what cannot be defined.
    static DomainDefinition parse(const std::string &xml, bool kvm_usable);
};

}  // namespace virtkit::qemu
