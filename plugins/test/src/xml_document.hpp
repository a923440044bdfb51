// Hardened libxml2 parsing and a few tree helpers.  Network off, no DTD
// loading, no entity expansion, documents with a DOCTYPE refused, size
// bounded: the same rules as the core's DomainXml.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <libxml/tree.h>

namespace virtkit::testdriver {

struct XmlDocFree {
    void operator()(xmlDoc *doc) const { xmlFreeDoc(doc); }
};
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocFree>;

inline constexpr std::size_t kMaxXmlBytes = 10 * 1024 * 1024;

// Throws PluginError(VIRTKIT_ERR_XML) naming `what` (e.g. "domain XML") and
// the line of the first error.
XmlDocPtr parseXml(std::string_view text, const std::string &what);

// A fresh document whose root is a deep copy of `element` (namespace
// declarations of its ancestors come along).
XmlDocPtr copyToOwnDocument(const xmlNode *element);

// The element (no XML declaration) as text.
std::string serializeElement(xmlDoc *doc, xmlNode *element);

// First child element called `name`; in namespace `nsHref`, or in no namespace when null.
xmlNode *childElement(const xmlNode *parent, const char *name, const char *nsHref = nullptr);
std::string textOf(const xmlNode *node);
std::optional<std::string> attributeOf(const xmlNode *node, const char *name);
std::string_view nameOf(const xmlNode *node);

}  // namespace virtkit::testdriver
