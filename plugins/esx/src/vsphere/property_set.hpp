// What RetrievePropertiesEx and WaitForUpdatesEx answer, kept as XML nodes
// (owned by the answers' trees) and read through small typed accessors.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "soap/xml_tree.hpp"

namespace virtkit::esx::vsphere {

struct Moref {
    std::string type;
    std::string value;
    bool empty() const { return value.empty(); }
    bool operator==(const Moref &o) const { return type == o.type && value == o.value; }
    bool operator<(const Moref &o) const { return type != o.type ? type < o.type : value < o.value; }
    // <TAG type="TYPE">VALUE</TAG>
    std::string xml(const std::string &tag) const;
    static Moref from(const xmlNode *node);
};

// One managed object's requested properties.
struct ObjectProperties {
    Moref obj;
    std::map<std::string, const xmlNode *> values;  // property path -> <val>

    const xmlNode *node(const std::string &path) const;
    std::string string(const std::string &path) const;
    std::optional<int64_t> integer(const std::string &path) const;
    Moref ref(const std::string &path) const;
    std::vector<Moref> refs(const std::string &path) const;  // ArrayOfManagedObjectReference
};

// ObjectProperties from an ObjectContent (<objects>/<returnval>) or
// ObjectUpdate-like element with <propSet><name/><val/></propSet> children.
ObjectProperties readObjectContent(const xmlNode *content);

}  // namespace virtkit::esx::vsphere
