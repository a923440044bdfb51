// libvirt's own test corpus as the yardstick: for each qemuxmlconf case,
// libvirt's formatted output (NAME.x86_64-latest.xml) states the memory in
// KiB and the vCPU count it derived from the input (NAME.xml).
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>

#include <catch2/catch.hpp>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "plugin_fixture.hpp"

using namespace testplugin;
namespace fs = std::filesystem;

namespace {

std::string readFile(const fs::path &path)
{
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Expected {
    std::string uuid;
    uint64_t memoryKiB = 0, currentMemoryKiB = 0;
    unsigned vcpus = 0;
    bool hasNuma = false;
};

std::optional<std::string> xpathString(xmlDoc *doc, const char *expression)
{
    const std::unique_ptr<xmlXPathContext, decltype(&xmlXPathFreeContext)> ctxt(xmlXPathNewContext(doc),
                                                                               xmlXPathFreeContext);
    const std::unique_ptr<xmlXPathObject, decltype(&xmlXPathFreeObject)> result(
        xmlXPathEvalExpression(BAD_CAST expression, ctxt.get()), xmlXPathFreeObject);
    if (!result || result->type != XPATH_STRING || !result->stringval || !*result->stringval)
        return std::nullopt;
    return std::string(reinterpret_cast<const char *>(result->stringval));
}

// What libvirt's formatter wrote (always in KiB).
std::optional<Expected> libvirtsOutput(const fs::path &path)
{
    const std::string text = readFile(path);
    const std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> doc(
        xmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr, nullptr, XML_PARSE_NONET), xmlFreeDoc);
    if (!doc)
        return std::nullopt;
    const auto uuid = xpathString(doc.get(), "string(/domain/uuid)");
    const auto memory = xpathString(doc.get(), "string(/domain/memory[@unit='KiB'])");
    const auto current = xpathString(doc.get(), "string(/domain/currentMemory[@unit='KiB'])");
    const auto vcpu = xpathString(doc.get(), "string(/domain/vcpu)");
    if (!uuid || !memory || !current || !vcpu)
        return std::nullopt;
    Expected expected;
    expected.uuid = *uuid;
    expected.memoryKiB = std::stoull(*memory);
    expected.currentMemoryKiB = std::stoull(*current);
    expected.vcpus = static_cast<unsigned>(std::stoul(xpathString(doc.get(), "string(/domain/vcpu/@current)").value_or(*vcpu)));
    expected.hasNuma = xpathString(doc.get(), "string(/domain/cpu/numa/cell/@memory)").has_value();
    return expected;
}

}  // namespace

TEST_CASE("memory and vCPUs of libvirt's qemuxmlconf inputs come out as libvirt computes them", "[test-driver]")
{
    const fs::path corpus = fs::path(VIRTKIT_CONFORMANCE_DIR) / "tests/qemuxmlconfdata";
    if (!fs::exists(corpus)) {
        WARN("no conformance corpus at " << corpus);
        return;
    }
    Connection conn;
    const std::string builtIn = conn.lookupByName("test").uuid;  // corpus domains are called 'test' too
    REQUIRE(conn.destroy(builtIn).ok());
    REQUIRE(conn.undefine(builtIn).ok());
    std::size_t compared = 0;
    for (const auto &entry : fs::directory_iterator(corpus)) {
        const std::string file = entry.path().filename().string();
        if (entry.path().extension() != ".xml" || file.find(".x86_64-") != std::string::npos)
            continue;
        const fs::path output = corpus / (entry.path().stem().string() + ".x86_64-latest.xml");
        const auto expected = fs::exists(output) ? libvirtsOutput(output) : std::nullopt;
        // NUMA cells make libvirt derive <memory> from them, which this driver does not model.
        if (!expected || expected->hasNuma)
            continue;
        INFO(file);
        const Outcome defined = conn.tryDefine(readFile(entry.path()));
        INFO(defined.message);
        REQUIRE(defined.ok());
        const virtkit_domain_info info = conn.info(expected->uuid);
        CHECK(info.max_mem_kib == expected->memoryKiB);
        CHECK(info.memory_kib == expected->currentMemoryKiB);
        CHECK(info.nr_vcpus == expected->vcpus);
        REQUIRE(conn.undefine(expected->uuid).ok());
        ++compared;
    }
    CHECK(compared > 50);
    takeEvents();
}
