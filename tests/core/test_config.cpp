// virtkit.yaml as a user writes it: where it is looked for, what it may say,
// and how mistakes in it are reported.
#include <catch2/catch.hpp>

#include "support.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include <virtkit/config.hpp>
#include <virtkit/error.hpp>

using namespace virtkit;
namespace fs = std::filesystem;

using virtkit::test::EnvGuard;
using virtkit::test::TempDir;

namespace {

// Sets or unsets environment variables for one test and puts them back.
std::string errorOf(const std::function<void()> &action) {
    const Error e = virtkit::test::errorFrom(action);
    CHECK(e.code() == VIRTKIT_ERR_CONFIG);
    return e.what();
}

}  // namespace

TEST_CASE("a complete config file is read", "[config]") {
    const Config config = Config::fromString(R"(
default_uri: qemu:///system
plugin_path: [/opt/virtkit/plugins, /usr/lib/extra]
log: { level: debug }
plugins:
  qemu:
    state_dir: /var/lib/virtkit/qemu
    migration: { port_min: 49152, tls: { verify: yes } }
    allowed: [a, b]
)", "/etc/virtkit/virtkit.yaml");
    CHECK(config.source() == "/etc/virtkit/virtkit.yaml");
    CHECK(config.defaultUri() == "qemu:///system");
    CHECK(config.pluginPath() == std::vector<std::string>{"/opt/virtkit/plugins", "/usr/lib/extra"});
    CHECK(config.logSpec() == "debug");
    CHECK(config.pluginValue("qemu", "state_dir") == "/var/lib/virtkit/qemu");
    CHECK(config.pluginValue("qemu", "migration.port_min") == "49152");
    CHECK(config.pluginValue("qemu", "migration.tls.verify") == "yes");
    CHECK(config.warnings().empty());

    SECTION("plugin values are scalars only") {
        CHECK_FALSE(config.pluginValue("qemu", "migration"));
        CHECK_FALSE(config.pluginValue("qemu", "allowed"));
        CHECK_FALSE(config.pluginValue("qemu", "migration.nothing"));
        CHECK_FALSE(config.pluginValue("lxc", "state_dir"));
    }
}

TEST_CASE("an empty config sets nothing", "[config]") {
    for (const Config &config : {Config(), Config::fromString(""), Config::fromString("# only a comment\n")}) {
        CHECK_FALSE(config.defaultUri());
        CHECK_FALSE(config.logSpec());
        CHECK(config.pluginPath().empty());
        CHECK(config.warnings().empty());
    }
}

TEST_CASE("plugin_path may be a colon-separated string and log a spec string", "[config]") {
    const Config config = Config::fromString("plugin_path: /a/plugins::/b/plugins\nlog: \"qemu=debug,*=warn\"\n");
    CHECK(config.pluginPath() == std::vector<std::string>{"/a/plugins", "/b/plugins"});
    CHECK(config.logSpec() == "qemu=debug,*=warn");
}

TEST_CASE("unknown keys are reported with file and line, and the rest still applies", "[config]") {
    const Config config = Config::fromString("default_uri: test:///default\n"
                                             "defualt_uri: typo\n"
                                             "log:\n"
                                             "  level: info\n"
                                             "  colour: yes\n",
                                             "/home/u/.config/virtkit/virtkit.yaml");
    CHECK(config.warnings() ==
          std::vector<std::string>{"unknown key 'defualt_uri' in /home/u/.config/virtkit/virtkit.yaml line 2",
                                   "unknown key 'log.colour' in /home/u/.config/virtkit/virtkit.yaml line 5"});
    CHECK(config.defaultUri() == "test:///default");
    CHECK(config.logSpec() == "info");
}

TEST_CASE("a broken file is refused naming the file and the line", "[config]") {
    const TempDir dir;
    const std::string file = dir.write("virtkit.yaml", "default_uri: test:///default\nplugin_path: [/a, /b\nlog: warn\n");
    const std::string message = errorOf([&] { Config::loadFile(file); });
    CHECK_THAT(message, Catch::Contains(file));
    CHECK_THAT(message, Catch::Contains("line"));

    const std::string tabs = errorOf([] { Config::fromString("log:\n\t- x\n", "tabs.yaml"); });
    CHECK_THAT(tabs, Catch::Contains("tabs.yaml line 2"));
}

TEST_CASE("a value of the wrong type is refused with a clear message", "[config]") {
    CHECK_THAT(errorOf([] { Config::fromString("plugin_path: 5\n", "c.yaml"); }),
               Catch::Contains("c.yaml line 1") && Catch::Contains("plugin_path") && Catch::Contains("5"));
    CHECK_THAT(errorOf([] { Config::fromString("default_uri:\n  a: b\n", "c.yaml"); }),
               Catch::Contains("c.yaml line 2") && Catch::Contains("default_uri") && Catch::Contains("map"));
    CHECK_THAT(errorOf([] { Config::fromString("plugin_path: [/a, [/b]]\n", "c.yaml"); }),
               Catch::Contains("plugin_path") && Catch::Contains("list"));
    CHECK_THAT(errorOf([] { Config::fromString("plugins: [qemu]\n", "c.yaml"); }),
               Catch::Contains("plugins"));
    CHECK_THAT(errorOf([] { Config::fromString("plugins:\n  qemu: fast\n", "c.yaml"); }),
               Catch::Contains("plugins.qemu") && Catch::Contains("line 2"));
    CHECK_THAT(errorOf([] { Config::fromString("log: qemu=loud\n", "c.yaml"); }),
               Catch::Contains("c.yaml line 1") && Catch::Contains("loud"));
    CHECK_THAT(errorOf([] { Config::fromString("- just\n- a list\n", "c.yaml"); }),
               Catch::Contains("top level"));
    // Quoted, a number is text and fine.
    CHECK(Config::fromString("plugin_path: \"5\"\n").pluginPath() == std::vector<std::string>{"5"});
}

TEST_CASE("the config file is found by VIRTKIT_CONFIG, then the user's, then the system's", "[config]") {
    const TempDir dir;
    const std::string named = dir.write("named.yaml", "default_uri: test:///named\n");
    dir.write("xdg/virtkit/virtkit.yaml", "default_uri: test:///xdg\n");
    dir.write("home/.config/virtkit/virtkit.yaml", "default_uri: test:///home\n");
    EnvGuard env;
    env.set("VIRTKIT_CONFIG", named);
    env.set("XDG_CONFIG_HOME", dir.path() + "/xdg");
    env.set("HOME", dir.path() + "/home");

    CHECK(Config::load().defaultUri() == "test:///named");
    CHECK(Config::load().source() == named);

    env.set("VIRTKIT_CONFIG", std::nullopt);
    CHECK(Config::load().defaultUri() == "test:///xdg");

    env.set("XDG_CONFIG_HOME", std::nullopt);
    CHECK(Config::load().defaultUri() == "test:///home");

    SECTION("no file at all is fine") {
        env.set("HOME", dir.path() + "/nobody");
        const Config config = Config::load();
        // A system-wide file may exist on this machine; none of ours may be used.
        CHECK(config.source().rfind(dir.path(), 0) == std::string::npos);
        if (config.source().empty()) {
            CHECK_FALSE(config.defaultUri());
        }
    }
    SECTION("a VIRTKIT_CONFIG naming a missing file is an error naming it") {
        env.set("VIRTKIT_CONFIG", dir.path() + "/missing.yaml");
        CHECK_THAT(errorOf([] { Config::load(); }),
                   Catch::Contains("VIRTKIT_CONFIG") && Catch::Contains(dir.path() + "/missing.yaml"));
    }
    SECTION("a broken user file is an error, not silently skipped") {
        dir.write("home/.config/virtkit/virtkit.yaml", "default_uri: [\n");
        CHECK_THAT(errorOf([] { Config::load(); }), Catch::Contains("home/.config/virtkit/virtkit.yaml"));
    }
}

TEST_CASE("loading a file that does not exist names it", "[config]") {
    CHECK_THAT(errorOf([] { Config::loadFile("/nonexistent/virtkit.yaml"); }),
               Catch::Contains("/nonexistent/virtkit.yaml"));
}
