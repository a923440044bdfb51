// lxc-bench: start-to-running and destroy times of a busybox container
// through LxcConnection (the plugin's own path, no CLI process), against
// `unshare --fork --pid --mount --uts --ipc chroot ROOT /bin/true` of the same
// root as the floor, in one run.  Root only.
//   build-lxc/bin/lxc-bench [iterations]
// "Running" is when start() returns: init has been exec'd in the container.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <spawn.h>
#include <sys/wait.h>
#include <vector>

#include <virtkit/error.hpp>

#include "driver/lxc_connection.hpp"
#include "runtime/cgroups.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point begin)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - begin).count();
}

// posix_spawn + wait, no shell in between.
double spawn_ms(std::vector<std::string> args)
{
    std::vector<char *> argv;
    for (auto &a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    const auto begin = Clock::now();
    pid_t pid = 0;
    int status = 0;
    if (::posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0 || ::waitpid(pid, &status, 0) != pid ||
        status != 0)
        throw std::runtime_error("'" + args[0] + "' failed");
    return ms_since(begin);
}

void summary(const char *what, std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    std::printf("%-34s median %7.2f ms   min %7.2f   p90 %7.2f   (n=%zu)\n", what, v[v.size() / 2], v.front(),
                v[v.size() * 9 / 10], v.size());
}

}  // namespace

int main(int argc, char **argv)
{
    const int iterations = argc > 1 ? std::atoi(argv[1]) : 20;
    std::string pattern = "/tmp/virtkit-lxc-bench-XXXXXX";
    if (!::mkdtemp(pattern.data()))
        return 1;
    const fs::path dir = pattern;
    fs::permissions(dir, fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
    fs::create_directories(dir / "rootfs/bin");
    for (const char *d : {"proc", "sys", "dev", "tmp"})
        fs::create_directories(dir / "rootfs" / d);
    fs::copy_file("/bin/busybox", dir / "rootfs/bin/busybox");
    for (const char *applet : {"sh", "true", "sleep"})
        fs::create_symlink("busybox", dir / "rootfs/bin" / applet);
    int status = 0;
    try {
        std::printf("cgroups: %s\n", virtkit::lxc::CgroupLayout::detect().describe().c_str());
        std::vector<double> starts, destroys, floors;
        {
            virtkit::lxc::LxcConnection conn("lxc:///embed?root=" + (dir / "vk").string(), nullptr);
            const auto ct = conn.define(
                "<domain type='lxc'><name>bench</name><memory unit='MiB'>64</memory>"
                "<resource><partition>/virtkit-bench</partition></resource>"
                "<os><type>exe</type><init>/bin/sleep</init><initarg>1000</initarg></os>"
                "<devices><filesystem type='mount'><source dir='" + (dir / "rootfs").string() +
                "'/><target dir='/'/></filesystem><console type='pty'/></devices></domain>");
            for (int i = 0; i < iterations; ++i) {
                auto begin = Clock::now();
                conn.start(ct.uuid);
                starts.push_back(ms_since(begin));
                begin = Clock::now();
                conn.destroy(ct.uuid);
                destroys.push_back(ms_since(begin));
            }
        }
        std::vector<double> bare;
        for (int i = 0; i < iterations; ++i) {
            floors.push_back(spawn_ms({"unshare", "--fork", "--pid", "--mount", "--uts", "--ipc", "chroot",
                                       (dir / "rootfs").string(), "/bin/true"}));
            bare.push_back(spawn_ms({"/bin/true"}));
        }
        summary("lxc start (to init running)", starts);
        summary("lxc destroy (nothing left)", destroys);
        summary("floor: unshare ... chroot /bin/true", floors);
        summary("host: spawn /bin/true (exec cost)", bare);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "lxc-bench: %s\n", e.what());
        status = 1;
    }
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    return status;
}
