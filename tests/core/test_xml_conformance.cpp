// libvirt's own domain XML test inputs as a yardstick: every file parses or
// is refused with an Error, define→dumpxml (ensureUuid + str) keeps every
// element, attribute, text and comment, and an input that libvirt's schema
// accepts still validates after the round trip.
#include <catch2/catch.hpp>

#include <virtkit/domain_xml.hpp>
#include <virtkit/error.hpp>

#include <libxml/parser.h>
#include <libxml/relaxng.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path kCorpus = VIRTKIT_CONFORMANCE_DIR;
const fs::path kSchema = kCorpus / "src/conf/schemas/domain.rng";

struct DocFree {
    void operator()(xmlDoc *doc) const { xmlFreeDoc(doc); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocFree>;

#if LIBXML_VERSION >= 21200
using ErrorArg = const xmlError *;
#else
using ErrorArg = xmlError *;
#endif

void collectError(void *messages, ErrorArg error) {
    if (error != nullptr && error->message != nullptr && error->level >= XML_ERR_ERROR)
        static_cast<std::string *>(messages)->append("line " + std::to_string(error->line) + ": " + error->message);
}

// A plain libxml2 parse, independent of DomainXml, to look at its input and output.
DocPtr readPlain(const std::string &text) {
    return DocPtr(xmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr, nullptr,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
}

// domain.rng, loaded once (it includes its siblings relative to its path).
class DomainSchema {
public:
    DomainSchema() {
        const auto parser = std::unique_ptr<xmlRelaxNGParserCtxt, decltype(&xmlRelaxNGFreeParserCtxt)>(
            xmlRelaxNGNewParserCtxt(kSchema.c_str()), xmlRelaxNGFreeParserCtxt);
        xmlRelaxNGSetParserStructuredErrors(parser.get(), collectError, &loadErrors);
        schema_.reset(xmlRelaxNGParse(parser.get()));
    }
    bool loaded() const { return schema_ != nullptr; }
    std::string loadErrors;

    // Empty when `doc` is valid, else the validator's messages.
    std::string problems(xmlDoc *doc) const {
        std::string messages;
        const auto valid = std::unique_ptr<xmlRelaxNGValidCtxt, decltype(&xmlRelaxNGFreeValidCtxt)>(
            xmlRelaxNGNewValidCtxt(schema_.get()), xmlRelaxNGFreeValidCtxt);
        xmlRelaxNGSetValidStructuredErrors(valid.get(), collectError, &messages);
        if (xmlRelaxNGValidateDoc(valid.get(), doc) != 0 && messages.empty())
            messages = "invalid (no message)";
        return messages;
    }

private:
    std::unique_ptr<xmlRelaxNG, decltype(&xmlRelaxNGFree)> schema_{nullptr, xmlRelaxNGFree};
};

const DomainSchema &domainSchema() {
    static const DomainSchema schema;
    return schema;
}

std::string text(const xmlChar *s) { return s != nullptr ? reinterpret_cast<const char *>(s) : ""; }

std::string trimmed(const std::string &s) {
    const auto begin = s.find_first_not_of(" \t\r\n");
    return begin == std::string::npos ? "" : s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

// UUIDs are canonicalised by DomainXml, so compare them by value.
std::string uuidValue(std::string s) {
    s.erase(std::remove(s.begin(), s.end(), '-'), s.end());
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return trimmed(s);
}

// The document as a list of lines: elements, namespace declarations,
// attributes (sorted), non-blank text, CDATA, comments and PIs, with depth.
void flatten(const xmlNode *node, int depth, bool skipRootUuid, std::vector<std::string> &out) {
    for (; node != nullptr; node = node->next) {
        const std::string indent(static_cast<std::size_t>(depth), ' ');
        switch (node->type) {
        case XML_ELEMENT_NODE: {
            const bool rootUuid = depth == 1 && text(node->name) == "uuid" && node->ns == nullptr;
            if (rootUuid && skipRootUuid)
                break;
            out.push_back(indent + "<{" + (node->ns ? text(node->ns->href) : "") + "}" + text(node->name));
            for (const xmlNs *ns = node->nsDef; ns; ns = ns->next)
                out.push_back(indent + " xmlns:" + text(ns->prefix) + "=" + text(ns->href));
            std::vector<std::string> attributes;
            for (const xmlAttr *a = node->properties; a; a = a->next) {
                xmlChar *const value = xmlNodeListGetString(node->doc, a->children, 1);
                attributes.push_back(indent + " @{" + (a->ns ? text(a->ns->href) : "") + "}" + text(a->name) + "=" +
                                     text(value));
                xmlFree(value);
            }
            std::sort(attributes.begin(), attributes.end());
            out.insert(out.end(), attributes.begin(), attributes.end());
            if (rootUuid) {
                xmlChar *const content = xmlNodeGetContent(node);
                out.push_back(indent + " uuid " + uuidValue(text(content)));
                xmlFree(content);
            } else {
                flatten(node->children, depth + 1, depth == 0 && skipRootUuid, out);
            }
            break;
        }
        case XML_TEXT_NODE:
            if (!trimmed(text(node->content)).empty())
                out.push_back(indent + "text " + trimmed(text(node->content)));
            break;
        case XML_CDATA_SECTION_NODE:
            out.push_back(indent + "cdata " + text(node->content));
            break;
        case XML_COMMENT_NODE:
            out.push_back(indent + "comment " + text(node->content));
            break;
        case XML_PI_NODE:
            out.push_back(indent + "pi " + text(node->name) + " " + text(node->content));
            break;
        default:
            break;
        }
    }
}

std::vector<std::string> flatten(xmlDoc *doc, bool skipRootUuid) {
    std::vector<std::string> out;
    flatten(doc->children, 0, skipRootUuid, out);
    return out;
}

// Empty when both trees hold the same lines, else the first difference.
std::string firstDifference(const std::vector<std::string> &in, const std::vector<std::string> &out) {
    const auto [a, b] = std::mismatch(in.begin(), in.end(), out.begin(), out.end());
    if (a == in.end() && b == out.end())
        return {};
    return "input has '" + (a == in.end() ? std::string("<end>") : *a) + "' where output has '" +
           (b == out.end() ? std::string("<end>") : *b) + "'";
}

// Rules libvirt's parser applies beyond domain.rng (virsh define refuses a
// schema-valid document that breaks one): the only reasons a schema-valid
// input may be refused.
const std::vector<std::string> kLibvirtParserRules = {
    "<memory> must be more than 0",  // virDomainDefPostParseMemory
};

bool refusedByLibvirtRule(const std::string &message) {
    return std::any_of(kLibvirtParserRules.begin(), kLibvirtParserRules.end(),
                       [&](const std::string &rule) { return message.find(rule) != std::string::npos; });
}

// The input with the <uuid> under <domain> removed: every corpus file has
// one, and this is how the test reaches ensureUuid's insertion.
std::string withoutUuid(xmlDoc *doc) {
    const DocPtr copy(xmlCopyDoc(doc, 1));
    for (xmlNode *child = xmlDocGetRootElement(copy.get())->children; child; child = child->next)
        if (child->type == XML_ELEMENT_NODE && text(child->name) == "uuid") {
            xmlUnlinkNode(child);
            xmlFreeNode(child);
            break;
        }
    xmlChar *out = nullptr;
    int size = 0;
    xmlDocDumpMemory(copy.get(), &out, &size);
    std::string result(reinterpret_cast<const char *>(out), static_cast<std::size_t>(size));
    xmlFree(out);
    return result;
}

std::vector<fs::path> domainInputs() {
    std::vector<fs::path> files;
    for (const auto *folder : {"tests/domainschemadata", "tests/qemuxmlconfdata"})
        for (const auto &entry : fs::directory_iterator(kCorpus / folder)) {
            const std::string name = entry.path().filename().string();
            // NAME.xml only: NAME.x86_64-*.xml are libvirt's formatted outputs.
            if (entry.path().extension() == ".xml" && name.find(".x86_64-") == std::string::npos)
                files.push_back(entry.path());
        }
    std::sort(files.begin(), files.end());
    return files;
}

std::string readFile(const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

}  // namespace

TEST_CASE("libvirt's domain XML inputs round-trip and stay schema-valid", "[xml][conformance]") {
    if (!fs::exists(kSchema))
        FAIL("libvirt conformance corpus not found: looked for " << kSchema.string()
                                                                 << " (configure with -DVIRTKIT_CONFORMANCE_DIR=...)");
    const DomainSchema &schema = domainSchema();
    INFO(schema.loadErrors);
    REQUIRE(schema.loaded());

    const auto files = domainInputs();
    REQUIRE(files.size() > 100);
    int parsed = 0, rejected = 0, rejectedValid = 0, roundTrips = 0, validInputs = 0, validOutputs = 0;
    int validGenerated = 0;
    for (const auto &file : files) {
        INFO("file: " << file.string());
        const std::string input = readFile(file);
        const DocPtr inputDoc = readPlain(input);
        REQUIRE(inputDoc);
        const bool inputValid = schema.problems(inputDoc.get()).empty();
        validInputs += inputValid ? 1 : 0;

        std::string output;
        bool hadUuid = false;
        try {
            virtkit::DomainXml xml = virtkit::DomainXml::parse(input);
            hadUuid = !xml.uuid().empty();
            xml.ensureUuid();
            output = xml.str();
            ++parsed;
        } catch (const virtkit::Error &e) {
            ++rejected;
            INFO("refused: " << e.what());
            if (inputValid) {
                ++rejectedValid;
                CHECK(refusedByLibvirtRule(e.what()));
            }
            continue;
        }

        const DocPtr outputDoc = readPlain(output);
        REQUIRE(outputDoc);
        const std::string difference =
            firstDifference(flatten(inputDoc.get(), false), flatten(outputDoc.get(), !hadUuid));
        CHECK(difference == "");
        roundTrips += difference.empty() ? 1 : 0;

        const std::string outputProblems = schema.problems(outputDoc.get());
        validOutputs += outputProblems.empty() ? 1 : 0;
        if (!inputValid)
            continue;
        CHECK(outputProblems == "");

        // Again without a <uuid>: ensureUuid must add one the schema accepts.
        const std::string bare = withoutUuid(inputDoc.get());
        virtkit::DomainXml generated = virtkit::DomainXml::parse(bare);
        REQUIRE(generated.uuid().empty());
        generated.ensureUuid();
        const DocPtr bareDoc = readPlain(bare);
        const DocPtr generatedDoc = readPlain(generated.str());
        REQUIRE(generatedDoc);
        const std::string generatedDifference =
            firstDifference(flatten(bareDoc.get(), false), flatten(generatedDoc.get(), true));
        const std::string generatedProblems = schema.problems(generatedDoc.get());
        CHECK(generatedDifference == "");
        CHECK(generatedProblems == "");
        validGenerated += generatedDifference.empty() && generatedProblems.empty() ? 1 : 0;
    }
    WARN("libvirt conformance: " << files.size() << " domain XML inputs, " << validInputs
                                 << " valid under domain.rng; parsed " << parsed << ", refused " << rejected << " ("
                                 << rejectedValid << " schema-valid, by a libvirt parser rule)"
                                 << ", round-trip OK " << roundTrips << ", outputs valid " << validOutputs
                                 << "; without <uuid>, ensureUuid output OK " << validGenerated);
    CHECK(parsed + rejected == static_cast<int>(files.size()));
}
