// The C++ API through virtkitd behaves as the in-process one: same results,
// same error codes and messages, shared state between clients.
#include <catch2/catch.hpp>

#include <functional>
#include <thread>

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

TEST_CASE("the --timeout option ends an idle daemon, but not while a client is connected", "[daemon]")
{
    TempDir root;
    Daemon daemon(root.str(), {"--timeout", "2"});
    {
        virtkit::test::RawClient held(daemon.socket());  // a connected client keeps it alive
        std::this_thread::sleep_for(std::chrono::milliseconds(3500));
        CHECK(daemon.running());
    }
    CHECK(daemon.waitLog("no clients for 2 s", std::chrono::seconds(5)));
    for (int i = 0; i < 50 && daemon.running(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK_FALSE(daemon.running());
    CHECK_FALSE(std::filesystem::exists(daemon.socket()));
}

TEST_CASE("ABI 1.1 calls answer through the daemon exactly as in-process", "[daemon][abi11]")
{
    TempDir root;
    Daemon daemon(root.str());
    auto remoteConn = Connection::open(remoteContext(), daemon.testUri());
    auto localConn = Connection::open(remoteContext(), "test:///default");
    const std::string ru = remoteConn->lookupByName("test").uuid, lu = localConn->lookupByName("test").uuid;
    // Each pair: the same call on both; results or errors (code and message) must match.
    const auto same = [&](const char *what, const std::function<std::string(Connection &, const std::string &)> &call) {
        std::string r, l;
        try {
            r = "ok:" + call(*remoteConn, ru);
        } catch (const Error &e) {
            r = std::to_string(e.code()) + ":" + e.what();
        }
        try {
            l = "ok:" + call(*localConn, lu);
        } catch (const Error &e) {
            l = std::to_string(e.code()) + ":" + e.what();
        }
        INFO(what);
        CHECK(r == l);
    };
    same("monitor", [](Connection &c, const std::string &u) { return c.monitorCommand(u, "info status", 0); });
    same("domcaps", [](Connection &c, const std::string &) { return c.domainCapabilities("", "", "", ""); });
    same("job", [](Connection &c, const std::string &u) { return c.jobStats(u, 0); });
    same("abort", [](Connection &c, const std::string &u) { c.abortJob(u, 0); return std::string(); });
    same("begin", [](Connection &c, const std::string &u) { return c.migrateBegin(u, "{}", 0).xml; });
    same("prepare", [](Connection &c, const std::string &) { return c.migratePrepare("{}", "", 0).uri; });
    same("perform", [](Connection &c, const std::string &u) { return c.migratePerform(u, "{}", "", 0).cookie; });
    same("finish", [](Connection &c, const std::string &) { return c.migrateFinish("{}", "", 0, true).domain.name; });
    same("confirm", [](Connection &c, const std::string &u) { c.migrateConfirm(u, "{}", "", 0, true); return std::string(); });
    same("postcopy", [](Connection &c, const std::string &u) { c.migrateStartPostcopy(u, 0); return std::string(); });
    same("setspeed", [](Connection &c, const std::string &u) { c.migrateSetMaxSpeed(u, 100, 0); return std::string(); });
    same("getspeed", [](Connection &c, const std::string &u) { return std::to_string(c.migrateGetMaxSpeed(u, 0)); });
    same("shutdown flags", [](Connection &c, const std::string &u) { c.domainShutdown(u, 1u << 30); return std::string(); });
}
