// Every way an invocation can go wrong: one "error: " line naming what was
// wrong, exit status 1, never a crash, and nothing changed by bad input.
#include <catch2/catch.hpp>

#include "cli_runner.hpp"

using virtkit::test::CliResult;
using virtkit::test::CliSandbox;
using virtkit::test::domainXml;

namespace {

bool contains(const std::string &haystack, const std::string &needle)
{
    return haystack.find(needle) != std::string::npos;
}

// Exit 1 with exactly one error line containing `needle`.
void requireOneError(const CliResult &r, const std::string &needle)
{
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exitCode == 1);
    REQUIRE(r.errorLines().size() == 1);
    CHECK(contains(r.errorLines()[0], needle));
}

}  // namespace

TEST_CASE("a malformed XML file is refused and defines nothing", "[cli]")
{
    CliSandbox box;
    const auto file = box.writeFile("bad.xml", "<domain type='test'><name>half</name><memory>1024</memory>");
    const auto r = box.runTest("define " + file + "; list --all --name");
    requireOneError(r, file);
    // like virsh, the invocation goes on after a failing command
    CHECK(r.out == "test\n\n");
}

TEST_CASE("an XML bomb is refused without expanding it", "[cli]")
{
    CliSandbox box;
    std::string entities = "<!ENTITY a0 \"lol\">\n";
    for (int i = 1; i < 10; i++) {
        entities += "<!ENTITY a" + std::to_string(i) + " \"";
        for (int k = 0; k < 10; k++)
            entities += "&a" + std::to_string(i - 1) + ";";
        entities += "\">\n";
    }
    const auto file = box.writeFile("bomb.xml", "<?xml version='1.0'?>\n<!DOCTYPE domain [\n" + entities +
                                                    "]>\n<domain type='test'><name>&a9;</name>"
                                                    "<memory>1024</memory></domain>\n");
    const auto r = box.runTest("define " + file + "; list --all --name");
    requireOneError(r, "entit");
    CHECK(r.out == "test\n\n");
}

TEST_CASE("a file over the XML size limit is refused", "[cli]")
{
    CliSandbox box;
    const std::string padding(11 * 1024 * 1024, ' ');
    const auto file = box.writeFile("huge.xml", domainXml("huge", "<!--" + padding + "-->\n"));
    const auto r = box.runTest("define " + file + "; list --all --name");
    requireOneError(r, "huge.xml");
    CHECK(contains(r.errorLines()[0], "limit"));
    CHECK(r.out == "test\n\n");
}

TEST_CASE("a missing file is named in the error", "[cli]")
{
    CliSandbox box;
    const auto missing = (box.dir() / "nope.xml").string();
    requireOneError(box.runTest("define " + missing), missing);
}

TEST_CASE("an unknown domain is named in the error", "[cli]")
{
    CliSandbox box;
    for (const std::string cmd : {"start ghost", "dominfo ghost", "dumpxml ghost", "undefine ghost"})
        requireOneError(box.runTest(cmd), "ghost");
    requireOneError(box.runTest("domname 42"), "42");
}

TEST_CASE("starting a running domain is an error", "[cli]")
{
    CliSandbox box;
    const auto file = box.writeFile("twice.xml", domainXml("twice"));
    const auto r = box.runTest("define " + file + "; start twice; start twice; domstate twice");
    requireOneError(r, "twice");
    CHECK(contains(r.out, "Domain 'twice' started"));
    CHECK(contains(r.out, "\nrunning\n"));
}

TEST_CASE("a bad URI is refused naming the URI", "[cli]")
{
    CliSandbox box;
    requireOneError(box.run({"-c", "not a uri", "list"}), "not a uri");
}

TEST_CASE("a URI scheme no plugin handles is refused", "[cli]")
{
    CliSandbox box;
    requireOneError(box.run({"-c", "nosuchdriver:///system", "list"}), "nosuchdriver");
}

TEST_CASE("a connection failure stops the invocation with one error", "[cli]")
{
    CliSandbox box;
    requireOneError(box.run({"-c", "nosuchdriver:///system", "list; list; uri"}), "nosuchdriver");
}

TEST_CASE("an empty or missing VIRTKIT_PLUGIN_PATH dir adds nothing and breaks nothing", "[cli]")
{
    CliSandbox box;
    std::filesystem::create_directories(box.dir() / "empty");
    for (const auto &dir : {box.dir() / "empty", box.dir() / "missing"}) {
        box.setEnv("VIRTKIT_PLUGIN_PATH", dir.string());
        // the plugins beside the executable are still found
        const auto r = box.runTest("list --name");
        INFO(r.err);
        CHECK(r.exitCode == 0);
        CHECK(r.out == "test\n\n");
    }
}

TEST_CASE("a broken config file gives one clear error", "[cli]")
{
    CliSandbox box;
    box.setEnv("VIRTKIT_CONFIG", box.writeFile("broken.yaml", "default_uri: [unclosed\nplugin_path: {\n"));
    requireOneError(box.run({"list; list; uri"}), "broken.yaml");
}

TEST_CASE("the default URI comes from the config file", "[cli]")
{
    CliSandbox box;
    box.setEnv("VIRTKIT_CONFIG", box.writeFile("ok.yaml", "default_uri: nosuchdriver:///from-config\n"));
    requireOneError(box.run({"uri"}), "nosuchdriver");
    box.setEnv("VIRTKIT_DEFAULT_URI", "test:///default");  // the environment wins over the config
    const auto r = box.run({"uri"});
    CHECK(r.exitCode == 0);
    CHECK(r.out == "test:///default\n\n");
}

TEST_CASE("an unknown command runs nothing of the invocation", "[cli]")
{
    CliSandbox box;
    const auto r = box.runTest("destroy test; frobnicate");
    requireOneError(r, "unknown command: 'frobnicate'");
    CHECK(r.out.empty());
}

TEST_CASE("usage errors name the command and the option", "[cli]")
{
    CliSandbox box;
    requireOneError(box.runTest("start"), "command 'start' requires <domain> option");
    requireOneError(box.runTest("list --bogus"), "command 'list' doesn't support option --bogus");
    requireOneError(box.runTest("start test extra"), "unexpected data 'extra'");
    requireOneError(box.runTest("start --domain"), "--domain");
    requireOneError(box.runTest("dumpxml test --json"), "--json");
    requireOneError(box.runTest("start 'test"), "missing '");
    requireOneError(box.run({"--bogus", "list"}), "--bogus");
    requireOneError(box.run({"-c"}), "-c");
    requireOneError(box.run({}), "no command");
}

TEST_CASE("an operation the driver lacks is reported as not supported", "[cli]")
{
    CliSandbox box;
    const auto native = box.writeFile("vm.vmx", "displayName = \"vm\"\n");
    requireOneError(box.runTest("domxml-from-native vmware-vmx " + native), "not supported by driver 'test'");
}

TEST_CASE("binary garbage as XML is an error, not a crash", "[cli]")
{
    CliSandbox box;
    std::string garbage;
    for (int i = 0; i < 4096; i++)
        garbage += static_cast<char>((i * 7919) % 256);
    const auto file = box.writeFile("garbage.xml", garbage);
    requireOneError(box.runTest("define " + file), "garbage.xml");
}
