#include <catch2/catch.hpp>

#include <virtkit/domain_xml.hpp>
#include <virtkit/error.hpp>

#include <cstdio>
#include <regex>
#include <thread>
#include <unistd.h>
#include <vector>

using virtkit::DomainXml;

namespace {

std::string domainWith(const std::string &body, const std::string &rootAttributes = "type='kvm'") {
    return "<domain " + rootAttributes + ">\n" + body + "</domain>\n";
}

const std::string kMinimal = domainWith("  <name>demo</name>\n  <memory>1048576</memory>\n");

// The message of the Error that parsing `xml` throws, checking its code.
std::string parseError(const std::string &xml) {
    try {
        DomainXml::parse(xml);
    } catch (const virtkit::Error &e) {
        CHECK(e.code() == VIRTKIT_ERR_XML);
        return e.what();
    }
    FAIL("the document was accepted:\n" << xml.substr(0, 400));
    return {};
}

uint64_t memoryOf(const std::string &memoryElement) {
    return DomainXml::parse(domainWith("<name>m</name>" + memoryElement)).memoryKiB();
}

const std::regex kUuidV4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

}  // namespace

TEST_CASE("a minimal domain parses and reports its parts", "[xml]") {
    const DomainXml xml = DomainXml::parse(kMinimal);
    CHECK(xml.type() == "kvm");
    CHECK(xml.name() == "demo");
    CHECK(xml.uuid().empty());
    CHECK(xml.memoryKiB() == 1048576);
    CHECK(xml.currentMemoryKiB() == 1048576);
    CHECK(xml.vcpus() == 1);  // libvirt's default when <vcpu> is absent
}

TEST_CASE("the OS type comes from <os><type>, empty when there is none", "[xml]") {
    CHECK(DomainXml::parse(domainWith("<name>c</name><memory>1024</memory><os><type>exe</type></os>")).osType() ==
          "exe");
    CHECK(DomainXml::parse(domainWith("<name>n</name><memory>1024</memory>")).osType().empty());
}

TEST_CASE("memory units are converted to KiB with libvirt's scaling rules", "[xml]") {
    struct Case {
        std::string unit;
        uint64_t value, kib;
    };
    const std::vector<Case> table = {
        {"", 1024, 1024},           // no unit means KiB
        {"b", 2048, 2},        {"bytes", 1025, 2},  // byte counts round up to whole KiB
        {"k", 4, 4},           {"KiB", 4, 4},       {"KB", 1024, 1000},
        {"M", 1, 1024},        {"MiB", 3, 3072},    {"MB", 1, 977},  // 10^6 / 1024 = 976.6
        {"G", 1, 1048576},     {"GiB", 2, 2097152}, {"GB", 1, 976563},
        {"T", 1, 1073741824},  {"TiB", 1, 1073741824}, {"TB", 1, 976562500},
        {"gib", 1, 1048576},  // letters are case-insensitive
    };
    for (const auto &c : table) {
        INFO("unit '" << c.unit << "', value " << c.value);
        const std::string unitAttr = c.unit.empty() ? "" : " unit='" + c.unit + "'";
        CHECK(memoryOf("<memory" + unitAttr + ">" + std::to_string(c.value) + "</memory>") == c.kib);
    }
}

TEST_CASE("bad memory sizes are refused with the line of the element", "[xml]") {
    CHECK_THAT(parseError(domainWith("<name>m</name>\n<memory unit='furlongs'>1</memory>")),
               Catch::Contains("at line 3: <memory> has the unknown unit 'furlongs'"));
    CHECK_THAT(parseError(domainWith("<name>m</name>\n\n<memory>-5</memory>")),
               Catch::Contains("at line 4: <memory> '-5' is not a non-negative integer"));
    CHECK_THAT(parseError(domainWith("<name>m</name><memory unit='EiB'>9</memory>")),
               Catch::Contains("<memory> of 9 EiB is too large"));
    CHECK_THAT(parseError(domainWith("<name>m</name><memory>99999999999999999999999</memory>")),
               Catch::Contains("is not a non-negative integer"));
    CHECK_THAT(parseError(domainWith("<name>m</name><memory>0</memory>")),
               Catch::Contains("<memory> must be more than 0"));
    CHECK_THAT(parseError(domainWith("<name>m</name><memory>1</memory><currentMemory unit='x'>1</currentMemory>")),
               Catch::Contains("<currentMemory> has the unknown unit 'x'"));
}

TEST_CASE("without <memory> the NUMA cells give the size, as libvirt allows", "[xml]") {
    const std::string cells = "<cpu><numa><cell id='0' cpus='0' memory='1' unit='GiB'/>"
                              "<cell id='1' cpus='1' memory='524288'/></numa></cpu>";
    CHECK(DomainXml::parse(domainWith("<name>n</name>" + cells)).memoryKiB() == 1048576 + 524288);
    CHECK(DomainXml::parse(domainWith("<name>n</name><memory>0</memory>" + cells)).memoryKiB() == 1048576 + 524288);
    // libvirt looks at the cells only when <memory> does not give a size.
    CHECK(DomainXml::parse(domainWith("<name>n</name><memory>4194304</memory>" + cells)).memoryKiB() == 4194304);
    CHECK_THAT(parseError(domainWith("<name>n</name>\n<vcpu>2</vcpu>")),
               Catch::Contains("at line 1: there is no <memory>, and no <cpu><numa> cells give the memory size"));
    CHECK_THAT(parseError(domainWith("<name>n</name><cpu><numa>\n<cell id='0' cpus='0'/></numa></cpu>")),
               Catch::Contains("at line 3: NUMA <cell> has no 'memory' attribute"));
}

TEST_CASE("maxMemory may not be below the memory size", "[xml]") {
    CHECK(DomainXml::parse(domainWith("<name>x</name><maxMemory slots='16' unit='GiB'>8</maxMemory>"
                                      "<memory unit='GiB'>8</memory>"))
              .memoryKiB() == 8388608);
    CHECK_THAT(parseError(domainWith("<name>x</name>\n<maxMemory unit='GiB'>1</maxMemory><memory unit='GiB'>2</memory>")),
               Catch::Contains("at line 3: <maxMemory> (1048576 KiB) is less than the memory size (2097152 KiB)"));
}

TEST_CASE("currentMemory below memory is reported, above it is clamped like libvirt", "[xml]") {
    const auto lower = DomainXml::parse(
        domainWith("<name>c</name><memory unit='MiB'>1024</memory><currentMemory unit='MiB'>512</currentMemory>"));
    CHECK(lower.memoryKiB() == 1048576);
    CHECK(lower.currentMemoryKiB() == 524288);
    const auto higher = DomainXml::parse(
        domainWith("<name>c</name><memory unit='MiB'>1024</memory><currentMemory unit='GiB'>8</currentMemory>"));
    CHECK(higher.currentMemoryKiB() == 1048576);
}

TEST_CASE("vcpu counts must be positive and current may not exceed the maximum", "[xml]") {
    const std::string base = "<name>v</name><memory>1024</memory>\n";
    CHECK(DomainXml::parse(domainWith(base + "<vcpu>4</vcpu>")).vcpus() == 4);
    CHECK(DomainXml::parse(domainWith(base + "<vcpu placement='static' current='2'>8</vcpu>")).vcpus() == 2);
    CHECK_THAT(parseError(domainWith(base + "<vcpu>0</vcpu>")), Catch::Contains("at line 3: <vcpu> '0' is not a positive integer"));
    CHECK_THAT(parseError(domainWith(base + "<vcpu>two</vcpu>")), Catch::Contains("<vcpu> 'two' is not a positive integer"));
    CHECK_THAT(parseError(domainWith(base + "<vcpu current='0'>2</vcpu>")),
               Catch::Contains("<vcpu current> '0' is not a positive integer"));
    CHECK_THAT(parseError(domainWith(base + "<vcpu current='5'>4</vcpu>")),
               Catch::Contains("<vcpu current='5'> is more than the maximum of 4 vCPUs"));
}

TEST_CASE("the domain name follows libvirt's rules", "[xml]") {
    const std::string memory = "<memory>1024</memory>";
    CHECK_THAT(parseError(domainWith(memory)), Catch::Contains("at line 1: <name> is missing"));
    CHECK_THAT(parseError(domainWith("\n<name></name>" + memory)), Catch::Contains("at line 3: <name> is empty"));
    CHECK_THAT(parseError(domainWith("<name>a/b</name>" + memory)), Catch::Contains("<name> 'a/b' contains '/'"));
    CHECK_THAT(parseError(domainWith("<name>a&#x9;b</name>" + memory)), Catch::Contains("control character"));
    CHECK_THAT(parseError(domainWith("<name>a</name><name>b</name>" + memory)),
               Catch::Contains("<name> appears a second time (first at line 2)"));
    CHECK(DomainXml::parse(domainWith("<name>" + std::string(255, 'x') + "</name>" + memory)).name().size() == 255);
    CHECK_THAT(parseError(domainWith("<name>" + std::string(256, 'x') + "</name>" + memory)),
               Catch::Contains("<name> is 256 bytes long, the limit is 255"));
    CHECK(DomainXml::parse(domainWith("<name>caf\xc3\xa9 vm</name>" + memory)).name() == "caf\xc3\xa9 vm");
}

TEST_CASE("the root must be <domain> with a type", "[xml]") {
    CHECK_THAT(parseError("<network><name>x</name></network>"),
               Catch::Contains("at line 1: the root element is <network>, expected <domain>"));
    CHECK_THAT(parseError(domainWith("<name>x</name>", "id='1'")),
               Catch::Contains("<domain> has no 'type' attribute"));
    CHECK_THAT(parseError(domainWith("<name>x</name>", "type=''")), Catch::Contains("<domain type=''> is empty"));
}

TEST_CASE("a UUID with or without dashes is stored in canonical lowercase form", "[xml]") {
    const std::string canonical = "c7a5fdbd-edaf-9455-926a-d65c16db1809";
    for (const std::string written :
         {"c7a5fdbd-edaf-9455-926a-d65c16db1809", "C7A5FDBDEDAF9455926AD65C16DB1809", " c7a5fdbd-EDAF-9455-926a-d65c16db1809\n"}) {
        INFO(written);
        const auto xml = DomainXml::parse(domainWith("<name>u</name><uuid>" + written + "</uuid><memory>1024</memory>"));
        CHECK(xml.uuid() == canonical);
        CHECK_THAT(xml.str(), Catch::Contains("<uuid>" + canonical + "</uuid>"));
    }
    CHECK_THAT(parseError(domainWith("<name>u</name>\n<uuid>c7a5fdbd-edaf-9455-926a</uuid><memory>1</memory>")),
               Catch::Contains("at line 3: <uuid> 'c7a5fdbd-edaf-9455-926a' is not a UUID"));
    CHECK_THAT(parseError(domainWith("<name>u</name><uuid>g7a5fdbdedaf9455926ad65c16db1809</uuid><memory>1</memory>")),
               Catch::Contains("is not a UUID"));
    CHECK_THAT(parseError(domainWith("<name>u</name><uuid>c7a5fdbdedaf9455926ad65c16db180911</uuid><memory>1</memory>")),
               Catch::Contains("is not a UUID"));
}

TEST_CASE("malformed XML is refused with the line of the fault", "[xml]") {
    const std::string xml = "<domain type='kvm'>\n  <name>x</name>\n  <memory>1</memroy>\n</domain>\n";
    CHECK_THAT(parseError(xml), Catch::StartsWith("malformed domain XML at line 3: "));
    CHECK_THAT(parseError("<domain type='kvm'>\n<name>x</name>\n\n<memory>1</memory>\n"),
               Catch::StartsWith("malformed domain XML at line 5: "));
    CHECK_THAT(parseError(""), Catch::Contains("domain XML is empty"));
    CHECK_THAT(parseError("just text"), Catch::StartsWith("malformed domain XML at line 1: "));
    CHECK_THAT(parseError(domainWith("<name>&nbsp;</name><memory>1</memory>")),
               Catch::StartsWith("malformed domain XML at line 2: ") && Catch::Contains("nbsp"));
}

TEST_CASE("documents declaring entities are refused, so an XML bomb never expands", "[xml]") {
    std::string bomb = "<?xml version='1.0'?>\n<!DOCTYPE domain [\n  <!ENTITY lol 'lol'>\n";
    for (int i = 1; i <= 9; ++i) {
        bomb += "  <!ENTITY lol" + std::to_string(i) + " '";
        for (int j = 0; j < 10; ++j)
            bomb += "&lol" + (i == 1 ? std::string() : std::to_string(i - 1)) + ";";
        bomb += "'>\n";
    }
    bomb += "]>\n<domain type='kvm'><name>&lol9;</name><memory>1</memory></domain>\n";
    const std::string message = parseError(bomb);
    CHECK_THAT(message, Catch::Contains("at line 3 declares the entity 'lol'"));
    CHECK_THAT(message, Catch::Contains("entity declarations are refused"));

    CHECK_THAT(parseError("<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n"
                          "<domain type='kvm'><name>&x;</name><memory>1</memory></domain>"),
               Catch::Contains("declares the entity 'x'"));
    CHECK_THAT(parseError("<!DOCTYPE domain [<!ENTITY % p SYSTEM 'http://example.invalid/p.dtd'> %p;]>\n"
                          "<domain type='kvm'><name>x</name><memory>1</memory></domain>"),
               Catch::Contains("declares the entity 'p'"));
}

TEST_CASE("a DOCTYPE without entities is accepted and the external DTD is not loaded", "[xml]") {
    const auto xml = DomainXml::parse("<!DOCTYPE domain SYSTEM '/nonexistent/domain.dtd'>\n" + kMinimal);
    CHECK(xml.name() == "demo");
}

TEST_CASE("documents over the size limit are refused before parsing", "[xml]") {
    std::string big = kMinimal;
    big += "<!--" + std::string(DomainXml::kMaxBytes, 'x') + "-->\n";
    CHECK_THAT(parseError(big), Catch::Contains("domain XML is " + std::to_string(big.size()) +
                                                " bytes, more than the limit of 10485760 bytes"));
}

TEST_CASE("libxml2's value size limit stays in force below the document limit", "[xml]") {
    // A 10,200,000-byte attribute: under kMaxBytes (10 MiB), over libxml2's
    // 10,000,000-byte limit that XML_PARSE_HUGE would lift.
    const std::string xml = domainWith("<name>big</name><memory>1</memory>\n<description note='" +
                                       std::string(10'200'000, 'a') + "'/>");
    REQUIRE(xml.size() <= DomainXml::kMaxBytes);
    CHECK_THAT(parseError(xml), Catch::StartsWith("malformed domain XML at line 3: "));
}

TEST_CASE("everything the user wrote survives str(), without an XML declaration", "[xml]") {
    const std::string input = "<?xml version='1.0' encoding='UTF-8'?>\n"
                              "<!-- top comment -->\n"
                              "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
                              "  <name>keep</name>\n"
                              "  <!-- inside comment -->\n"
                              "  <memory unit='GiB' dumpCore='off'>2</memory>\n"
                              "  <description>a &amp; b &lt;c&gt; caf\xc3\xa9</description>\n"
                              "  <futureElement someAttr='x'><nested>text</nested></futureElement>\n"
                              "  <devices><disk type='file' device='disk'><source file='/a,b.img'/></disk></devices>\n"
                              "  <qemu:commandline><qemu:arg value='-S'/></qemu:commandline>\n"
                              "  <![CDATA[raw <data>]]>\n"
                              "</domain>\n";
    const std::string output = DomainXml::parse(input).str();
    CHECK(output.find("<?xml") == std::string::npos);
    for (const std::string kept :
         {"<!-- top comment -->", "<!-- inside comment -->", "unit=\"GiB\"", "dumpCore=\"off\"",
          "a &amp; b &lt;c&gt; caf\xc3\xa9", "<futureElement someAttr=\"x\">", "<nested>text</nested>",
          "<source file=\"/a,b.img\"/>", "<qemu:arg value=\"-S\"/>", "<![CDATA[raw <data>]]>",
          "xmlns:qemu=\"http://libvirt.org/schemas/domain/qemu/1.0\""}) {
        INFO(kept);
        CHECK_THAT(output, Catch::Contains(kept));
    }
    CHECK(output.back() == '\n');
    // And the output is itself a domain that parses to the same thing.
    CHECK(DomainXml::parse(output).str() == output);
}

TEST_CASE("ensureUuid adds a random version-4 UUID only when there is none", "[xml]") {
    DomainXml first = DomainXml::parse(kMinimal);
    first.ensureUuid();
    CHECK(std::regex_match(first.uuid(), kUuidV4));
    const std::string once = first.str();
    CHECK_THAT(once, Catch::Contains("  <name>demo</name>\n  <uuid>" + first.uuid() + "</uuid>\n"));
    first.ensureUuid();
    CHECK(first.str() == once);  // a second call changes nothing
    CHECK(DomainXml::parse(once).uuid() == first.uuid());

    DomainXml second = DomainXml::parse(kMinimal);
    second.ensureUuid();
    CHECK(second.uuid() != first.uuid());

    DomainXml given = DomainXml::parse(domainWith("<name>g</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>"
                                                  "<memory>1</memory>"));
    given.ensureUuid();
    CHECK(given.uuid() == "c7a5fdbd-edaf-9455-926a-d65c16db1809");
}

TEST_CASE("setId sets, replaces and removes the id attribute", "[xml]") {
    DomainXml xml = DomainXml::parse(kMinimal);
    xml.setId(7);
    CHECK_THAT(xml.str(), Catch::StartsWith("<domain type=\"kvm\" id=\"7\">"));
    xml.setId(12);
    CHECK_THAT(xml.str(), Catch::StartsWith("<domain type=\"kvm\" id=\"12\">"));
    xml.setId(-1);
    CHECK_THAT(xml.str(), Catch::StartsWith("<domain type=\"kvm\">"));
    const std::string before = xml.str();
    CHECK_THROWS_AS(xml.setId(-2), virtkit::Error);
    CHECK(xml.str() == before);
}

TEST_CASE("a copy is independent of the original", "[xml]") {
    const DomainXml original = DomainXml::parse(kMinimal);
    DomainXml copy = original;
    copy.setId(3);
    copy.ensureUuid();
    CHECK(original.uuid().empty());
    CHECK(original.str().find("id=") == std::string::npos);
    CHECK(copy.name() == original.name());
}

TEST_CASE("libxml2 prints nothing to stderr on bad input", "[xml]") {
    std::FILE *const capture = std::tmpfile();
    REQUIRE(capture != nullptr);
    std::fflush(stderr);
    const int saved = dup(STDERR_FILENO);
    dup2(fileno(capture), STDERR_FILENO);
    for (const std::string &bad : {std::string("<domain"), std::string("<a><b></a>"), std::string("\xff\xfe<x/>"),
                                  std::string("<?xml version='1.0' encoding='NOPE'?><domain/>"),
                                  domainWith("<name>&undefined;</name>")}) {
        try {
            DomainXml::parse(bad);
        } catch (const virtkit::Error &) {
        }
    }
    std::fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    CHECK(std::ftell(capture) == 0);
    std::fclose(capture);
}

TEST_CASE("parses on several threads at once each report their own error", "[xml]") {
    constexpr int kThreads = 4;
    std::vector<std::string> failures(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([t, &failures] {
            // Thread t's documents break at line t + 2.
            const std::string bad = "<domain type='kvm'>" + std::string(static_cast<std::size_t>(t) + 1, '\n') +
                                    "<name>x</oops></domain>";
            const std::string expected = "malformed domain XML at line " + std::to_string(t + 2) + ":";
            for (int i = 0; i < 200; ++i) {
                try {
                    DomainXml::parse(bad);
                    failures[t] = "accepted";
                } catch (const virtkit::Error &e) {
                    if (std::string(e.what()).rfind(expected, 0) != 0)
                        failures[t] = e.what();
                }
                if (DomainXml::parse(kMinimal).name() != "demo")
                    failures[t] = "good document misread";
            }
        });
    }
    for (auto &thread : threads)
        thread.join();
    for (int t = 0; t < kThreads; ++t) {
        INFO("thread " << t);
        CHECK(failures[t].empty());
    }
}
