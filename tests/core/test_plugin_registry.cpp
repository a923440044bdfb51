// PluginRegistry: discovery from manifests, routing, lazy loading and every
// refusal a user can meet, against the fixture plugins in tests/fixtures/.
#include <catch2/catch.hpp>

#include "support.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <virtkit/connection.hpp>
#include <virtkit/context.hpp>
#include <virtkit/error.hpp>

using namespace virtkit;
namespace fs = std::filesystem;

using virtkit::test::EnvGuard;
using virtkit::test::errorFrom;
using virtkit::test::TempDir;

namespace {

std::string fixtureDir(const std::string &name)
{
    return std::string(VIRTKIT_BUILD_DIR) + "/tests/fixtures/" + name;
}

bool isMapped(const std::string &fileName)
{
    std::ifstream maps("/proc/self/maps");
    const std::string text((std::istreambuf_iterator<char>(maps)), std::istreambuf_iterator<char>());
    return text.find("/" + fileName) != std::string::npos;
}

const PluginEntry *entryFor(const PluginRegistry &registry, const std::string &id)
{
    for (const auto &entry : registry.entries())
        if (entry.manifest.id == id)
            return &entry;
    return nullptr;
}

}  // namespace

// The ABI this build provides, as the refusals spell it.
const std::string kHostAbi =
    "ABI " + std::to_string(VIRTKIT_PLUGIN_ABI_MAJOR) + "." + std::to_string(VIRTKIT_PLUGIN_ABI_MINOR);

TEST_CASE("listing and routing read manifests only, and a connection loads just the plugin it needs", "[registry]")
{
    TempDir markers;
    const EnvGuard markerDir("VIRTKIT_FIXTURE_MARKER_DIR", markers.path());
    Context ctx(Config(), {fixtureDir("lazy")});
    PluginRegistry &registry = ctx.registry();

    const PluginEntry *a = entryFor(registry, "lazya");
    REQUIRE(a);
    CHECK(entryFor(registry, "lazyb"));
    CHECK(a->status == PluginStatus::Available);
    CHECK(a->manifest.uriSchemes == std::vector<std::string>{"lazya"});
    CHECK(a->manifest.version == "0.0.1");
    CHECK(a->manifest.libraryPath == fixtureDir("lazy") + "/libvirtkit-lazya.so");
    CHECK(a->manifest.description.find("lazy") != std::string::npos);
    REQUIRE(registry.forScheme("lazyb"));
    CHECK(registry.forScheme("lazyb")->manifest.id == "lazyb");

    // No static constructor ran and nothing is mapped.
    CHECK_FALSE(isMapped("libvirtkit-lazya.so"));
    CHECK_FALSE(isMapped("libvirtkit-lazyb.so"));
    CHECK_FALSE(fs::exists(fs::path(markers.path()) / "lazya.loaded"));
    CHECK_FALSE(fs::exists(fs::path(markers.path()) / "lazyb.loaded"));

    const auto conn = Connection::open(ctx, "lazya:///");
    CHECK(conn->driverName() == "lazya");
    CHECK(isMapped("libvirtkit-lazya.so"));
    CHECK(fs::exists(fs::path(markers.path()) / "lazya.loaded"));
    CHECK(entryFor(registry, "lazya")->status == PluginStatus::Loaded);
    CHECK_FALSE(isMapped("libvirtkit-lazyb.so"));
    CHECK_FALSE(fs::exists(fs::path(markers.path()) / "lazyb.loaded"));
    CHECK(entryFor(registry, "lazyb")->status == PluginStatus::Available);
}

TEST_CASE("a plugin library without a manifest is ignored", "[registry]")
{
    TempDir markers;
    const EnvGuard markerDir("VIRTKIT_FIXTURE_MARKER_DIR", markers.path());
    REQUIRE(fs::exists(fixtureDir("stray") + "/libvirtkit-stray.so"));
    Context ctx(Config(), {fixtureDir("stray")});
    CHECK(ctx.registry().entries().empty());
    CHECK(ctx.registry().warnings().empty());
    CHECK(ctx.registry().forScheme("stray") == nullptr);
    CHECK_FALSE(isMapped("libvirtkit-stray.so"));
    CHECK_FALSE(fs::exists(fs::path(markers.path()) / "stray.loaded"));
}

TEST_CASE("a plugin of another ABI major is refused and the others still load", "[registry]")
{
    Context ctx(Config(), {fixtureDir("abi2"), fixtureDir("good")});
    const PluginEntry *abi2 = entryFor(ctx.registry(), "abitwo");
    REQUIRE(abi2);
    CHECK(abi2->status == PluginStatus::Refused);
    CHECK(abi2->refusal == "plugin 'abitwo' (" + fixtureDir("abi2") + "/abitwo.yaml) is built for plugin ABI 2.0, "
                           "but this virtkit provides " + kHostAbi + "; install a build of the plugin for virtkit 1.x");

    const Error e = errorFrom([&] { Connection::open(ctx, "abitwo:///"); });
    CHECK(e.code() == VIRTKIT_ERR_ABI);
    CHECK(std::string(e.what()) == abi2->refusal);
    CHECK_FALSE(isMapped("libvirtkit-abitwo.so"));  // refused from the manifest alone

    CHECK(Connection::open(ctx, "fixture:///")->driverName() == "fixture");
}

TEST_CASE("a plugin needing a newer ABI minor than this virtkit provides is refused", "[registry]")
{
    Context ctx(Config(), {fixtureDir("newminor")});
    const PluginEntry *entry = entryFor(ctx.registry(), "newminor");
    REQUIRE(entry);
    CHECK(entry->status == PluginStatus::Refused);
    CHECK(entry->refusal.find(fixtureDir("newminor") + "/newminor.yaml") != std::string::npos);
    CHECK(entry->refusal.find("needs plugin ABI 1.7, but this virtkit provides " + kHostAbi) != std::string::npos);
    CHECK(entry->refusal.find("upgrade virtkit") != std::string::npos);
    CHECK(errorFrom([&] { ctx.registry().load("newminor"); }).code() == VIRTKIT_ERR_ABI);
    CHECK_FALSE(isMapped("libvirtkit-newminor.so"));
}

TEST_CASE("a library whose descriptor contradicts its manifest's ABI is refused at load", "[registry]")
{
    Context ctx(Config(), {fixtureDir("abi2-descriptor")});
    std::vector<Event> pluginEvents;
    EventFilter onlyPlugins;
    onlyPlugins.kind = EventKind::Plugin;
    auto subscription = ctx.bus().subscribe(onlyPlugins, [&](const Event &e) { pluginEvents.push_back(e); });
    CHECK(entryFor(ctx.registry(), "abilie")->status == PluginStatus::Available);

    const Error e = errorFrom([&] { Connection::open(ctx, "abilie:///"); });
    CHECK(e.code() == VIRTKIT_ERR_ABI);
    const std::string message = e.what();
    CHECK(message.find(fixtureDir("abi2-descriptor") + "/libvirtkit-abilie.so is built for plugin ABI 2.") !=
          std::string::npos);
    CHECK(message.find("manifest " + fixtureDir("abi2-descriptor") + "/abilie.yaml says ABI major 1") !=
          std::string::npos);
    CHECK(message.find("this virtkit provides " + kHostAbi) != std::string::npos);
    CHECK(message.find("install a consistent build") != std::string::npos);

    const PluginEntry *entry = entryFor(ctx.registry(), "abilie");
    CHECK(entry->status == PluginStatus::Refused);
    CHECK(entry->refusal == message);
    // Asking again gives the same answer.
    CHECK(std::string(errorFrom([&] { ctx.registry().load("abilie"); }).what()) == message);

    ctx.bus().flush();
    REQUIRE(pluginEvents.size() == 1);
    CHECK(pluginEvents[0].type == PluginRefused);
    CHECK(pluginEvents[0].payloadJson.find("\"id\": \"abilie\"") != std::string::npos);
}

TEST_CASE("a manifest naming an ordinary shared library is refused as not a plugin", "[registry]")
{
    Context ctx(Config(), {fixtureDir("notplugin")});
    const Error e = errorFrom([&] { ctx.registry().load("notplugin"); });
    CHECK(e.code() == VIRTKIT_ERR_ABI);
    CHECK(std::string(e.what()) ==
          "plugin 'notplugin': " + fixtureDir("notplugin") +
              "/libnotplugin.so is not a virtkit plugin (no virtkit_plugin_entry symbol); check that manifest " +
              fixtureDir("notplugin") + "/notplugin.yaml names the right library");
    CHECK(entryFor(ctx.registry(), "notplugin")->status == PluginStatus::Refused);
}

TEST_CASE("a text file posing as a plugin library is refused with both files named", "[registry]")
{
    Context ctx(Config(), {fixtureDir("notplugin")});
    const Error e = errorFrom([&] { Connection::open(ctx, "textfile:///"); });
    CHECK(e.code() == VIRTKIT_ERR_NO_CONNECT);
    const std::string message = e.what();
    CHECK(message.rfind("plugin 'textfile': cannot load library " + fixtureDir("notplugin") + "/textfile.so", 0) ==
          0);
    CHECK(message.find("named by manifest " + fixtureDir("notplugin") + "/textfile.yaml") != std::string::npos);
    CHECK(message.find("check that it is a plugin built for this system") != std::string::npos);
}

TEST_CASE("a library whose descriptor names another plugin is refused", "[registry]")
{
    Context ctx(Config(), {fixtureDir("idmismatch")});
    const Error e = errorFrom([&] { Connection::open(ctx, "idmismatch:///"); });
    CHECK(e.code() == VIRTKIT_ERR_ABI);
    const std::string message = e.what();
    CHECK(message.find("identifies itself as 'somebodyelse'") != std::string::npos);
    CHECK(message.find("manifest " + fixtureDir("idmismatch") + "/idmismatch.yaml says 'idmismatch'") !=
          std::string::npos);
}

TEST_CASE("a manifest naming a missing library is refused with both paths", "[registry]")
{
    Context ctx(Config(), {fixtureDir("missinglib")});
    const Error e = errorFrom([&] { Connection::open(ctx, "missing:///"); });
    CHECK(e.code() == VIRTKIT_ERR_NO_CONNECT);
    CHECK(std::string(e.what()) == "plugin 'missing': library " + fixtureDir("missinglib") +
                                       "/libvirtkit-missing.so named by manifest " + fixtureDir("missinglib") +
                                       "/missing.yaml does not exist; reinstall the plugin");
    CHECK(entryFor(ctx.registry(), "missing")->refusal == e.what());
}

TEST_CASE("malformed manifests are refused with the file named and the others still load", "[registry]")
{
    Context ctx(Config(), {fixtureDir("malformed"), fixtureDir("good")});
    const std::string dir = fixtureDir("malformed");

    const PluginEntry *broken = entryFor(ctx.registry(), "broken");
    REQUIRE(broken);
    CHECK(broken->status == PluginStatus::Refused);
    CHECK(broken->manifest.manifestPath == dir + "/broken.yaml");
    CHECK(broken->refusal.find("plugin manifest " + dir + "/broken.yaml is not valid YAML (line") !=
          std::string::npos);

    const PluginEntry *noLibrary = entryFor(ctx.registry(), "nolibrary");
    REQUIRE(noLibrary);
    CHECK(noLibrary->refusal.find(dir + "/nolibrary.yaml has no 'library' key") != std::string::npos);

    const PluginEntry *future = entryFor(ctx.registry(), "futureformat");
    REQUIRE(future);
    CHECK(future->refusal.find("has manifest_version 2, but this virtkit reads manifest_version 1") !=
          std::string::npos);

    CHECK(Connection::open(ctx, "fixture:///")->hostname() == "fixture-host");
}

TEST_CASE("two plugins of one dir claiming a scheme: the first by file name wins, with a warning", "[registry]")
{
    Context ctx(Config(), {fixtureDir("conflict")});
    const std::string dir = fixtureDir("conflict");
    REQUIRE(ctx.registry().warnings().size() == 1);
    CHECK(ctx.registry().warnings()[0] == "scheme 'shared' is claimed by both 'conflicta' (" + dir +
                                              "/conflicta.yaml) and 'conflictb' (" + dir +
                                              "/conflictb.yaml); using 'conflicta'");
    CHECK(Connection::open(ctx, "shared:///")->driverName() == "conflicta");
    CHECK(Connection::open(ctx, "conflictb:///")->driverName() == "conflictb");
}

TEST_CASE("the first dir of the search path wins a contested scheme", "[registry]")
{
    Context ctx(Config(), {fixtureDir("conflict2"), fixtureDir("conflict")});
    REQUIRE(ctx.registry().forScheme("shared"));
    CHECK(ctx.registry().forScheme("shared")->manifest.id == "conflictc");
    bool warned = false;
    for (const auto &w : ctx.registry().warnings())
        warned |= w.find(fixtureDir("conflict2") + "/conflictc.yaml") != std::string::npos &&
                  w.find(fixtureDir("conflict") + "/conflicta.yaml") != std::string::npos;
    CHECK(warned);
}

TEST_CASE("an empty or missing plugin dir is no crash, and an unrouted scheme names the dirs searched",
          "[registry]")
{
    const std::string missing = fixtureDir("does-not-exist");
    Context ctx(Config(), {fixtureDir("empty"), missing});
    CHECK(ctx.registry().entries().empty());
    CHECK(ctx.registry().forScheme("fixture") == nullptr);
    const Error e = errorFrom([&] { Connection::open(ctx, "fixture:///"); });
    CHECK(e.code() == VIRTKIT_ERR_NO_CONNECT);
    CHECK(std::string(e.what()) ==
          "no plugin handles URI scheme 'fixture' (searched: " + fixtureDir("empty") + ", " + missing + ")");
}

TEST_CASE("the default search path is VIRTKIT_PLUGIN_PATH, then the config, then beside the executable",
          "[registry]")
{
    const EnvGuard path("VIRTKIT_PLUGIN_PATH", "/env/one::/env/two");
    const Config config = Config::fromString("plugin_path: [/from/config]\n");
    const std::vector<std::string> dirs = PluginRegistry::defaultSearchPath(config);
    REQUIRE(dirs.size() == 4);
    CHECK(dirs[0] == "/env/one");
    CHECK(dirs[1] == "/env/two");
    CHECK(dirs[2] == "/from/config");
    CHECK(fs::equivalent(dirs[3], VIRTKIT_PLUGIN_BUILD_DIR));
}

TEST_CASE("loading a plugin is announced on the event bus", "[registry]")
{
    Context ctx(Config(), {fixtureDir("good")});
    std::vector<Event> events;
    EventFilter onlyPlugins;
    onlyPlugins.kind = EventKind::Plugin;
    auto subscription = ctx.bus().subscribe(onlyPlugins, [&](const Event &e) { events.push_back(e); });
    LoadedPlugin &plugin = ctx.registry().load("fixture");
    CHECK(&ctx.registry().load("fixture") == &plugin);  // once
    CHECK(std::string(plugin.descriptor->id) == "fixture");
    CHECK(plugin.ops.connect_open != nullptr);
    ctx.bus().flush();
    REQUIRE(events.size() == 1);
    CHECK(events[0].type == PluginLoaded);
    CHECK(events[0].payloadJson.find(fixtureDir("good") + "/fixture.yaml") != std::string::npos);
}
