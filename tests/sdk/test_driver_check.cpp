// virtkit-driver-check against drivers that behave and drivers that do not.
#include <catch2/catch.hpp>

#include "sdk_test_support.hpp"

using namespace sdk_test;

namespace {

struct CheckRun {
    int exitCode;
    std::string output;
    // "passed", "failed", "skipped" or "" when the check is not in the report.
    std::string outcome(const std::string &check) const
    {
        const std::string key = "{\"name\": \"" + check + "\", \"result\": \"";
        const auto at = output.find(key);
        if (at == std::string::npos)
            return "";
        const auto begin = at + key.size();
        return output.substr(begin, output.find('"', begin) - begin);
    }
};

CheckRun driverCheck(const std::string &uri)
{
    static const TempDir home("check-home");
    writeFile(home / "virtkit.yaml", "{}\n");
    const std::string command =
        cleanEnv({"VIRTKIT_CONFIG=" + (home / "virtkit.yaml").string(), "VIRTKIT_PLUGIN_PATH=" SDK_FIXTURE_DIR}) + " " +
        quote(std::string(VIRTKIT_BUILD_DIR "/" SDK_INSTALL_BINDIR "/virtkit-driver-check")) +
        " --json --timeout 0.3 " + quote(uri);
    const CommandResult r = run(command);
    return {r.exitCode, r.output};
}

}  // namespace

TEST_CASE("the driver checker passes the test driver", "[sdk]")
{
    const CheckRun run = driverCheck("test:///default");
    INFO(run.output);
    CHECK(run.exitCode == 0);
    CHECK(run.output.find("\"failed\": 0") != std::string::npos);
    for (const char *check : {"connect.open", "domain.define", "event.defined", "domain.start", "event.started",
                              "bad-input.double-start", "domain.suspend", "event.resumed", "domain.destroy",
                              "event.undefined", "bad-input.malformed-xml", "connect.close"})
        CHECK(run.outcome(check) == "passed");
}

TEST_CASE("the driver checker names the rules a broken driver breaks", "[sdk]")
{
    const CheckRun run = driverCheck("broken:///");
    INFO(run.output);
    CHECK(run.exitCode == 1);
    for (const char *check : {"event.defined", "event.started", "event.stopped-by-destroy", "event.undefined",
                              "bad-input.double-start"})
        CHECK(run.outcome(check) == "failed");
    // what it does right still passes, what it lacks is skipped
    CHECK(run.outcome("domain.define") == "passed");
    CHECK(run.outcome("domain.lookup-by-name") == "passed");
    CHECK(run.outcome("domain.suspend") == "skipped");
    CHECK(run.outcome("connect.capabilities") == "skipped");
}

TEST_CASE("the driver checker reports a driver that throws from every call, and survives it", "[sdk]")
{
    const CheckRun run = driverCheck("throwing:///");
    INFO(run.output);
    CHECK(run.exitCode == 1);
    CHECK(run.outcome("connect.open") == "passed");
    CHECK(run.outcome("connect.capabilities") == "failed");
    CHECK(run.outcome("domain.define") == "failed");
    CHECK(run.outcome("connect.close") == "passed");
    CHECK_THAT(run.output,
               Catch::Contains("driver failed unexpectedly in connect_get_capabilities: capabilities exploded"));
    CHECK_THAT(run.output, Catch::Contains("non-standard exception in connect_get_hostname"));
}

TEST_CASE("the driver checker reports a plugin whose init fails", "[sdk]")
{
    const CheckRun run = driverCheck("initfails:///");
    INFO(run.output);
    CHECK(run.exitCode == 1);
    CHECK(run.outcome("connect.open") == "failed");
    CHECK_THAT(run.output, Catch::Contains("the required setting 'socket' is missing"));
}

TEST_CASE("the driver checker reports plugins the host refuses to load", "[sdk]")
{
    for (const char *uri : {"truncated:///", "lying:///", "newer:///"}) {
        const CheckRun run = driverCheck(uri);
        INFO(uri << "\n" << run.output);
        CHECK(run.exitCode == 1);
        CHECK(run.outcome("connect.open") == "failed");
    }
}

TEST_CASE("the driver checker explains its usage", "[sdk]")
{
    const std::string checker = quote(std::string(VIRTKIT_BUILD_DIR "/" SDK_INSTALL_BINDIR "/virtkit-driver-check"));
    const CommandResult none = run(checker);
    CHECK(none.exitCode == 2);
    CHECK_THAT(none.output, Catch::Contains("give a connection URI"));
    const CommandResult badTimeout = run(checker + " --timeout soon test:///default");
    CHECK(badTimeout.exitCode == 2);
    CHECK_THAT(badTimeout.output, Catch::Contains("--timeout wants seconds"));
}
