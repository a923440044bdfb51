// Typed, range-checked reads of a VMX file for the VMX -> XML converter.
// Every read marks the entry as used; what is left unused gets a warning.
#pragma once

#include <optional>
#include <string>

#include "vmx.hpp"
#include "vmx_file.hpp"

namespace virtkit::esx::vmx {

class VmxReader {
public:
    VmxReader(VmxFile &file, const VmxContext &context) : file_(file), context_(context) {}

    std::optional<std::string> string(const std::string &key) { return file_.get(key); }
    // "true"/"false" in any case; anything else is refused.
    bool boolean(const std::string &key, bool fallback);
    // std::nullopt when absent; out of [min, max] is refused; "unlimited" is
    // refused unless allowed, then it reads as -1.
    std::optional<long long> integer(const std::string &key, long long min, long long max, bool unlimited = false);
    // The context's parseFileName, or the default mapping.
    std::optional<std::string> mapFile(const std::string &fileName) const;
    void consumePrefix(const std::string &prefix) { file_.consumePrefix(prefix); }
    void warn(const std::string &message) const;

private:
    VmxFile &file_;
    const VmxContext &context_;
};

// The device halves of the conversion, in libvirt's order.
struct XmlNode;
void addDisksAndControllers(VmxReader &r, XmlNode &devices);
void addOtherDevices(VmxReader &r, XmlNode &devices);

}  // namespace virtkit::esx::vmx
