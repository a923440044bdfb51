#include "plugin_fixture.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <mutex>

#include <catch2/catch.hpp>

namespace testplugin {

namespace {

std::mutex g_eventsMutex;
std::vector<RecordedEvent> g_events;
void (*g_emitHook)(const virtkit_event &) = nullptr;

int32_t recordEvent(void *, const virtkit_event *event)
{
    if (auto *hook = g_emitHook)
        hook(*event);
    const std::lock_guard lock(g_eventsMutex);
    g_events.push_back(RecordedEvent{event->conn, event->domain_name ? event->domain_name : "",
                                     event->domain_uuid ? event->domain_uuid : "", event->type, event->detail});
    return 0;
}

void ignoreLog(void *, int32_t, const char *) {}

int32_t noConfig(void *, const char *, char *, size_t)
{
    return 0;
}

const virtkit_driver_ops &initialisedOps()
{
    static const virtkit_host_services host = [] {
        virtkit_host_services services{};
        services.struct_size = sizeof services;
        services.abi_major = VIRTKIT_PLUGIN_ABI_MAJOR;
        services.abi_minor = VIRTKIT_PLUGIN_ABI_MINOR;
        services.log = ignoreLog;
        services.emit_event = recordEvent;
        services.config_get = noConfig;
        return services;
    }();
    static const virtkit_driver_ops *table = [] {
        const virtkit_driver_ops *out = nullptr;
        virtkit_error err{};
        err.struct_size = sizeof err;
        const int32_t rc = descriptor().init(&host, &out, &err);
        if (rc != VIRTKIT_OK || !out)
            FAIL("init failed: " << err.message);
        return out;
    }();
    return *table;
}

}  // namespace

void *pluginHandle()
{
    static void *handle = [] {
        void *h = dlopen(VIRTKIT_TEST_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
        if (!h)
            FAIL("cannot dlopen " << VIRTKIT_TEST_PLUGIN_PATH << ": " << dlerror());
        return h;
    }();
    return handle;
}

const virtkit_plugin_descriptor &descriptor()
{
    static const virtkit_plugin_descriptor *desc = [] {
        void *entry = dlsym(pluginHandle(), VIRTKIT_PLUGIN_ENTRY_SYMBOL);
        if (!entry)
            FAIL("the plugin has no " << VIRTKIT_PLUGIN_ENTRY_SYMBOL);
        return reinterpret_cast<virtkit_plugin_entry_fn>(entry)();
    }();
    return *desc;
}

const virtkit_driver_ops &ops()
{
    return initialisedOps();
}

std::vector<RecordedEvent> takeEvents()
{
    const std::lock_guard lock(g_eventsMutex);
    return std::exchange(g_events, {});
}

void setEmitHook(void (*hook)(const virtkit_event &))
{
    g_emitHook = hook;
}

std::string domainXml(const std::string &name, const std::string &uuid, const std::string &extra)
{
    return "<domain type='test'>\n  <name>" + name + "</name>\n  <uuid>" + uuid +
           "</uuid>\n  <memory unit='MiB'>512</memory>\n  <vcpu>1</vcpu>\n  <os>\n    <type>hvm</type>\n  </os>\n" +
           extra + "</domain>";
}

Connection::Connection(const std::string &uri)
{
    const Outcome opened = attempt([&](virtkit_error *err) { return ops().connect_open(uri.c_str(), 0, &conn_, err); });
    INFO("opening " << uri << ": " << opened.message);
    REQUIRE(opened.ok());
    REQUIRE(conn_ != nullptr);
}

Connection::~Connection()
{
    virtkit_error err{};
    err.struct_size = sizeof err;
    ops().connect_close(conn_, &err);
}

Outcome tryOpen(const std::string &uri)
{
    virtkit_conn *conn = nullptr;
    const Outcome opened = attempt([&](virtkit_error *err) { return ops().connect_open(uri.c_str(), 0, &conn, err); });
    if (opened.ok())
        attempt([&](virtkit_error *err) { return ops().connect_close(conn, err); });
    return opened;
}

Outcome Connection::tryDefine(const std::string &xml)
{
    virtkit_domain_ident ident{};
    ident.struct_size = sizeof ident;
    return attempt([&](virtkit_error *err) { return ops().domain_define_xml(conn_, xml.c_str(), 0, &ident, err); });
}

Outcome Connection::tryCreate(const std::string &xml)
{
    virtkit_domain_ident ident{};
    ident.struct_size = sizeof ident;
    return attempt([&](virtkit_error *err) { return ops().domain_create_xml(conn_, xml.c_str(), 0, &ident, err); });
}

virtkit_domain_ident Connection::define(const std::string &xml)
{
    virtkit_domain_ident ident{};
    ident.struct_size = sizeof ident;
    const Outcome defined =
        attempt([&](virtkit_error *err) { return ops().domain_define_xml(conn_, xml.c_str(), 0, &ident, err); });
    INFO(defined.message);
    REQUIRE(defined.ok());
    return ident;
}

virtkit_domain_ident Connection::create(const std::string &xml)
{
    virtkit_domain_ident ident{};
    ident.struct_size = sizeof ident;
    const Outcome created =
        attempt([&](virtkit_error *err) { return ops().domain_create_xml(conn_, xml.c_str(), 0, &ident, err); });
    INFO(created.message);
    REQUIRE(created.ok());
    return ident;
}

Outcome Connection::start(const std::string &uuid)
{
    return attempt([&](virtkit_error *err) { return ops().domain_start(conn_, uuid.c_str(), 0, err); });
}

Outcome Connection::shutdown(const std::string &uuid)
{
    return attempt([&](virtkit_error *err) { return ops().domain_shutdown(conn_, uuid.c_str(), 0, err); });
}

Outcome Connection::reboot(const std::string &uuid)
{
    return attempt([&](virtkit_error *err) { return ops().domain_reboot(conn_, uuid.c_str(), 0, err); });
}

Outcome Connection::destroy(const std::string &uuid)
{
    return attempt([&](virtkit_error *err) { return ops().domain_destroy(conn_, uuid.c_str(), 0, err); });
}

Outcome Connection::suspend(const std::string &uuid)
{
    return attempt([&](virtkit_error *err) { return ops().domain_suspend(conn_, uuid.c_str(), err); });
}

Outcome Connection::resume(const std::string &uuid)
{
    return attempt([&](virtkit_error *err) { return ops().domain_resume(conn_, uuid.c_str(), err); });
}

Outcome Connection::undefine(const std::string &uuid)
{
    return attempt([&](virtkit_error *err) { return ops().domain_undefine(conn_, uuid.c_str(), 0, err); });
}

Outcome Connection::tryInfo(const std::string &uuid)
{
    virtkit_domain_info info{};
    info.struct_size = sizeof info;
    return attempt([&](virtkit_error *err) { return ops().domain_get_info(conn_, uuid.c_str(), &info, err); });
}

virtkit_domain_info Connection::info(const std::string &uuid)
{
    virtkit_domain_info info{};
    info.struct_size = sizeof info;
    const Outcome got =
        attempt([&](virtkit_error *err) { return ops().domain_get_info(conn_, uuid.c_str(), &info, err); });
    INFO(got.message);
    REQUIRE(got.ok());
    return info;
}

std::string Connection::xml(const std::string &uuid, uint32_t flags)
{
    char *text = nullptr;
    const Outcome got =
        attempt([&](virtkit_error *err) { return ops().domain_get_xml(conn_, uuid.c_str(), flags, &text, err); });
    INFO(got.message);
    REQUIRE(got.ok());
    std::string copy = text;
    ops().free_string(text);
    return copy;
}

virtkit_domain_ident Connection::lookupByName(const std::string &name)
{
    virtkit_domain_ident ident{};
    ident.struct_size = sizeof ident;
    const Outcome found =
        attempt([&](virtkit_error *err) { return ops().domain_lookup_by_name(conn_, name.c_str(), &ident, err); });
    INFO(found.message);
    REQUIRE(found.ok());
    return ident;
}

Outcome Connection::tryLookupByUuid(const std::string &uuid)
{
    virtkit_domain_ident ident{};
    ident.struct_size = sizeof ident;
    return attempt([&](virtkit_error *err) { return ops().domain_lookup_by_uuid(conn_, uuid.c_str(), &ident, err); });
}

std::vector<virtkit_domain_ident> Connection::list(uint32_t flags)
{
    virtkit_domain_ident *items = nullptr;
    size_t count = 0;
    const Outcome listed =
        attempt([&](virtkit_error *err) { return ops().domain_list(conn_, flags, &items, &count, err); });
    INFO(listed.message);
    REQUIRE(listed.ok());
    std::vector<virtkit_domain_ident> out(items, items + count);
    ops().free_domain_list(items, count);
    return out;
}

std::vector<std::string> Connection::names(uint32_t flags)
{
    std::vector<std::string> out;
    for (const auto &ident : list(flags))
        out.emplace_back(ident.name);
    std::sort(out.begin(), out.end());
    return out;
}

std::string Connection::capabilities()
{
    char *text = nullptr;
    const Outcome got = attempt([&](virtkit_error *err) { return ops().connect_get_capabilities(conn_, &text, err); });
    INFO(got.message);
    REQUIRE(got.ok());
    std::string copy = text;
    ops().free_string(text);
    return copy;
}

}  // namespace testplugin
