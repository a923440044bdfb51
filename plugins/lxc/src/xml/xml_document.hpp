// A domain XML document parsed with libxml2 hardened (no network, no DTD, no
// entity expansion, bounded size), plus small helpers to read and amend it.
#pragma once

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <libxml/tree.h>

namespace virtkit::lxc {

class XmlDocument {
public:
    static constexpr std::size_t max_bytes = 4u << 20;
    // Throws Error(VIRTKIT_ERR_XML) when the text is not well-formed XML.
    explicit XmlDocument(std::string_view text);

    xmlNode *root() const { return xmlDocGetRootElement(doc_.get()); }
    std::string to_string() const;

private:
    struct Free {
        void operator()(xmlDoc *doc) const { xmlFreeDoc(doc); }
    };
    std::unique_ptr<xmlDoc, Free> doc_;
};

namespace xml {

std::string name(const xmlNode *node);
std::optional<std::string> attr(const xmlNode *node, const char *attribute);
std::string attr_or(const xmlNode *node, const char *attribute, std::string fallback);
xmlNode *child(const xmlNode *node, std::string_view element);
std::vector<xmlNode *> children(const xmlNode *node, std::string_view element = {});
std::string text(const xmlNode *node);
std::optional<std::string> child_text(const xmlNode *node, std::string_view element);
// Throws Error(NO_SUPPORT) naming the first element child (of `where`) not in
// `known`: what we cannot honour is refused, never silently dropped.
void allow_only(const xmlNode *node, const std::string &where, std::initializer_list<std::string_view> known);
// Adds <element> as the last child and returns it.
xmlNode *append(xmlNode *parent, const char *element);
void set_attr(xmlNode *node, const char *attribute, const std::string &value);

}  // namespace xml
}  // namespace virtkit::lxc
