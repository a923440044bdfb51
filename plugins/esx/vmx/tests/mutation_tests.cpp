// Mutated corpus files: every outcome is either a result that parses back
// or a virtkit::Error -- never a crash, a hang or another exception type.
#include <algorithm>
#include <cstdlib>
#include <random>

#include <catch2/catch.hpp>

#include "corpus.hpp"
#include "vmx_file.hpp"
#include "xml_compare.hpp"

using namespace virtkit::esx;
using namespace virtkit::esx::vmx;
using namespace virtkit::esx::testing;

namespace {

std::string mutate(std::string text, std::mt19937 &random)
{
    static const std::string interesting[] = {"\"", "=", "\n", "|", "%", "#", ":", "-1", "99999999999999999999",
                                              "<", ">", "&", "'", "\xff", std::string(1, '\0'), "unlimited"};
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int i = 0; i < edits && !text.empty(); ++i) {
        const std::size_t at = random() % text.size();
        switch (random() % 4) {
        case 0: text[at] = static_cast<char>(random() % 256); break;
        case 1: text.erase(at, 1 + random() % 16); break;
        case 2: text.insert(at, interesting[random() % std::size(interesting)]); break;
        default: text.insert(at, text.substr(random() % text.size(), random() % 64)); break;
        }
    }
    return text;
}

// VIRTKIT_VMX_MUTATIONS=40000 for a longer run (e.g. in a sanitizer build).
int rounds()
{
    const char *value = std::getenv("VIRTKIT_VMX_MUTATIONS");
    return value ? std::max(1, std::atoi(value)) : 3000;
}

}  // namespace

TEST_CASE("mutated VMX files convert or fail cleanly", "[vmx-bad-input][mutation]")
{
    std::mt19937 random(20261126);
    const auto names = corpusCases(".vmx");
    int converted = 0, refused = 0;
    for (int round = 0; round < rounds(); ++round) {
        const std::string &name = names[static_cast<std::size_t>(round) % names.size()];
        const std::string vmx = mutate(readFile(corpusDir() / (name + ".vmx")), random);
        try {
            canonicalXml(vmxToDomainXml(vmx, corpusContext(name)));  // output must be well-formed
            ++converted;
        } catch (const virtkit::Error &) {
            ++refused;
        }
    }
    CHECK(converted > 0);
    CHECK(refused > 0);
}

TEST_CASE("mutated domain XML converts or fails cleanly", "[vmx-bad-input][mutation]")
{
    std::mt19937 random(6);
    const auto names = corpusCases(".xml");
    int converted = 0, refused = 0;
    for (int round = 0; round < rounds(); ++round) {
        const std::string &name = names[static_cast<std::size_t>(round) % names.size()];
        const std::string xml = mutate(readFile(corpusDir() / (name + ".xml")), random);
        try {
            VmxFile::parse(domainXmlToVmx(xml, VmxContext{}));  // output must be valid VMX
            ++converted;
        } catch (const virtkit::Error &) {
            ++refused;
        }
    }
    CHECK(converted > 0);
    CHECK(refused > 0);
}
