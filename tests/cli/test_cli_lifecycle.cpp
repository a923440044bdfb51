// Changing domains through the CLI: several commands share one connection,
// so a whole life cycle runs in one invocation.
#include <catch2/catch.hpp>

#include "cli_runner.hpp"

using virtkit::test::CliSandbox;
using virtkit::test::domainXml;

namespace {

bool contains(const std::string &haystack, const std::string &needle)
{
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("a whole life cycle runs in one ';'-separated invocation", "[cli]")
{
    CliSandbox box;
    const auto file = box.writeFile("life.xml", domainXml("life"));
    const auto r = box.runTest("define " + file +
                               "; start life; domstate life; suspend life; domstate life; resume life;"
                               " shutdown life; domstate life; undefine life; list --all --name");
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    CHECK(r.err.empty());
    const std::string expected[] = {"Domain 'life' defined from " + file, "Domain 'life' started", "running",
                                    "Domain 'life' suspended", "paused", "Domain 'life' resumed",
                                    "Domain 'life' is being shutdown", "shut off", "Domain 'life' has been undefined"};
    std::size_t pos = 0;
    for (const auto &line : expected) {
        const auto found = r.out.find(line + "\n", pos);
        INFO("expected in order: " << line);
        REQUIRE(found != std::string::npos);
        pos = found + line.size();
    }
    CHECK(!contains(r.out.substr(pos), "life"));  // gone from the final list
}

TEST_CASE("several argv words with a ';' word are several commands", "[cli]")
{
    CliSandbox box;
    const auto r = box.run({"-c", "test:///default", "destroy", "test", ";", "domstate", "test"});
    REQUIRE(r.exitCode == 0);
    CHECK(r.out == "Domain 'test' destroyed\n\nshut off\n\n");
}

TEST_CASE("quotes and backslashes group words as in virsh", "[cli]")
{
    CliSandbox box;
    const auto file = box.writeFile("my dir/two words.xml", domainXml("spaced"));
    const std::string dir = file.substr(0, file.rfind('/'));
    const auto r = box.runTest("define '" + file + "'; define \"" + dir + "/two words.xml\"; list --all --name");
    // the second define names the same domain again: an update, not an error
    INFO(r.err);
    CHECK(contains(r.out, "Domain 'spaced' defined from " + file));
    std::string escaped;
    for (const char c : file) {
        if (c == ' ')
            escaped += '\\';
        escaped += c;
    }
    CHECK(box.runTest("define " + escaped).exitCode == 0);
}

TEST_CASE("dumpxml returns what define was given", "[cli]")
{
    CliSandbox box;
    const std::string extra = "  <description>kept as written</description>\n"
                              "  <devices><disk type='file' device='disk'><source file='/tmp/a.img'/>"
                              "<target dev='vda' bus='virtio'/></disk></devices>\n";
    const auto file = box.writeFile("rt.xml", domainXml("rt", extra));
    const auto r = box.runTest("define " + file + "; dumpxml rt");
    REQUIRE(r.exitCode == 0);
    CHECK(contains(r.out, "<name>rt</name>"));
    CHECK(contains(r.out, "<description>kept as written</description>"));
    CHECK(contains(r.out, "/tmp/a.img"));
    CHECK((contains(r.out, "<target dev=\"vda\" bus=\"virtio\"/>") ||
           contains(r.out, "<target dev='vda' bus='virtio'/>")));
    CHECK(contains(r.out, "<uuid>"));  // one was generated
}

TEST_CASE("create starts a transient domain", "[cli]")
{
    CliSandbox box;
    const auto file = box.writeFile("tr.xml", domainXml("tr"));
    const auto r = box.runTest("create " + file + "; domstate tr; dominfo tr");
    REQUIRE(r.exitCode == 0);
    CHECK(contains(r.out, "Domain 'tr' created from " + file));
    CHECK(contains(r.out, "\nrunning\n"));
    CHECK(contains(r.out, "Persistent:     no\n"));
}

TEST_CASE("autostart marks and unmarks a domain", "[cli]")
{
    CliSandbox box;
    const auto r = box.runTest("autostart test; dominfo test; autostart --disable test; dominfo test");
    REQUIRE(r.exitCode == 0);
    const auto marked = r.out.find("Domain 'test' marked as autostarted");
    const auto enabled = r.out.find("Autostart:      enable");
    const auto unmarked = r.out.find("Domain 'test' unmarked as autostarted");
    const auto disabled = r.out.find("Autostart:      disable");
    REQUIRE(marked != std::string::npos);
    REQUIRE(unmarked != std::string::npos);
    CHECK(marked < enabled);
    CHECK(enabled < unmarked);
    CHECK(unmarked < disabled);
}

TEST_CASE("reboot and destroy report what they did", "[cli]")
{
    CliSandbox box;
    const auto r = box.runTest("reboot test; destroy test; domstate test");
    REQUIRE(r.exitCode == 0);
    CHECK(contains(r.out, "Domain 'test' is being rebooted\n"));
    CHECK(contains(r.out, "Domain 'test' destroyed\n"));
    CHECK(contains(r.out, "\nshut off\n"));
}

TEST_CASE("a read-only connection (-r) refuses changes but allows reading", "[cli]")
{
    CliSandbox box;
    const auto read = box.run({"-r", "-c", "test:///default", "list"});
    CHECK(read.exitCode == 0);
    const auto write = box.run({"-r", "-c", "test:///default", "destroy test; domstate test"});
    CHECK(write.exitCode == 1);
    CHECK(write.errorLines().size() == 1);
    CHECK(contains(write.out, "running"));  // the refused destroy changed nothing
}
