// Domain XML: the hardened parse (xml_document.cpp), then libvirt's checks of
// the parts the core understands.  The document itself is kept whole, so
// whatever a plugin or a later version understands survives define/dumpxml.
#include <virtkit/domain_xml.hpp>
#include <virtkit/error.hpp>

#include "xml_document.hpp"
#include "xml_values.hpp"

#include <climits>
#include <optional>

namespace virtkit {

namespace {

constexpr std::size_t kMaxNameBytes = 255;  // libvirt's limit is < 256

[[noreturn]] void reject(const xmlNode *node, const std::string &what) {
    throw Error(VIRTKIT_ERR_XML, "invalid domain XML at line " + std::to_string(xml::lineOf(node)) + ": " + what);
}

bool isElement(const xmlNode *node, const char *name) {
    return node->type == XML_ELEMENT_NODE && node->ns == nullptr &&
           xmlStrEqual(node->name, reinterpret_cast<const xmlChar *>(name));
}

const xmlNode *firstChild(const xmlNode *parent, const char *name) {
    for (const xmlNode *child = parent != nullptr ? parent->children : nullptr; child; child = child->next)
        if (isElement(child, name))
            return child;
    return nullptr;
}

// The schema allows these elements once; a second one would be silently
// ignored by libvirt, so say so instead.
const xmlNode *singleChild(const xmlNode *parent, const char *name) {
    const xmlNode *first = firstChild(parent, name);
    for (const xmlNode *other = first != nullptr ? first->next : nullptr; other; other = other->next)
        if (isElement(other, name))
            reject(other, "<" + std::string(name) + "> appears a second time (first at line " +
                              std::to_string(xml::lineOf(first)) + ")");
    return first;
}

std::optional<std::string> attribute(const xmlNode *node, const char *name) {
    xmlChar *const value = xmlGetNoNsProp(node, reinterpret_cast<const xmlChar *>(name));
    if (value == nullptr)
        return std::nullopt;
    std::string out(reinterpret_cast<const char *>(value));
    xmlFree(value);
    return out;
}

// A libvirt scaled integer ("<memory unit='GiB'>4</memory>", default KiB),
// converted to KiB rounding up, as virDomainParseMemory does.
uint64_t scaledKiB(const xmlNode *node, const std::string &label, const std::string &valueText,
                   const char *unitAttribute) {
    const auto value = xml::parseUnsigned(valueText);
    if (!value)
        reject(node, label + " '" + valueText + "' is not a non-negative integer");
    const std::string unit = attribute(node, unitAttribute).value_or("KiB");
    const auto scale = xml::unitScale(unit);
    if (!scale)
        reject(node, label + " has the unknown unit '" + unit +
                         "' (expected b, bytes, KiB/k, KB, MiB/M, MB, GiB/G, GB, TiB/T, TB, PiB/P, PB, EiB/E or EB)");
    // libvirt bounds memory by what a signed 64-bit byte count holds.
    if (*value != 0 && *value > static_cast<uint64_t>(LLONG_MAX) / *scale)
        reject(node, label + " of " + std::to_string(*value) + " " + unit + " is too large");
    const uint64_t bytes = *value * *scale;
    return bytes / 1024 + (bytes % 1024 != 0 ? 1 : 0);
}

uint64_t elementKiB(const xmlNode *node) {
    return scaledKiB(node, "<" + std::string(reinterpret_cast<const char *>(node->name)) + ">",
                     xml::contentOf(node), "unit");
}

// Sum of <cpu><numa><cell memory=...> in KiB; 0 when there are no cells.
uint64_t numaCellsKiB(const xmlNode *root) {
    uint64_t total = 0;
    const xmlNode *numa = firstChild(firstChild(root, "cpu"), "numa");
    for (const xmlNode *cell = numa != nullptr ? numa->children : nullptr; cell; cell = cell->next) {
        if (!isElement(cell, "cell"))
            continue;
        const auto memory = attribute(cell, "memory");
        if (!memory)
            reject(cell, "NUMA <cell> has no 'memory' attribute");
        total += scaledKiB(cell, "NUMA <cell memory>", *memory, "unit");
    }
    return total;
}

unsigned positiveCount(const xmlNode *node, const std::string &label, const std::string &text) {
    const auto value = xml::parseUnsigned(text);
    if (!value || *value == 0 || *value > UINT_MAX)
        reject(node, label + " '" + text + "' is not a positive integer");
    return static_cast<unsigned>(*value);
}

}  // namespace

struct DomainXml::Impl {
    xml::DocPtr doc;
    std::string type, name, uuid;
    uint64_t memoryKiB = 0;
    uint64_t currentMemoryKiB = 0;
    unsigned vcpus = 1;

    xmlNode *root() const { return xmlDocGetRootElement(doc.get()); }

    void checkRoot() {
        const xmlNode *const node = root();
        if (!isElement(node, "domain"))
            reject(node, "the root element is <" + std::string(reinterpret_cast<const char *>(node->name)) +
                             ">, expected <domain>");
        const auto typeAttr = attribute(node, "type");
        if (!typeAttr)
            reject(node, "<domain> has no 'type' attribute (e.g. <domain type='kvm'>)");
        if (typeAttr->empty())
            reject(node, "<domain type=''> is empty");
        type = *typeAttr;
    }

    void checkName() {
        const xmlNode *const node = singleChild(root(), "name");
        if (node == nullptr)
            reject(root(), "<name> is missing");
        name = xml::contentOf(node);
        if (name.empty())
            reject(node, "<name> is empty");
        if (name.size() > kMaxNameBytes)
            reject(node, "<name> is " + std::to_string(name.size()) + " bytes long, the limit is " +
                             std::to_string(kMaxNameBytes));
        if (name.find('/') != std::string::npos)
            reject(node, "<name> '" + name + "' contains '/', which a domain name may not");
        for (const char c : name)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
                reject(node, "<name> contains a control character (e.g. a newline)");
    }

    void checkUuid() {
        xmlNode *const node = const_cast<xmlNode *>(singleChild(root(), "uuid"));
        if (node == nullptr)
            return;
        const std::string text = xml::contentOf(node);
        const auto canonical = xml::canonicalUuid(text);
        if (!canonical)
            reject(node, "<uuid> '" + text + "' is not a UUID (32 hex digits, with or without dashes)");
        if (*canonical != text)
            xmlNodeSetContent(node, reinterpret_cast<const xmlChar *>(canonical->c_str()));
        uuid = *canonical;
    }

    // As libvirt (virDomainDefPostParseMemory): the size is <memory>, or the
    // sum of the NUMA cells when <memory> is absent or 0; it must be > 0,
    // and <maxMemory>, when given, may not be below it.
    void checkMemory() {
        const xmlNode *const memory = singleChild(root(), "memory");
        const uint64_t declared = memory != nullptr ? elementKiB(memory) : 0;
        memoryKiB = declared > 0 ? declared : numaCellsKiB(root());
        if (memoryKiB == 0) {
            if (memory != nullptr)
                reject(memory, "<memory> must be more than 0 (or give the size in <cpu><numa> cells)");
            reject(root(), "there is no <memory>, and no <cpu><numa> cells give the memory size");
        }
        if (const xmlNode *max = singleChild(root(), "maxMemory")) {
            const uint64_t maximum = elementKiB(max);
            if (maximum > 0 && maximum < memoryKiB)
                reject(max, "<maxMemory> (" + std::to_string(maximum) + " KiB) is less than the memory size (" +
                                std::to_string(memoryKiB) + " KiB)");
        }
        currentMemoryKiB = memoryKiB;
        if (const xmlNode *current = singleChild(root(), "currentMemory")) {
            const uint64_t value = elementKiB(current);
            // libvirt clamps a zero or too-large balloon to the memory size.
            if (value > 0 && value < memoryKiB)
                currentMemoryKiB = value;
        }
    }

    void checkVcpus() {
        const xmlNode *const node = singleChild(root(), "vcpu");
        if (node == nullptr)
            return;  // libvirt's default: one vCPU
        const unsigned maximum = positiveCount(node, "<vcpu>", xml::contentOf(node));
        vcpus = maximum;
        if (const auto current = attribute(node, "current")) {
            vcpus = positiveCount(node, "<vcpu current>", *current);
            if (vcpus > maximum)
                reject(node, "<vcpu current='" + *current + "'> is more than the maximum of " +
                                 std::to_string(maximum) + " vCPUs");
        }
    }

    void checkSections() {
        if (const xmlNode *os = singleChild(root(), "os"))
            if (const xmlNode *osType = singleChild(os, "type"))
                if (xml::contentOf(osType).find_first_not_of(" \t\r\n") == std::string::npos)
                    reject(osType, "<os><type> is empty (expected the guest type, e.g. hvm)");
        singleChild(root(), "devices");
    }
};

DomainXml::DomainXml(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DomainXml::DomainXml(DomainXml &&) noexcept = default;
DomainXml &DomainXml::operator=(DomainXml &&) noexcept = default;
DomainXml::~DomainXml() = default;

DomainXml::DomainXml(const DomainXml &other) : impl_(std::make_unique<Impl>()) {
    if (!other.impl_)
        throw Error(VIRTKIT_ERR_INTERNAL, "copying a moved-from DomainXml");
    impl_->doc.reset(xmlCopyDoc(other.impl_->doc.get(), 1));
    if (!impl_->doc)
        throw Error(VIRTKIT_ERR_INTERNAL, "cannot copy the domain XML document (out of memory?)");
    impl_->type = other.impl_->type;
    impl_->name = other.impl_->name;
    impl_->uuid = other.impl_->uuid;
    impl_->memoryKiB = other.impl_->memoryKiB;
    impl_->currentMemoryKiB = other.impl_->currentMemoryKiB;
    impl_->vcpus = other.impl_->vcpus;
}

DomainXml DomainXml::parse(const std::string &xmlText) {
    auto impl = std::make_unique<Impl>();
    impl->doc = xml::parseHardened(xmlText, "domain XML", kMaxBytes);
    impl->checkRoot();
    impl->checkName();
    impl->checkUuid();
    impl->checkMemory();
    impl->checkVcpus();
    impl->checkSections();
    return DomainXml(std::move(impl));
}

std::string DomainXml::type() const { return impl_->type; }
std::string DomainXml::name() const { return impl_->name; }
std::string DomainXml::uuid() const { return impl_->uuid; }
uint64_t DomainXml::memoryKiB() const { return impl_->memoryKiB; }
uint64_t DomainXml::currentMemoryKiB() const { return impl_->currentMemoryKiB; }
unsigned DomainXml::vcpus() const { return impl_->vcpus; }

std::string DomainXml::osType() const {
    const xmlNode *const os = firstChild(impl_->root(), "os");
    const xmlNode *const type = os ? firstChild(os, "type") : nullptr;
    return type ? xml::contentOf(type) : std::string();
}

void DomainXml::ensureUuid() {
    if (!impl_->uuid.empty())
        return;
    const std::string uuid = xml::randomUuid();
    xmlNode *const root = impl_->root();
    xmlNode *const name = const_cast<xmlNode *>(firstChild(root, "name"));
    xmlNode *const node = xmlNewDocNode(impl_->doc.get(), nullptr, reinterpret_cast<const xmlChar *>("uuid"),
                                        reinterpret_cast<const xmlChar *>(uuid.c_str()));
    if (node == nullptr)
        throw Error(VIRTKIT_ERR_INTERNAL, "cannot add <uuid> to the domain XML (out of memory?)");
    // Right after <name>, as libvirt writes it, indented like <name>.
    xmlAddNextSibling(name, node);
    if (name->prev != nullptr && name->prev->type == XML_TEXT_NODE && xmlIsBlankNode(name->prev))
        xmlAddPrevSibling(node, xmlNewDocText(impl_->doc.get(), name->prev->content));
    impl_->uuid = uuid;
}

void DomainXml::setId(int id) {
    xmlNode *const root = impl_->root();
    if (id == -1) {
        xmlUnsetProp(root, reinterpret_cast<const xmlChar *>("id"));
        return;
    }
    if (id < 0)
        throw Error(VIRTKIT_ERR_INVALID_ARG,
                    "domain id " + std::to_string(id) + " is invalid (ids are >= 0; -1 removes the id)");
    xmlSetProp(root, reinterpret_cast<const xmlChar *>("id"),
               reinterpret_cast<const xmlChar *>(std::to_string(id).c_str()));
}

std::string DomainXml::str() const { return xml::serialize(*impl_->doc); }

}  // namespace virtkit
