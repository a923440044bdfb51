// Helpers for reading a generated QEMU command line in tests.
#pragma once

#include <string>
#include <vector>

#include <Poco/JSON/Object.h>

#include "command_line/command_line.hpp"

namespace virtkit::qemu::testing {

// A minimal valid domain with `devices` spliced into <devices> and `extra`
// into <domain>.
std::string domain_xml(const std::string &devices = "", const std::string &extra = "",
                       const std::string &type = "qemu");
std::vector<std::string> args_for(const std::string &xml, bool kvm_usable = false);
// Values of every occurrence of `flag`.
std::vector<std::string> values_of(const std::vector<std::string> &args, const std::string &flag);
// -device / -blockdev / -object values that are JSON, parsed.
std::vector<Poco::JSON::Object::Ptr> json_values_of(const std::vector<std::string> &args, const std::string &flag);
// The "driver" of each -device, JSON or key=value, in order.
std::vector<std::string> device_drivers(const std::vector<std::string> &args);
// The -device whose driver is `driver` (first), or null.
Poco::JSON::Object::Ptr device(const std::vector<std::string> &args, const std::string &driver);
// The error code build_command_line throws for `xml`, or VIRTKIT_OK.
int error_code_for(const std::string &xml, bool kvm_usable = false);
std::string error_text_for(const std::string &xml, bool kvm_usable = false);

}  // namespace virtkit::qemu::testing
