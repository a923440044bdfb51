// libvirt's vmx2xmldata corpus and the host its vmx2xmltest pretends to be.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "vmx.hpp"

namespace virtkit::esx::testing {

inline std::filesystem::path corpusDir()
{
    return std::filesystem::path(VIRTKIT_CONFORMANCE_DIR) / "tests" / "vmx2xmldata";
}

inline std::string readFile(const std::filesystem::path &path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Case names (file stems) of every file with this extension, sorted.
inline std::vector<std::string> corpusCases(const std::string &extension = ".vmx")
{
    std::vector<std::string> names;
    for (const auto &entry : std::filesystem::directory_iterator(corpusDir()))
        if (entry.path().extension() == extension)
            names.push_back(entry.path().stem().string());
    std::sort(names.begin(), names.end());
    return names;
}

// The context libvirt's vmx2xmltest hands its converter, restated:
//  - the .vmx lives in "[datastore] directory";
//  - the simulated host has no datastore called "missing" and no file whose
//    name starts with "missing" (so those files "do not exist");
//  - one case is run with a vCenter datacenter path, as libvirt's test table
//    does for it.  That is harness input, not converter behaviour.
inline VmxContext corpusContext(const std::string &caseName)
{
    VmxContext context;
    context.parseFileName = [](const std::string &fileName) -> std::optional<std::string> {
        const std::string prefix = "/vmfs/volumes/";
        if (fileName.compare(0, prefix.size(), prefix) == 0) {
            const std::string rest = fileName.substr(prefix.size());
            const std::string datastore = rest.substr(0, rest.find('/'));
            const std::string file = rest.substr(rest.find('/') + 1);
            if (datastore == "missing" || file.compare(0, 7, "missing") == 0)
                return std::nullopt;
        }
        VmxContext defaults;
        return defaultParseFileName(fileName, defaults);
    };
    if (caseName == "datacenterpath")
        context.datacenterPath = "folder1/folder2/datacenter1";
    return context;
}

}  // namespace virtkit::esx::testing
