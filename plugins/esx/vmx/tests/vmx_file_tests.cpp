// The VMX text format itself: syntax, escapes, limits.
#include <catch2/catch.hpp>

#include "support.hpp"
#include "vmx_file.hpp"

using namespace virtkit::esx;
using namespace virtkit::esx::vmx;
using namespace virtkit::esx::testing;

TEST_CASE("VMX keys are case-insensitive and the last duplicate wins", "[vmx-file]")
{
    VmxFile file = VmxFile::parse("#!/usr/bin/vmware\n\nDisplayName = \"a\"\r\ndisplayname = \"b\"  # comment\nmemsize=64\n");
    CHECK(file.get("DISPLAYNAME") == "b");
    CHECK(file.get("memsize") == "64");
    CHECK_FALSE(file.get("missing"));
    CHECK(file.unusedKeys().empty());
}

TEST_CASE("entries nobody read are reported, in file order", "[vmx-file]")
{
    VmxFile file = VmxFile::parse("a = \"1\"\nb.c = \"2\"\nb.d = \"3\"\ne = \"4\"\n");
    file.get("a");
    file.consumePrefix("B.");
    CHECK(file.unusedKeys() == std::vector<std::string>{"e"});
}

TEST_CASE("malformed VMX lines are refused with the line number", "[vmx-file][vmx-bad-input]")
{
    for (const char *text : {"displayName \"x\"\n", "= \"x\"\n", "a = \"unterminated\n", "a = \"x\" trailing\n",
                             "a b = \"x\"\n", "ok = \"1\"\n{\"json\": true}\n"}) {
        INFO(text);
        try {
            VmxFile::parse(text);
            FAIL("accepted");
        } catch (const virtkit::Error &e) {
            CHECK(e.code() == VIRTKIT_ERR_CONFIG);
            CHECK(std::string(e.what()).find("VMX line") != std::string::npos);
        }
    }
}

TEST_CASE("binary data, NUL bytes and invalid UTF-8 are refused", "[vmx-file][vmx-bad-input]")
{
    CHECK(errorCodeOf([] { VmxFile::parse(std::string("a = \"x\0y\"\n", 11)); }) == VIRTKIT_ERR_CONFIG);
    CHECK(errorCodeOf([] { VmxFile::parse("a = \"\xC3\x28\"\n"); }) == VIRTKIT_ERR_CONFIG);
    CHECK(errorCodeOf([] { VmxFile::parse("a = \"\xED\xA0\x80\"\n"); }) == VIRTKIT_ERR_CONFIG);  // surrogate
    std::string garbage;
    for (int i = 0; i < 4096; ++i)
        garbage += static_cast<char>((i * 7919 + 13) % 256);
    CHECK(errorCodeOf([&] { VmxFile::parse(garbage); }) == VIRTKIT_ERR_CONFIG);
    // UTF-8 text survives.
    CHECK(VmxFile::parse("displayName = \"Grüße 日本\"\n").get("displayName") == "Grüße 日本");
}

TEST_CASE("oversized VMX text is refused before it is parsed", "[vmx-file][vmx-bad-input]")
{
    const std::string huge(VmxFile::max_bytes + 1, '#');
    CHECK(errorCodeOf([&] { VmxFile::parse(huge); }) == VIRTKIT_ERR_CONFIG);
    std::string many;
    for (std::size_t i = 0; i <= VmxFile::max_entries; ++i)
        many += "k" + std::to_string(i) + " = \"v\"\n";
    CHECK(errorCodeOf([&] { VmxFile::parse(many); }) == VIRTKIT_ERR_CONFIG);
}

TEST_CASE("a value VMX cannot hold is refused instead of breaking the line", "[vmx-file][vmx-bad-input]")
{
    VmxFile file;
    CHECK(errorCodeOf([&] { file.set("ethernet0.networkName", "x\"\nevil = \"1"); }) == VIRTKIT_ERR_NO_SUPPORT);
    CHECK(errorCodeOf([&] { file.set("a", "line\nbreak"); }) == VIRTKIT_ERR_NO_SUPPORT);
    file.set("a", "plain");
    CHECK(file.format() == "a = \"plain\"\n");
}

TEST_CASE("hex escapes: |22 in annotations, %25 in names", "[vmx-file]")
{
    CHECK(unescapeHex("Some |7Ctext|7C |22q|22 |45|73", '|') == "Some |text| \"q\" Es");
    CHECK(unescapeHex("100%25 %22", '%') == "100% \"");
    CHECK_FALSE(unescapeHex("broken |2", '|'));
    CHECK_FALSE(unescapeHex("broken |zz", '|'));
    CHECK(escapeHex("a|b\"c\nd", '|') == "a|7Cb|22c|0Ad");
    CHECK(escapeHex("50% \"x\"", '%') == "50%25 %22x%22");
    const std::string all = "x|\"\n\r\t%é";
    CHECK(unescapeHex(escapeHex(all, '|'), '|') == all);
    CHECK(unescapeHex(escapeHex(all, '%'), '%') == all);
}
