// The plugin as a binary: what it exports, its descriptor, version negotiation.
#include <dlfcn.h>
#include <elf.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "plugin_fixture.hpp"

using namespace testplugin;

namespace {

// Names of the defined symbols in the library's table of `sectionType`:
// SHT_DYNSYM (what the loader sees; global and weak only) or SHT_SYMTAB (all of them).
std::set<std::string> definedSymbols(const std::string &path, uint32_t sectionType)
{
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    REQUIRE(bytes.size() > sizeof(Elf64_Ehdr));
    Elf64_Ehdr header;
    std::memcpy(&header, bytes.data(), sizeof header);
    REQUIRE(std::memcmp(header.e_ident, ELFMAG, SELFMAG) == 0);
    REQUIRE(header.e_ident[EI_CLASS] == ELFCLASS64);

    std::vector<Elf64_Shdr> sections(header.e_shnum);
    REQUIRE(header.e_shoff + sections.size() * sizeof(Elf64_Shdr) <= bytes.size());
    std::memcpy(sections.data(), bytes.data() + header.e_shoff, sections.size() * sizeof(Elf64_Shdr));

    std::set<std::string> names;
    for (const Elf64_Shdr &section : sections) {
        if (section.sh_type != sectionType)
            continue;
        const Elf64_Shdr &strings = sections.at(section.sh_link);
        for (std::size_t offset = 0; offset + sizeof(Elf64_Sym) <= section.sh_size; offset += sizeof(Elf64_Sym)) {
            Elf64_Sym symbol;
            std::memcpy(&symbol, bytes.data() + section.sh_offset + offset, sizeof symbol);
            const unsigned binding = ELF64_ST_BIND(symbol.st_info);
            const bool visible = binding == STB_GLOBAL || binding == STB_WEAK || sectionType == SHT_SYMTAB;
            if (symbol.st_shndx == SHN_UNDEF || symbol.st_name == 0 || !visible)
                continue;
            names.insert(bytes.data() + strings.sh_offset + symbol.st_name);
        }
    }
    return names;
}

}  // namespace

TEST_CASE("the plugin exports exactly one dynamic symbol, its entry point", "[test-driver]")
{
    CHECK(definedSymbols(VIRTKIT_TEST_PLUGIN_PATH, SHT_DYNSYM) == std::set<std::string>{"virtkit_plugin_entry"});
}

TEST_CASE("the plugin's internal functions cannot be found by the host", "[test-driver]")
{
    // The full symbol table (present in unstripped builds) names the driver's own functions.
    std::vector<std::string> internal;
    for (const auto &name : definedSymbols(VIRTKIT_TEST_PLUGIN_PATH, SHT_SYMTAB))
        if (name.find("testdriver") != std::string::npos && name.find('.') == std::string::npos)
            internal.push_back(name);
    if (internal.empty()) {
        WARN("the plugin is stripped; nothing to look up");
        return;
    }
    CHECK(internal.size() > 20);
    for (const auto &name : internal) {
        INFO(name);
        CHECK(dlsym(pluginHandle(), name.c_str()) == nullptr);
    }
    CHECK(dlsym(pluginHandle(), VIRTKIT_PLUGIN_ENTRY_SYMBOL) != nullptr);
}

TEST_CASE("the descriptor agrees with the manifest written beside the library", "[test-driver]")
{
    const virtkit_plugin_descriptor &desc = descriptor();
    CHECK(desc.magic == VIRTKIT_PLUGIN_MAGIC);
    CHECK(desc.struct_size == sizeof(virtkit_plugin_descriptor));
    CHECK(desc.abi_major == VIRTKIT_PLUGIN_ABI_MAJOR);
    CHECK(std::string(desc.id) == "test");

    const auto manifestPath = std::filesystem::path(VIRTKIT_TEST_PLUGIN_PATH).parent_path() / "test.yaml";
    std::ifstream in(manifestPath);
    REQUIRE(in);
    const std::string manifest{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    CHECK_THAT(manifest, Catch::Contains("id: test\n"));
    CHECK_THAT(manifest, Catch::Contains("library: libvirtkit-test.so\n"));
    CHECK_THAT(manifest, Catch::Contains("version: " + std::string(desc.version) + "\n"));
    CHECK_THAT(manifest, Catch::Contains("abi: { major: " + std::to_string(desc.abi_major) + ", min_minor: 0 }"));
    CHECK_THAT(manifest, Catch::Contains("uri_schemes: [test]"));
}

TEST_CASE("a host of another ABI major is refused, naming both versions", "[test-driver]")
{
    ops();  // the real host has initialised the plugin first; a refusal must not disturb it
    virtkit_host_services future{};
    future.struct_size = sizeof future;
    future.abi_major = VIRTKIT_PLUGIN_ABI_MAJOR + 1;
    future.abi_minor = 3;
    const virtkit_driver_ops *table = nullptr;
    const Outcome refused = attempt([&](virtkit_error *err) { return descriptor().init(&future, &table, err); });
    CHECK(refused.code == VIRTKIT_ERR_ABI);
    CHECK(table == nullptr);
    CHECK_THAT(refused.message, Catch::Contains(std::to_string(VIRTKIT_PLUGIN_ABI_MAJOR) + "." + std::to_string(VIRTKIT_PLUGIN_ABI_MINOR)) &&
                                   Catch::Contains(std::to_string(future.abi_major) + ".3"));

    Connection conn;  // still works with the original host
    CHECK(conn.lookupByName("test").id >= 1);
}

TEST_CASE("the operations table is complete except native config conversion", "[test-driver]")
{
    const virtkit_driver_ops &table = ops();
    CHECK(table.struct_size == sizeof(virtkit_driver_ops));
    CHECK(table.domain_xml_from_native == nullptr);
    CHECK(table.domain_xml_to_native == nullptr);
    CHECK(table.connect_open != nullptr);
    CHECK(table.domain_set_autostart != nullptr);
    CHECK(table.domain_reboot != nullptr);
}

TEST_CASE("an out struct from an older host is filled only up to its struct_size", "[test-driver]")
{
    Connection conn;
    struct OldInfo {
        virtkit_domain_info info;
        unsigned char guard[16];
    } old{};
    std::memset(&old, 0xAB, sizeof old);
    old.info.struct_size = offsetof(virtkit_domain_info, max_mem_kib);  // an "older" info: state, reason, persistent
    const std::string uuid = conn.lookupByName("test").uuid;
    const Outcome got =
        attempt([&](virtkit_error *err) { return ops().domain_get_info(conn.handle(), uuid.c_str(), &old.info, err); });
    REQUIRE(got.ok());
    CHECK(old.info.state == VIRTKIT_DOMAIN_RUNNING);
    const auto *tail = reinterpret_cast<const unsigned char *>(&old.info) + offsetof(virtkit_domain_info, max_mem_kib);
    CHECK(std::all_of(tail, tail + sizeof(old.info.max_mem_kib), [](unsigned char b) { return b == 0xAB; }));
    CHECK(old.guard[0] == 0xAB);
}
