#include "node_description.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "numbers.hpp"
#include "plugin_error.hpp"

namespace virtkit::testdriver {

namespace {

constexpr const char *kTestNamespace = "http://libvirt.org/schemas/domain/test/1.0";

// libvirt's defaultConnXML, domain part.
constexpr const char *kDefaultNodeXml =
    "<node>"
    "<domain type='test'>"
    "  <name>test</name>"
    "  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>"
    "  <memory>8388608</memory>"
    "  <currentMemory>2097152</currentMemory>"
    "  <vcpu>2</vcpu>"
    "  <os>"
    "    <type>hvm</type>"
    "  </os>"
    "</domain>"
    "</node>";

std::string readFile(const std::string &path, const std::string &what)
{
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status))
        throw PluginError(VIRTKIT_ERR_NO_CONNECT, "no such " + what + " '" + path + "'");
    if (!std::filesystem::is_regular_file(status))
        throw PluginError(VIRTKIT_ERR_NO_CONNECT, what + " '" + path + "' is not a regular file");
    if (std::filesystem::file_size(path, ec) > kMaxXmlBytes)
        throw PluginError(VIRTKIT_ERR_XML, what + " '" + path + "' is larger than " + std::to_string(kMaxXmlBytes) +
                                               " bytes");
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    if (!in || !(content << in.rdbuf()) || in.bad())
        throw PluginError(VIRTKIT_ERR_NO_CONNECT, "cannot read " + what + " '" + path + "': " + std::strerror(errno));
    return content.str();
}

unsigned cpuValue(const xmlNode *cpu, const char *name, unsigned fallback, const std::string &source)
{
    const xmlNode *node = childElement(cpu, name);
    if (!node)
        return fallback;
    const std::string text = textOf(node);
    const auto value = parseUnsigned(text);
    if (value && *value > 0 && *value <= 4096)
        return static_cast<unsigned>(*value);
    throw PluginError(VIRTKIT_ERR_XML, source + ": invalid node cpu " + name + " value '" + text + "'");
}

// libvirt's testParseNodeInfo.
void readNodeInfo(const xmlNode *root, NodeInfo &info, const std::string &source)
{
    if (const xmlNode *cpu = childElement(root, "cpu")) {
        info.nodes = cpuValue(cpu, "nodes", info.nodes, source);
        info.sockets = cpuValue(cpu, "sockets", info.sockets, source);
        info.cores = cpuValue(cpu, "cores", info.cores, source);
        info.threads = cpuValue(cpu, "threads", info.threads, source);
        info.cpus = std::min(info.nodes * info.sockets * info.cores * info.threads, 4096u);
        info.cpus = std::min(info.cpus, cpuValue(cpu, "active", info.cpus, source));
        info.mhz = cpuValue(cpu, "mhz", info.mhz, source);
        if (const xmlNode *model = childElement(cpu, "model"))
            info.model = textOf(model);
    }
    if (const xmlNode *memory = childElement(root, "memory")) {
        const std::string text = textOf(memory);
        const auto value = parseUnsigned(text);
        if (!value)
            throw PluginError(VIRTKIT_ERR_XML, source + ": invalid node memory value '" + text + "'");
        info.memoryKiB = *value;
    }
}

// Cells for a described node: `nodes` cells sharing the CPUs and memory evenly.
std::vector<NumaCell> evenCells(const NodeInfo &info)
{
    const unsigned nodes = std::min(info.nodes, info.cpus);
    std::vector<NumaCell> cells(nodes);
    for (unsigned i = 0; i < info.cpus; ++i) {
        const unsigned firstSibling = i - i % info.threads;
        const unsigned lastSibling = std::min(firstSibling + info.threads, info.cpus) - 1;
        HostCpu cpu{i, i / (info.cores * info.threads), (i / info.threads) % info.cores,
                    firstSibling == lastSibling ? std::to_string(i)
                                                : std::to_string(firstSibling) + "-" + std::to_string(lastSibling)};
        cells[std::min(i * nodes / info.cpus, nodes - 1)].cpus.push_back(std::move(cpu));
    }
    for (auto &cell : cells)
        cell.memoryKiB = info.memoryKiB / nodes;
    return cells;
}

// libvirt's testOpenDefault: 2 cells of 8 CPUs with 2 and 4 GiB.
std::vector<NumaCell> defaultCells()
{
    std::vector<NumaCell> cells(2);
    for (unsigned i = 0; i < 16; ++i)
        cells[i / 8].cpus.push_back(HostCpu{i, i / 8, i % 8, std::to_string(i)});
    for (std::size_t i = 0; i < cells.size(); ++i)
        cells[i].memoryKiB = (i + 1) * 2048 * 1024;
    return cells;
}

int readRunstate(const xmlNode *domain, const std::string &source)
{
    const xmlNode *node = childElement(domain, "runstate", kTestNamespace);
    if (!node)
        return VIRTKIT_DOMAIN_RUNNING;
    const std::string text = textOf(node);
    if (text.size() == 1 && text[0] >= '0' && text[0] <= '0' + VIRTKIT_DOMAIN_PMSUSPENDED)
        return text[0] - '0';
    throw PluginError(VIRTKIT_ERR_XML, source + ": runstate '" + text + "' out of range");
}

XmlDocPtr domainDocument(const xmlNode *element, const std::string &nodePath, const std::string &source)
{
    const auto file = attributeOf(element, "file");
    if (!file)
        return copyToOwnDocument(element);
    if (nodePath.empty() || file->empty())
        throw PluginError(VIRTKIT_ERR_XML, source + ": <domain file='" + *file + "'> cannot be resolved");
    const std::filesystem::path path = std::filesystem::path(*file).is_absolute()
                                           ? std::filesystem::path(*file)
                                           : std::filesystem::path(nodePath).parent_path() / *file;
    return parseXml(readFile(path.string(), "domain file"), "domain file '" + path.string() + "'");
}

NodeDescription parseNodeDescription(const std::string &text, const std::string &nodePath)
{
    const std::string source = nodePath.empty() ? "built-in node description" : "node file '" + nodePath + "'";
    const XmlDocPtr doc = parseXml(text, source);
    const xmlNode *root = xmlDocGetRootElement(doc.get());
    if (nameOf(root) != "node")
        throw PluginError(VIRTKIT_ERR_XML,
                          source + ": root element is <" + std::string(nameOf(root)) + ">, expected <node>");

    NodeDescription node;
    readNodeInfo(root, node.info, source);
    std::set<std::string> names, uuids;
    for (const xmlNode *child = root->children; child; child = child->next) {
        if (child->type != XML_ELEMENT_NODE || nameOf(child) != "domain")
            continue;
        const XmlDocPtr domainDoc = domainDocument(child, nodePath, source);
        const xmlNode *domainRoot = xmlDocGetRootElement(domainDoc.get());
        NodeDomain domain;
        domain.runstate = readRunstate(domainRoot, source);
        domain.transient = childElement(domainRoot, "transient", kTestNamespace) != nullptr;
        try {
            domain.def = domainDefinitionFromDocument(domainDoc.get());
        } catch (const PluginError &e) {
            throw PluginError(e.code(), source + ": " + e.what());
        }
        if (domain.transient && domain.runstate == VIRTKIT_DOMAIN_SHUTOFF)
            throw PluginError(VIRTKIT_ERR_XML, source + ": transient domain '" + domain.def.name +
                                                   "' cannot have runstate 'shutoff'");
        if (!names.insert(domain.def.name).second || !uuids.insert(domain.def.uuid).second)
            throw PluginError(VIRTKIT_ERR_XML, source + ": domain '" + domain.def.name + "' (uuid " + domain.def.uuid +
                                                   ") clashes with an earlier domain of the same name or uuid");
        node.domains.push_back(std::move(domain));
    }
    return node;
}

}  // namespace

NodeDescription defaultNodeDescription()
{
    NodeDescription node = parseNodeDescription(kDefaultNodeXml, "");
    node.info.cells = defaultCells();
    return node;
}

NodeDescription loadNodeDescription(const std::string &absolutePath)
{
    NodeDescription node = parseNodeDescription(readFile(absolutePath, "node description file"), absolutePath);
    node.info.cells = evenCells(node.info);
    return node;
}

}  // namespace virtkit::testdriver
