#include "xml_node.hpp"

namespace virtkit::esx::vmx {

std::string escapeXml(const std::string &text)
{
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string XmlNode::format(int depth) const
{
    const std::string indent(static_cast<std::size_t>(depth) * 2, ' ');
    std::string out = indent + "<" + name;
    for (const auto &[key, value] : attributes)
        out += " " + key + "='" + escapeXml(value) + "'";
    if (children.empty() && text.empty())
        return out + "/>\n";
    if (children.empty())
        return out + ">" + escapeXml(text) + "</" + name + ">\n";
    out += ">\n";
    for (const XmlNode &child : children)
        out += child.format(depth + 1);
    return out + indent + "</" + name + ">\n";
}

}  // namespace virtkit::esx::vmx
