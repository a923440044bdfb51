// The C++ API through virtkitd behaves as the in-process one: same results,
// same error codes and messages, shared state between clients.
#include <catch2/catch.hpp>

#include <virtkit/connection.hpp>
#include <virtkit/context.hpp>
#include <virtkit/error.hpp>
#include <virtkit/remote.hpp>

#include "harness.hpp"

using namespace virtkit;
using virtkit::test::Daemon;
using virtkit::test::TempDir;

namespace {

std::string domainXml(const std::string &name)
{
    return "<domain type='test'><name>" + name +
           "</name><memory unit='KiB'>131072</memory><vcpu>2</vcpu><os><type arch='x86_64'>hvm</type></os></domain>";
}

Context &remoteContext()
{
    static Context ctx(Config(), std::vector<std::string>{VIRTKIT_PLUGIN_BUILD_DIR});
    return ctx;
}

int errorCodeOf(const std::function<void()> &call, std::string *message = nullptr)
{
    try {
        call();
    } catch (const Error &e) {
        if (message)
            *message = e.what();
        return e.code();
    }
    return VIRTKIT_OK;
}

}  // namespace

TEST_CASE("a remote connection defines, runs and reads a domain like an in-process one", "[daemon]")
{
    TempDir root;
    Daemon daemon(root.str());
    auto conn = Connection::open(remoteContext(), daemon.testUri());
    CHECK(conn->driverName() == "test");
    CHECK(remote::routeOf(*conn).viaDaemon);
    CHECK(remote::routeOf(*conn).endpoint == "unix:" + daemon.socket());

    const DomainRef ref = conn->defineXml(domainXml("remote1"));
    CHECK(ref.name == "remote1");
    CHECK(ref.id == -1);
    conn->domainStart(ref.uuid);
    DomainInfo info = conn->domainInfo(ref.uuid);
    CHECK(info.state == VIRTKIT_DOMAIN_RUNNING);
    CHECK(info.vcpus == 2);
    CHECK(info.maxMemKiB == 131072);
    CHECK(conn->lookupByName("remote1").uuid == ref.uuid);
    CHECK(conn->lookupById(conn->lookupByUuid(ref.uuid).id).name == "remote1");
    CHECK(conn->domainXml(ref.uuid, 0).find("<name>remote1</name>") != std::string::npos);
    conn->domainSuspend(ref.uuid);
    CHECK(conn->domainInfo(ref.uuid).state == VIRTKIT_DOMAIN_PAUSED);
    conn->domainResume(ref.uuid);
    conn->domainSetAutostart(ref.uuid, true);
    CHECK(conn->domainAutostart(ref.uuid));
    conn->domainDestroy(ref.uuid);
    CHECK(conn->domainInfo(ref.uuid).state == VIRTKIT_DOMAIN_SHUTOFF);
    conn->domainUndefine(ref.uuid);
    CHECK(errorCodeOf([&] { conn->lookupByName("remote1"); }) == VIRTKIT_ERR_NO_DOMAIN);
    CHECK_FALSE(conn->hostname().empty());
    CHECK(conn->capabilities().find("<capabilities>") != std::string::npos);
}

TEST_CASE("a daemon's error reaches the client with the driver's code and message", "[daemon]")
{
    TempDir root;
    Daemon daemon(root.str());
    auto remoteConn = Connection::open(remoteContext(), daemon.testUri());
    auto localConn = Connection::open(remoteContext(), "test:///default");

    std::string remoteMsg, localMsg;
    CHECK(errorCodeOf([&] { remoteConn->lookupByName("no-such"); }, &remoteMsg) == VIRTKIT_ERR_NO_DOMAIN);
    CHECK(errorCodeOf([&] { localConn->lookupByName("no-such"); }, &localMsg) == VIRTKIT_ERR_NO_DOMAIN);
    CHECK(remoteMsg == localMsg);

    // Bad XML is refused by the daemon's core before the plugin sees it, with the same words.
    CHECK(errorCodeOf([&] { remoteConn->defineXml("<domain>"); }, &remoteMsg) == VIRTKIT_ERR_XML);
    CHECK(errorCodeOf([&] { localConn->defineXml("<domain>"); }, &localMsg) == VIRTKIT_ERR_XML);
    CHECK(remoteMsg == localMsg);

    // Starting a running domain: OPERATION_INVALID both ways.
    const auto running = remoteConn->lookupByName("test");
    CHECK(errorCodeOf([&] { remoteConn->domainStart(running.uuid); }) ==
          errorCodeOf([&] { localConn->domainStart(localConn->lookupByName("test").uuid); }));
}

TEST_CASE("clients of one daemon share its driver connection", "[daemon]")
{
    TempDir root;
    Daemon daemon(root.str());
    auto a = Connection::open(remoteContext(), daemon.testUri());
    auto b = Connection::open(remoteContext(), daemon.testUri());
    const DomainRef ref = a->defineXml(domainXml("shared"));
    CHECK(b->lookupByName("shared").uuid == ref.uuid);
    b->domainStart(ref.uuid);
    CHECK(a->domainInfo(ref.uuid).state == VIRTKIT_DOMAIN_RUNNING);
}

TEST_CASE("a read-only connection is refused every change, by the client and by the daemon", "[daemon][readonly]")
{
    TempDir root;
    Daemon daemon(root.str());
    auto rw = Connection::open(remoteContext(), daemon.testUri());
    const std::string uuid = rw->lookupByName("test").uuid;
    // Asked for read-only on the rw socket, and plain connection on the read-only socket: both refuse.
    for (const auto &[uri, readOnly] : {std::pair{daemon.testUri(), true}, std::pair{daemon.testUri(true), false}}) {
        auto ro = Connection::open(remoteContext(), uri, readOnly);
        CHECK(ro->lookupByName("test").uuid == uuid);
        CHECK(ro->domainInfo(uuid).state == VIRTKIT_DOMAIN_RUNNING);
        std::string message;
        CHECK(errorCodeOf([&] { ro->domainDestroy(uuid); }, &message) == VIRTKIT_ERR_AUTH);
        CHECK(message.find("read only") != std::string::npos);
        CHECK(errorCodeOf([&] { ro->defineXml(domainXml("nope")); }) == VIRTKIT_ERR_AUTH);
        CHECK(errorCodeOf([&] { ro->domainUndefine(uuid); }) == VIRTKIT_ERR_AUTH);
    }
    CHECK(rw->domainInfo(uuid).state == VIRTKIT_DOMAIN_RUNNING);
    CHECK(errorCodeOf([&] { rw->lookupByName("nope"); }) == VIRTKIT_ERR_NO_DOMAIN);
}

TEST_CASE("a URI naming no daemon fails to connect, naming the socket", "[daemon]")
{
    TempDir root;
    std::string message;
    CHECK(errorCodeOf([&] { Connection::open(remoteContext(), "test+unix:///default?socket=" + root.str() + "/none"); },
                      &message) == VIRTKIT_ERR_NO_CONNECT);
    CHECK(message.find(root.str() + "/none") != std::string::npos);
    CHECK(errorCodeOf([&] { Connection::open(remoteContext(), "test+carrierpigeon:///default"); }) ==
          VIRTKIT_ERR_INVALID_ARG);
}

TEST_CASE("one daemon per state root", "[daemon]")
{
    TempDir root;
    Daemon first(root.str());
    const auto second = virtkit::test::runProgram({VIRTKITD_PATH, "--root", root.str()});
    CHECK(second.exitCode == 1);
    CHECK(second.err.find("another virtkitd (pid " + std::to_string(first.pid()) + ")") != std::string::npos);
    CHECK(first.running());
    CHECK(first.terminate() == 0);
    CHECK_FALSE(std::filesystem::exists(first.socket()));
}

TEST_CASE("the daemon maps system URIs under its root and refuses foreign embed roots", "[daemon]")
{
    TempDir root;
    Daemon daemon(root.str());
    auto conn = Connection::open(remoteContext(), daemon.testUri());
    std::string message;
    // qemu+unix:///embed?root=/elsewhere must not let a client pick any directory.
    CHECK(errorCodeOf([&] {
              Connection::open(remoteContext(), "qemu+unix:///embed?root=/tmp/elsewhere&socket=" + daemon.socket());
          },
                      &message) == VIRTKIT_ERR_AUTH);
    CHECK(message.find("outside") != std::string::npos);
}
