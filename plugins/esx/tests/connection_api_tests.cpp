// The built plugin (libvirtkit-esx.so) loaded with dlopen and driven through
// the C ABI, as the core drives it, against vcsim: lifecycle, events, define
// from XML and read back, vpx://, errors.  (Through virtkit::Connection once
// the core opens esx:// host URIs in-process; see docs/esx.md.)
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <dlfcn.h>
#include <functional>
#include <mutex>
#include <thread>

#include <virtkit/plugin.h>

#include "vcsim_process.hpp"

using namespace virtkit::esx::testing;

namespace {

struct Event {
    std::string name;
    int32_t type;
};
std::mutex eventsMutex;
std::vector<Event> recorded;

int32_t recordEvent(void *, const virtkit_event *event)
{
    const std::lock_guard lock(eventsMutex);
    recorded.push_back({event->domain_name ? event->domain_name : "", event->type});
    return 0;
}

// Waits until an event of `type` for `name` arrived.
bool waitForEvent(const std::string &name, int32_t type)
{
    for (int i = 0; i < 100; ++i) {
        {
            const std::lock_guard lock(eventsMutex);
            for (const auto &e : recorded)
                if (e.name == name && e.type == type)
                    return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

const virtkit_driver_ops &ops()
{
    static const virtkit_driver_ops *table = [] {
        void *handle = ::dlopen(VIRTKIT_ESX_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
        REQUIRE(handle);
        const auto entry = reinterpret_cast<virtkit_plugin_entry_fn>(::dlsym(handle, VIRTKIT_PLUGIN_ENTRY_SYMBOL));
        REQUIRE(entry);
        static virtkit_host_services host{};
        host.struct_size = sizeof host;
        host.abi_major = VIRTKIT_PLUGIN_ABI_MAJOR;
        host.abi_minor = VIRTKIT_PLUGIN_ABI_MINOR;
        host.emit_event = recordEvent;
        const virtkit_driver_ops *result = nullptr;
        virtkit_error err{};
        err.struct_size = sizeof err;
        REQUIRE(entry()->init(&host, &result, &err) == VIRTKIT_OK);
        return result;
    }();
    return *table;
}

// An error from the plugin, as the core would rethrow it.
struct PluginError : std::runtime_error {
    PluginError(int32_t c, const std::string &m) : std::runtime_error(m), code(c) {}
    int32_t code;
};

void check(const std::function<int32_t(virtkit_error *)> &call)
{
    virtkit_error err{};
    err.struct_size = sizeof err;
    if (const int32_t code = call(&err); code != VIRTKIT_OK)
        throw PluginError(code, err.message);
}

struct Ref {
    std::string name;
    std::string uuid;
    int id;
};

class Conn {
public:
    explicit Conn(const std::string &uri)
    {
        check([&](virtkit_error *e) { return ops().connect_open(uri.c_str(), 0, &conn_, e); });
    }
    ~Conn()
    {
        virtkit_error err{};
        err.struct_size = sizeof err;
        ops().connect_close(conn_, &err);
    }
    std::vector<Ref> list(uint32_t flags = 0)
    {
        virtkit_domain_ident *items = nullptr;
        size_t count = 0;
        check([&](virtkit_error *e) { return ops().domain_list(conn_, flags, &items, &count, e); });
        std::vector<Ref> result;
        for (size_t i = 0; i < count; ++i)
            result.push_back({items[i].name, items[i].uuid, items[i].id});
        ops().free_domain_list(items, count);
        return result;
    }
    Ref byName(const std::string &name)
    {
        virtkit_domain_ident out{};
        out.struct_size = sizeof out;
        check([&](virtkit_error *e) { return ops().domain_lookup_by_name(conn_, name.c_str(), &out, e); });
        return {out.name, out.uuid, out.id};
    }
    Ref byId(int32_t id)
    {
        virtkit_domain_ident out{};
        out.struct_size = sizeof out;
        check([&](virtkit_error *e) { return ops().domain_lookup_by_id(conn_, id, &out, e); });
        return {out.name, out.uuid, out.id};
    }
    Ref define(const std::string &xml)
    {
        virtkit_domain_ident out{};
        out.struct_size = sizeof out;
        check([&](virtkit_error *e) { return ops().domain_define_xml(conn_, xml.c_str(), 0, &out, e); });
        return {out.name, out.uuid, out.id};
    }
    void run(int32_t (*op)(virtkit_conn *, const char *, uint32_t, virtkit_error *), const std::string &uuid)
    {
        check([&](virtkit_error *e) { return op(conn_, uuid.c_str(), 0, e); });
    }
    void run(int32_t (*op)(virtkit_conn *, const char *, virtkit_error *), const std::string &uuid)
    {
        check([&](virtkit_error *e) { return op(conn_, uuid.c_str(), e); });
    }
    virtkit_domain_info info(const std::string &uuid)
    {
        virtkit_domain_info out{};
        out.struct_size = sizeof out;
        check([&](virtkit_error *e) { return ops().domain_get_info(conn_, uuid.c_str(), &out, e); });
        return out;
    }
    std::string xml(const std::string &uuid)
    {
        char *text = nullptr;
        check([&](virtkit_error *e) { return ops().domain_get_xml(conn_, uuid.c_str(), 0, &text, e); });
        std::string result = text;
        ops().free_string(text);
        return result;
    }
    std::string toNative(const std::string &format, const std::string &xml)
    {
        char *text = nullptr;
        check([&](virtkit_error *e) { return ops().domain_xml_to_native(conn_, format.c_str(), xml.c_str(), &text, e); });
        std::string result = text;
        ops().free_string(text);
        return result;
    }
    std::string hostname()
    {
        char *text = nullptr;
        check([&](virtkit_error *e) { return ops().connect_get_hostname(conn_, &text, e); });
        std::string result = text;
        ops().free_string(text);
        return result;
    }

private:
    virtkit_conn *conn_ = nullptr;
};

int errorCode(const std::function<void()> &call)
{
    try {
        call();
    } catch (const PluginError &e) {
        return e.code;
    }
    return VIRTKIT_OK;
}

std::vector<std::string> names(const std::vector<Ref> &refs)
{
    std::vector<std::string> result;
    for (const auto &r : refs)
        result.push_back(r.name);
    std::sort(result.begin(), result.end());
    return result;
}

}  // namespace

TEST_CASE("a VM's lifecycle through the plugin, with its events", "[esx][vcsim][api]")
{
    ESX_REQUIRE_VCSIM();
    const Vcsim sim;
    const AuthFile auth("127.0.0.1", "root", "secret");
    Conn conn(sim.uri());

    CHECK(names(conn.list()) == std::vector<std::string>{"ha-host_VM0", "ha-host_VM1"});
    CHECK(conn.list(VIRTKIT_LIST_ACTIVE).empty());
    const std::string uuid = conn.byName("ha-host_VM0").uuid;
    CHECK(uuid.size() == 36);
    CHECK(conn.info(uuid).state == VIRTKIT_DOMAIN_SHUTOFF);

    conn.run(ops().domain_start, uuid);
    CHECK(conn.info(uuid).state == VIRTKIT_DOMAIN_RUNNING);
    CHECK(names(conn.list(VIRTKIT_LIST_ACTIVE)) == std::vector<std::string>{"ha-host_VM0"});
    CHECK(names(conn.list(VIRTKIT_LIST_INACTIVE)) == std::vector<std::string>{"ha-host_VM1"});
    CHECK(waitForEvent("ha-host_VM0", VIRTKIT_EVENT_STARTED));
    const int id = conn.byName("ha-host_VM0").id;
    CHECK(id >= 0);
    CHECK(conn.byId(id).uuid == uuid);

    conn.run(ops().domain_suspend, uuid);
    CHECK(conn.info(uuid).state == VIRTKIT_DOMAIN_PAUSED);
    CHECK(waitForEvent("ha-host_VM0", VIRTKIT_EVENT_SUSPENDED));
    conn.run(ops().domain_resume, uuid);
    CHECK(conn.info(uuid).state == VIRTKIT_DOMAIN_RUNNING);
    CHECK(waitForEvent("ha-host_VM0", VIRTKIT_EVENT_RESUMED));

    // vcsim does not implement RebootGuest: the fault must say so plainly
    try {
        conn.run(ops().domain_reboot, uuid);
    } catch (const PluginError &e) {
        CHECK(e.code == VIRTKIT_ERR_NO_SUPPORT);
        CHECK_THAT(e.what(), Catch::Contains("RebootGuest"));
    }
    CHECK(conn.info(uuid).state == VIRTKIT_DOMAIN_RUNNING);
    conn.run(ops().domain_shutdown, uuid);
    CHECK(conn.info(uuid).state == VIRTKIT_DOMAIN_SHUTOFF);
    CHECK(waitForEvent("ha-host_VM0", VIRTKIT_EVENT_STOPPED));

    conn.run(ops().domain_start, uuid);
    conn.run(ops().domain_destroy, uuid);
    CHECK(conn.info(uuid).state == VIRTKIT_DOMAIN_SHUTOFF);
    CHECK(conn.byName("ha-host_VM0").id == -1);

    // resume of a powered-off VM must not boot it
    CHECK(errorCode([&] { conn.run(ops().domain_resume, uuid); }) == VIRTKIT_ERR_OPERATION_INVALID);
    CHECK(conn.info(uuid).state == VIRTKIT_DOMAIN_SHUTOFF);
}

TEST_CASE("define from domain XML, read it back, undefine", "[esx][vcsim][api]")
{
    ESX_REQUIRE_VCSIM();
    const Vcsim sim;
    const AuthFile auth("127.0.0.1", "root", "secret");
    Conn conn(sim.uri());
    const std::string uuid = "6f1c4d2a-93b1-4e55-a1f0-1c2d3e4f5a6b";
    const std::string xml = "<domain type='vmware'><name>web-01</name><uuid>" + uuid +
                            "</uuid><description>front end</description><memory unit='MiB'>1024</memory>"
                            "<vcpu>2</vcpu><os><type arch='x86_64'>hvm</type></os><devices>"
                            "<interface type='bridge'><mac address='00:50:56:01:02:03'/>"
                            "<source bridge='VM Network'/><model type='vmxnet3'/></interface></devices></domain>";
    const Ref ref = conn.define(xml);
    CHECK(ref.name == "web-01");
    CHECK(ref.uuid == uuid);
    CHECK(waitForEvent("web-01", VIRTKIT_EVENT_DEFINED));

    const std::string back = conn.xml(uuid);
    CHECK_THAT(back, Catch::Contains("<name>web-01</name>"));
    CHECK_THAT(back, Catch::Contains("<uuid>" + uuid + "</uuid>"));
    CHECK_THAT(back, Catch::Contains("<description>front end</description>"));
    CHECK_THAT(back, Catch::Contains("<memory unit='KiB'>1048576</memory>"));
    CHECK_THAT(back, Catch::Contains("<vcpu placement='static'>2</vcpu>"));
    CHECK_THAT(back, Catch::Contains("<source bridge='VM Network'/>"));
    CHECK_THAT(back, Catch::Contains("<mac address='00:50:56:01:02:03'/>"));
    CHECK_THAT(back, Catch::Contains("<model type='vmxnet3'/>"));
    const virtkit_domain_info info = conn.info(uuid);
    CHECK(info.memory_kib == 1048576);
    CHECK(info.nr_vcpus == 2);

    // the same name again is refused and changes nothing
    CHECK(errorCode([&] { conn.define(xml); }) == VIRTKIT_ERR_DOMAIN_EXISTS);
    // what cannot be created is refused before anything is made
    const auto before = conn.list().size();
    CHECK(errorCode([&] {
              conn.define("<domain type='vmware'><name>with-disk</name><memory unit='MiB'>512</memory>"
                          "<devices><disk type='file' device='disk'><source file='[LocalDS_0] x/x.vmdk'/>"
                          "<target dev='sda'/></disk></devices></domain>");
          }) == VIRTKIT_ERR_NO_SUPPORT);
    CHECK(errorCode([&] {
              conn.define("<domain type='vmware'><name>odd-memory</name><memory unit='KiB'>1000</memory></domain>");
          }) == VIRTKIT_ERR_XML);
    CHECK(conn.list().size() == before);

    conn.run(ops().domain_undefine, uuid);
    CHECK(waitForEvent("web-01", VIRTKIT_EVENT_UNDEFINED));
    CHECK(errorCode([&] { conn.byName("web-01"); }) == VIRTKIT_ERR_NO_DOMAIN);
}

TEST_CASE("unknown VMs and failing tasks are clear errors", "[esx][vcsim][api]")
{
    ESX_REQUIRE_VCSIM();
    const Vcsim sim;
    const AuthFile auth("127.0.0.1", "root", "secret");
    Conn conn(sim.uri());
    CHECK(errorCode([&] { conn.byName("no-such-vm"); }) == VIRTKIT_ERR_NO_DOMAIN);
    CHECK(errorCode([&] { conn.run(ops().domain_start, "00000000-0000-0000-0000-000000000001"); }) ==
          VIRTKIT_ERR_NO_DOMAIN);
    CHECK(errorCode([&] { conn.byId(424242); }) == VIRTKIT_ERR_NO_DOMAIN);
    // starting a running VM: PowerOnVM_Task itself fails, and says so
    const std::string uuid = conn.byName("ha-host_VM1").uuid;
    conn.run(ops().domain_start, uuid);
    try {
        conn.run(ops().domain_start, uuid);
        FAIL("a second start succeeded");
    } catch (const PluginError &e) {
        CHECK(e.code == VIRTKIT_ERR_OPERATION_INVALID);
        CHECK_THAT(e.what(), Catch::Contains("PowerOnVM_Task failed") && Catch::Contains("InvalidPowerState"));
    }
    // undefine of a running VM is refused by the host and the VM stays
    CHECK(errorCode([&] { conn.run(ops().domain_undefine, uuid); }) == VIRTKIT_ERR_OPERATION_INVALID);
    CHECK(conn.info(uuid).state == VIRTKIT_DOMAIN_RUNNING);
    CHECK(errorCode([&] { conn.toNative("qemu-argv", "<domain/>"); }) == VIRTKIT_ERR_NO_SUPPORT);
}

TEST_CASE("domxml-to-native vmware-vmx goes through the VMX library", "[esx][vcsim][api]")
{
    ESX_REQUIRE_VCSIM();
    const Vcsim sim;
    const AuthFile auth("127.0.0.1", "root", "secret");
    Conn conn(sim.uri());
    const std::string vmx = conn.toNative("vmware-vmx", "<domain type='vmware'><name>conv</name>"
                                                        "<memory unit='KiB'>262144</memory><vcpu>1</vcpu>"
                                                        "<os><type>hvm</type></os></domain>");
    CHECK_THAT(vmx, Catch::Contains("displayName = \"conv\""));
    CHECK_THAT(vmx, Catch::Contains("memsize = \"256\""));
    CHECK_THAT(vmx, Catch::Contains("virtualHW.version = \"13\""));  // vcsim says API 6.5
}

TEST_CASE("vpx:// lists one host's VMs of a vCenter and runs them", "[esx][vcsim][api][vpx]")
{
    ESX_REQUIRE_VCSIM();
    const Vcsim vc(withModel("vpx", 3));
    const AuthFile auth("127.0.0.1", "root", "secret");
    Conn conn(vc.uri());
    CHECK(conn.hostname() == "DC0_H0");
    const auto all = conn.list();
    REQUIRE_FALSE(all.empty());
    const std::string uuid = all.front().uuid;
    conn.run(ops().domain_start, uuid);
    CHECK(conn.info(uuid).state == VIRTKIT_DOMAIN_RUNNING);
    conn.run(ops().domain_destroy, uuid);
    CHECK(conn.info(uuid).state == VIRTKIT_DOMAIN_SHUTOFF);
    // another host of the same vCenter sees other VMs
    std::size_t clustered = 0;
    for (const char *host : {"DC0_C0_H0", "DC0_C0_H1", "DC0_C0_H2"}) {
        Conn other("vpx://127.0.0.1:" + std::to_string(vc.port()) + "/DC0/DC0_C0/" + host + "?no_verify=1");
        const auto theirs = other.list();
        clustered += theirs.size();
        for (const auto &t : theirs)
            for (const auto &mine : all)
                CHECK(t.uuid != mine.uuid);
    }
    CHECK(clustered == 3);  // the cluster's 3 VMs, each on exactly one of its hosts
}
