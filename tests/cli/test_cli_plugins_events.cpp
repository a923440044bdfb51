// plugins, event and help: the commands about virtkit itself.
#include <catch2/catch.hpp>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <virtkit/plugin.h>

#include "cli_runner.hpp"

using virtkit::test::CliSandbox;

namespace {

bool contains(const std::string &haystack, const std::string &needle)
{
    return haystack.find(needle) != std::string::npos;
}

const std::string kAbi = std::to_string(VIRTKIT_PLUGIN_ABI_MAJOR) + ".";

}  // namespace

TEST_CASE("plugins lists the test plugin with its version and ABI", "[cli]")
{
    CliSandbox box;
    const auto r = box.run({"plugins"});
    REQUIRE(r.exitCode == 0);
    const auto lines = r.outLines();
    REQUIRE(lines.size() >= 3);
    CHECK(contains(lines[0], "Id"));
    CHECK(contains(lines[0], "Status"));
    const auto row = std::find_if(lines.begin(), lines.end(), [](const std::string &l) { return l.rfind(" test ", 0) == 0; });
    REQUIRE(row != lines.end());
    CHECK(contains(*row, " " VIRTKIT_PROJECT_VERSION " "));
    CHECK(contains(*row, " " + kAbi));
    CHECK(contains(*row, "available"));  // listing loads no plugin
}

TEST_CASE("plugins opens no connection", "[cli]")
{
    CliSandbox box;
    box.setEnv("VIRTKIT_DEFAULT_URI", "nosuchdriver:///never-opened");
    CHECK(box.run({"plugins"}).exitCode == 0);
    CHECK(box.run({"uri"}).exitCode == 1);  // the same default URI does fail when a command connects
}

TEST_CASE("plugins shows a refused plugin with the reason", "[cli]")
{
    CliSandbox box;
    const auto dir = box.dir() / "plugins";
    box.writeFile("plugins/future.yaml", "manifest_version: 1\nid: future\nlibrary: libvirtkit-future.so\nversion: 9.9.9\n"
                                         "abi: { major: 99, min_minor: 0 }\nuri_schemes: [future]\n"
                                         "description: built for another ABI\n");
    box.setEnv("VIRTKIT_PLUGIN_PATH", dir.string());
    const auto r = box.run({"plugins"});
    INFO(r.out << r.err);
    REQUIRE(r.exitCode == 0);
    const auto lines = r.outLines();
    const auto row = std::find_if(lines.begin(), lines.end(), [](const std::string &l) { return l.rfind(" future ", 0) == 0; });
    REQUIRE(row != lines.end());
    CHECK(contains(*row, "refused"));
    CHECK(contains(r.out, "refused: future"));
    CHECK(contains(r.out, "99"));  // the reason names the plugin's ABI
    CHECK(contains(r.out, " test "));  // and the others are still there
}

TEST_CASE("plugins --json parses and carries each plugin's details", "[cli]")
{
    CliSandbox box;
    const auto r = box.run({"plugins", "--json"});
    REQUIRE(r.exitCode == 0);
    const auto obj = Poco::JSON::Parser().parse(r.out).extract<Poco::JSON::Object::Ptr>();
    const auto plugins = obj->getArray("plugins");
    REQUIRE(plugins);
    bool found = false;
    for (std::size_t i = 0; i < plugins->size(); i++) {
        const auto p = plugins->getObject(static_cast<unsigned>(i));
        if (p->getValue<std::string>("id") != "test")
            continue;
        found = true;
        CHECK(p->getValue<std::string>("version") == VIRTKIT_PROJECT_VERSION);
        CHECK(p->getValue<int>("abi_major") == VIRTKIT_PLUGIN_ABI_MAJOR);
        CHECK(p->getArray("schemes")->getElement<std::string>(0) == "test");
        CHECK(p->getValue<std::string>("status") == "available");
    }
    CHECK(found);
    CHECK(obj->getArray("warnings"));
}

TEST_CASE("event with a timeout and no event says the loop timed out", "[cli]")
{
    CliSandbox box;
    const auto r = box.runTest("event --all --timeout 1");
    REQUIRE(r.exitCode == 0);
    CHECK(r.out == "event loop timed out\nevents received: 0\n\n");
}

TEST_CASE("event rejects an unknown event name and a bad timeout", "[cli]")
{
    CliSandbox box;
    const auto unknown = box.runTest("event --event nonsense --timeout 1");
    CHECK(unknown.exitCode == 1);
    CHECK(contains(unknown.err, "unknown event type nonsense"));
    const auto noType = box.runTest("event --timeout 1");
    CHECK(noType.exitCode == 1);
    CHECK(contains(noType.err, "--event"));
    const auto badTimeout = box.runTest("event --all --timeout soon");
    CHECK(badTimeout.exitCode == 1);
    CHECK(contains(badTimeout.err, "soon"));
    CHECK(box.runTest("event --list").outLines().at(0) == "lifecycle");
    CHECK(box.runTest("event --event started --domain test --timeout 1").exitCode == 0);
    CHECK(box.runTest("event --all --domain ghost --timeout 1").exitCode == 1);
}

TEST_CASE("help lists every command and describes one", "[cli]")
{
    CliSandbox box;
    const auto all = box.run({"help"});
    REQUIRE(all.exitCode == 0);
    for (const std::string cmd : {"list", "define", "start", "dominfo", "event", "plugins", "domxml-to-native"})
        CHECK(contains(all.out, "    " + cmd + " "));
    const auto one = box.run({"help", "start"});
    REQUIRE(one.exitCode == 0);
    CHECK(contains(one.out, "start <domain>"));
    CHECK(box.run({"start", "--help"}).out == one.out);
    CHECK(box.run({"help", "nonsense"}).exitCode == 1);
}

TEST_CASE("the version and help options need no config, plugin or connection", "[cli]")
{
    CliSandbox box;
    box.setEnv("VIRTKIT_CONFIG", box.writeFile("broken.yaml", "{{{"));
    const auto v = box.run({"-v"});
    CHECK(v.exitCode == 0);
    CHECK(v.out == VIRTKIT_PROJECT_VERSION "\n");
    const auto h = box.run({"--help"});
    CHECK(h.exitCode == 0);
    CHECK(contains(h.out, "--connect"));
    CHECK(box.run({"help"}).exitCode == 0);
}
