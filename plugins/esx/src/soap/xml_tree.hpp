// A parsed XML document (libxml2) read the hardened way, plus the few lookups
// SOAP answers need.  Parsing never touches the network, never loads a DTD,
// never expands entities and refuses any document that declares a DTD at all
// (SOAP 1.1 forbids one), so an answer can neither fetch files nor blow up.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <libxml/tree.h>

namespace virtkit::esx::vsphere {

class XmlTree {
public:
    // Throws virtkit::Error(XML) naming `what` when the text is not acceptable.
    static XmlTree parse(const std::string &text, const std::string &what);

    const xmlNode *root() const { return xmlDocGetRootElement(doc_.get()); }

private:
    std::shared_ptr<xmlDoc> doc_;
};

// Element children of `node` whose local name is `name` (namespaces ignored:
// vSphere answers use one namespace throughout).
const xmlNode *child(const xmlNode *node, const char *name);
std::vector<const xmlNode *> children(const xmlNode *node, const char *name);
const xmlNode *firstElement(const xmlNode *node);
// Depth-first search for the first element named `name` below `node`.
const xmlNode *descendant(const xmlNode *node, const char *name);
std::string text(const xmlNode *node);
// An attribute in no namespace (a moref's type="…", not xsi:type).
std::string attribute(const xmlNode *node, const char *name);
// xsi:type without its namespace prefix ("" when absent).
std::string xsiType(const xmlNode *node);
bool isNamed(const xmlNode *node, const char *name);

// Escapes text for an XML element or attribute value.
std::string escapeXml(const std::string &text);

}  // namespace virtkit::esx::vsphere
