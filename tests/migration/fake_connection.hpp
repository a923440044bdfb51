// A Connection that plays one side of a migration on cue: it records every
// phase call (in a log shared by both sides, so the order across the two
// hosts is visible), fails the phase a test names, and answers jobStats from
// a script.  It models the plugin's job bookkeeping only as far as the
// orchestration rules need (one migration job per domain, state after
// Confirm); the QEMU side itself is tested against real QEMU.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <virtkit/connection.hpp>
#include <virtkit/error.hpp>

namespace virtkit::test {

struct PhaseCall {
    std::string side;  // "src" / "dst"
    std::string op;    // "begin", "prepare", "perform", "finish", "confirm", "startPostcopy", "suspend", "abort", ...
    uint32_t flags = 0;
    bool cancelled = false;
    std::string params;
    std::string cookie;
};

// Both sides append here; the mutex makes Perform's thread and the poller safe.
class CallLog {
public:
    void add(PhaseCall call)
    {
        std::lock_guard lock(mutex_);
        calls_.push_back(std::move(call));
        changed_.notify_all();
    }
    std::vector<PhaseCall> calls() const
    {
        std::lock_guard lock(mutex_);
        return calls_;
    }
    // "src:begin dst:prepare ..." with "(cancelled)" marks: easy to compare.
    std::string sequence(bool phasesOnly = true) const;
    std::optional<PhaseCall> find(const std::string &side, const std::string &op) const;
    int count(const std::string &side, const std::string &op) const;
    // Blocks until `side:op` was logged or the timeout passes; true if it was.
    bool waitFor(const std::string &side, const std::string &op, std::chrono::milliseconds timeout);

private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<PhaseCall> calls_;
};

class FakeConnection final : public Connection {
public:
    FakeConnection(std::string side, std::string uri, CallLog &log) : side_(std::move(side)), uri_(std::move(uri)), log_(log) {}

    // ---- what a test sets up ----
    DomainRef domain{"vm", "6f3c9d2e-1b7a-4c55-9e0f-2a8d4b6c1e33", 7};
    int state = VIRTKIT_DOMAIN_RUNNING;
    std::string failAt;                       // phase name whose call throws
    std::string failMessage = "injected failure";
    bool confirmCompletesOnCancel = false;    // src: Confirm(cancelled) finds QEMU "completed" and stops the source
    bool jobActive = false;                   // a migration job holds the domain
    std::string jobStatus = "none";          // reported by jobStats when no script is set
    std::string jobPhase;
    std::function<std::string(int)> jobStatsScript;  // poll number -> JSON text
    std::function<void(FakeConnection &)> performBody;  // runs inside Perform (may block)
    std::string preparedUri = "tcp:127.0.0.1:49152";
    int statsCalls = 0;

    // ---- Connection ----
    const std::string &uri() const override { return uri_; }
    const std::string &driverName() const override { return driver_; }
    bool readOnly() const override { return false; }
    void close() override {}
    std::string capabilities() override { return unsupported<std::string>("capabilities"); }
    std::string hostname() override { return side_ + ".example"; }
    uint64_t hypervisorVersion() override { return 7002000; }
    std::vector<DomainRef> listDomains(uint32_t) override { return {domain}; }
    DomainRef lookupByName(const std::string &name) override;
    DomainRef lookupByUuid(const std::string &uuid) override;
    DomainRef lookupById(int id) override;
    DomainRef defineXml(const std::string &) override { return unsupported<DomainRef>("defineXml"); }
    DomainRef createXml(const std::string &) override { return unsupported<DomainRef>("createXml"); }
    void domainStart(const std::string &) override { record("start"); }
    void domainShutdown(const std::string &, uint32_t) override { record("shutdown"); }
    void domainReboot(const std::string &, uint32_t) override { record("reboot"); }
    void domainDestroy(const std::string &, uint32_t) override { record("destroy"); }
    void domainSuspend(const std::string &) override;
    void domainResume(const std::string &) override { record("resume"); }
    void domainUndefine(const std::string &) override { record("undefine"); }
    std::string domainXml(const std::string &, uint32_t) override { return xmlText(); }
    DomainInfo domainInfo(const std::string &uuid) override;
    bool domainAutostart(const std::string &) override { return false; }
    void domainSetAutostart(const std::string &, bool) override { record("setAutostart"); }
    std::string domainXmlFromNative(const std::string &, const std::string &) override { return unsupported<std::string>("xmlFromNative"); }
    std::string domainXmlToNative(const std::string &, const std::string &) override { return unsupported<std::string>("xmlToNative"); }
    std::string monitorCommand(const std::string &, const std::string &, uint32_t) override { return unsupported<std::string>("monitorCommand"); }
    std::string domainCapabilities(const std::string &, const std::string &, const std::string &, const std::string &) override
    {
        return unsupported<std::string>("domainCapabilities");
    }
    std::string jobStats(const std::string &uuid, uint32_t flags) override;
    void abortJob(const std::string &uuid, uint32_t flags) override;
    MigrationStep migrateBegin(const std::string &uuid, const std::string &params, uint32_t flags) override;
    MigrationStep migratePrepare(const std::string &params, const std::string &cookie, uint32_t flags) override;
    MigrationStep migratePerform(const std::string &uuid, const std::string &params, const std::string &cookie,
                                 uint32_t flags) override;
    MigrationStep migrateFinish(const std::string &params, const std::string &cookie, uint32_t flags,
                                bool cancelled) override;
    void migrateConfirm(const std::string &uuid, const std::string &params, const std::string &cookie, uint32_t flags,
                        bool cancelled) override;
    void migrateStartPostcopy(const std::string &uuid, uint32_t flags) override;
    void migrateSetMaxSpeed(const std::string &, uint64_t, uint32_t) override { record("setMaxSpeed"); }
    uint64_t migrateGetMaxSpeed(const std::string &, uint32_t) override { return 0; }
    EventBus::Subscription subscribe(EventFilter, EventBus::Handler) override
    {
        return unsupported<EventBus::Subscription>("subscribe");
    }

    std::string xmlText() const { return "<domain type='kvm'><name>" + domain.name + "</name></domain>"; }

private:
    template <typename T>
    T unsupported(const char *op)
    {
        throw Error(VIRTKIT_ERR_NO_SUPPORT, std::string("fake connection: ") + op + " is not scripted");
    }
    void record(const std::string &op, uint32_t flags = 0, bool cancelled = false, const std::string &params = "",
                const std::string &cookie = "");
    void maybeFail(const std::string &phase);
    void checkDomain(const std::string &uuid);

    std::string side_, uri_;
    std::string driver_ = "fake";
    CallLog &log_;
    std::mutex mutex_;  // the job fields: Perform's thread and the poller both touch them
};

}  // namespace virtkit::test
