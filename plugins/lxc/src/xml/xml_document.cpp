#include "xml/xml_document.hpp"

#include <libxml/parser.h>

#include <virtkit/error.hpp>

namespace virtkit::lxc {

XmlDocument::XmlDocument(std::string_view text)
{
    if (text.size() > max_bytes)
        throw Error(VIRTKIT_ERR_XML, "the XML document is larger than 4 MiB");
    doc_.reset(xmlReadMemory(text.data(), static_cast<int>(text.size()), "domain.xml", nullptr,
                             XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
    if (!doc_ || !root()) {
        const xmlError *error = xmlGetLastError();
        throw Error(VIRTKIT_ERR_XML, std::string("malformed XML: ") +
                                         (error && error->message ? error->message : "cannot parse"));
    }
    if (doc_->intSubset)  // no DTDs: nothing here needs one
        throw Error(VIRTKIT_ERR_XML, "XML with a DOCTYPE is not accepted");
}

std::string XmlDocument::to_string() const
{
    xmlChar *buffer = nullptr;
    int size = 0;
    xmlDocDumpFormatMemoryEnc(doc_.get(), &buffer, &size, "UTF-8", 1);
    std::string text(reinterpret_cast<const char *>(buffer), static_cast<std::size_t>(size));
    xmlFree(buffer);
    if (text.rfind("<?xml", 0) == 0)
        text.erase(0, text.find('\n') + 1);
    return text;
}

namespace xml {

std::string name(const xmlNode *node) { return reinterpret_cast<const char *>(node->name); }

std::optional<std::string> attr(const xmlNode *node, const char *attribute)
{
    if (!node)
        return std::nullopt;
    xmlChar *value = xmlGetNoNsProp(node, reinterpret_cast<const xmlChar *>(attribute));
    if (!value)
        return std::nullopt;
    std::string result(reinterpret_cast<const char *>(value));
    xmlFree(value);
    return result;
}

std::string attr_or(const xmlNode *node, const char *attribute, std::string fallback)
{
    return attr(node, attribute).value_or(std::move(fallback));
}

std::vector<xmlNode *> children(const xmlNode *node, std::string_view element)
{
    std::vector<xmlNode *> result;
    if (!node)
        return result;
    for (xmlNode *c = node->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !c->ns && (element.empty() || name(c) == element))
            result.push_back(c);
    return result;
}

xmlNode *child(const xmlNode *node, std::string_view element)
{
    const auto found = children(node, element);
    return found.empty() ? nullptr : found.front();
}

std::string text(const xmlNode *node)
{
    xmlChar *content = xmlNodeGetContent(node);
    std::string result = content ? reinterpret_cast<const char *>(content) : "";
    xmlFree(content);
    const auto first = result.find_first_not_of(" \t\r\n");
    const auto last = result.find_last_not_of(" \t\r\n");
    return first == std::string::npos ? "" : result.substr(first, last - first + 1);
}

std::optional<std::string> child_text(const xmlNode *node, std::string_view element)
{
    const xmlNode *c = child(node, element);
    return c ? std::optional<std::string>(text(c)) : std::nullopt;
}

void allow_only(const xmlNode *node, const std::string &where, std::initializer_list<std::string_view> known)
{
    if (!node)
        return;
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        bool ok = false;
        for (const std::string_view k : known)
            ok = ok || (!c->ns && name(c) == k);
        if (!ok)
            throw Error(VIRTKIT_ERR_NO_SUPPORT, where + "<" + name(c) + "> is not supported by the lxc driver");
    }
}

xmlNode *append(xmlNode *parent, const char *element)
{
    return xmlNewChild(parent, nullptr, reinterpret_cast<const xmlChar *>(element), nullptr);
}

void set_attr(xmlNode *node, const char *attribute, const std::string &value)
{
    xmlSetProp(node, reinterpret_cast<const xmlChar *>(attribute), reinterpret_cast<const xmlChar *>(value.c_str()));
}

}  // namespace xml
}  // namespace virtkit::lxc
