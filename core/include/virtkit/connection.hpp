// A connection to one hypervisor, named by a URI.  The in-process kind runs a
// plugin through the C ABI; a remote kind (virtkitd) implements the same
// interface, so callers never care which they hold.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <virtkit/domain.hpp>
#include <virtkit/event_bus.hpp>

namespace virtkit {

class Context;

struct DomainRef {
    std::string name;
    std::string uuid;
    int id = -1;
};

enum ListFlags : uint32_t { ListActive = VIRTKIT_LIST_ACTIVE, ListInactive = VIRTKIT_LIST_INACTIVE };

// What one migration phase answers (ABI 1.1 domain_migrate_*): each phase
// fills only what its C slot returns.
struct MigrationStep {
    std::string xml;     // begin: the domain XML to send to the destination
    std::string uri;     // prepare: where the source must send the stream
    std::string cookie;  // every phase but confirm: hand it to the next phase
    DomainRef domain;    // finish: the domain on the destination
};

class Connection : public std::enable_shared_from_this<Connection> {
public:
    // Routes the URI to a plugin (loading it on first use) and opens it.
    // Throws Error: bad URI, no plugin for the scheme, refused plugin, open failure.
    static std::shared_ptr<Connection> open(Context &ctx, const std::string &uri, bool readOnly = false);

    virtual ~Connection() = default;

    virtual const std::string &uri() const = 0;
    virtual const std::string &driverName() const = 0;  // plugin id
    virtual bool readOnly() const = 0;
    virtual void close() = 0;  // idempotent; the destructor closes too

    virtual std::string capabilities() = 0;
    virtual std::string hostname() = 0;
    virtual uint64_t hypervisorVersion() = 0;

    // flags: ListActive | ListInactive; 0 = both.
    virtual std::vector<DomainRef> listDomains(uint32_t flags = 0) = 0;
    virtual DomainRef lookupByName(const std::string &name) = 0;
    virtual DomainRef lookupByUuid(const std::string &uuid) = 0;
    virtual DomainRef lookupById(int id) = 0;
    // The XML passes DomainXml validation in the core before the plugin sees it.
    virtual DomainRef defineXml(const std::string &xml) = 0;
    virtual DomainRef createXml(const std::string &xml) = 0;

    virtual void domainStart(const std::string &uuid) = 0;
    // flags: VIRTKIT_SHUTDOWN_* / VIRTKIT_DESTROY_GRACEFUL; 0 = the driver's default.
    virtual void domainShutdown(const std::string &uuid, uint32_t flags = 0) = 0;
    virtual void domainReboot(const std::string &uuid, uint32_t flags = 0) = 0;
    virtual void domainDestroy(const std::string &uuid, uint32_t flags = 0) = 0;
    virtual void domainSuspend(const std::string &uuid) = 0;
    virtual void domainResume(const std::string &uuid) = 0;
    virtual void domainUndefine(const std::string &uuid) = 0;
    virtual std::string domainXml(const std::string &uuid, uint32_t flags) = 0;
    virtual DomainInfo domainInfo(const std::string &uuid) = 0;
    virtual bool domainAutostart(const std::string &uuid) = 0;
    virtual void domainSetAutostart(const std::string &uuid, bool on) = 0;

    virtual std::string domainXmlFromNative(const std::string &format, const std::string &native) = 0;
    virtual std::string domainXmlToNative(const std::string &format, const std::string &xml) = 0;

    // ABI 1.1.  Each throws Error(NO_SUPPORT) when the driver lacks the slot.
    // flags: VIRTKIT_MONITOR_HMP.  Answers the monitor's reply text.
    virtual std::string monitorCommand(const std::string &uuid, const std::string &command, uint32_t flags) = 0;
    // Empty strings mean "the driver's default".
    virtual std::string domainCapabilities(const std::string &emulator, const std::string &arch,
                                           const std::string &machine, const std::string &virttype) = 0;
    // JSON object text keyed by libvirt's job typed-parameter names; flags: VIRTKIT_JOB_STATS_COMPLETED.
    virtual std::string jobStats(const std::string &uuid, uint32_t flags) = 0;
    virtual void abortJob(const std::string &uuid, uint32_t flags) = 0;  // VIRTKIT_ABORT_JOB_POSTCOPY

    // Migration phases (libvirt's protocol v3); params is a JSON object keyed by
    // VIR_MIGRATE_PARAM_* names, flags VIRTKIT_MIGRATE_*.  core's migration.hpp sequences them.
    virtual MigrationStep migrateBegin(const std::string &uuid, const std::string &params, uint32_t flags) = 0;
    virtual MigrationStep migratePrepare(const std::string &params, const std::string &cookie, uint32_t flags) = 0;
    virtual MigrationStep migratePerform(const std::string &uuid, const std::string &params,
                                         const std::string &cookie, uint32_t flags) = 0;
    virtual MigrationStep migrateFinish(const std::string &params, const std::string &cookie, uint32_t flags,
                                        bool cancelled) = 0;
    virtual void migrateConfirm(const std::string &uuid, const std::string &params, const std::string &cookie,
                                uint32_t flags, bool cancelled) = 0;
    virtual void migrateStartPostcopy(const std::string &uuid, uint32_t flags) = 0;
    // MiB/s; flags: VIRTKIT_MIGRATE_MAX_SPEED_POSTCOPY.
    virtual void migrateSetMaxSpeed(const std::string &uuid, uint64_t bandwidth, uint32_t flags) = 0;
    virtual uint64_t migrateGetMaxSpeed(const std::string &uuid, uint32_t flags) = 0;

    // Events of this connection only (filter.connection is forced to uri()).
    virtual EventBus::Subscription subscribe(EventFilter filter, EventBus::Handler handler) = 0;

    // Convenience: a Domain handle from a name, UUID or numeric ID, as virsh resolves them
    // (ID first if numeric, then UUID if it parses as one, then name).
    Domain domain(const std::string &nameUuidOrId);
    Domain domain(const DomainRef &ref);
};

}  // namespace virtkit
