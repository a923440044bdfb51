// One open qemu:// connection: the persistent domains under its state
// directory and the QEMUs running for them.  Every method validates its
// input first and throws Error; calls are serialised by one mutex.
//
// Several processes may open the same root at once (CLI invocations, the
// daemon, `event --loop`).  They share it this way:
// - changes to definitions and ids happen under the root lock (run/lock),
//   and each call first re-reads what another process may have changed;
// - a running domain's monitor (QMP serves one client) belongs to whoever
//   holds its owner lock (run/domains/UUID/owner.lock).  Opening a
//   connection takes over every running domain whose lock is free; the
//   others are read from their saved live state (live.json) and /proc, and
//   an operation that needs their monitor waits a little for the lock, then
//   fails with OPERATION_INVALID naming the holder's pid.
// - closing a connection detaches: its QEMUs keep running.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <virtkit/plugin.h>

#include "capabilities/qemu_capabilities.hpp"
#include "driver/domain_definition.hpp"
#include "driver/live_state.hpp"
#include "driver/running_domain.hpp"
#include "driver/state_paths.hpp"

namespace virtkit::qemu {

struct DomainSummary {
    std::string name;
    std::string uuid;
    std::int32_t id = -1;  // > 0 while running
};

struct DomainStatus {
    std::int32_t state = VIRTKIT_DOMAIN_SHUTOFF;
    std::int32_t reason = 0;
    std::uint64_t memory_kib = 0;
    std::uint32_t vcpus = 0;
    std::string log_path;  // QEMU's stderr
};

class QemuConnection {
public:
    // (name, uuid, lifecycle type, detail), from any thread.
    using EventSink = std::function<void(const std::string &, const std::string &, std::int32_t, std::int32_t)>;

    struct Settings {
        std::chrono::milliseconds shutdown_timeout{60000};  // how long shutdown waits for the guest
        std::chrono::milliseconds lock_wait{3000};          // for a domain another process manages
    };

    QemuConnection(const std::string &uri, EventSink events);
    QemuConnection(const std::string &uri, EventSink events, Settings settings);
    ~QemuConnection();

    std::uint64_t hypervisor_version();
    std::string capabilities_xml();
    std::string domain_capabilities_xml(const std::string &emulator, const std::string &arch,
                                        const std::string &machine, const std::string &virttype);

    DomainSummary lookup_by_name(const std::string &name);
    DomainSummary lookup_by_uuid(const std::string &uuid);
    DomainSummary lookup_by_id(std::int32_t id);
    std::vector<DomainSummary> list(std::uint32_t flags);

    DomainSummary define(const std::string &xml);
    void undefine(const std::string &uuid);
    void start(const std::string &uuid, const RunningDomain::StartOptions &options = {});
    void destroy(const std::string &uuid);
    void shutdown(const std::string &uuid, std::uint32_t flags);
    void reboot(const std::string &uuid, std::uint32_t flags);
    void suspend(const std::string &uuid);
    void resume(const std::string &uuid);
    std::string monitor_command(const std::string &uuid, const std::string &command, bool hmp);
    // libvirt's autostart: a marker file state/autostart/UUID; marked
    // domains are started by the first connection to open the root after a
    // host boot (the runtime dir is new then), as libvirtd does at its start.
    bool autostart(const std::string &uuid);
    void set_autostart(const std::string &uuid, bool on);
    std::string xml(const std::string &uuid);
    DomainStatus status(const std::string &uuid);

    // For other parts of the driver (migration): the running domain this
    // process manages, taken over if need be.  Throws like a monitor operation.
    // The connection's mutex is not held while the caller uses it.
    std::shared_ptr<RunningDomain> managed_domain(const std::string &uuid);

private:
    struct Entry {
        DomainDefinition definition;
        std::filesystem::file_time_type file_time;
        std::shared_ptr<RunningDomain> running;  // this process holds its monitor
        std::optional<LiveState> foreign;        // running, managed by another process
    };

    Entry &find(const std::string &uuid);
    DomainSummary summary(const Entry &entry) const;
    bool active(const Entry &entry) const;
    std::int32_t id_of(const Entry &entry) const;
    // Each public call starts here: releases held events, re-reads changed definitions.
    void reload_definitions();
    void scan_definitions();
    // Brings entry's runtime view up to date: takes over a QEMU whose owner
    // lock is free, else reads the live state another process saved.
    void refresh_runtime(Entry &entry);
    // The QEMU of `uuid`, managed by us (waiting for another holder a while).
    std::shared_ptr<RunningDomain> managed(const std::string &uuid);
    RunningDomain::Listener listener_for(const DomainDefinition &definition);
    std::int32_t allocate_id();
    void start_locked(Entry &entry, const RunningDomain::StartOptions &options);
    void autostart_after_boot();
    std::string root_lock_path() const;
    std::string emulator() const;

    // Events are held back until the first call after the constructor: the
    // host can route a connection's events only once open() has returned.
    void emit(const std::string &name, const std::string &uuid, std::int32_t type, std::int32_t detail);
    void release_held_events();

    StatePaths paths_;
    EventSink events_;
    std::mutex held_mutex_;
    bool holding_events_ = true;
    std::vector<std::tuple<std::string, std::string, std::int32_t, std::int32_t>> held_events_;
    Settings settings_;
    bool kvm_usable_ = false;
    CapabilityCache capabilities_;
    std::mutex mutex_;
    std::map<std::string, Entry> domains_;  // by UUID
    std::filesystem::file_time_type definitions_time_{};
};

}  // namespace virtkit::qemu
