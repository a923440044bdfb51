// Hardened libxml2 parsing and serialisation shared by the core's XML types.
// Internal to libvirtkit-core (not installed).
#pragma once

#include <libxml/tree.h>

#include <cstddef>
#include <memory>
#include <string>

namespace virtkit::xml {

struct DocFree {
    void operator()(xmlDoc *doc) const noexcept { xmlFreeDoc(doc); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocFree>;

// xmlInitParser() exactly once per process, before any libxml2 use.
void initLibrary();

// Parses `text` with the network off, no DTD loading, no entity expansion and
// libxml2's default node-size limits.  Refuses input over `maxBytes` and any
// <!ENTITY> declaration.  Diagnostics never reach stderr: the first error is
// thrown as Error(VIRTKIT_ERR_XML, "malformed <what> at line N: ...").
DocPtr parseHardened(const std::string &text, const std::string &what, std::size_t maxBytes);

// The document without an <?xml?> declaration, ending in a newline.
std::string serialize(const xmlDoc &doc);

// Line of a node for messages ("at line 12"), 0 if unknown.
long lineOf(const xmlNode *node);

// Text content of a node (all descendant text), empty for none.
std::string contentOf(const xmlNode *node);

}  // namespace virtkit::xml
