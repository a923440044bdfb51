// One open lxc:// connection: the persistent containers under its state
// directory and the running ones under its runtime directory.  Containers
// run under their own supervisor process, so closing the connection (or
// the process dying) leaves them running; opening the same URI again finds
// them from their live state, and cleans up after any that died meanwhile.
// A watcher thread notices containers that stop on their own and emits the
// event.  All calls are serialised by one mutex.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <virtkit/plugin.h>

#include "driver/container_definition.hpp"
#include "driver/state_paths.hpp"
#include "runtime/live_state.hpp"

namespace virtkit::lxc {

struct DomainSummary {
    std::string name;
    std::string uuid;
    std::int32_t id = -1;  // the supervisor's pid while running
};

struct DomainStatus {
    std::int32_t state = VIRTKIT_DOMAIN_SHUTOFF;
    std::int32_t reason = 0;
    std::uint64_t memory_kib = 0;
    std::uint32_t vcpus = 0;
    std::uint64_t cpu_time_ns = 0;
};

class LxcConnection {
public:
    // (name, uuid, lifecycle type, detail), from any thread.
    using EventSink = std::function<void(const std::string &, const std::string &, std::int32_t, std::int32_t)>;

    LxcConnection(const std::string &uri, EventSink events);
    ~LxcConnection();  // leaves containers running
    LxcConnection(const LxcConnection &) = delete;
    LxcConnection &operator=(const LxcConnection &) = delete;

    std::uint64_t hypervisor_version() const;
    std::string capabilities_xml() const;

    DomainSummary lookup_by_name(const std::string &name);
    DomainSummary lookup_by_uuid(const std::string &uuid);
    DomainSummary lookup_by_id(std::int32_t id);
    std::vector<DomainSummary> list(std::uint32_t flags);

    DomainSummary define(const std::string &xml);
    void undefine(const std::string &uuid);
    void start(const std::string &uuid);
    // SIGTERM to init; after `timeout_ms` without it ending, SIGKILL of the whole cgroup.
    void shutdown(const std::string &uuid, int timeout_ms = 10000);
    void destroy(const std::string &uuid);
    void suspend(const std::string &uuid);
    void resume(const std::string &uuid);
    std::string xml(const std::string &uuid);
    // Autostart: started by the first connection opened after each host boot.
    bool autostart(const std::string &uuid);
    void set_autostart(const std::string &uuid, bool enabled);
    DomainStatus status(const std::string &uuid);
    // Live state of a running container (tests and the CLI's dominfo use it).
    std::optional<LiveState> live_state(const std::string &uuid);

    // Where the supervisor executable is: $VIRTKIT_LXC_SUPERVISOR, else beside this plugin.
    static std::string supervisor_path();

private:
    struct Entry {
        ContainerDefinition definition;
        std::optional<LiveState> live;  // set while running
        int pidfd = -1;                 // the supervisor's, while running
        bool stopping = false;          // destroy/shutdown in progress: it reports the stop
        std::int32_t last_reason = 0;   // shut-off reason once stopped
    };

    Entry &find(const std::string &uuid);
    DomainSummary summary(const Entry &entry) const;
    void load_definitions();
    void reconnect(Entry &entry);
    // The container has stopped: clean what is left, record why, and tell.
    void finish(Entry &entry, std::int32_t reason, std::int32_t detail, bool emit);
    void finish_from_exit_record(Entry &entry);
    bool wait_for_supervisor(Entry &entry, int timeout_ms);
    void emit(const Entry &entry, std::int32_t type, std::int32_t detail);
    std::filesystem::path runtime_file(const std::string &uuid, const char *extension) const;
    void watch();
    void wake_watcher();
    void autostart_once_per_boot();

    StatePaths paths_;
    EventSink events_;
    std::mutex mutex_;
    std::map<std::string, Entry> domains_;  // by UUID
    int wake_fd_ = -1;                      // eventfd: the watcher rebuilds its list
    bool closing_ = false;
    std::thread watcher_;
};

}  // namespace virtkit::lxc
