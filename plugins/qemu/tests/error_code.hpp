// The virtkit::Error code an action throws, VIRTKIT_OK when it throws nothing.
#pragma once

#include <functional>

#include <virtkit/error.hpp>

namespace virtkit::qemu::testing {

inline int error_code_of(const std::function<void()> &action)
{
    try {
        action();
    } catch (const virtkit::Error &e) {
        return e.code();
    }
    return VIRTKIT_OK;
}

}  // namespace virtkit::qemu::testing
