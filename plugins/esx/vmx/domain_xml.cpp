#include "domain_xml.hpp"

#include <cstdint>
#include <map>

#include <libxml/parser.h>

#include "vmx_file.hpp"
#include "vmx_values.hpp"

namespace virtkit::esx::vmx {

namespace {
bool isElement(const xmlNode *node) { return node->type == XML_ELEMENT_NODE; }
}  // namespace

std::string nameOf(const xmlNode *node) { return reinterpret_cast<const char *>(node->name); }

std::vector<const xmlNode *> elements(const xmlNode *parent, const char *name)
{
    std::vector<const xmlNode *> out;
    for (const xmlNode *c = parent ? parent->children : nullptr; c; c = c->next)
        if (isElement(c) && !c->ns && (!name || nameOf(c) == name))
            out.push_back(c);
    return out;
}

const xmlNode *element(const xmlNode *parent, const char *name)
{
    const auto all = elements(parent, name);
    return all.empty() ? nullptr : all.front();
}

std::optional<std::string> attribute(const xmlNode *node, const char *name)
{
    if (!node)
        return std::nullopt;
    xmlChar *value = xmlGetNoNsProp(node, reinterpret_cast<const xmlChar *>(name));
    if (!value)
        return std::nullopt;
    std::string out = reinterpret_cast<const char *>(value);
    xmlFree(value);
    return out;
}

std::string textOf(const xmlNode *node)
{
    xmlChar *value = xmlNodeGetContent(node);
    std::string out = value ? reinterpret_cast<const char *>(value) : "";
    xmlFree(value);
    return out;
}

std::string trimmed(std::string text)
{
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos)
        return {};
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

Document parseHardened(const std::string &text)
{
    if (text.size() > max_xml_bytes)
        fail(VIRTKIT_ERR_XML, "domain XML is larger than " + std::to_string(max_xml_bytes) + " bytes");
    // No XML_PARSE_NOENT (that would expand entities), no DTD loading, no network.
    const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
    Document doc(xmlReadMemory(text.data(), static_cast<int>(text.size()), "domain.xml", nullptr, options), &xmlFreeDoc);
    if (!doc) {
        const xmlError *error = xmlGetLastError();
        std::string detail = error && error->message ? error->message : "unknown error";
        while (!detail.empty() && detail.back() == '\n')
            detail.pop_back();
        fail(VIRTKIT_ERR_XML, "domain XML is not well-formed: " + detail);
    }
    if (doc->intSubset || doc->extSubset)
        fail(VIRTKIT_ERR_XML, "domain XML must not carry a DOCTYPE");
    const xmlNode *root = xmlDocGetRootElement(doc.get());
    if (!root || root->ns || nameOf(root) != "domain")
        fail(VIRTKIT_ERR_XML, "domain XML must have <domain> as its root element");
    return doc;
}

long long kibibytes(const xmlNode *node)
{
    const std::string name = nameOf(node);
    const auto value = parseInteger(trimmed(textOf(node)));
    if (!value || *value < 0)
        fail(VIRTKIT_ERR_XML, "<" + name + "> must hold a non-negative integer");
    static const std::map<std::string, long long> units = {
        {"b", 1},           {"bytes", 1},         {"kb", 1000},          {"k", 1024},
        {"kib", 1024},      {"mb", 1000000},      {"m", 1LL << 20},      {"mib", 1LL << 20},
        {"gb", 1000000000}, {"g", 1LL << 30},     {"gib", 1LL << 30},    {"tb", 1000000000000},
        {"t", 1LL << 40},   {"tib", 1LL << 40}};
    const auto unit = units.find(lowercase(attribute(node, "unit").value_or("KiB")));
    if (unit == units.end())
        fail(VIRTKIT_ERR_XML, "<" + name + "> has an unknown unit '" + *attribute(node, "unit") + "'");
    if (*value > (INT64_MAX / unit->second))
        fail(VIRTKIT_ERR_CONFIG, "<" + name + "> is out of range");
    const long long bytes = *value * unit->second;
    return bytes / 1024 + (bytes % 1024 != 0);
}

long long mebibytesRoundedUp(long long kib) { return kib / 1024 + (kib % 1024 != 0); }

long long integerAttribute(const xmlNode *node, const char *name, long long min, long long max, long long fallback)
{
    const auto text = attribute(node, name);
    if (!text)
        return fallback;
    const auto value = parseInteger(*text);
    if (!value || *value < min || *value > max)
        fail(VIRTKIT_ERR_CONFIG, "<" + nameOf(node) + " " + name + "='" + *text + "'> is out of range (" +
                                     std::to_string(min) + "-" + std::to_string(max) + ")");
    return *value;
}

}  // namespace virtkit::esx::vmx
