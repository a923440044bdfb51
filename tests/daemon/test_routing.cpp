// Which way a URI goes: local system URIs to a listening daemon, else
// in-process; the ssh transport through a netcat on the far side.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include <virtkit/context.hpp>
#include <virtkit/remote.hpp>

#include "harness.hpp"

using namespace virtkit;
using virtkit::test::Daemon;
using virtkit::test::TempDir;
using virtkit::test::runCli;

TEST_CASE("a local system URI goes to the daemon only while one listens", "[daemon][routing]")
{
    TempDir root;
    Context ctx(Config::fromString("daemon:\n  socket_dir: " + root.str() + "\n"), std::vector<std::string>{});
    CHECK_FALSE(remote::routeFor(ctx, "qemu:///system", false).viaDaemon);
    {
        Daemon daemon(root.str());
        const auto route = remote::routeFor(ctx, "qemu:///system", false);
        CHECK(route.viaDaemon);
        CHECK(route.endpoint == "unix:" + daemon.socket());
        CHECK(route.driverUri == "qemu:///system");
        CHECK(remote::routeFor(ctx, "qemu:///session", true).endpoint == "unix:" + daemon.roSocket());
        // test:/// stays in-process unless a transport is named, as in libvirt.
        CHECK_FALSE(remote::routeFor(ctx, "test:///default", false).viaDaemon);
        CHECK(remote::routeFor(ctx, "test+unix:///default", false).viaDaemon);
        CHECK(daemon.terminate() == 0);
    }
    // A socket file nobody listens on (a crashed daemon's) must not capture the URI.
    const std::string stale = root.str() + "/virtkit-sock";
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, stale.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
    ::close(fd);
    CHECK(std::filesystem::exists(stale));
    CHECK_FALSE(remote::routeFor(ctx, "qemu:///system", false).viaDaemon);
    // A host without a transport: TLS for daemon drivers, the plugin's own for others (esx).
    CHECK(remote::routeFor(ctx, "qemu://host.example/system", false).endpoint == "tls:host.example:16514");
    CHECK_FALSE(remote::routeFor(ctx, "esx://host.example/?no_verify=1", false).viaDaemon);
}

TEST_CASE("the ssh transport runs netcat on the far side and speaks through its stdio", "[daemon][routing][cli]")
{
    TempDir root;
    Daemon daemon(root.str());
    // A stand-in for ssh that runs the remote command here: what crosses is what would cross a real ssh.
    TempDir bin;
    bin.write("ssh", "#!/bin/sh\n"
                     "echo \"$@\" >> \"$(dirname \"$0\")/args\"\n"
                     "while [ \"$1\" != \"--\" ]; do shift; done\n"
                     "shift; shift\n"
                     "exec sh -c \"$1\"\n");
    std::filesystem::permissions(bin.path() / "ssh", std::filesystem::perms::owner_all);
    const std::map<std::string, std::string> env = {{"PATH", bin.str() + ":/usr/bin:/bin"}};
    const std::string uri = "test+ssh://admin@farhost:2222/default?socket=" + daemon.socket() + "&keyfile=/k/id";
    const auto r = runCli({"-c", uri, "list --name"}, env);
    INFO(r.err);
    CHECK(r.exitCode == 0);
    CHECK(r.out.find("test\n") != std::string::npos);
    std::ifstream argsFile(bin.path() / "args");
    std::string args((std::istreambuf_iterator<char>(argsFile)), std::istreambuf_iterator<char>());
    CHECK(args.find("-p 2222") != std::string::npos);
    CHECK(args.find("-l admin") != std::string::npos);
    CHECK(args.find("-i /k/id") != std::string::npos);
    CHECK(args.find("farhost nc -U '" + daemon.socket() + "'") != std::string::npos);
}
