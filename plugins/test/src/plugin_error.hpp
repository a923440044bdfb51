// The one exception type inside the plugin; entry.cpp turns it (and every
// other exception) into a virtkit_error at the C boundary.
#pragma once

#include <stdexcept>
#include <string>

#include <virtkit/plugin.h>

namespace virtkit::testdriver {

class PluginError : public std::runtime_error {
public:
    PluginError(virtkit_error_code code, const std::string &message) : std::runtime_error(message), code_(code) {}
    virtkit_error_code code() const { return code_; }

private:
    virtkit_error_code code_;
};

}  // namespace virtkit::testdriver
