#include "xml_compare.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include <libxml/parser.h>
#include <libxml/tree.h>

namespace virtkit::esx::testing {

namespace {

std::string qualifiedName(const xmlNode *node)
{
    std::string name = reinterpret_cast<const char *>(node->name);
    if (node->ns && node->ns->href)
        name = std::string("{") + reinterpret_cast<const char *>(node->ns->href) + "}" + name;
    return name;
}

void canonical(const xmlNode *node, int depth, std::string &out)
{
    out += std::string(static_cast<std::size_t>(depth) * 2, ' ') + "<" + qualifiedName(node);
    std::vector<std::pair<std::string, std::string>> attributes;
    for (const xmlAttr *a = node->properties; a; a = a->next) {
        xmlChar *value = xmlNodeListGetString(node->doc, a->children, 1);
        attributes.emplace_back(reinterpret_cast<const char *>(a->name), value ? reinterpret_cast<const char *>(value) : "");
        xmlFree(value);
    }
    std::sort(attributes.begin(), attributes.end());
    for (const auto &[key, value] : attributes)
        out += " " + key + "=\"" + value + "\"";
    out += ">\n";
    for (const xmlNode *child = node->children; child; child = child->next) {
        if (child->type == XML_ELEMENT_NODE) {
            canonical(child, depth + 1, out);
        } else if (child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE) {
            const std::string text = reinterpret_cast<const char *>(child->content);
            if (text.find_first_not_of(" \t\r\n") != std::string::npos)
                out += std::string(static_cast<std::size_t>(depth + 1) * 2, ' ') + "text:" + text + "\n";
        }
    }
}

}  // namespace

std::string canonicalXml(const std::string &xml)
{
    std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> doc(
        xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "compare.xml", nullptr,
                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING),
        &xmlFreeDoc);
    if (!doc || !xmlDocGetRootElement(doc.get()))
        throw std::runtime_error("not well-formed XML:\n" + xml);
    std::string out;
    canonical(xmlDocGetRootElement(doc.get()), 0, out);
    return out;
}

}  // namespace virtkit::esx::testing
