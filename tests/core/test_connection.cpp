// Connection and Domain over real plugins: the fixture plugins for the
// core's own checks, and the `test` plugin for a whole domain lifecycle.
#include <catch2/catch.hpp>

#include "support.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include <virtkit/connection.hpp>
#include <virtkit/context.hpp>
#include <virtkit/error.hpp>

using namespace virtkit;

using virtkit::test::errorFrom;

namespace {

std::string fixtureDir(const std::string &name)
{
    return std::string(VIRTKIT_BUILD_DIR) + "/tests/fixtures/" + name;
}

// Collects events on the bus thread; read after bus().flush().
struct EventLog {
    std::mutex mutex;
    std::vector<Event> events;
    EventBus::Handler handler()
    {
        return [this](const Event &e) {
            const std::lock_guard lock(mutex);
            events.push_back(e);
        };
    }
    std::vector<Event> taken()
    {
        const std::lock_guard lock(mutex);
        return events;
    }
};

std::string uniqueName(const std::string &stem)
{
    static std::atomic<int> counter{0};
    return stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

std::string domainXml(const std::string &name)
{
    return "<domain type='test'><name>" + name +
           "</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>"
           "<os><type arch='x86_64'>hvm</type></os></domain>";
}

std::vector<std::string> names(const std::vector<DomainRef> &refs)
{
    std::vector<std::string> out;
    for (const auto &r : refs)
        out.push_back(r.name);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("an operation whose slot is empty is reported as not supported by the driver", "[connection]")
{
    Context ctx(Config(), {fixtureDir("sparse")});
    const auto conn = Connection::open(ctx, "sparse:///");
    const Error suspend = errorFrom([&] { conn->domainSuspend("00000000-0000-0000-0000-000000000001"); });
    CHECK(suspend.code() == VIRTKIT_ERR_NO_SUPPORT);
    CHECK(std::string(suspend.what()) == "operation 'domain.suspend' is not supported by driver 'sparse'");
    CHECK(std::string(errorFrom([&] { conn->hostname(); }).what()) ==
          "operation 'connect.get_hostname' is not supported by driver 'sparse'");
    CHECK(errorFrom([&] { conn->defineXml(domainXml("x")); }).code() == VIRTKIT_ERR_NO_SUPPORT);
    CHECK(std::string(errorFrom([&] { conn->domain("anything"); }).what()) == "failed to get domain 'anything'");
}

TEST_CASE("domain lists are read by the plugin's element size, so the ident struct can grow in a minor",
          "[connection]")
{
    Context ctx(Config(), {fixtureDir("wide")});
    const auto domains = Connection::open(ctx, "wide:///")->listDomains();
    REQUIRE(domains.size() == 2);
    CHECK(domains[0].name == "first");
    CHECK(domains[1].name == "second");
    CHECK(domains[1].uuid == "00000000-0000-0000-0000-000000000002");
    CHECK(domains[1].id == 2);
}

TEST_CASE("a malformed URI is refused before any plugin is involved", "[connection]")
{
    Context ctx(Config(), {fixtureDir("good")});
    const Error e = errorFrom([&] { Connection::open(ctx, "fixture:/no-slashes"); });
    CHECK(e.code() == VIRTKIT_ERR_INVALID_ARG);
    CHECK(std::string(e.what()).find("fixture:/no-slashes") != std::string::npos);
    CHECK(ctx.registry().entries().at(0).status == PluginStatus::Available);
}

TEST_CASE("an unknown URI scheme names the plugin dirs searched", "[connection]")
{
    Context ctx(Config(), {fixtureDir("good")});
    const Error e = errorFrom([&] { Connection::open(ctx, "nosuch:///system"); });
    CHECK(e.code() == VIRTKIT_ERR_NO_CONNECT);
    CHECK(std::string(e.what()) == "no plugin handles URI scheme 'nosuch' (searched: " + fixtureDir("good") + ")");
}

TEST_CASE("a plugin's failure comes back as an Error with its code and sentence", "[connection]")
{
    Context ctx(Config(), {fixtureDir("good")});
    const Error e = errorFrom([&] { Connection::open(ctx, "fixture:///refuse"); });
    CHECK(e.code() == VIRTKIT_ERR_NO_CONNECT);
    CHECK(std::string(e.what()) == "fixture refuses paths named /refuse");
}

TEST_CASE("events a plugin emits carry the URI of the connection they concern", "[connection]")
{
    Context ctx(Config(), {fixtureDir("good")});
    const auto one = Connection::open(ctx, "fixture:///one");
    const auto two = Connection::open(ctx, "fixture:///two");
    EventLog onOne, everywhere;
    auto subOne = one->subscribe(EventFilter{}, onOne.handler());
    auto subAll = ctx.bus().subscribe(EventFilter{}, everywhere.handler());

    two->domainStart("00000000-0000-0000-0000-000000000002");
    one->domainStart("00000000-0000-0000-0000-000000000001");
    ctx.bus().flush();

    const auto mine = onOne.taken();
    REQUIRE(mine.size() == 1);
    CHECK(mine[0].connection == "fixture:///one");
    CHECK(mine[0].domainUuid == "00000000-0000-0000-0000-000000000001");
    CHECK(mine[0].type == VIRTKIT_EVENT_STARTED);
    const auto all = everywhere.taken();
    REQUIRE(all.size() == 2);
    CHECK(all[0].connection == "fixture:///two");
    CHECK(all[1].connection == "fixture:///one");
}

TEST_CASE("a plugin reads its own config section through the host", "[connection]")
{
    Context ctx(Config::fromString("plugins:\n  fixture:\n    hostname: from-config\n"), {fixtureDir("good")});
    CHECK(Connection::open(ctx, "fixture:///")->hostname() == "from-config");
}

TEST_CASE("a read-only connection reads but refuses changes", "[connection]")
{
    Context ctx(Config(), {fixtureDir("good")});
    const auto conn = Connection::open(ctx, "fixture:///", true);
    CHECK(conn->readOnly());
    CHECK(conn->hypervisorVersion() == 1002003);
    const Error e = errorFrom([&] { conn->domainStart("00000000-0000-0000-0000-000000000001"); });
    CHECK(e.code() == VIRTKIT_ERR_AUTH);
    CHECK(std::string(e.what()) ==
          "operation forbidden: read only access prevents 'domain.start' on connection 'fixture:///'");
}

TEST_CASE("close is idempotent and a closed connection says so", "[connection]")
{
    Context ctx(Config(), {fixtureDir("good")});
    const auto conn = Connection::open(ctx, "fixture:///");
    conn->close();
    conn->close();
    const Error e = errorFrom([&] { conn->listDomains(); });
    CHECK(e.code() == VIRTKIT_ERR_NO_CONNECT);
    CHECK(std::string(e.what()) == "connection 'fixture:///' is closed");
}

TEST_CASE("state and reason names are virsh's", "[connection]")
{
    CHECK(std::string(domainStateName(VIRTKIT_DOMAIN_RUNNING)) == "running");
    CHECK(std::string(domainStateName(VIRTKIT_DOMAIN_BLOCKED)) == "idle");
    CHECK(std::string(domainStateName(VIRTKIT_DOMAIN_SHUTDOWN)) == "in shutdown");
    CHECK(std::string(domainStateName(VIRTKIT_DOMAIN_SHUTOFF)) == "shut off");
    CHECK(std::string(domainStateName(99)) == "no state");
    CHECK(std::string(domainStateReasonName(VIRTKIT_DOMAIN_RUNNING, 1)) == "booted");
    CHECK(std::string(domainStateReasonName(VIRTKIT_DOMAIN_RUNNING, 11)) == "post-copy failed");
    CHECK(std::string(domainStateReasonName(VIRTKIT_DOMAIN_PAUSED, 5)) == "I/O error");
    CHECK(std::string(domainStateReasonName(VIRTKIT_DOMAIN_PAUSED, 13)) == "post-copy failed");
    CHECK(std::string(domainStateReasonName(VIRTKIT_DOMAIN_SHUTOFF, 2)) == "destroyed");
    CHECK(std::string(domainStateReasonName(VIRTKIT_DOMAIN_CRASHED, 1)) == "panicked");
    CHECK(std::string(domainStateReasonName(VIRTKIT_DOMAIN_SHUTOFF, 42)) == "unknown");
    CHECK(std::string(domainStateReasonName(-1, 0)) == "unknown");
}

// ---- against the real `test` plugin ----

TEST_CASE("a domain goes through its lifecycle on the test plugin, with events on the bus", "[connection]")
{
    Context ctx(Config(), {VIRTKIT_PLUGIN_BUILD_DIR});
    const auto conn = Connection::open(ctx, "test:///default");
    CHECK(conn->driverName() == "test");
    const std::string name = uniqueName("vk-lifecycle");
    EventLog log;
    EventFilter filter;
    filter.domain = name;
    auto subscription = conn->subscribe(filter, log.handler());

    Domain dom = conn->domain(conn->defineXml(domainXml(name)));
    CHECK(dom.uuid().size() == 36);  // the core gave it one
    CHECK(dom.id() == -1);
    CHECK(conn->domain(name).uuid() == dom.uuid());

    dom.start();
    CHECK(dom.id() > 0);
    DomainInfo info = dom.info();
    CHECK(std::string(domainStateName(info.state)) == "running");
    CHECK(std::string(domainStateReasonName(info.state, info.reason)) == "booted");
    dom.suspend();
    CHECK(dom.info().state == VIRTKIT_DOMAIN_PAUSED);
    dom.resume();
    dom.destroy();
    CHECK(dom.id() == -1);
    info = dom.info();
    CHECK(std::string(domainStateReasonName(info.state, info.reason)) == "destroyed");
    dom.undefine();
    CHECK(errorFrom([&] { conn->domain(name); }).code() == VIRTKIT_ERR_NO_DOMAIN);

    ctx.bus().flush();
    std::vector<int32_t> types;
    for (const auto &e : log.taken()) {
        CHECK(e.connection == conn->uri());
        CHECK(e.domainUuid == dom.uuid());
        types.push_back(e.type);
    }
    CHECK(types == std::vector<int32_t>{VIRTKIT_EVENT_DEFINED, VIRTKIT_EVENT_STARTED, VIRTKIT_EVENT_SUSPENDED,
                                       VIRTKIT_EVENT_RESUMED, VIRTKIT_EVENT_STOPPED, VIRTKIT_EVENT_UNDEFINED});
}

TEST_CASE("XML is validated before the test plugin sees it, and a bad document changes nothing", "[connection]")
{
    Context ctx(Config(), {VIRTKIT_PLUGIN_BUILD_DIR});
    const auto conn = Connection::open(ctx, "test:///default");
    const auto before = names(conn->listDomains());

    const std::string name = uniqueName("vk-badxml");
    const Error malformed = errorFrom([&] { conn->defineXml("<domain type='test'><name>" + name + "</name>"); });
    CHECK(malformed.code() == VIRTKIT_ERR_XML);
    const Error noName = errorFrom([&] {
        conn->createXml("<domain type='test'><memory>1024</memory><os><type>hvm</type></os></domain>");
    });
    CHECK(noName.code() == VIRTKIT_ERR_XML);

    CHECK(names(conn->listDomains()) == before);
}

TEST_CASE("a domain is found by ID, UUID or name, as virsh resolves them", "[connection]")
{
    Context ctx(Config(), {VIRTKIT_PLUGIN_BUILD_DIR});
    const auto conn = Connection::open(ctx, "test:///default");
    const std::string name = uniqueName("vk-resolve");
    Domain dom = conn->domain(conn->createXml(domainXml(name)));
    REQUIRE(dom.id() > 0);

    CHECK(conn->domain(std::to_string(dom.id())).uuid() == dom.uuid());
    std::string shoutedUuid;
    for (const char c : dom.uuid())
        if (c != '-')
            shoutedUuid += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(conn->domain(shoutedUuid).name() == name);
    CHECK(conn->domain(name).id() == dom.id());
    const Error e = errorFrom([&] { conn->domain(name + "-missing"); });
    CHECK(e.code() == VIRTKIT_ERR_NO_DOMAIN);
    CHECK(std::string(e.what()) == "failed to get domain '" + name + "-missing'");

    dom.destroy();  // transient: gone
    CHECK(dom.id() == -1);
}

TEST_CASE("a read-only connection to the test plugin lists domains but cannot define one", "[connection]")
{
    Context ctx(Config(), {VIRTKIT_PLUGIN_BUILD_DIR});
    const auto conn = Connection::open(ctx, "test:///default", true);
    const auto before = names(conn->listDomains());
    const Error e = errorFrom([&] { conn->defineXml(domainXml(uniqueName("vk-ro"))); });
    CHECK(e.code() == VIRTKIT_ERR_AUTH);
    CHECK(names(conn->listDomains()) == before);
}
