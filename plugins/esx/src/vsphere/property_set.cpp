#include "vsphere/property_set.hpp"

#include <virtkit/error.hpp>

namespace virtkit::esx::vsphere {

std::string Moref::xml(const std::string &tag) const
{
    return "<" + tag + " type=\"" + escapeXml(type) + "\">" + escapeXml(value) + "</" + tag + ">";
}

Moref Moref::from(const xmlNode *node)
{
    return node ? Moref{attribute(node, "type"), text(node)} : Moref{};
}

const xmlNode *ObjectProperties::node(const std::string &path) const
{
    const auto it = values.find(path);
    return it == values.end() ? nullptr : it->second;
}

std::string ObjectProperties::string(const std::string &path) const { return text(node(path)); }

std::optional<int64_t> ObjectProperties::integer(const std::string &path) const
{
    const std::string value = string(path);
    if (value.empty())
        return std::nullopt;
    try {
        std::size_t used = 0;
        const long long parsed = std::stoll(value, &used);
        if (used != value.size())
            throw std::invalid_argument(value);
        return parsed;
    } catch (const std::exception &) {
        throw Error(VIRTKIT_ERR_OPERATION_FAILED,
                    "property " + path + " of " + obj.value + " is not an integer: '" + value + "'");
    }
}

Moref ObjectProperties::ref(const std::string &path) const { return Moref::from(node(path)); }

std::vector<Moref> ObjectProperties::refs(const std::string &path) const
{
    std::vector<Moref> result;
    for (const xmlNode *item : children(node(path), "ManagedObjectReference"))
        result.push_back(Moref::from(item));
    return result;
}

ObjectProperties readObjectContent(const xmlNode *content)
{
    ObjectProperties props;
    props.obj = Moref::from(child(content, "obj"));
    for (const xmlNode *set : children(content, "propSet"))
        props.values[text(child(set, "name"))] = child(set, "val");
    return props;
}

}  // namespace virtkit::esx::vsphere
