// The migration entry points of one qemu:// connection (the ABI 1.1 slots):
// each phase finds or starts the domain's QEMU through QemuConnection, runs
// the QMP steps of qmp_migration.hpp on its monitor, and keeps one
// MigrationJob per running domain, fed by that QEMU's events and saved in
// its live state ("migration") so a restarted process re-derives it.
//
// No lock is held while a phase waits for QEMU: domjobinfo, migrate-postcopy
// and domjobabort run while Perform waits.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "driver/qemu_connection.hpp"
#include "migration/migration_job.hpp"
#include "migration/qmp_migration.hpp"

namespace virtkit::qemu {

class DomainMigrations {
public:
    struct Step {
        std::string xml, uri, cookie;
        DomainSummary domain;
    };

    explicit DomainMigrations(QemuConnection &connection, MigrationTimeouts timeouts = {});
    ~DomainMigrations();
    DomainMigrations(const DomainMigrations &) = delete;
    DomainMigrations &operator=(const DomainMigrations &) = delete;

    Step begin(const std::string &uuid, const std::string &params_json, std::uint32_t flags);
    Step prepare(const std::string &params_json, const std::string &cookie, std::uint32_t flags);
    Step perform(const std::string &uuid, const std::string &params_json, const std::string &cookie,
                 std::uint32_t flags);
    Step finish(const std::string &params_json, const std::string &cookie, std::uint32_t flags, bool cancelled);
    void confirm(const std::string &uuid, const std::string &params_json, const std::string &cookie,
                 std::uint32_t flags, bool cancelled);
    void start_postcopy(const std::string &uuid);
    void abort_job(const std::string &uuid, std::uint32_t flags);
    std::string job_stats(const std::string &uuid, std::uint32_t flags);
    void set_max_speed(const std::string &uuid, std::uint64_t mibs, std::uint32_t flags);
    std::uint64_t max_speed(const std::string &uuid, std::uint32_t flags);

private:
    struct Tracked {
        std::shared_ptr<RunningDomain> domain;
        std::shared_ptr<MigrationJob> job;
    };
    // The job of `uuid`'s running QEMU, created (and, from a saved phase,
    // re-derived) on first use.
    Tracked tracked(const std::string &uuid, MigrationSide side);
    std::shared_ptr<MigrationJob> existing_job(const std::string &uuid);
    // Re-derives a job an earlier process saved for `uuid`'s running QEMU, if
    // none is tracked yet: domjobinfo, domjobabort and Prepare must see (and
    // act on) what a killed manager left, not report "no job".
    void rederive_saved_job(const std::string &uuid);
    void save(const Tracked &t);
    void restore(const Tracked &t, const std::string &saved);
    void complete_unattended(const std::string &uuid);

    QemuConnection &connection_;
    MigrationTimeouts timeouts_;
    std::mutex mutex_;
    std::map<std::string, Tracked> tracked_;  // by UUID
    std::vector<std::thread> background_;      // unattended completions, joined at the end
    std::set<std::string> defined_by_prepare_; // removed again when the migration fails
};

}  // namespace virtkit::qemu
