// virtkit-driver-check on a container driver: the checker reads os_type 'exe'
// from lxc's capabilities and defines a container (init + a busybox root it
// builds itself) instead of a machine.  Root and /bin/busybox only.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>

#include "sdk_test_support.hpp"

using namespace sdk_test;

namespace {

std::string outcome(const std::string &report, const std::string &check)
{
    const std::string key = "{\"name\": \"" + check + "\", \"result\": \"";
    const auto at = report.find(key);
    if (at == std::string::npos)
        return "";
    const auto begin = at + key.size();
    return report.substr(begin, report.find('"', begin) - begin);
}

}  // namespace

TEST_CASE("the driver checker runs a container on the lxc driver", "[sdk][lxc-real]")
{
    if (::geteuid() != 0 || !std::filesystem::exists("/bin/busybox")) {
        WARN("skipped: running lxc containers needs root and /bin/busybox (busybox-static)");
        return;
    }
    if (!std::filesystem::exists(VIRTKIT_BUILD_DIR "/lib/virtkit/plugins/lxc.yaml")) {
        WARN("skipped: the lxc plugin is not built (VIRTKIT_PLUGIN_LXC=OFF)");
        return;
    }
    const TempDir home("check-lxc");
    writeFile(home / "virtkit.yaml", "{}\n");
    const std::filesystem::path tmp = home / "tmp";  // where the checker builds its container root
    std::filesystem::create_directories(tmp);
    const std::string uri = "lxc:///embed?root=" + (home / "vk").string();
    const CommandResult r =
        run(cleanEnv({"VIRTKIT_CONFIG=" + (home / "virtkit.yaml").string(), "TMPDIR=" + tmp.string()}) + " " +
            quote(std::string(VIRTKIT_BUILD_DIR "/" SDK_INSTALL_BINDIR "/virtkit-driver-check")) + " --json --timeout 10 " +
            quote(uri));
    INFO(r.output);
    CHECK(r.exitCode == 0);
    CHECK(r.output.find("\"failed\": 0") != std::string::npos);
    for (const char *check : {"domain.define", "domain.xml", "domain.start", "event.started", "domain.lookup-by-id",
                              "domain.suspend", "domain.resume", "domain.shutdown", "event.stopped-by-shutdown",
                              "domain.destroy", "domain.undefine", "bad-input.malformed-xml"})
        CHECK(outcome(r.output, check) == "passed");
    // The checker's container root is gone with it.
    CHECK(std::filesystem::is_empty(tmp));
}
