// A driver author's path: install virtkit into a fresh prefix, build the two
// examples against that prefix alone, and have the *installed* virtkit load
// them and run a lifecycle through each; the installed checker passes both.
#include <catch2/catch.hpp>

#include "sdk_test_support.hpp"

using namespace sdk_test;

namespace {

void install(const fs::path &prefix, const std::string &component)
{
    const CommandResult r = run(quote(std::string(SDK_CMAKE)) + " --install " + quote(std::string(VIRTKIT_BUILD_DIR)) +
                                " --prefix " + quote(prefix) + " --component " + component);
    INFO(r.output);
    REQUIRE(r.exitCode == 0);
}

// Configures and builds an example with nothing but the prefix to find virtkit in.
fs::path buildExample(const fs::path &prefix, const std::string &example, const fs::path &buildDir)
{
    const fs::path source = prefix / SDK_INSTALL_DOCDIR / "examples" / example;
    REQUIRE(fs::exists(source / "CMakeLists.txt"));
    const std::string cmake = quote(std::string(SDK_CMAKE));
    const CommandResult configure =
        run(cmake + " -S " + quote(source) + " -B " + quote(buildDir) + " -DCMAKE_PREFIX_PATH=" + quote(prefix) +
            " -DCMAKE_FIND_USE_CMAKE_SYSTEM_PATH=OFF -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF"
            " -DCMAKE_BUILD_TYPE=Release '-DCMAKE_C_FLAGS=-Wall -Wextra -Werror'"
            " '-DCMAKE_CXX_FLAGS=-Wall -Wextra -Werror'");
    INFO(configure.output);
    REQUIRE(configure.exitCode == 0);
    // found in the prefix, nowhere else
    CHECK_THAT(readFile(buildDir / "CMakeCache.txt"),
               Catch::Contains("VirtKit_DIR:PATH=" + (prefix / SDK_INSTALL_LIBDIR / "cmake/VirtKit").string()));
    const CommandResult build = run(cmake + " --build " + quote(buildDir) + " -j2");
    INFO(build.output);
    REQUIRE(build.exitCode == 0);
    return buildDir / "plugins";
}

}  // namespace

TEST_CASE("examples built against the installed SDK alone run under the installed virtkit", "[sdk][install]")
{
    const TempDir work("sdk-install");
    const fs::path prefix = work / "prefix";
    for (const char *component : {"core", "cli", "sdk", "plugin-test"})
        install(prefix, component);

    // Nothing installed refers to the build or source tree (text files; debug
    // info in binaries names source files by design).
    const CommandResult leaks = run("grep -rIl -e " + quote(std::string(VIRTKIT_BUILD_DIR)) + " -e " +
                                    quote(std::string(VIRTKIT_SOURCE_DIR)) + " " + quote(prefix));
    CHECK(leaks.output.empty());

    const std::string pkgconfig = run(cleanEnv({"PKG_CONFIG_PATH=" + (prefix / SDK_INSTALL_LIBDIR / "pkgconfig").string()}) +
                                      " pkg-config --variable=pluginsdir virtkit-plugin").output;
    CHECK(fs::weakly_canonical(pkgconfig.substr(0, pkgconfig.find('\n'))) ==
          fs::weakly_canonical(prefix / SDK_INSTALL_LIBDIR / "virtkit/plugins"));

    const fs::path helloPlugins = buildExample(prefix, "hello-driver", work / "build-hello");
    const fs::path minimalPlugins = buildExample(prefix, "minimal-c", work / "build-minimal");
    CHECK(fs::exists(helloPlugins / "libvirtkit-hello.so"));
    CHECK(fs::exists(helloPlugins / "hello.yaml"));
    CHECK(fs::exists(minimalPlugins / "libvirtkit-minimal.so"));

    writeFile(work / "virtkit.yaml", "{}\n");
    const std::string env = cleanEnv({"VIRTKIT_CONFIG=" + (work / "virtkit.yaml").string(),
                                      "VIRTKIT_PLUGIN_PATH=" + helloPlugins.string() + ":" + minimalPlugins.string()});
    const std::string virtkit = env + " " + quote(prefix / SDK_INSTALL_BINDIR / "virtkit");
    const std::string checker = env + " " + quote(prefix / SDK_INSTALL_BINDIR / "virtkit-driver-check");

    const CommandResult plugins = run(virtkit + " plugins --json");
    INFO(plugins.output);
    CHECK(pluginStatus(plugins.output, "hello") == "available");
    CHECK(pluginStatus(plugins.output, "minimal") == "available");
    CHECK(pluginStatus(plugins.output, "test") == "available");

    writeFile(work / "hello.xml", "<domain type='hello'><name>greeter</name><memory unit='MiB'>64</memory>"
                                  "<vcpu>1</vcpu><os><type>hvm</type></os></domain>");
    const CommandResult hello = run(virtkit + " -c hello:/// " +
                                    quote("define " + (work / "hello.xml").string() +
                                          "; start greeter; domstate greeter; suspend greeter; domstate greeter;"
                                          " resume greeter; shutdown greeter; domstate greeter; undefine greeter;"
                                          " list --all"));
    INFO(hello.output);
    CHECK(hello.exitCode == 0);
    CHECK_THAT(hello.output, Catch::Contains("running") && Catch::Contains("paused") && Catch::Contains("shut off"));

    writeFile(work / "minimal.xml", "<domain type='test'><name>tiny</name><memory>65536</memory>"
                                    "<vcpu>1</vcpu><os><type>hvm</type></os></domain>");
    const CommandResult minimal = run(virtkit + " -c minimal:/// " +
                                      quote("define " + (work / "minimal.xml").string() +
                                            "; start tiny; domstate tiny; destroy tiny; domstate tiny; undefine tiny"));
    INFO(minimal.output);
    CHECK(minimal.exitCode == 0);
    CHECK_THAT(minimal.output, Catch::Contains("running") && Catch::Contains("shut off"));
    // what the C driver leaves NULL is reported, not crashed on
    const CommandResult unsupported = run(virtkit + " -c minimal:/// capabilities");
    CHECK(unsupported.exitCode == 1);
    CHECK_THAT(unsupported.output, Catch::Contains("not supported by driver 'minimal'"));

    for (const char *uri : {"hello:///", "minimal:///"}) {
        const CommandResult check = run(checker + " " + uri);
        INFO(check.output);
        CHECK(check.exitCode == 0);
    }
}
