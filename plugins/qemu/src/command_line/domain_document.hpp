// A domain XML document parsed with libxml2 hardened (no network, no DTD,
// no entity expansion, bounded size), and small read helpers over its nodes.
// Elements in a namespace (e.g. qemu:commandline) are never matched by the
// plain-name helpers.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <libxml/tree.h>

namespace virtkit::qemu {

class DomainDocument {
public:
    static constexpr std::size_t max_bytes = 4u << 20;
    // Throws Error(VIRTKIT_ERR_XML) when the text is not a well-formed <domain>.
    explicit DomainDocument(std::string_view xml);

    const xmlNode *root() const { return xmlDocGetRootElement(doc_.get()); }
    xmlNode *root() { return xmlDocGetRootElement(doc_.get()); }
    // Adds <uuid> after <name> (for a definition that came without one).
    void add_uuid(const std::string &uuid);
    // The live XML of a running domain: <domain id='N'> as libvirt writes it,
    // and <metadata><virtkit:runtime log='PATH'/> (QEMU's stderr), replacing
    // an earlier one.  `dominfo --json` shows the log path from it.
    void mark_live(int id, const std::string &log_path);
    static constexpr const char *runtime_namespace = "https://virtkit.dev/schemas/runtime/1.0";
    std::string to_string() const;

private:
    struct Free {
        void operator()(xmlDoc *doc) const { xmlFreeDoc(doc); }
    };
    std::unique_ptr<xmlDoc, Free> doc_;
};

namespace xml {

std::string name(const xmlNode *node);
// The element's own path for messages, e.g. "<devices><disk>".
std::string where(const xmlNode *node);
std::optional<std::string> attr(const xmlNode *node, const char *attribute);
std::string attr_or(const xmlNode *node, const char *attribute, std::string fallback);
// First element child with this name (no namespace), or nullptr.
const xmlNode *child(const xmlNode *node, std::string_view element);
// Element children (no namespace) with this name, or all when name is empty.
std::vector<const xmlNode *> children(const xmlNode *node, std::string_view element = {});
std::string text(const xmlNode *node);
std::optional<std::string> child_text(const xmlNode *node, std::string_view element);
bool is_yes(const std::optional<std::string> &value);  // "yes" / "on"

// Throws Error(NO_SUPPORT) naming the first element child (namespaced ones
// included) whose name is not in `known`: what we cannot honour is refused,
// never silently dropped.  `namespaced_checked`: the caller has vetted the
// namespaced children itself.
void allow_only(const xmlNode *node, std::initializer_list<std::string_view> known, bool namespaced_checked = false);

}  // namespace xml
}  // namespace virtkit::qemu
