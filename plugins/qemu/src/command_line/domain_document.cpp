#include "command_line/domain_document.hpp"

#include <algorithm>
#include <libxml/parser.h>

#include <virtkit/error.hpp>

namespace virtkit::qemu {

DomainDocument::DomainDocument(std::string_view text)
{
    if (text.size() > max_bytes)
        throw Error(VIRTKIT_ERR_XML, "domain XML is larger than " + std::to_string(max_bytes) + " bytes");
    // No XML_PARSE_NOENT (that would expand entities), no DTD loading, no network.
    const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
    doc_.reset(xmlReadMemory(text.data(), static_cast<int>(text.size()), "domain.xml", nullptr, options));
    if (!doc_) {
        const xmlError *error = xmlGetLastError();
        std::string detail = error && error->message ? error->message : "unknown error";
        while (!detail.empty() && detail.back() == '\n')
            detail.pop_back();
        throw Error(VIRTKIT_ERR_XML, "domain XML is not well-formed: " + detail);
    }
    if (doc_->intSubset || doc_->extSubset)
        throw Error(VIRTKIT_ERR_XML, "domain XML must not carry a DOCTYPE");
    if (!root() || xml::name(root()) != "domain")
        throw Error(VIRTKIT_ERR_XML, "domain XML must have <domain> as its root element");
}

void DomainDocument::add_uuid(const std::string &uuid)
{
    xmlNode *domain = xmlDocGetRootElement(doc_.get());
    xmlNode *node = xmlNewDocNode(doc_.get(), nullptr, reinterpret_cast<const xmlChar *>("uuid"),
                                  reinterpret_cast<const xmlChar *>(uuid.c_str()));
    xmlNode *name = nullptr;
    for (xmlNode *c = domain->children; c && !name; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !c->ns && xml::name(c) == "name")
            name = c;
    if (name)
        xmlAddNextSibling(name, node);
    else
        xmlAddChild(domain, node);
}

void DomainDocument::mark_live(int id, const std::string &log_path)
{
    const auto x = [](const char *text) { return reinterpret_cast<const xmlChar *>(text); };
    xmlNode *domain = xmlDocGetRootElement(doc_.get());
    xmlSetProp(domain, x("id"), x(std::to_string(id).c_str()));
    xmlNode *metadata = nullptr;
    for (xmlNode *c = domain->children; c && !metadata; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !c->ns && xml::name(c) == "metadata")
            metadata = c;
    if (!metadata)
        metadata = xmlNewChild(domain, nullptr, x("metadata"), nullptr);
    for (xmlNode *c = metadata->children; c;) {
        xmlNode *next = c->next;
        if (c->type == XML_ELEMENT_NODE && c->ns && c->ns->href && xml::name(c) == "runtime" &&
            std::string(reinterpret_cast<const char *>(c->ns->href)) == runtime_namespace) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        }
        c = next;
    }
    xmlNode *runtime = xmlNewChild(metadata, nullptr, x("runtime"), nullptr);
    xmlSetNs(runtime, xmlNewNs(runtime, x(runtime_namespace), x("virtkit")));
    xmlSetProp(runtime, x("log"), x(log_path.c_str()));
}

std::string DomainDocument::to_string() const
{
    xmlChar *text = nullptr;
    int size = 0;
    xmlDocDumpMemory(doc_.get(), &text, &size);
    std::string result(reinterpret_cast<const char *>(text), static_cast<std::size_t>(size));
    xmlFree(text);
    return result;
}

namespace xml {

std::string name(const xmlNode *node) { return reinterpret_cast<const char *>(node->name); }

std::string where(const xmlNode *node)
{
    std::string path;
    for (const xmlNode *n = node; n && n->type == XML_ELEMENT_NODE && n->parent &&
                                  n->parent->type == XML_ELEMENT_NODE;
         n = n->parent)
        path = "<" + name(n) + ">" + path;
    return path.empty() ? "<domain>" : path;
}

std::optional<std::string> attr(const xmlNode *node, const char *attribute)
{
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

std::vector<const xmlNode *> children(const xmlNode *node, std::string_view element)
{
    std::vector<const xmlNode *> found;
    for (const xmlNode *c = node ? node->children : nullptr; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !c->ns && (element.empty() || name(c) == element))
            found.push_back(c);
    return found;
}

const xmlNode *child(const xmlNode *node, std::string_view element)
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

bool is_yes(const std::optional<std::string> &value) { return value && (*value == "yes" || *value == "on"); }

void allow_only(const xmlNode *node, std::initializer_list<std::string_view> known, bool namespaced_checked)
{
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || (c->ns && namespaced_checked))
            continue;
        const bool allowed = !c->ns && std::find(known.begin(), known.end(), name(c)) != known.end();
        if (!allowed)
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "the qemu driver cannot honour " + where(c) +
                                                    ": it would be lost, so the domain is refused");
    }
}

}  // namespace xml
}  // namespace virtkit::qemu
