// One domain's migration job on one host, as pure logic: no QMP, no process.
//
// Fed by QEMU's MIGRATION statuses (events and query-migrate replies alike,
// in any order, duplicated or late), by the vCPU STOP event and by the steps
// in qmp_migration.hpp, it keeps the phase, the job status, libvirt's domain
// state/reason while a migration owns the domain, and emits a lifecycle
// event for every change, substate-only changes included.  A waiting step
// blocks in wait_until(); every input wakes it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include <Poco/JSON/Object.h>

#include "migration/migration_phase.hpp"
#include "migration/migration_status.hpp"

namespace virtkit::qemu {

struct DomainStateChange {
    std::int32_t state = 0;   // VIRTKIT_DOMAIN_*
    std::int32_t reason = 0;  // libvirt's per-state reason
    std::int32_t event = 0;   // VIRTKIT_EVENT_*
    std::int32_t detail = 0;  // libvirt's per-event detail
};

// query-migrate's counters, kept for domjobinfo.
struct MigrationStats {
    std::int64_t total_time_ms = 0, setup_time_ms = 0, downtime_ms = -1, expected_downtime_ms = -1;
    std::uint64_t transferred = 0, remaining = 0, total = 0, dirty_rate = 0, iterations = 0;
    std::uint64_t postcopy_requests = 0, page_size = 0;
    double mbps = 0;
    std::string error;  // error-desc
};

// What a step or the restart logic sees, copied out under the lock.
struct JobSnapshot {
    MigrationSide side = MigrationSide::source;
    MigrationPhase phase = MigrationPhase::none;
    JobStatus status = JobStatus::none;
    std::optional<QemuMigrationStatus> qemu_status;
    std::uint32_t flags = 0;
    bool postcopy_started = false;     // QEMU entered post-copy in this job
    bool destination_started = false;  // destination vCPUs ran (Finish's cont)
    bool recovery_seen = false;        // recover-setup/recover/active since this resume began
    bool postcopy_broken = false;      // libvirt's asyncPaused: kept alive, waiting for a resume
    bool running_at_start = false;     // a rollback resumes only a domain that ran
    // Restored after a restart: QEMU completed the stream but Perform never
    // returned (its manager died), so no Finish ran or will run.  Whether the
    // destination is gone is unknown here: the source stays paused until
    // Confirm or domjobabort decides (never resumed blindly).
    bool completed_unconfirmed = false;
    std::int32_t state = 0, reason = 0;
    std::uint64_t inputs = 0;          // counts every input; lets a waiter see "something happened"
    bool active() const { return phase != MigrationPhase::none; }
};

// What a restarted process must do with a job re-derived from its saved
// phase and QEMU's current status.
enum class RestartAction {
    nothing,              // no job was running
    drop_job,             // nothing happened yet (begin3): forget it
    cancel_and_resume,    // source before the destination ran: roll back
    kill_destination,     // incoming QEMU that never ran: clean it up
    complete,             // QEMU says completed: finish the job (source: stop QEMU)
    keep_unattended,      // post-copy still running: leave it, complete on `completed`
    keep_postcopy_failed, // broken post-copy: keep both sides, wait for a resume
    wait_for_confirm,     // QEMU completed, the destination's fate unknown: stay paused for Confirm/domjobabort
};
const char *to_string(RestartAction action);

class MigrationJob {
public:
    using Listener = std::function<void(const DomainStateChange &)>;

    // `state`/`reason`: the domain's state before any migration.
    MigrationJob(MigrationSide side, std::int32_t state, std::int32_t reason, Listener listener = {});
    MigrationJob(const MigrationJob &) = delete;
    MigrationJob &operator=(const MigrationJob &) = delete;

    MigrationSide side() const { return side_; }
    JobSnapshot snapshot() const;

    // Starts a job at `first` (begin3 on the source, prepare on the
    // destination).  A second job while one is active is refused at once,
    // and so is a broken post-copy job: it can only be resumed.
    void start(MigrationPhase first, std::uint32_t flags);
    // Moves to `next`, or throws (see check_phase_order).  Then persists.
    void set_phase(MigrationPhase next);
    // Called (no lock held, on the step's thread) after each phase change and
    // mark_destination_started, so what a restart re-derives from is saved
    // before the step goes on to QEMU: a manager killed inside Perform must
    // leave "perform3" behind, not "begin3" (libvirt saves at each phase too).
    void set_persist(std::function<void()> persist);
    // Ends the job; the last status is kept for domjobinfo --completed.
    void finish_job(JobStatus final_status, const std::string &error = {});

    // Inputs from QEMU.  Returns true when a migration that nobody is
    // waiting for (an unattended post-copy) just completed: the caller must
    // complete it (on the source: stop QEMU).
    bool on_qemu_status(QemuMigrationStatus status);
    // A query-migrate reply (status + stats).  Its status is dropped when a
    // MIGRATION event arrived after the query was sent (`events_before` is
    // events_seen() from then): the event is newer.  Returns as above.
    bool on_query_migrate(const Poco::JSON::Object::Ptr &reply, std::uint64_t events_before);
    std::uint64_t events_seen() const;
    // MIGRATION events go here (counted, then as on_qemu_status).
    bool on_migration_event(QemuMigrationStatus status);
    // The vCPUs stopped (QEMU's STOP).  True when that was the migration's
    // doing (the source's switchover, or an incoming QEMU that never ran):
    // the job set the state and announced it.  False: the driver handles it
    // as any pause and reports the result with observe_domain_state.
    bool on_vcpus_stopped();
    // A state the driver set for reasons of its own (a pause on an I/O
    // error): recorded without an event, so a post-copy failure keeps it.
    void observe_domain_state(std::int32_t state, std::int32_t reason);

    // Inputs from the steps.
    void set_domain_state(std::int32_t state, std::int32_t reason, std::int32_t event, std::int32_t detail);
    void mark_destination_started();
    void begin_recovery_attempt();   // resets recovery_seen
    void mark_postcopy_broken();     // both sides: the libvirt "post-copy failed" state

    // Blocks until `done(snapshot)` or the deadline; returns the last
    // snapshot either way.  `poll`, if set, runs every `poll_every` without
    // the lock held (query-migrate: QEMU 7.2 is silent on some failures).
    JobSnapshot wait_until(const std::function<bool(const JobSnapshot &)> &done,
                           std::chrono::steady_clock::time_point deadline,
                           const std::function<void()> &poll = {},
                           std::chrono::milliseconds poll_every = std::chrono::milliseconds(200));

    // A restarted process re-derives the job: phase and flags from the live
    // state it saved, QEMU's current status from query-migrate.
    RestartAction restore(MigrationPhase saved_phase, std::uint32_t flags, bool destination_started,
                          QemuMigrationStatus qemu_status);

    // migrate-setspeed / migrate-getspeed, in MiB/s (libvirt's "unlimited" by default).
    static constexpr std::uint64_t unlimited_speed_mibs = 8796093022207ULL;  // INT64_MAX bytes in MiB
    void set_max_speed(std::uint64_t mibs, bool postcopy);
    std::uint64_t max_speed(bool postcopy) const;

    // domain_get_job_stats' JSON object (libvirt's VIR_DOMAIN_JOB_* keys).
    std::string stats_json(bool completed_job) const;
    // What must survive a restart, as one JSON object; and back.
    std::string saved_state() const;
    struct Saved {
        MigrationSide side = MigrationSide::source;
        MigrationPhase phase = MigrationPhase::none;
        std::uint32_t flags = 0;
        bool destination_started = false;
    };
    static Saved parse_saved_state(const std::string &json);

private:
    // on_qemu_status, or with `events_before`: dropped if an event came since.
    bool apply_status(QemuMigrationStatus status, std::optional<std::uint64_t> events_before);
    void change_state_locked(std::int32_t state, std::int32_t reason, std::int32_t event, std::int32_t detail);
    void postcopy_failed_locked();
    void touched_locked();
    void deliver();
    std::string stats_json_locked(const JobSnapshot &job, const MigrationStats &stats, bool ended) const;

    const MigrationSide side_;
    Listener listener_;
    std::function<void()> persist_;  // set once, before any step runs

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    JobSnapshot job_;
    MigrationStats stats_;
    std::chrono::steady_clock::time_point started_at_{};
    std::deque<DomainStateChange> undelivered_;
    // last finished job, for domjobinfo --completed
    std::optional<std::pair<JobSnapshot, MigrationStats>> last_;
    std::int64_t last_elapsed_ms_ = 0;
    std::uint64_t max_speed_mibs_ = unlimited_speed_mibs;
    std::uint64_t postcopy_speed_mibs_ = 0;
    std::uint64_t events_ = 0;  // 0: QEMU's "no separate limit"

    std::mutex delivery_mutex_;  // keeps lifecycle events in order across threads
};

}  // namespace virtkit::qemu
