// Small helpers the esx-vmx tests share.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "vmx.hpp"

namespace virtkit::esx::testing {

// The virtkit::Error code an action throws, VIRTKIT_OK when it throws nothing.
inline int errorCodeOf(const std::function<void()> &action)
{
    try {
        action();
    } catch (const virtkit::Error &e) {
        return e.code();
    }
    return VIRTKIT_OK;
}

// A context that records warnings.
struct Recorded {
    std::vector<std::string> warnings;
    VmxContext context;
    Recorded()
    {
        context.warn = [this](const std::string &message) { warnings.push_back(message); };
    }
    bool warned(const std::string &fragment) const
    {
        for (const std::string &w : warnings)
            if (w.find(fragment) != std::string::npos)
                return true;
        return false;
    }
};

// A minimal valid VMX with extra lines appended.
inline std::string vmxWith(const std::string &extra)
{
    return "config.version = \"8\"\nvirtualHW.version = \"7\"\ndisplayName = \"t\"\n" + extra;
}

}  // namespace virtkit::esx::testing
