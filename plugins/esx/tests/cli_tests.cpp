// The virtkit CLI against vcsim, as a user runs it.
#include <catch2/catch.hpp>

#include "vcsim_process.hpp"

using namespace virtkit::esx::testing;

namespace {

CommandResult cli(const std::string &uri, const std::vector<std::string> &args)
{
    std::vector<std::string> argv = {VIRTKIT_ESX_CLI, "-c", uri};
    argv.insert(argv.end(), args.begin(), args.end());
    return runCommand(argv);
}


}  // namespace

TEST_CASE("list, start, dominfo, suspend, resume, destroy through the CLI", "[esx][vcsim][cli]")
{
    ESX_REQUIRE_VCSIM();
    const Vcsim sim;
    const AuthFile auth("127.0.0.1", "root", "secret");
    const std::string uri = sim.uri();
    const CommandResult list = cli(uri, {"list", "--all"});
    REQUIRE(list.status == 0);
    CHECK_THAT(list.output, Catch::Contains("ha-host_VM0") && Catch::Contains("shut off"));
    CHECK(cli(uri, {"start", "ha-host_VM0"}).status == 0);
    CHECK_THAT(cli(uri, {"domstate", "ha-host_VM0"}).output, Catch::Contains("running"));
    const CommandResult info = cli(uri, {"dominfo", "ha-host_VM0"});
    CHECK(info.status == 0);
    CHECK_THAT(info.output, Catch::Contains("running"));
    CHECK_THAT(info.output, Catch::Contains("Autostart:") && Catch::Contains("disable"));
    CHECK(cli(uri, {"suspend", "ha-host_VM0"}).status == 0);
    CHECK_THAT(cli(uri, {"domstate", "ha-host_VM0"}).output, Catch::Contains("paused"));
    CHECK(cli(uri, {"resume", "ha-host_VM0"}).status == 0);
    CHECK(cli(uri, {"destroy", "ha-host_VM0"}).status == 0);
    const CommandResult xml = cli(uri, {"dumpxml", "ha-host_VM0"});
    CHECK_THAT(xml.output, Catch::Contains("<name>ha-host_VM0</name>") && Catch::Contains("<disk type='file'"));
    CHECK_THAT(cli(uri, {"domstate", "ha-host_VM0"}).output, Catch::Contains("shut off"));
    const CommandResult missing = cli(uri, {"dominfo", "no-such-vm"});
    CHECK(missing.status != 0);
    CHECK_THAT(missing.output, Catch::Contains("no-such-vm"));
}

TEST_CASE("the CLI without credentials or a terminal fails with a clear AUTH error", "[esx][vcsim][cli]")
{
    ESX_REQUIRE_VCSIM();
    const Vcsim sim;
    const CommandResult result = runCommand({VIRTKIT_ESX_CLI, "-c", sim.uri(), "list", "--all"},
                                            {"HOME=/nonexistent", "VIRTKIT_AUTH_FILE="});
    CHECK(result.status != 0);
    CHECK_THAT(result.output, Catch::Contains("no credentials for esx://127.0.0.1"));
}
