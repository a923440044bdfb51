// The built plugin, loaded with dlopen and driven through the C ABI only,
// against real QEMU for everything that starts a guest.
#include <catch2/catch.hpp>

#include <csignal>
#include <dirent.h>
#include <dlfcn.h>
#include <fstream>
#include <mutex>
#include <thread>

#include <virtkit/plugin.h>

#include "temp_dir.hpp"

using namespace std::chrono_literals;
using virtkit::qemu::testing::TempDir;

namespace {

struct Event {
    std::string name;
    int32_t type;
    int32_t detail;
};

std::mutex events_mutex;
std::vector<Event> recorded;

int32_t record_event(void *, const virtkit_event *event)
{
    const std::lock_guard lock(events_mutex);
    recorded.push_back({event->domain_name ? event->domain_name : "", event->type, event->detail});
    return 0;
}

std::vector<Event> take_events()
{
    const std::lock_guard lock(events_mutex);
    return std::exchange(recorded, {});
}

const virtkit_driver_ops &ops()
{
    static const virtkit_driver_ops *table = [] {
        void *handle = ::dlopen(VIRTKIT_QEMU_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
        REQUIRE(handle);
        const auto entry = reinterpret_cast<virtkit_plugin_entry_fn>(::dlsym(handle, VIRTKIT_PLUGIN_ENTRY_SYMBOL));
        REQUIRE(entry);
        static virtkit_host_services host{};
        host.struct_size = sizeof host;
        host.abi_major = VIRTKIT_PLUGIN_ABI_MAJOR;
        host.abi_minor = VIRTKIT_PLUGIN_ABI_MINOR;
        host.emit_event = record_event;
        const virtkit_driver_ops *result = nullptr;
        virtkit_error err{};
        err.struct_size = sizeof err;
        REQUIRE(entry()->init(&host, &result, &err) == VIRTKIT_OK);
        return result;
    }();
    return *table;
}

struct Outcome {
    int32_t code;
    std::string message;
};

template <typename Call>
Outcome attempt(Call &&call)
{
    virtkit_error err{};
    err.struct_size = sizeof err;
    const int32_t code = call(&err);
    return {code, code == VIRTKIT_OK ? "" : err.message};
}

class Conn {
public:
    explicit Conn(const std::string &root)
    {
        const Outcome opened = attempt([&](virtkit_error *e) {
            return ops().connect_open(("qemu:///embed?root=" + root).c_str(), 0, &conn_, e);
        });
        REQUIRE(opened.code == VIRTKIT_OK);
    }
    ~Conn() { close(); }
    void close()
    {
        if (conn_)
            attempt([&](virtkit_error *e) { return ops().connect_close(std::exchange(conn_, nullptr), e); });
    }
    Outcome define(const std::string &xml, virtkit_domain_ident *ident = nullptr)
    {
        virtkit_domain_ident scratch{};
        scratch.struct_size = sizeof scratch;
        return attempt([&](virtkit_error *e) { return ops().domain_define_xml(conn_, xml.c_str(), 0, ident ? ident : &scratch, e); });
    }
    Outcome run(int32_t (*const op)(virtkit_conn *, const char *, uint32_t, virtkit_error *), const std::string &uuid)
    {
        return attempt([&](virtkit_error *e) { return op(conn_, uuid.c_str(), 0, e); });
    }
    Outcome run(int32_t (*const op)(virtkit_conn *, const char *, virtkit_error *), const std::string &uuid)
    {
        return attempt([&](virtkit_error *e) { return op(conn_, uuid.c_str(), e); });
    }
    virtkit_domain_info info(const std::string &uuid)
    {
        virtkit_domain_info out{};
        out.struct_size = sizeof out;
        REQUIRE(attempt([&](virtkit_error *e) { return ops().domain_get_info(conn_, uuid.c_str(), &out, e); }).code ==
                VIRTKIT_OK);
        return out;
    }
    std::vector<std::string> names(uint32_t flags)
    {
        virtkit_domain_ident *list = nullptr;
        size_t count = 0;
        REQUIRE(attempt([&](virtkit_error *e) { return ops().domain_list(conn_, flags, &list, &count, e); }).code ==
                VIRTKIT_OK);
        std::vector<std::string> result;
        for (size_t i = 0; i < count; ++i)
            result.emplace_back(list[i].name);
        ops().free_domain_list(list, count);
        return result;
    }

private:
    virtkit_conn *conn_ = nullptr;
};

// Unique per call: tests run in parallel processes and find their QEMU by UUID.
std::string fresh_uuid()
{
    unsigned char bytes[16];
    std::ifstream("/dev/urandom", std::ios::binary).read(reinterpret_cast<char *>(bytes), sizeof bytes);
    char text[37];
    std::snprintf(text, sizeof text, "%02x%02x%02x%02x-%02x%02x-4%x%02x-8%x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                  bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6] & 15, bytes[7], bytes[8] & 15, bytes[9],
                  bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
    return text;
}

std::string guest_xml(const std::string &name, const std::string &uuid, const std::string &devices = "",
                      const std::string &machine = "pc")
{
    return "<domain type='qemu'><name>" + name + "</name><uuid>" + uuid + "</uuid>"
           "<memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='" + machine +
           "'>hvm</type></os><devices>" + devices + "<memballoon model='none'/></devices></domain>";
}

// The pid of the QEMU running guest `uuid`, found by its -uuid argument.
pid_t qemu_pid_of(const std::string &uuid)
{
    DIR *proc = ::opendir("/proc");
    pid_t found = -1;
    while (const dirent *entry = proc ? ::readdir(proc) : nullptr) {
        std::ifstream in(std::string("/proc/") + entry->d_name + "/cmdline");
        const std::string cmdline((std::istreambuf_iterator<char>(in)), {});
        if (cmdline.find("qemu-system") != std::string::npos &&
            cmdline.find(std::string("-uuid") + '\0' + uuid) != std::string::npos)
            found = static_cast<pid_t>(std::atoi(entry->d_name));
    }
    if (proc)
        ::closedir(proc);
    return found;
}

bool gone(pid_t pid)
{
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("State:", 0) == 0)
            return line.find('Z') != std::string::npos;  // a zombie counts as dead
    return true;
}

}  // namespace

TEST_CASE("qemu URIs other than system, session and embed?root= are refused", "[qemu][plugin]")
{
    for (const char *uri : {"qemu:///bogus", "qemu:///embed", "qemu:///embed?root=relative", "qemu:///system?x=1"}) {
        virtkit_conn *conn = nullptr;
        const Outcome outcome = attempt([&](virtkit_error *e) { return ops().connect_open(uri, 0, &conn, e); });
        CHECK(outcome.code == VIRTKIT_ERR_INVALID_ARG);
        CHECK_THAT(outcome.message, Catch::Contains(uri));
    }
}

TEST_CASE("definitions persist per root: two embed roots are two hosts", "[qemu][plugin]")
{
    const TempDir a, b;
    const std::string uuid1 = fresh_uuid();
    {
        Conn host_a(a.path().string());
        REQUIRE(host_a.define(guest_xml("alpha", uuid1)).code == VIRTKIT_OK);
        CHECK(host_a.names(VIRTKIT_LIST_INACTIVE) == std::vector<std::string>{"alpha"});
        CHECK(host_a.define(guest_xml("alpha", fresh_uuid())).code == VIRTKIT_ERR_DOMAIN_EXISTS);
    }
    Conn host_b(b.path().string());
    CHECK(host_b.names(0).empty());
    Conn reopened(a.path().string());
    CHECK(reopened.names(0) == std::vector<std::string>{"alpha"});
    CHECK(reopened.run(ops().domain_undefine, uuid1).code == VIRTKIT_OK);
    CHECK(Conn(a.path().string()).names(0).empty());
}

TEST_CASE("XML the driver cannot honour is refused at define and nothing is stored", "[qemu][plugin]")
{
    const TempDir root;
    const std::string uuid1 = fresh_uuid();
    Conn conn(root.path().string());
    const Outcome hostdev = conn.define(guest_xml("h", uuid1, "<hostdev mode='subsystem' type='pci'/>"));
    CHECK(hostdev.code == VIRTKIT_ERR_NO_SUPPORT);
    CHECK_THAT(hostdev.message, Catch::Contains("hostdev"));
    CHECK(conn.define("<domain type='qemu'><name>x</name>").code == VIRTKIT_ERR_XML);
    CHECK(conn.names(0).empty());
}

TEST_CASE("a guest starts under real QEMU, pauses, resumes and is destroyed, with events", "[qemu][plugin][qemu-real]")
{
    const TempDir root;
    const std::string uuid1 = fresh_uuid();
    Conn conn(root.path().string());
    REQUIRE(conn.define(guest_xml("life", uuid1)).code == VIRTKIT_OK);
    take_events();

    REQUIRE(conn.run(ops().domain_start, uuid1).message == "");
    CHECK(conn.info(uuid1).state == VIRTKIT_DOMAIN_RUNNING);
    CHECK(conn.info(uuid1).reason == 1);  // booted
    CHECK(conn.names(VIRTKIT_LIST_ACTIVE) == std::vector<std::string>{"life"});
    const pid_t pid = qemu_pid_of(uuid1);
    CHECK(pid > 0);
    CHECK(conn.run(ops().domain_start, uuid1).code == VIRTKIT_ERR_OPERATION_INVALID);

    REQUIRE(conn.run(ops().domain_suspend, uuid1).code == VIRTKIT_OK);
    CHECK(conn.info(uuid1).state == VIRTKIT_DOMAIN_PAUSED);
    REQUIRE(conn.run(ops().domain_resume, uuid1).code == VIRTKIT_OK);
    CHECK(conn.info(uuid1).state == VIRTKIT_DOMAIN_RUNNING);

    REQUIRE(conn.run(ops().domain_destroy, uuid1).code == VIRTKIT_OK);
    CHECK(conn.info(uuid1).state == VIRTKIT_DOMAIN_SHUTOFF);
    CHECK(conn.info(uuid1).reason == 2);  // destroyed
    CHECK(gone(pid));
    CHECK(conn.names(VIRTKIT_LIST_INACTIVE) == std::vector<std::string>{"life"});

    std::vector<int32_t> types;
    for (const Event &e : take_events())
        types.push_back(e.type);
    CHECK(types == std::vector<int32_t>{VIRTKIT_EVENT_STARTED, VIRTKIT_EVENT_SUSPENDED, VIRTKIT_EVENT_RESUMED,
                                        VIRTKIT_EVENT_STOPPED});
}

TEST_CASE("a QEMU killed from outside is reported shut off as crashed", "[qemu][plugin][qemu-real]")
{
    const TempDir root;
    const std::string uuid1 = fresh_uuid();
    Conn conn(root.path().string());
    REQUIRE(conn.define(guest_xml("victim", uuid1)).code == VIRTKIT_OK);
    REQUIRE(conn.run(ops().domain_start, uuid1).code == VIRTKIT_OK);
    const pid_t pid = qemu_pid_of(uuid1);
    REQUIRE(pid > 0);
    ::kill(pid, SIGKILL);
    for (int i = 0; i < 500 && conn.info(uuid1).state != VIRTKIT_DOMAIN_SHUTOFF; ++i)
        std::this_thread::sleep_for(10ms);
    CHECK(conn.info(uuid1).state == VIRTKIT_DOMAIN_SHUTOFF);
    CHECK(conn.info(uuid1).reason == 3);  // crashed
    CHECK(conn.run(ops().domain_start, uuid1).code == VIRTKIT_OK);  // and it can start again
    CHECK(conn.run(ops().domain_destroy, uuid1).code == VIRTKIT_OK);
}

TEST_CASE("a guest that cannot start fails clearly and leaves nothing running", "[qemu][plugin][qemu-real]")
{
    const TempDir root;
    const std::string uuid1 = fresh_uuid();
    Conn conn(root.path().string());
    const std::string missing_disk = "<disk type='file'><source file='" + root.file("missing.img") +
                                     "'/><target dev='vda'/></disk>";
    REQUIRE(conn.define(guest_xml("nodisk", uuid1, missing_disk)).code == VIRTKIT_OK);
    const Outcome no_disk = conn.run(ops().domain_start, uuid1);
    CHECK(no_disk.code == VIRTKIT_ERR_INVALID_ARG);
    CHECK_THAT(no_disk.message, Catch::Contains("missing.img"));

    const std::string other = fresh_uuid();
    REQUIRE(conn.define(guest_xml("oldmachine", other, "", "pc-i440fx-0.1")).code == VIRTKIT_OK);
    const Outcome no_machine = conn.run(ops().domain_start, other);
    CHECK(no_machine.code == VIRTKIT_ERR_NO_SUPPORT);
    CHECK_THAT(no_machine.message, Catch::Contains("pc-i440fx-0.1"));

    CHECK(conn.names(VIRTKIT_LIST_ACTIVE).empty());
    CHECK(qemu_pid_of(uuid1) < 0);
    CHECK(qemu_pid_of(other) < 0);
}

TEST_CASE("closing the connection leaves no QEMU behind", "[qemu][plugin][qemu-real]")
{
    const TempDir root;
    const std::string uuid1 = fresh_uuid();
    pid_t pid = -1;
    {
        Conn conn(root.path().string());
        REQUIRE(conn.define(guest_xml("closing", uuid1)).code == VIRTKIT_OK);
        REQUIRE(conn.run(ops().domain_start, uuid1).code == VIRTKIT_OK);
        pid = qemu_pid_of(uuid1);
        REQUIRE(pid > 0);
    }
    CHECK(gone(pid));
}
