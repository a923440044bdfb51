// The virtkit CLI driving the lxc plugin end to end: the plugin is found
// beside bin/virtkit and the supervisor beside the plugin, as when installed.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

struct Run {
    int status;
    std::string output;
};

Run run(const std::string &command)
{
    Run result{-1, {}};
    FILE *pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (!pipe)
        return result;
    std::array<char, 4096> buffer{};
    for (std::size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0;)
        result.output.append(buffer.data(), n);
    result.status = ::pclose(pipe);
    return result;
}

}  // namespace

#ifdef VIRTKIT_CLI_PATH
TEST_CASE("the CLI defines, starts, lists, pauses and destroys an lxc container", "[lxc-real][cli]")
{
    if (::geteuid() != 0 || !fs::exists("/bin/busybox"))
        return;
    REQUIRE(fs::exists(VIRTKIT_CLI_PATH));  // build the virtkit target too
    std::string pattern = "/tmp/virtkit-lxc-cli-XXXXXX";
    REQUIRE(::mkdtemp(pattern.data()));
    const fs::path dir = pattern;
    struct Cleanup {
        fs::path dir;
        std::string cli;
        ~Cleanup()
        {
            run(cli + " destroy cli-ct");
            std::error_code ignored;
            fs::remove_all(dir, ignored);
        }
    };
    const std::string cli = std::string("env -u VIRTKIT_LXC_SUPERVISOR ") + VIRTKIT_CLI_PATH +
                            " -c 'lxc:///embed?root=" + (dir / "vk").string() + "'";
    const Cleanup cleanup{dir, cli};
    fs::permissions(dir, fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
    fs::create_directories(dir / "rootfs/bin");
    fs::copy_file("/bin/busybox", dir / "rootfs/bin/busybox");
    fs::create_symlink("busybox", dir / "rootfs/bin/sh");
    fs::create_symlink("busybox", dir / "rootfs/bin/sleep");
    std::ofstream(dir / "ct.xml")
        << "<domain type='lxc'><name>cli-ct</name><memory unit='MiB'>32</memory>"
           "<resource><partition>/virtkit-cli-test</partition></resource>"
           "<os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>exec sleep 1000</initarg></os>"
           "<devices><filesystem type='mount'><source dir='" << (dir / "rootfs").string()
        << "'/><target dir='/'/></filesystem><console type='pty'/></devices></domain>";

    CHECK(run(cli + " define " + (dir / "ct.xml").string()).status == 0);
    const Run start = run(cli + " start cli-ct");
    INFO(start.output);
    REQUIRE(start.status == 0);
    const Run list = run(cli + " list");
    CHECK(list.output.find("cli-ct") != std::string::npos);
    CHECK(list.output.find("running") != std::string::npos);
    CHECK(run(cli + " dominfo cli-ct").output.find("running") != std::string::npos);
    CHECK(run(cli + " suspend cli-ct").status == 0);
    CHECK(run(cli + " domstate cli-ct").output.find("paused") != std::string::npos);
    CHECK(run(cli + " resume cli-ct").status == 0);
    CHECK(run(cli + " dumpxml cli-ct").output.find("<source path=\"/dev/pts/") != std::string::npos);
    CHECK(run(cli + " destroy cli-ct").status == 0);
    CHECK(run(cli + " list --all").output.find("shut off") != std::string::npos);
    CHECK(run(cli + " start cli-ct-missing").status != 0);
    CHECK(!fs::exists("/sys/fs/cgroup/memory/virtkit-cli-test"));
}
#endif
