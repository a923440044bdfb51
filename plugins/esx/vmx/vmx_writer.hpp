// The VMX being written by the XML -> VMX converter, and its device halves.
#pragma once

#include <set>
#include <string>

#include "domain_xml.hpp"
#include "vmx_file.hpp"

namespace virtkit::esx::vmx {

struct VmxWriter {
    const VmxContext &context;
    VmxFile vmx;

    void warn(const std::string &message) const
    {
        if (context.warn)
            context.warn(message);
    }
    // One warning per child element of parent that is not in known.
    void warnAboutUnknownChildren(const xmlNode *parent, const std::set<std::string> &known) const
    {
        for (const xmlNode *child : elements(parent))
            if (!known.count(nameOf(child)))
                warn("<" + nameOf(parent) + "><" + nameOf(child) + "> has no VMX equivalent and was ignored");
    }
    std::string formatFile(const std::string &path) const
    {
        return context.formatFileName ? context.formatFileName(path) : defaultFormatFileName(path);
    }
};

void writeDisks(VmxWriter &w, const xmlNode *devices);         // xml_to_vmx_disks.cpp
void writeOtherDevices(VmxWriter &w, const xmlNode *devices);  // xml_to_vmx_devices.cpp

}  // namespace virtkit::esx::vmx
