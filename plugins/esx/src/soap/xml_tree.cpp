#include "soap/xml_tree.hpp"

#include <cstring>

#include <libxml/parser.h>

#include <virtkit/error.hpp>

namespace virtkit::esx::vsphere {

XmlTree XmlTree::parse(const std::string &text, const std::string &what)
{
    if (text.size() > static_cast<std::size_t>(INT32_MAX))
        throw Error(VIRTKIT_ERR_XML, what + " is too large to parse");
    // No XML_PARSE_NOENT (entities stay unexpanded), no DTDLOAD, no HUGE.
    constexpr int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
    xmlDoc *doc = xmlReadMemory(text.data(), static_cast<int>(text.size()), "soap.xml", nullptr, options);
    if (!doc) {
        const xmlError *error = xmlGetLastError();
        std::string reason = error && error->message ? error->message : "unknown parse error";
        while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' '))
            reason.pop_back();
        throw Error(VIRTKIT_ERR_XML, what + " is not well-formed XML: " + reason);
    }
    XmlTree tree;
    tree.doc_.reset(doc, xmlFreeDoc);
    if (doc->intSubset || doc->extSubset)
        throw Error(VIRTKIT_ERR_XML, what + " declares a DTD, which SOAP does not allow; refusing it");
    if (!tree.root())
        throw Error(VIRTKIT_ERR_XML, what + " has no root element");
    return tree;
}

bool isNamed(const xmlNode *node, const char *name)
{
    return node && node->type == XML_ELEMENT_NODE && std::strcmp(reinterpret_cast<const char *>(node->name), name) == 0;
}

const xmlNode *child(const xmlNode *node, const char *name)
{
    for (const xmlNode *c = node ? node->children : nullptr; c; c = c->next)
        if (isNamed(c, name))
            return c;
    return nullptr;
}

std::vector<const xmlNode *> children(const xmlNode *node, const char *name)
{
    std::vector<const xmlNode *> found;
    for (const xmlNode *c = node ? node->children : nullptr; c; c = c->next)
        if (isNamed(c, name))
            found.push_back(c);
    return found;
}

const xmlNode *firstElement(const xmlNode *node)
{
    for (const xmlNode *c = node ? node->children : nullptr; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return nullptr;
}

const xmlNode *descendant(const xmlNode *node, const char *name)
{
    for (const xmlNode *c = node ? node->children : nullptr; c; c = c->next) {
        if (isNamed(c, name))
            return c;
        if (const xmlNode *deeper = descendant(c, name))
            return deeper;
    }
    return nullptr;
}

std::string text(const xmlNode *node)
{
    if (!node)
        return {};
    xmlChar *content = xmlNodeGetContent(node);
    std::string result = content ? reinterpret_cast<const char *>(content) : "";
    xmlFree(content);
    return result;
}

namespace {

// `name` in namespace `ns` (nullptr: no namespace, as a moref's type="").
std::string attributeIn(const xmlNode *node, const char *name, const char *ns)
{
    if (!node)
        return {};
    for (const xmlAttr *a = node->properties; a; a = a->next) {
        if (std::strcmp(reinterpret_cast<const char *>(a->name), name) != 0)
            continue;
        const char *href = a->ns ? reinterpret_cast<const char *>(a->ns->href) : nullptr;
        if ((ns == nullptr) == (href == nullptr) && (!ns || std::strcmp(ns, href) == 0))
            return text(reinterpret_cast<const xmlNode *>(a));
    }
    return {};
}

}  // namespace

std::string attribute(const xmlNode *node, const char *name) { return attributeIn(node, name, nullptr); }

std::string xsiType(const xmlNode *node)
{
    std::string type = attributeIn(node, "type", "http://www.w3.org/2001/XMLSchema-instance");
    const auto colon = type.find(':');
    return colon == std::string::npos ? type : type.substr(colon + 1);
}

std::string escapeXml(const std::string &text)
{
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
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

}  // namespace virtkit::esx::vsphere
