// The Debian packages CPack makes: one per component, plugins tied to the
// core by the ABI major, and a CLI that finds exactly the plugins installed.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "sdk_test_support.hpp"

using namespace sdk_test;

namespace {

std::string field(const fs::path &deb, const std::string &name)
{
    std::string value = run("dpkg-deb -f " + quote(deb) + " " + name).output;
    while (!value.empty() && value.back() == '\n')
        value.pop_back();
    return value;
}

// `virtkit plugins --json` of a root that has the given packages unpacked.
std::vector<std::string> pluginsInRoot(const fs::path &root, const std::vector<fs::path> &debs)
{
    for (const fs::path &deb : debs)
        REQUIRE(run("dpkg -x " + quote(deb) + " " + quote(root)).exitCode == 0);
    writeFile(root / "virtkit.yaml", "{}\n");
    const fs::path virtkit = root / fs::path(SDK_INSTALL_PREFIX).relative_path() / SDK_INSTALL_BINDIR / "virtkit";
    const CommandResult r = run(cleanEnv({"VIRTKIT_CONFIG=" + (root / "virtkit.yaml").string()}) + " " +
                                quote(virtkit) + " plugins --json");
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
    return pluginIds(r.output);
}

}  // namespace

TEST_CASE("cpack makes one Debian package per component and the CLI finds exactly the plugins installed",
          "[sdk][packaging]")
{
    const TempDir work("packages");
    const CommandResult cpack = run(quote(std::string(SDK_CPACK)) + " -G DEB --config " +
                                    quote(std::string(VIRTKIT_BUILD_DIR "/CPackConfig.cmake")) + " -B " +
                                    quote(work / "debs"));
    INFO(cpack.output);
    REQUIRE(cpack.exitCode == 0);

    std::map<std::string, fs::path> packages;
    for (const auto &entry : fs::directory_iterator(work / "debs"))
        if (entry.path().extension() == ".deb")
            packages[field(entry.path(), "Package")] = entry.path();
    for (const char *name : {"virtkit-core", "virtkit-cli", "virtkit-sdk", "virtkit-remote", "virtkit-plugin-test"})
        REQUIRE(packages.count(name) == 1);

    CHECK_THAT(field(packages["virtkit-core"], "Provides"), Catch::Contains("virtkit-plugin-abi-1"));
    CHECK_THAT(field(packages["virtkit-cli"], "Depends"), Catch::Contains("virtkit-core"));
    CHECK_THAT(field(packages["virtkit-sdk"], "Depends"), Catch::Contains("virtkit-core"));
    CHECK_THAT(field(packages["virtkit-remote"], "Depends"), Catch::Contains("virtkit-core"));
    // dpkg-shlibdeps: Poco Net/NetSSL (and through them OpenSSL) are dependencies of the remote package alone
    CHECK_THAT(field(packages["virtkit-remote"], "Depends"), Catch::Contains("libpoconetssl"));
    CHECK_THAT(field(packages["virtkit-core"], "Depends"), !Catch::Contains("libpoconet"));
    if (packages.count("virtkit-daemon"))
        CHECK_THAT(field(packages["virtkit-daemon"], "Depends"), Catch::Contains("virtkit-remote"));
    std::set<std::string> allPlugins;
    std::vector<fs::path> allPluginDebs;
    for (const auto &[name, deb] : packages)
        if (name.rfind("virtkit-plugin-", 0) == 0) {
            INFO(name);
            CHECK_THAT(field(deb, "Depends"), Catch::Contains("virtkit-plugin-abi-1 (>= 1."));
            allPlugins.insert(name.substr(std::string("virtkit-plugin-").size()));
            allPluginDebs.push_back(deb);
        }

    const std::vector<fs::path> base = {packages["virtkit-core"], packages["virtkit-cli"]};
    const TempDir bare("root-bare"), withTest("root-test"), full("root-full");
    CHECK(pluginsInRoot(bare.path(), base).empty());

    std::vector<fs::path> testOnly = base;
    testOnly.push_back(packages["virtkit-plugin-test"]);
    CHECK(pluginsInRoot(withTest.path(), testOnly) == std::vector<std::string>{"test"});

    std::vector<fs::path> everything = base;
    everything.insert(everything.end(), allPluginDebs.begin(), allPluginDebs.end());
    const std::vector<std::string> found = pluginsInRoot(full.path(), everything);
    CHECK(std::set<std::string>(found.begin(), found.end()) == allPlugins);
}
