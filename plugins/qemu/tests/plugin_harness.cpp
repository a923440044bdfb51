#include "plugin_harness.hpp"

#include <dlfcn.h>
#include <mutex>

namespace virtkit::qemu::testing {
namespace {

std::mutex events_mutex;
std::vector<Event> recorded;

int32_t record_event(void *, const virtkit_event *event)
{
    const std::lock_guard lock(events_mutex);
    recorded.push_back({event->domain_name ? event->domain_name : "", event->type, event->detail});
    return 0;
}

}  // namespace

std::vector<Event> take_events()
{
    const std::lock_guard lock(events_mutex);
    return std::exchange(recorded, {});
}

namespace {

// The plugin's config section as the tests set it: short waits, one virtual network.
int32_t test_config(void *, const char *key, char *buf, size_t buflen)
{
    const std::string k = key;
    const char *value = k == "shutdown_timeout" ? "1.5"
                        : k == "lock_wait"      ? "0.3"
                        : k == "networks.lan"   ? "br-lan"
                                                : nullptr;
    if (!value)
        return 0;
    std::snprintf(buf, buflen, "%s", value);
    return 1;
}

}  // namespace

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
        host.config_get = test_config;
        const virtkit_driver_ops *result = nullptr;
        virtkit_error err{};
        err.struct_size = sizeof err;
        REQUIRE(entry()->init(&host, &result, &err) == VIRTKIT_OK);
        return result;
    }();
    return *table;
}

}  // namespace virtkit::qemu::testing
