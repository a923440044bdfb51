// The ABI guard (abi/check-abi.cmake): the header as committed matches its
// baseline, and edits to a copy of it pass or fail as docs/abi.md says.
#include <catch2/catch.hpp>

#include <functional>
#include <regex>

#include "sdk_test_support.hpp"

using namespace sdk_test;

namespace {

const fs::path kHeader = fs::path(VIRTKIT_SOURCE_DIR) / "plugin-api/include/virtkit/plugin.h";

// Runs the guard on a copy of plugin.h changed by `edit`.
CommandResult guard(const std::function<std::string(std::string)> &edit)
{
    const TempDir work("abi-guard");
    writeFile(work / "include/virtkit/plugin.h", edit(readFile(kHeader)));
    const fs::path abi = fs::path(VIRTKIT_SOURCE_DIR) / "abi";
    return run(quote(std::string(SDK_CMAKE)) + " -DMODE=check -DHEADER_DIR=" + quote(work / "include") +
               " -DBASELINE_DIR=" + quote(abi) + " -DWORK_DIR=" + quote(work / "probe") +
               " -DCC=" + quote(std::string(SDK_C_COMPILER)) + " -DABIDW=" + quote(std::string(SDK_ABIDW)) +
               " -DABIDIFF=" + quote(std::string(SDK_ABIDIFF)) + " -P " + quote(abi / "check-abi.cmake"));
}

// Replaces exactly one occurrence of `from`; fails the test if there is none.
std::string replaceOnce(std::string text, const std::string &from, const std::string &to)
{
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

std::string bumpMinor(const std::string &header)
{
    return std::regex_replace(header, std::regex("#define VIRTKIT_PLUGIN_ABI_MINOR ([0-9]+)"),
                              "#define VIRTKIT_PLUGIN_ABI_MINOR 99");
}

const std::string kGrowthPoint = "    /* ---- growth point: new slots";
const std::string kNewSlot = "    /* ABI 1.99 */\n    int32_t (*domain_new_op)(virtkit_conn *conn, virtkit_error *err);\n";
const std::string kSuspend = "    int32_t (*domain_suspend)(virtkit_conn *conn, const char *uuid, virtkit_error *err);\n";
const std::string kResume = "    int32_t (*domain_resume)(virtkit_conn *conn, const char *uuid, virtkit_error *err);\n";

}  // namespace

TEST_CASE("the plugin ABI header matches its committed baseline", "[sdk][abi]")
{
    const CommandResult r = guard([](std::string h) { return h; });
    INFO(r.output);
    CHECK(r.exitCode == 0);
}

TEST_CASE("a slot appended at the end of a table with a minor bump passes the ABI guard", "[sdk][abi]")
{
    const CommandResult r =
        guard([](std::string h) { return bumpMinor(replaceOnce(h, kGrowthPoint, kNewSlot + kGrowthPoint)); });
    INFO(r.output);
    CHECK(r.exitCode == 0);
    CHECK_THAT(r.output, Catch::Contains("extends baseline"));
}

TEST_CASE("a slot appended without a minor bump fails the ABI guard", "[sdk][abi]")
{
    const CommandResult r = guard([](std::string h) { return replaceOnce(h, kGrowthPoint, kNewSlot + kGrowthPoint); });
    INFO(r.output);
    CHECK(r.exitCode != 0);
    CHECK_THAT(r.output, Catch::Contains("VIRTKIT_PLUGIN_ABI_MINOR is still"));
}

TEST_CASE("reordered, removed, retyped or inserted members fail the ABI guard even with a minor bump", "[sdk][abi]")
{
    struct Break {
        const char *what;
        std::string from, to;
    };
    const std::string resumeWithFlags =
        "    int32_t (*domain_resume)(virtkit_conn *conn, const char *uuid, uint32_t flags, virtkit_error *err);\n";
    const std::vector<Break> breaks = {
        {"two slots swapped", kSuspend + kResume, kResume + kSuspend},
        {"a slot removed", kResume, ""},
        {"a slot renamed", "(*domain_resume)", "(*domain_unpause)"},
        {"a slot's signature changed", kResume, resumeWithFlags},
        {"a member retyped", "    int32_t id;   /* -1", "    uint32_t id;   /* -1"},
        {"a member inserted in the middle", "    int32_t reason;      /* libvirt",
         "    int32_t extra;\n    int32_t reason;      /* libvirt"},
        {"an enumerator's value changed", "VIRTKIT_ERR_ABI = 14", "VIRTKIT_ERR_ABI = 15"},
        {"a constant changed", "#define VIRTKIT_LIST_INACTIVE (1u << 1)", "#define VIRTKIT_LIST_INACTIVE (1u << 2)"},
    };
    for (const Break &b : breaks) {
        const CommandResult r = guard([&](std::string h) { return bumpMinor(replaceOnce(h, b.from, b.to)); });
        INFO(b.what << "\n" << r.output);
        CHECK(r.exitCode != 0);
        CHECK_THAT(r.output, Catch::Contains("ABI break"));
    }
}

TEST_CASE("a new ABI major without a baseline fails the ABI guard and says what to do", "[sdk][abi]")
{
    const CommandResult r = guard([](std::string h) {
        return std::regex_replace(h, std::regex("#define VIRTKIT_PLUGIN_ABI_MAJOR [0-9]+"),
                                  "#define VIRTKIT_PLUGIN_ABI_MAJOR 77");
    });
    INFO(r.output);
    CHECK(r.exitCode != 0);
    CHECK_THAT(r.output, Catch::Contains("no baseline for ABI major 77") && Catch::Contains("abi-baseline"));
}
