// A small element tree written the way libvirt formats domain XML
// (two-space indent, single-quoted attributes, empty elements as <x/>).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace virtkit::esx::vmx {

struct XmlNode {
    std::string name;
    std::vector<std::pair<std::string, std::string>> attributes;
    std::string text;
    std::vector<XmlNode> children;

    explicit XmlNode(std::string elementName, std::string content = {})
        : name(std::move(elementName)), text(std::move(content))
    {
    }
    XmlNode &attr(const std::string &key, const std::string &value)
    {
        attributes.emplace_back(key, value);
        return *this;
    }
    XmlNode &add(XmlNode child)
    {
        children.push_back(std::move(child));
        return children.back();
    }
    std::string format(int depth = 0) const;
};

std::string escapeXml(const std::string &text);

}  // namespace virtkit::esx::vmx
