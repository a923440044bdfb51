// The remote driver is its own library (libvirtkit-remote.so), loaded by the
// core from its own directory only for URIs that go to virtkitd.  Each test
// builds a small prefix (the CLI, the core, the test plugin; the remote
// library only where said) laid out like the build tree, and runs the CLI
// from there.
#include <catch2/catch.hpp>

#include <filesystem>

#include "harness.hpp"

namespace fs = std::filesystem;
using virtkit::test::Daemon;
using virtkit::test::Run;
using virtkit::test::TempDir;
using virtkit::test::runProgram;

namespace {

// prefix/bin/virtkit, prefix/lib/libvirtkit-core.so.N, prefix/lib/virtkit/plugins/test.*
// (the build tree's relative layout, which the CLI's RUNPATH and plugin search rely on).
class Prefix {
public:
    explicit Prefix(bool withRemoteDriver)
    {
        const fs::path build = VIRTKIT_BUILD_DIR;
        const auto place = [this, &build](const fs::path &file, const std::string &name) {
            const fs::path to = dir_.path() / fs::relative(fs::path(file).parent_path(), build) / name;
            fs::create_directories(to.parent_path());
            fs::copy_file(file, to);
            return to;
        };
        cli_ = place(VIRTKIT_CLI_PATH, "virtkit").string();
        libDir_ = place(VIRTKIT_CORE_LIBRARY, VIRTKIT_CORE_SONAME).parent_path();
        place(fs::path(VIRTKIT_PLUGIN_BUILD_DIR) / "test.yaml", "test.yaml");
        place(fs::path(VIRTKIT_PLUGIN_BUILD_DIR) / "libvirtkit-test.so", "libvirtkit-test.so");
        if (withRemoteDriver)
            place(VIRTKIT_REMOTE_LIBRARY, "libvirtkit-remote.so");
    }
    const fs::path &libDir() const { return libDir_; }
    Run cli(const std::vector<std::string> &args, std::map<std::string, std::string> env = {}) const
    {
        std::vector<std::string> argv{cli_};
        argv.insert(argv.end(), args.begin(), args.end());
        env.emplace("VIRTKIT_CONFIG", config_);
        return runProgram(argv, env);
    }
    // The config every run gets: daemon sockets looked for in `socketDir`.
    void setSocketDir(const std::string &socketDir)
    {
        config_ = dir_.write("virtkit.yaml", "daemon:\n  socket_dir: " + socketDir + "\n");
    }

private:
    TempDir dir_;
    std::string cli_;
    fs::path libDir_;
    std::string config_ = dir_.write("virtkit.yaml", "{}\n");
};

// The dynamic linker's own account of every library file it opened (LD_DEBUG=files).
bool loadedNetworkLibraries(const Run &run)
{
    for (const char *lib : {"libPocoNet", "libssl.so", "libcrypto.so", "libvirtkit-remote.so"})
        if (run.err.find(std::string("file=") + lib) != std::string::npos ||
            run.err.find(std::string("/") + lib) != std::string::npos)
            return true;
    return false;
}

}  // namespace

TEST_CASE("without the remote driver library, local URIs work and remote ones fail clearly",
          "[daemon][remote-library]")
{
    TempDir root;
    Daemon daemon(root.str());
    Prefix prefix(false);
    prefix.setSocketDir(root.str());

    const Run local = prefix.cli({"-c", "test:///default", "list"});
    INFO(local.err);
    CHECK(local.exitCode == 0);
    CHECK_THAT(local.out, Catch::Contains("test") && Catch::Contains("running"));

    // A daemon listens at the URI's socket: only the missing library stands in the way.
    const std::string uri = daemon.testUri();
    const Run remote = prefix.cli({"-c", uri, "list"});
    CHECK(remote.exitCode == 1);
    CHECK(remote.out.empty());
    CHECK_THAT(remote.err, Catch::StartsWith("error: remote driver not installed: ") &&
                               Catch::Contains((prefix.libDir() / "libvirtkit-remote.so").string()) &&
                               Catch::Contains("needed for '" + uri + "'") &&
                               Catch::Contains("virtkitd at unix:" + daemon.socket()));

    // A local system URI while the daemon's socket answers goes to the daemon, so it needs the library too.
    const Run system = prefix.cli({"-c", "qemu:///system", "list"});
    CHECK(system.exitCode == 1);
    CHECK_THAT(system.err, Catch::StartsWith("error: remote driver not installed: ") &&
                               Catch::Contains("virtkitd at unix:" + daemon.socket()));

    // Routing alone needs no library: `uri --path` of a local URI still answers.
    const Run path = prefix.cli({"-c", "test:///default", "uri", "--path"});
    CHECK(path.exitCode == 0);
    CHECK_THAT(path.out, Catch::Contains("in-process"));
}

TEST_CASE("the remote driver library is loaded only for a URI that goes to virtkitd", "[daemon][remote-library]")
{
    TempDir root;
    Daemon daemon(root.str());
    Prefix prefix(true);

    const Run local = prefix.cli({"-c", "test:///default", "list"}, {{"LD_DEBUG", "files"}});
    CHECK(local.exitCode == 0);
    CHECK_THAT(local.err, Catch::Contains("file=libvirtkit-core.so"));  // LD_DEBUG did report
    CHECK_FALSE(loadedNetworkLibraries(local));

    const Run remote = prefix.cli({"-c", daemon.testUri(), "list"}, {{"LD_DEBUG", "files"}});
    INFO(remote.err);
    CHECK(remote.exitCode == 0);
    CHECK_THAT(remote.out, Catch::Contains("test") && Catch::Contains("running"));
    CHECK(loadedNetworkLibraries(remote));
}

TEST_CASE("a remote driver library that is not one is refused by name", "[daemon][remote-library]")
{
    TempDir root;
    Daemon daemon(root.str());
    Prefix prefix(false);
    // Any shared object in its place: loadable, but without the entry point.
    fs::copy_file(fs::path(VIRTKIT_PLUGIN_BUILD_DIR) / "libvirtkit-test.so", prefix.libDir() / "libvirtkit-remote.so");

    const Run remote = prefix.cli({"-c", daemon.testUri(), "list"});
    CHECK(remote.exitCode == 1);
    CHECK_THAT(remote.err, Catch::Contains("remote driver " + (prefix.libDir() / "libvirtkit-remote.so").string() +
                                           " is broken: it exports no virtkit_remote_driver()"));
    // The local path is untouched by a bad remote library.
    CHECK(prefix.cli({"-c", "test:///default", "list"}).exitCode == 0);
}
