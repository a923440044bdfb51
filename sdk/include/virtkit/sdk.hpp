// virtkit/sdk.hpp — header-only C++17 helper for writing a virtkit driver
// plugin without touching the C tables of <virtkit/plugin.h> by hand.
//
//   class MyConnection : public virtkit::sdk::Connection {
//   public:
//       virtkit::sdk::DomainIdent lookupByName(const std::string &name) override;
//       void domainStart(const std::string &uuid, uint32_t flags) override;
//       ...                                  // override only what you support
//   };
//   class MyDriver : public virtkit::sdk::Driver {
//   public:
//       using Driver::Driver;                // constructed once, at init
//       std::unique_ptr<MyConnection> open(const std::string &uri, uint32_t flags);
//   };
//   VIRTKIT_DECLARE_PLUGIN(MyDriver, "my", "1.0.0")
//
// What the helper does for you:
//   - fills virtkit_driver_ops with exactly the operations your connection
//     class overrides; every other slot stays NULL, which the core reports as
//     "not supported" (detected at compile time, no stubs);
//   - catches every exception at the boundary and turns it into a
//     virtkit_error: sdk::Error (which is virtkit::Error) and any class
//     derived from it keep their code, anything else becomes
//     VIRTKIT_ERR_INTERNAL naming the operation;
//   - allocates returned strings and lists and frees them again;
//   - writes out-structs no larger than the caller's struct_size;
//   - defines the one exported symbol, virtkit_plugin_entry, and its descriptor.
// What it does not do: serialise calls.  The host may call one connection
// from several threads; guard shared state yourself.  sdk/README.md has the
// whole guide.  <virtkit/sdk_uri.hpp> and <virtkit/sdk_uuid.hpp> parse
// driver URIs and UUIDs.
#pragma once

#include <virtkit/error.hpp>
#include <virtkit/plugin.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace virtkit::sdk {

// Throw this (or a class derived from it) from a driver to report a specific
// error code.  It is the header-only virtkit::Error of <virtkit/error.hpp>, the
// type the C++ API throws too, so a driver's own code and the helper speak one
// error type and nothing converts between two.
using Error = ::virtkit::Error;

struct DomainIdent {
    std::string name;
    std::string uuid;  // canonical 36-character form
    int32_t id = -1;   // -1 when not running
};

// What a migration phase answers; each phase fills what its slot returns.
struct MigrationStep {
    std::string xml;     // begin
    std::string uri;     // prepare
    std::string cookie;  // for the next phase
    DomainIdent domain;  // finish
};

struct DomainInfo {
    int32_t state = VIRTKIT_DOMAIN_NOSTATE;  // virtkit_domain_state
    int32_t reason = 0;                      // libvirt's per-state reason
    bool persistent = true;
    uint64_t maxMemKiB = 0;
    uint64_t memoryKiB = 0;
    uint32_t vcpus = 0;
    uint64_t cpuTimeNs = 0;
};

// The host's services, copied at init.  Callable from any thread.
class Host {
public:
    Host() = default;
    explicit Host(const virtkit_host_services &services)
    {
        std::memcpy(&services_, &services, std::min<std::size_t>(services.struct_size, sizeof services_));
        services_.struct_size = static_cast<uint32_t>(sizeof services_);
    }

    uint32_t abiMajor() const { return services_.abi_major; }
    uint32_t abiMinor() const { return services_.abi_minor; }

    void log(virtkit_log_level level, const std::string &message) const noexcept
    {
        if (services_.log)
            services_.log(services_.ctx, level, message.c_str());
    }
    void debug(const std::string &message) const noexcept { log(VIRTKIT_LOG_DEBUG, message); }
    void info(const std::string &message) const noexcept { log(VIRTKIT_LOG_INFO, message); }
    void warn(const std::string &message) const noexcept { log(VIRTKIT_LOG_WARN, message); }

    // A scalar from this plugin's section of virtkit.yaml ("plugins: {<id>: {key: value}}").
    std::optional<std::string> config(const std::string &key) const
    {
        if (!services_.config_get)
            return std::nullopt;
        for (std::size_t size = 256; size <= (std::size_t{1} << 20); size *= 4) {
            std::vector<char> buf(size);
            const int32_t found = services_.config_get(services_.ctx, key.c_str(), buf.data(), buf.size());
            if (found == 1)
                return std::string(buf.data());
            if (found == 0)
                return std::nullopt;
        }
        throw Error(VIRTKIT_ERR_CONFIG, "config value '" + key + "' is longer than 1 MiB");
    }

    // Queue an event; the host copies it and returns at once.
    void emit(const virtkit_event &event) const noexcept
    {
        if (services_.emit_event)
            services_.emit_event(services_.ctx, &event);
    }
    void emitLifecycle(virtkit_conn *conn, const DomainIdent &domain, virtkit_lifecycle_event type,
                       int32_t detail) const noexcept
    {
        virtkit_event event{};
        event.struct_size = sizeof event;
        event.kind = VIRTKIT_EVENT_LIFECYCLE;
        event.conn = conn;
        event.domain_name = domain.name.c_str();
        event.domain_uuid = domain.uuid.c_str();
        event.type = type;
        event.detail = detail;
        emit(event);
    }

private:
    virtkit_host_services services_{};
};

namespace detail {
template <class D>
struct Plugin;
}

// One open connection.  Every operation is optional: override what the driver
// supports (keep `override` so a signature typo fails to compile).  The base
// versions are never reached through the table; they throw NO_SUPPORT only if
// called directly.  Operations taking `uuid` get the canonical UUID string.
class Connection {
public:
    Connection() = default;
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;
    virtual ~Connection() = default;  // connect_close destroys the object

    virtual std::string capabilities() { unsupported("connect.capabilities"); }
    virtual std::string hostname() { unsupported("connect.hostname"); }
    // major * 1000000 + minor * 1000 + micro
    virtual uint64_t hypervisorVersion() { unsupported("connect.version"); }

    virtual DomainIdent lookupByName(const std::string &) { unsupported("domain.lookup_by_name"); }
    virtual DomainIdent lookupByUuid(const std::string &) { unsupported("domain.lookup_by_uuid"); }
    virtual DomainIdent lookupById(int32_t) { unsupported("domain.lookup_by_id"); }
    // flags: VIRTKIT_LIST_ACTIVE | VIRTKIT_LIST_INACTIVE; 0 means both.
    virtual std::vector<DomainIdent> listDomains(uint32_t) { unsupported("domain.list"); }

    virtual DomainIdent defineXml(const std::string &, uint32_t) { unsupported("domain.define_xml"); }
    virtual void domainUndefine(const std::string &, uint32_t) { unsupported("domain.undefine"); }
    virtual DomainIdent createXml(const std::string &, uint32_t) { unsupported("domain.create_xml"); }

    virtual void domainStart(const std::string &, uint32_t) { unsupported("domain.start"); }
    virtual void domainShutdown(const std::string &, uint32_t) { unsupported("domain.shutdown"); }
    virtual void domainReboot(const std::string &, uint32_t) { unsupported("domain.reboot"); }
    virtual void domainDestroy(const std::string &, uint32_t) { unsupported("domain.destroy"); }
    virtual void domainSuspend(const std::string &) { unsupported("domain.suspend"); }
    virtual void domainResume(const std::string &) { unsupported("domain.resume"); }

    virtual std::string domainXml(const std::string &, uint32_t) { unsupported("domain.get_xml"); }
    virtual DomainInfo domainInfo(const std::string &) { unsupported("domain.get_info"); }
    virtual bool domainAutostart(const std::string &) { unsupported("domain.get_autostart"); }
    virtual void domainSetAutostart(const std::string &, bool) { unsupported("domain.set_autostart"); }

    virtual std::string domainXmlFromNative(const std::string &, const std::string &)
    {
        unsupported("domain.xml_from_native");
    }
    virtual std::string domainXmlToNative(const std::string &, const std::string &)
    {
        unsupported("domain.xml_to_native");
    }

    // ABI 1.1 (plugin.h documents each slot).
    virtual std::string monitorCommand(const std::string &, const std::string &, uint32_t)
    {
        unsupported("domain.monitor_command");
    }
    // Empty strings mean "the driver's default".
    virtual std::string domainCapabilities(const std::string &, const std::string &, const std::string &,
                                           const std::string &)
    {
        unsupported("connect.domain_capabilities");
    }
    virtual std::string jobStats(const std::string &, uint32_t) { unsupported("domain.job_stats"); }
    virtual void abortJob(const std::string &, uint32_t) { unsupported("domain.abort_job"); }
    // Migration phases: `params` is JSON text, cookies are opaque text ("" = none).
    virtual MigrationStep migrateBegin(const std::string &, const std::string &, uint32_t)
    {
        unsupported("domain.migrate_begin");
    }
    virtual MigrationStep migratePrepare(const std::string &, const std::string &, uint32_t)
    {
        unsupported("domain.migrate_prepare");
    }
    virtual MigrationStep migratePerform(const std::string &, const std::string &, const std::string &, uint32_t)
    {
        unsupported("domain.migrate_perform");
    }
    virtual MigrationStep migrateFinish(const std::string &, const std::string &, uint32_t, bool)
    {
        unsupported("domain.migrate_finish");
    }
    virtual void migrateConfirm(const std::string &, const std::string &, const std::string &, uint32_t, bool)
    {
        unsupported("domain.migrate_confirm");
    }
    virtual void migrateStartPostcopy(const std::string &, uint32_t) { unsupported("domain.migrate_start_postcopy"); }
    virtual void migrateSetMaxSpeed(const std::string &, uint64_t, uint32_t)
    {
        unsupported("domain.migrate_set_max_speed");
    }
    virtual uint64_t migrateGetMaxSpeed(const std::string &, uint32_t) { unsupported("domain.migrate_get_max_speed"); }

protected:
    // Valid from the moment open() has returned (not inside the constructor).
    const Host &host() const { return host_; }
    virtkit_conn *handle() const { return handle_; }
    // Lifecycle event about a domain, tagged with this connection.
    void emitLifecycle(const DomainIdent &domain, virtkit_lifecycle_event type, int32_t detail = 0) const
    {
        host_.emitLifecycle(handle_, domain, type, detail);
    }

private:
    template <class D>
    friend struct detail::Plugin;

    [[noreturn]] static void unsupported(const char *operation)
    {
        throw Error(VIRTKIT_ERR_NO_SUPPORT, std::string("operation '") + operation + "' is not supported");
    }

    Host host_;
    virtkit_conn *handle_ = nullptr;
};

// The plugin-wide object: constructed once at init (throw to fail init, e.g.
// on bad configuration) and destroyed at shutdown.  A derived class must have
//   std::unique_ptr<SomeConnection> open(const std::string &uri, uint32_t flags);
// where SomeConnection derives from sdk::Connection.
class Driver {
public:
    explicit Driver(Host host) : host_(host) {}
    Driver(const Driver &) = delete;
    Driver &operator=(const Driver &) = delete;
    virtual ~Driver() = default;

    const Host &host() const { return host_; }

private:
    Host host_;
};

}  // namespace virtkit::sdk

// The plugin-side connection handle: owns the driver's Connection object.
struct virtkit_conn {
    std::unique_ptr<virtkit::sdk::Connection> impl;
};

// True when class C itself (or a base between it and sdk::Connection) declares
// `member`: then &C::member names that class, not sdk::Connection.
#define VIRTKIT_SDK_OVERRIDES(C, member) \
    (!std::is_same_v<decltype(&C::member), decltype(&::virtkit::sdk::Connection::member)>)

#include <virtkit/sdk_glue.hpp>

// Defines the plugin's one exported function and its descriptor.
#define VIRTKIT_DECLARE_PLUGIN(DriverClass, id, version)                                           \
    extern "C" VIRTKIT_PLUGIN_EXPORT const virtkit_plugin_descriptor *virtkit_plugin_entry(void) \
    {                                                                                              \
        static const virtkit_plugin_descriptor descriptor =                                        \
            ::virtkit::sdk::detail::Plugin<DriverClass>::descriptor(id, version);                 \
        return &descriptor;                                                                        \
    }
