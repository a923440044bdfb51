// One open qemu:// connection: the persistent domains under its state
// directory and the QEMUs it started.  Every method validates its input
// first and throws Error; all calls are serialised by one mutex.
//
// Not yet restart-safe: QEMUs started through a connection are killed when it
// closes (so none is left untracked); saving live state and reconnecting is
// the next step (issue 3, item 6).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <virtkit/plugin.h>

#include "capabilities/qemu_capabilities.hpp"
#include "driver/domain_definition.hpp"
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
};

class QemuConnection {
public:
    // (name, uuid, lifecycle type, detail), from any thread.
    using EventSink = std::function<void(const std::string &, const std::string &, std::int32_t, std::int32_t)>;

    QemuConnection(const std::string &uri, EventSink events);
    ~QemuConnection();

    std::uint64_t hypervisor_version();
    std::string capabilities_xml();

    DomainSummary lookup_by_name(const std::string &name);
    DomainSummary lookup_by_uuid(const std::string &uuid);
    DomainSummary lookup_by_id(std::int32_t id);
    std::vector<DomainSummary> list(std::uint32_t flags);

    DomainSummary define(const std::string &xml);
    void undefine(const std::string &uuid);
    void start(const std::string &uuid);
    void destroy(const std::string &uuid);
    void suspend(const std::string &uuid);
    void resume(const std::string &uuid);
    std::string xml(const std::string &uuid);
    DomainStatus status(const std::string &uuid);

private:
    struct Entry {
        DomainDefinition definition;
        std::unique_ptr<RunningDomain> running;
        std::int32_t id = -1;
        std::int32_t last_reason = 0;  // shut-off reason once stopped
    };

    Entry &find(const std::string &uuid);
    DomainSummary summary(const Entry &entry) const;
    bool active(const Entry &entry) const;
    void load_definitions();
    std::string emulator() const;

    StatePaths paths_;
    EventSink events_;
    bool kvm_usable_ = false;
    CapabilityCache capabilities_;
    std::mutex mutex_;
    std::map<std::string, Entry> domains_;  // by UUID
    std::int32_t next_id_ = 1;
};

}  // namespace virtkit::qemu
