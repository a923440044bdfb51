#include "domain_definition.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include <virtkit/sdk_uuid.hpp>

#include "numbers.hpp"
#include "plugin_error.hpp"

namespace virtkit::testdriver {

namespace {

[[noreturn]] void xmlError(const std::string &message)
{
    throw PluginError(VIRTKIT_ERR_XML, "domain XML: " + message);
}

std::string trimmed(std::string text)
{
    const auto blank = [](unsigned char c) { return std::isspace(c) != 0; };
    text.erase(text.begin(), std::find_if_not(text.begin(), text.end(), blank));
    text.erase(std::find_if_not(text.rbegin(), text.rend(), blank).base(), text.end());
    return text;
}

uint64_t unsignedValue(const std::string &text, const std::string &what)
{
    const auto value = parseUnsigned(text);
    if (!value)
        xmlError("invalid " + what + " '" + text + "': expected an unsigned integer");
    return *value;
}

// libvirt's virScaleInteger: no unit = KiB; b/bytes; k, KiB = 1024; KB = 1000; up to E.
uint64_t unitScale(const std::string &unit, const std::string &what)
{
    if (unit.empty())
        return 1024;
    std::string lower = unit;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == "b" || lower == "bytes")
        return 1;
    const std::string_view prefixes = "kmgtpe";
    const auto power = prefixes.find(lower[0]);
    const std::string rest = lower.substr(1);
    if (power == std::string_view::npos || (!rest.empty() && rest != "ib" && rest != "b"))
        xmlError("unknown unit '" + unit + "' on " + what);
    const uint64_t base = rest == "b" ? 1000 : 1024;
    uint64_t scale = 1;
    for (std::size_t i = 0; i <= power; ++i)
        scale *= base;
    return scale;
}

uint64_t memoryKiB(const xmlNode *element, const std::string &what)
{
    const uint64_t value = unsignedValue(textOf(element), what);
    const uint64_t scale = unitScale(attributeOf(element, "unit").value_or(""), what);
    if (value > std::numeric_limits<uint64_t>::max() / scale)
        xmlError(what + " is too large");
    const uint64_t bytes = value * scale;
    return bytes / 1024 + (bytes % 1024 ? 1 : 0);  // libvirt rounds up to whole KiB
}

bool restartsOn(const xmlNode *domain, const char *element, bool byDefault)
{
    const xmlNode *node = childElement(domain, element);
    if (!node)
        return byDefault;
    const std::string action = trimmed(textOf(node));
    if (action == "restart" || action == "rename-restart")
        return true;
    if (action == "destroy" || action == "preserve" || action == "coredump-destroy" || action == "coredump-restart")
        return false;
    xmlError("unknown action '" + action + "' in <" + element + ">");
}

std::string readName(const xmlNode *domain)
{
    const xmlNode *node = childElement(domain, "name");
    const std::string name = node ? textOf(node) : "";
    if (name.empty())
        xmlError("missing or empty <name>");
    if (name.size() >= VIRTKIT_NAME_MAX)
        xmlError("<name> is " + std::to_string(name.size()) + " bytes; at most " +
                 std::to_string(VIRTKIT_NAME_MAX - 1) + " are accepted");
    if (name.find('\n') != std::string::npos)
        xmlError("<name> '" + name.substr(0, name.find('\n')) + "...' contains a newline");
    return name;
}

// Canonical uuid, written back into the document; generated when absent.
std::string readOrAddUuid(xmlNode *domain)
{
    if (xmlNode *node = childElement(domain, "uuid")) {
        const std::string text = textOf(node);
        const auto uuid = sdk::canonicalUuid(text);
        if (!uuid)
            xmlError("malformed <uuid> '" + text + "'");
        xmlNodeSetContent(node, BAD_CAST uuid->c_str());
        return *uuid;
    }
    const std::string uuid = sdk::randomUuid();
    xmlNode *node = xmlNewDocNode(domain->doc, nullptr, BAD_CAST "uuid", BAD_CAST uuid.c_str());
    xmlNode *name = childElement(domain, "name");
    if (!node || !(name ? xmlAddNextSibling(name, node) : xmlAddChild(domain, node)))
        throw PluginError(VIRTKIT_ERR_INTERNAL, "out of memory adding a <uuid>");
    return uuid;
}

unsigned readVcpus(const xmlNode *domain)
{
    const xmlNode *node = childElement(domain, "vcpu");
    if (!node)
        return 1;
    const uint64_t maximum = unsignedValue(textOf(node), "<vcpu>");
    const auto current = attributeOf(node, "current");
    const uint64_t count = current ? unsignedValue(*current, "<vcpu current>") : maximum;
    if (maximum == 0 || count == 0 || count > maximum || maximum > std::numeric_limits<unsigned>::max())
        xmlError("<vcpu> must be between 1 and its maximum, got " + std::to_string(count) + " of " +
                 std::to_string(maximum));
    return static_cast<unsigned>(count);
}

}  // namespace

DomainDefinition domainDefinitionFromDocument(xmlDoc *doc)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    if (nameOf(root) != "domain" || root->ns)
        xmlError("root element is <" + std::string(nameOf(root)) + ">, expected <domain>");

    DomainDefinition def;
    def.name = readName(root);
    def.uuid = readOrAddUuid(root);
    const xmlNode *memory = childElement(root, "memory");
    if (!memory)
        xmlError("missing <memory>");
    def.memoryKiB = memoryKiB(memory, "<memory>");
    const xmlNode *current = childElement(root, "currentMemory");
    // libvirt clamps a balloon larger than the maximum to the maximum.
    def.currentMemoryKiB = current ? std::min(memoryKiB(current, "<currentMemory>"), def.memoryKiB) : def.memoryKiB;
    def.vcpus = readVcpus(root);
    def.restartOnReboot = restartsOn(root, "on_reboot", true);
    def.restartOnPoweroff = restartsOn(root, "on_poweroff", false);

    xmlUnsetProp(root, BAD_CAST "id");  // an id is runtime state, never part of a definition
    def.xml = serializeElement(doc, root);
    return def;
}

DomainDefinition parseDomainDefinition(const std::string &xml)
{
    const XmlDocPtr doc = parseXml(xml, "domain XML");
    return domainDefinitionFromDocument(doc.get());
}

std::string domainXmlWithId(const std::string &storedXml, int id)
{
    const XmlDocPtr doc = parseXml(storedXml, "stored domain XML");
    xmlNode *root = xmlDocGetRootElement(doc.get());
    if (id >= 0)
        xmlSetProp(root, BAD_CAST "id", BAD_CAST std::to_string(id).c_str());
    else
        xmlUnsetProp(root, BAD_CAST "id");
    return serializeElement(doc.get(), root);
}

}  // namespace virtkit::testdriver
