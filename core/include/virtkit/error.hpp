// One exception type for the whole C++ API: a code (virtkit_error_code) and a
// sentence naming what was wrong.  The CLI prints it as "error: <message>".
#pragma once

#include <stdexcept>
#include <string>

#include <virtkit/plugin.h>

namespace virtkit {

class Error : public std::runtime_error {
public:
    Error(int code, const std::string &message) : std::runtime_error(message), code_(code) {}
    int code() const noexcept { return code_; }

private:
    int code_;
};

}  // namespace virtkit
