// Plugins that are broken in the ways the issue lists: a newer SDK major, a
// truncated descriptor, a failing init, a driver that throws everywhere.  The
// host reports each with a sentence and goes on serving the other plugins.
#include <catch2/catch.hpp>

#include <virtkit/connection.hpp>
#include <virtkit/context.hpp>
#include <virtkit/error.hpp>

#include "sdk_test_support.hpp"

using namespace sdk_test;

namespace {

// The error opening `uri`, or "" if it opened.
std::string openError(virtkit::Context &ctx, const std::string &uri, int *code = nullptr)
{
    try {
        virtkit::Connection::open(ctx, uri);
    } catch (const virtkit::Error &e) {
        if (code)
            *code = e.code();
        return e.what();
    }
    return "";
}

const char *const kDemo = "<domain type='test'><name>survivor</name><memory>65536</memory><vcpu>1</vcpu>"
                          "<os><type>hvm</type></os></domain>";

}  // namespace

TEST_CASE("the host refuses each misbehaving plugin with a reason and keeps serving the others", "[sdk]")
{
    virtkit::Context ctx(virtkit::Config(), {SDK_FIXTURE_DIR, VIRTKIT_PLUGIN_BUILD_DIR});

    int code = 0;
    const std::string newer = openError(ctx, "newer:///", &code);
    INFO(newer);
    CHECK(code == VIRTKIT_ERR_ABI);
    CHECK_THAT(newer, Catch::Contains("newer") && Catch::Contains("2.0") && Catch::Contains("1."));

    const std::string lying = openError(ctx, "lying:///", &code);
    INFO(lying);
    CHECK(code == VIRTKIT_ERR_ABI);
    CHECK_THAT(lying, Catch::Contains("libvirtkit-lying.so") && Catch::Contains("2"));

    const std::string truncated = openError(ctx, "truncated:///", &code);
    INFO(truncated);
    CHECK(code == VIRTKIT_ERR_ABI);
    CHECK_THAT(truncated, Catch::Contains("libvirtkit-truncated.so"));

    int initCode = 0;
    const std::string initFails = openError(ctx, "initfails:///", &initCode);
    INFO(initFails);
    CHECK_THAT(initFails, Catch::Contains("libvirtkit-initfails.so") &&
                              Catch::Contains("the required setting 'socket' is missing"));
    CHECK(initCode == VIRTKIT_ERR_CONFIG);  // the plugin's own code, not a generic one

    // The throwing driver opens; every call fails with an error, none crashes.
    const auto throwing = virtkit::Connection::open(ctx, "throwing:///");
    CHECK_THROWS_AS(throwing->capabilities(), virtkit::Error);
    CHECK_THROWS_AS(throwing->listDomains(), virtkit::Error);
    CHECK_THROWS_AS(throwing->lookupByUuid("11111111-2222-4333-8444-555555555555"), virtkit::Error);
    CHECK_THROWS_AS(throwing->defineXml(kDemo), virtkit::Error);

    // ...and the same process still runs a domain on the test driver.
    const auto conn = virtkit::Connection::open(ctx, "test:///default");
    virtkit::Domain domain = conn->domain(conn->defineXml(kDemo));
    domain.start();
    CHECK(domain.info().state == VIRTKIT_DOMAIN_RUNNING);
    domain.destroy();
    domain.undefine();
}

TEST_CASE("virtkit plugins lists refused plugins with their reason and still succeeds", "[sdk]")
{
    const TempDir home("bad-plugins");
    writeFile(home / "virtkit.yaml", "{}\n");
    const std::string env =
        cleanEnv({"VIRTKIT_CONFIG=" + (home / "virtkit.yaml").string(), "VIRTKIT_PLUGIN_PATH=" SDK_FIXTURE_DIR});
    const std::string virtkit = quote(std::string(VIRTKIT_BUILD_DIR "/" SDK_INSTALL_BINDIR "/virtkit"));

    const CommandResult list = run(env + " " + virtkit + " plugins --json");
    INFO(list.output);
    CHECK(list.exitCode == 0);
    CHECK(pluginStatus(list.output, "newer") == "refused");
    CHECK(pluginStatus(list.output, "test") == "available");

    const CommandResult open = run(env + " " + virtkit + " -c truncated:/// list --all");
    INFO(open.output);
    CHECK(open.exitCode == 1);
    CHECK_THAT(open.output, Catch::StartsWith("error: ") && Catch::Contains("truncated"));
}
