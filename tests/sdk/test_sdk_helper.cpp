// The C++ helper <virtkit/sdk.hpp>, driven through the C table it builds,
// exactly as the host calls a plugin.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <virtkit/error.hpp>
#include <virtkit/sdk.hpp>

namespace {

using virtkit::sdk::Connection;
using virtkit::sdk::DomainIdent;
using virtkit::sdk::Driver;
using virtkit::sdk::Error;
using virtkit::sdk::Host;

const char *const kUuid = "11111111-2222-4333-8444-555555555555";

// The host side, recording what the plugin hands it.
struct FakeHost {
    struct Seen {
        virtkit_conn *conn;
        std::string name, uuid;
        int32_t type;
    };
    std::vector<Seen> events;
    std::map<std::string, std::string> config;
    virtkit_host_services services{};

    FakeHost()
    {
        services.struct_size = sizeof services;
        services.abi_major = VIRTKIT_PLUGIN_ABI_MAJOR;
        services.abi_minor = VIRTKIT_PLUGIN_ABI_MINOR;
        services.ctx = this;
        services.emit_event = [](void *ctx, const virtkit_event *e) -> int32_t {
            static_cast<FakeHost *>(ctx)->events.push_back({e->conn, e->domain_name, e->domain_uuid, e->type});
            return VIRTKIT_OK;
        };
        services.config_get = [](void *ctx, const char *key, char *buf, size_t len) -> int32_t {
            const auto &config = static_cast<FakeHost *>(ctx)->config;
            const auto it = config.find(key);
            if (it == config.end())
                return 0;
            if (it->second.size() + 1 > len)
                return -1;
            std::memcpy(buf, it->second.c_str(), it->second.size() + 1);
            return 1;
        };
    }
};

// A driver's own error type, as a real driver has one: derived from the SDK's
// error (which is virtkit::Error), with extra detail of its own.
class HypervisorFault : public Error {
public:
    HypervisorFault(const std::string &fault, const std::string &message)
        : Error(VIRTKIT_ERR_OPERATION_FAILED, message), fault_(fault)
    {
    }
    const std::string &fault() const { return fault_; }

private:
    std::string fault_;
};

class SampleConnection : public Connection {
public:
    DomainIdent lookupByName(const std::string &name) override { return {name, kUuid, 3}; }
    std::string hostname() override { return host().config("greeting").value_or("no greeting"); }
    void domainStart(const std::string &uuid, uint32_t) override
    {
        if (uuid == "running")
            throw Error(VIRTKIT_ERR_OPERATION_INVALID, "domain is already running");
        if (uuid == "std")
            throw std::runtime_error("disk on fire");
        if (uuid == "int")
            throw 7;
        if (uuid == "own")
            throw HypervisorFault("HostBusy", "the hypervisor refused: host is busy");
        if (uuid == "core")
            throw virtkit::Error(VIRTKIT_ERR_NO_DOMAIN, "no domain with UUID 'core'");
        emitLifecycle({"vm", uuid, 1}, VIRTKIT_EVENT_STARTED, 0);
    }
};

class SampleDriver : public Driver {
public:
    using Driver::Driver;
    std::unique_ptr<SampleConnection> open(const std::string &uri, uint32_t)
    {
        if (uri != "sample:///")
            throw Error(VIRTKIT_ERR_NO_CONNECT, "sample serves only sample:///");
        return std::make_unique<SampleConnection>();
    }
};

class FailingDriver : public Driver {
public:
    explicit FailingDriver(Host host) : Driver(host) { throw Error(VIRTKIT_ERR_CONFIG, "setting 'socket' is missing"); }
    std::unique_ptr<SampleConnection> open(const std::string &, uint32_t) { return nullptr; }
};

class FaultingDriver : public Driver {
public:
    explicit FaultingDriver(Host host) : Driver(host) { throw HypervisorFault("NoHost", "no hypervisor answers"); }
    std::unique_ptr<SampleConnection> open(const std::string &, uint32_t) { return nullptr; }
};

template <class D>
const virtkit_driver_ops *initPlugin(FakeHost &host, int32_t *rc = nullptr, virtkit_error *err = nullptr)
{
    static const virtkit_plugin_descriptor descriptor = virtkit::sdk::detail::Plugin<D>::descriptor("sample", "1.0");
    const virtkit_driver_ops *ops = nullptr;
    virtkit_error ignored{};
    const int32_t result = descriptor.init(&host.services, &ops, err ? err : &ignored);
    if (rc)
        *rc = result;
    return ops;
}

struct OpenConnection {
    const virtkit_driver_ops *ops;
    virtkit_conn *conn = nullptr;
    explicit OpenConnection(const virtkit_driver_ops *table) : ops(table)
    {
        virtkit_error err{};
        REQUIRE(ops->connect_open("sample:///", 0, &conn, &err) == VIRTKIT_OK);
    }
    ~OpenConnection()
    {
        virtkit_error err{};
        ops->connect_close(conn, &err);
    }
};

virtkit_error startError(const OpenConnection &c, const char *uuid)
{
    virtkit_error err{};
    err.struct_size = sizeof err;
    c.ops->domain_start(c.conn, uuid, 0, &err);
    return err;
}

}  // namespace

TEST_CASE("the helper fills exactly the slots the driver overrides", "[sdk]")
{
    FakeHost host;
    const virtkit_driver_ops *ops = initPlugin<SampleDriver>(host);
    REQUIRE(ops != nullptr);
    CHECK(ops->connect_open != nullptr);
    CHECK(ops->connect_close != nullptr);
    CHECK(ops->domain_lookup_by_name != nullptr);
    CHECK(ops->connect_get_hostname != nullptr);
    CHECK(ops->domain_start != nullptr);
    // not overridden: NULL, so the core reports "not supported"
    CHECK(ops->connect_get_capabilities == nullptr);
    CHECK(ops->domain_define_xml == nullptr);
    CHECK(ops->domain_suspend == nullptr);
    CHECK(ops->domain_lookup_by_uuid == nullptr);
    CHECK(ops->domain_xml_to_native == nullptr);
}

TEST_CASE("a driver's exceptions become error codes at the boundary", "[sdk]")
{
    FakeHost host;
    const OpenConnection c(initPlugin<SampleDriver>(host));

    const virtkit_error invalid = startError(c, "running");
    CHECK(invalid.code == VIRTKIT_ERR_OPERATION_INVALID);
    CHECK(std::string(invalid.message) == "domain is already running");

    const virtkit_error standard = startError(c, "std");
    CHECK(standard.code == VIRTKIT_ERR_INTERNAL);
    CHECK_THAT(std::string(standard.message), Catch::Contains("domain_start") && Catch::Contains("disk on fire"));

    const virtkit_error foreign = startError(c, "int");
    CHECK(foreign.code == VIRTKIT_ERR_INTERNAL);
    CHECK_THAT(std::string(foreign.message), Catch::Contains("non-standard exception in domain_start"));
}

TEST_CASE("a driver's own error type keeps its exact code and message across the C ABI", "[sdk]")
{
    FakeHost host;
    const OpenConnection c(initPlugin<SampleDriver>(host));

    const virtkit_error own = startError(c, "own");
    CHECK(own.code == VIRTKIT_ERR_OPERATION_FAILED);
    CHECK(std::string(own.message) == "the hypervisor refused: host is busy");

    // what in-tree drivers throw from code shared with the C++ API
    const virtkit_error core = startError(c, "core");
    CHECK(core.code == VIRTKIT_ERR_NO_DOMAIN);
    CHECK(std::string(core.message) == "no domain with UUID 'core'");

    int32_t rc = 0;
    virtkit_error init{};
    CHECK(initPlugin<FaultingDriver>(host, &rc, &init) == nullptr);
    CHECK(rc == VIRTKIT_ERR_OPERATION_FAILED);
    CHECK(std::string(init.message) == "no hypervisor answers");
}

TEST_CASE("an out struct is never written past the caller's struct_size", "[sdk]")
{
    FakeHost host;
    const OpenConnection c(initPlugin<SampleDriver>(host));
    // An older host whose ident ends before `uuid`: the bytes beyond are not its to give.
    virtkit_domain_ident ident;
    std::memset(&ident, 0x5a, sizeof ident);
    ident.struct_size = offsetof(virtkit_domain_ident, uuid);
    virtkit_error err{};
    REQUIRE(c.ops->domain_lookup_by_name(c.conn, "vm", &ident, &err) == VIRTKIT_OK);
    CHECK(std::string(ident.name) == "vm");
    CHECK(ident.id == 3);
    CHECK(ident.struct_size == offsetof(virtkit_domain_ident, uuid));
    CHECK(static_cast<unsigned char>(ident.uuid[0]) == 0x5a);
}

TEST_CASE("events leave through the host tagged with the connection", "[sdk]")
{
    FakeHost host;
    const OpenConnection c(initPlugin<SampleDriver>(host));
    REQUIRE(startError(c, kUuid).code == 0);
    REQUIRE(host.events.size() == 1);
    CHECK(host.events[0].conn == c.conn);
    CHECK(host.events[0].name == "vm");
    CHECK(host.events[0].uuid == kUuid);
    CHECK(host.events[0].type == VIRTKIT_EVENT_STARTED);
}

TEST_CASE("a driver reads its config section through the host, however long the value", "[sdk]")
{
    FakeHost host;
    host.config["greeting"] = std::string(5000, 'h');
    const OpenConnection c(initPlugin<SampleDriver>(host));
    char *out = nullptr;
    virtkit_error err{};
    REQUIRE(c.ops->connect_get_hostname(c.conn, &out, &err) == VIRTKIT_OK);
    CHECK(std::string(out) == host.config["greeting"]);
    c.ops->free_string(out);
}

TEST_CASE("the helper refuses a host of another ABI major at init", "[sdk]")
{
    FakeHost host;
    host.services.abi_major = VIRTKIT_PLUGIN_ABI_MAJOR + 1;
    int32_t rc = 0;
    virtkit_error err{};
    CHECK(initPlugin<SampleDriver>(host, &rc, &err) == nullptr);
    CHECK(rc == VIRTKIT_ERR_ABI);
    CHECK_THAT(std::string(err.message), Catch::Contains("cannot run on a host with ABI"));
}

TEST_CASE("a driver whose constructor throws fails init with its own message", "[sdk]")
{
    FakeHost host;
    int32_t rc = 0;
    virtkit_error err{};
    CHECK(initPlugin<FailingDriver>(host, &rc, &err) == nullptr);
    CHECK(rc == VIRTKIT_ERR_CONFIG);
    CHECK(std::string(err.message) == "setting 'socket' is missing");
}

TEST_CASE("connect_open passes on the driver's refusal of a URI", "[sdk]")
{
    FakeHost host;
    const virtkit_driver_ops *ops = initPlugin<SampleDriver>(host);
    virtkit_conn *conn = nullptr;
    virtkit_error err{};
    CHECK(ops->connect_open("sample://elsewhere/", 0, &conn, &err) == VIRTKIT_ERR_NO_CONNECT);
    CHECK(conn == nullptr);
    CHECK(std::string(err.message) == "sample serves only sample:///");
}
