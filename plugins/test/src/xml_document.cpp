#include "xml_document.hpp"

#include <cstring>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "plugin_error.hpp"

namespace virtkit::testdriver {

namespace {

struct ParserCtxtFree {
    void operator()(xmlParserCtxt *ctxt) const { xmlFreeParserCtxt(ctxt); }
};

struct FirstError {
    std::string message;
    int line = 0;
};

// Structured handler on the parser context: keeps libxml2 quiet and never
// touches the process-wide error handlers the host may have installed.
void recordFirstError(void *userData, xmlErrorPtr error)
{
    const auto *ctxt = static_cast<xmlParserCtxt *>(userData);
    auto *first = static_cast<FirstError *>(ctxt->_private);
    if (!first || !error || error->level < XML_ERR_ERROR || !first->message.empty())
        return;
    std::string message = error->message ? error->message : "unknown error";
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
        message.pop_back();
    first->message = message;
    first->line = error->line;
}

}  // namespace

XmlDocPtr parseXml(std::string_view text, const std::string &what)
{
    if (text.size() > kMaxXmlBytes)
        throw PluginError(VIRTKIT_ERR_XML, what + " is " + std::to_string(text.size()) + " bytes, more than the " +
                                               std::to_string(kMaxXmlBytes) + " accepted");
    const std::unique_ptr<xmlParserCtxt, ParserCtxtFree> ctxt(xmlNewParserCtxt());
    if (!ctxt)
        throw PluginError(VIRTKIT_ERR_INTERNAL, "cannot allocate an XML parser for " + what);
    FirstError first;
    ctxt->_private = &first;
    ctxt->sax->serror = recordFirstError;

    // No XML_PARSE_NOENT and no XML_PARSE_DTDLOAD: entities stay unexpanded and nothing is fetched.
    const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    XmlDocPtr doc(xmlCtxtReadMemory(ctxt.get(), text.data(), static_cast<int>(text.size()), nullptr, nullptr, options));
    if (!doc || !ctxt->wellFormed) {
        const std::string where = first.line > 0 ? " at line " + std::to_string(first.line) : "";
        const std::string detail = first.message.empty() ? "not well-formed" : first.message;
        throw PluginError(VIRTKIT_ERR_XML, what + " is malformed" + where + ": " + detail);
    }
    if (doc->intSubset || doc->extSubset)
        throw PluginError(VIRTKIT_ERR_XML, what + " has a DOCTYPE; DTDs and entity declarations are not accepted");
    if (!xmlDocGetRootElement(doc.get()))
        throw PluginError(VIRTKIT_ERR_XML, what + " has no root element");
    return doc;
}

XmlDocPtr copyToOwnDocument(const xmlNode *element)
{
    XmlDocPtr doc(xmlNewDoc(BAD_CAST "1.0"));
    xmlNode *copy = doc ? xmlDocCopyNode(const_cast<xmlNode *>(element), doc.get(), 1) : nullptr;
    if (!copy)
        throw PluginError(VIRTKIT_ERR_INTERNAL, "out of memory copying an XML element");
    xmlDocSetRootElement(doc.get(), copy);
    return doc;
}

std::string serializeElement(xmlDoc *doc, xmlNode *element)
{
    const std::unique_ptr<xmlBuffer, decltype(&xmlBufferFree)> buffer(xmlBufferCreate(), xmlBufferFree);
    if (!buffer || xmlNodeDump(buffer.get(), doc, element, 0, 0) < 0)
        throw PluginError(VIRTKIT_ERR_INTERNAL, "cannot serialise an XML element");
    return std::string(reinterpret_cast<const char *>(xmlBufferContent(buffer.get())),
                       static_cast<std::size_t>(xmlBufferLength(buffer.get())));
}

xmlNode *childElement(const xmlNode *parent, const char *name, const char *nsHref)
{
    for (xmlNode *child = parent ? parent->children : nullptr; child; child = child->next) {
        if (child->type != XML_ELEMENT_NODE || std::strcmp(reinterpret_cast<const char *>(child->name), name) != 0)
            continue;
        const char *href = child->ns ? reinterpret_cast<const char *>(child->ns->href) : nullptr;
        if ((!nsHref && !href) || (nsHref && href && std::strcmp(nsHref, href) == 0))
            return child;
    }
    return nullptr;
}

std::string textOf(const xmlNode *node)
{
    xmlChar *content = xmlNodeGetContent(node);
    std::string text = content ? reinterpret_cast<const char *>(content) : "";
    xmlFree(content);
    return text;
}

std::optional<std::string> attributeOf(const xmlNode *node, const char *name)
{
    xmlChar *value = xmlGetNoNsProp(node, BAD_CAST name);
    if (!value)
        return std::nullopt;
    std::string text = reinterpret_cast<const char *>(value);
    xmlFree(value);
    return text;
}

std::string_view nameOf(const xmlNode *node)
{
    return node && node->name ? reinterpret_cast<const char *>(node->name) : "";
}

}  // namespace virtkit::testdriver
