#include "migration/qmp_migration.hpp"

#include <limits>
#include <thread>
#include <unistd.h>

#include <Poco/JSON/Array.h>

#include <virtkit/error.hpp>
#include <virtkit/plugin.h>

#include "migration/migration_states.hpp"

namespace virtkit::qemu {
namespace {

namespace lm = libvirt_migration;
using P = MigrationPhase;
using Clock = std::chrono::steady_clock;

constexpr auto forever = Clock::time_point::max();

Poco::JSON::Object::Ptr object() { return new Poco::JSON::Object; }

Poco::JSON::Object::Ptr capabilities(bool postcopy)
{
    Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
    for (const auto &[name, on] : {std::pair<const char *, bool>{"events", true}, {"postcopy-ram", postcopy}}) {
        auto cap = object();
        cap->set("capability", std::string(name));
        cap->set("state", on);
        list->add(cap);
    }
    auto args = object();
    args->set("capabilities", list);
    return args;
}

std::uint64_t bytes_of(std::uint64_t mibs)
{
    constexpr std::uint64_t limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    return mibs >= limit / (1024 * 1024) ? limit : mibs * 1024 * 1024;
}

void check_flags(std::uint32_t flags, bool userfaultfd)
{
    if (!(flags & VIRTKIT_MIGRATE_POSTCOPY)) {
        if (flags & VIRTKIT_MIGRATE_POSTCOPY_RESUME)
            throw Error(VIRTKIT_ERR_INVALID_ARG, "--postcopy-resume requires --postcopy");
        return;
    }
    if (!(flags & VIRTKIT_MIGRATE_LIVE) && !(flags & VIRTKIT_MIGRATE_POSTCOPY_RESUME))
        throw Error(VIRTKIT_ERR_INVALID_ARG, "post-copy migration requires --live: a guest that does not run "
                                             "on the destination cannot fault pages in from the source");
    if (flags & VIRTKIT_MIGRATE_TUNNELLED)
        throw Error(VIRTKIT_ERR_INVALID_ARG, "post-copy is not supported with tunnelled migration");
    if (flags & VIRTKIT_MIGRATE_OFFLINE)
        throw Error(VIRTKIT_ERR_INVALID_ARG, "post-copy is not supported with offline migration");
    if (!userfaultfd)
        throw Error(VIRTKIT_ERR_NO_SUPPORT,
                    "post-copy migration needs userfaultfd, which this host lacks (/dev/userfaultfd is missing "
                    "or not accessible)");
}

// The resume phases apply only to a job kept after a broken post-copy.
void check_resumable(const JobSnapshot &job)
{
    if (job.phase == P::postcopy_failed)
        return;
    if (!job.active())
        throw Error(VIRTKIT_ERR_OPERATION_INVALID,
                    "no post-copy migration of this domain is paused: there is nothing to resume");
    if (is_resume_phase(job.phase))
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, std::string("resuming the failed post-copy migration is "
                                                               "already in progress (phase ") +
                                                       to_string(job.phase) + ")");
    throw Error(VIRTKIT_ERR_OPERATION_INVALID, std::string("the migration of this domain is still running (phase ") +
                                                   to_string(job.phase) + "): only a broken post-copy can be resumed");
}

bool ended_badly(JobStatus status) { return status == JobStatus::failed || status == JobStatus::canceled; }

// A resume needs QEMU in postcopy-paused.  Our side may know the link broke
// before its QEMU does (the other side saw it first): give QEMU a moment.
JobSnapshot await_qemu_paused(MigrationJob &job, const std::function<void()> &query, const MigrationTimeouts &t)
{
    query();
    const auto noticing = [](const JobSnapshot &j) {
        return j.qemu_status == QemuMigrationStatus::postcopy_active ||
               j.qemu_status == QemuMigrationStatus::postcopy_recover;
    };
    if (!noticing(job.snapshot()))
        return job.snapshot();
    return job.wait_until([&](const JobSnapshot &j) { return !noticing(j); }, Clock::now() + t.command, query,
                          std::min(t.poll_every, std::chrono::milliseconds(200)));
}

}  // namespace

bool userfaultfd_available(const std::string &device) { return ::access(device.c_str(), R_OK | W_OK) == 0; }

// ---- source ---------------------------------------------------------------

SourceMigration::SourceMigration(QmpClient &monitor, MigrationJob &job, MigrationTimeouts timeouts)
    : monitor_(monitor), job_(job), timeouts_(timeouts)
{
}

void SourceMigration::query()
{
    const std::uint64_t events = job_.events_seen();
    job_.on_query_migrate(monitor_.execute("query-migrate", timeouts_.command).extract<Poco::JSON::Object::Ptr>(),
                          events);
}

void SourceMigration::set_capabilities(bool postcopy)
{
    monitor_.execute("migrate-set-capabilities", capabilities(postcopy), timeouts_.command);
}

void SourceMigration::set_bandwidth(std::uint64_t mibs, std::uint64_t postcopy_mibs)
{
    auto args = object();
    args->set("max-bandwidth", bytes_of(mibs));
    args->set("max-postcopy-bandwidth", postcopy_mibs ? bytes_of(postcopy_mibs) : std::uint64_t{0});
    monitor_.execute("migrate-set-parameters", args, timeouts_.command);
}

void SourceMigration::resume_vcpus()
{
    // QEMU announces `cancelled` before its migration thread has left the
    // finish-migrate run state, and refuses `cont` until it has.
    const auto deadline = Clock::now() + timeouts_.switchover;
    for (;;) {
        const auto status = monitor_.execute("query-status", timeouts_.command).extract<Poco::JSON::Object::Ptr>();
        if (status->optValue<bool>("running", false))
            return;
        if (status->optValue<std::string>("status", "") != "finish-migrate" || Clock::now() >= deadline)
            break;
        std::this_thread::sleep_for(std::min(timeouts_.poll_every, std::chrono::milliseconds(50)));
    }
    monitor_.execute("cont", timeouts_.command);
}

void SourceMigration::begin(std::uint32_t flags, bool userfaultfd)
{
    if (flags & VIRTKIT_MIGRATE_POSTCOPY_RESUME)
        throw Error(VIRTKIT_ERR_INVALID_ARG, "a post-copy resume starts with the resume phases, not Begin");
    check_flags(flags, userfaultfd);
    const JobSnapshot now = job_.snapshot();
    if (now.state != VIRTKIT_DOMAIN_RUNNING && now.state != VIRTKIT_DOMAIN_PAUSED)
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "the domain is not running");
    job_.start(P::begin3, flags);
}

void SourceMigration::perform(const MigrationParams &params)
{
    job_.set_phase(P::perform3);
    const std::uint32_t flags = job_.snapshot().flags;
    const bool postcopy = flags & VIRTKIT_MIGRATE_POSTCOPY;
    try {
        if (params.uri.empty())
            throw Error(VIRTKIT_ERR_INVALID_ARG, "no migration URI: Prepare returns one, or give --migrateuri");
        if (params.bandwidth_mibs)
            job_.set_max_speed(params.bandwidth_mibs, false);
        if (params.postcopy_bandwidth_mibs)
            job_.set_max_speed(params.postcopy_bandwidth_mibs, true);
        set_capabilities(postcopy);
        set_bandwidth(job_.max_speed(false), job_.max_speed(true));
        auto args = object();
        args->set("uri", params.uri);
        monitor_.execute("migrate", args, timeouts_.command);
    } catch (const Error &e) {
        roll_back(JobStatus::failed, e.what());
        throw;
    }
    const JobSnapshot end = job_.wait_until(
        [&](const JobSnapshot &j) {
            return j.status == JobStatus::hypervisor_completed || ended_badly(j.status) ||
                   j.status == JobStatus::postcopy_paused || (postcopy && j.status == JobStatus::postcopy);
        },
        forever, [this] { query(); }, timeouts_.poll_every);
    if (end.status == JobStatus::hypervisor_completed || end.status == JobStatus::postcopy) {
        job_.set_phase(P::perform3_done);
        return;
    }
    // Finish has not been called: the destination never ran, so the
    // source's memory is whole even in post-copy.  Roll back.
    const std::string why = end.status == JobStatus::postcopy_paused
                                ? "the migration connection broke after the switch to post-copy, before the "
                                  "destination started; the migration was cancelled"
                                : std::string("QEMU reports the migration ") + to_string(end.status);
    roll_back(end.status == JobStatus::canceled ? JobStatus::canceled : JobStatus::failed, why);
    throw Error(end.status == JobStatus::canceled ? VIRTKIT_ERR_OPERATION_INVALID : VIRTKIT_ERR_OPERATION_FAILED,
                "migration failed: " + why + "; the domain keeps running on the source");
}

void SourceMigration::roll_back(JobStatus final_status, const std::string &why)
{
    const JobSnapshot now = job_.snapshot();
    const bool migrating = now.qemu_status && (now.status == JobStatus::migrating || now.status == JobStatus::paused ||
                                               now.status == JobStatus::postcopy || now.status == JobStatus::postcopy_recover ||
                                               now.status == JobStatus::postcopy_paused);
    if (migrating) {
        try {
            monitor_.execute("migrate_cancel", timeouts_.command);
        } catch (const Error &) {
            // cancelling what has already ended is not a failure
        }
        job_.wait_until([](const JobSnapshot &j) {
            return ended_badly(j.status) || j.status == JobStatus::none || j.status == JobStatus::hypervisor_completed;
        },
                        Clock::now() + timeouts_.switchover, [this] { query(); }, timeouts_.poll_every);
    }
    // A domain paused before the migration stays paused.
    if (now.running_at_start)
        resume_vcpus();
    // A source that never stopped changes nothing (no event); one paused
    // by the migration is running again, as libvirt reports it.
    if (now.running_at_start && now.state != VIRTKIT_DOMAIN_RUNNING)
        job_.set_domain_state(VIRTKIT_DOMAIN_RUNNING, lm::running_migration_canceled, VIRTKIT_EVENT_RESUMED,
                              lm::resumed_migrated);
    job_.finish_job(final_status, why);
}

void SourceMigration::start_postcopy()
{
    const JobSnapshot now = job_.snapshot();
    if (!now.active() || job_.side() != MigrationSide::source)
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "no outgoing migration is running for this domain");
    if (!(now.flags & VIRTKIT_MIGRATE_POSTCOPY))
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "the migration was not started with --postcopy");
    if (now.phase != P::perform3)
        throw Error(VIRTKIT_ERR_OPERATION_INVALID,
                    std::string("cannot switch to post-copy in phase ") + to_string(now.phase));
    if (now.postcopy_started)
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "the migration is already in post-copy mode");
    monitor_.execute("migrate-start-postcopy", timeouts_.command);
}

void SourceMigration::abort(std::uint32_t flags)
{
    const JobSnapshot now = job_.snapshot();
    if (!now.active())
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "no migration job is running for this domain");
    if (flags & VIRTKIT_ABORT_JOB_POSTCOPY) {
        if (now.status != JobStatus::postcopy)
            throw Error(VIRTKIT_ERR_OPERATION_INVALID,
                        "the migration is not in post-copy mode: there is no post-copy to pause");
        monitor_.execute("migrate-pause", timeouts_.command);
        // migrate-pause only shuts the stream down; QEMU's migration thread
        // (which may sleep in the bandwidth limit) moves postcopy-active ->
        // postcopy-paused later.  Return once it has, so a resume that
        // follows at once finds it paused (issue #4).
        const JobSnapshot paused = job_.wait_until(
            [](const JobSnapshot &j) { return j.status != JobStatus::postcopy; },
            Clock::now() + timeouts_.switchover, [this] { query(); }, timeouts_.poll_every);
        if (paused.status == JobStatus::postcopy_paused)
            return;
        if (paused.status == JobStatus::postcopy)
            throw Error(VIRTKIT_ERR_TIMEOUT, "QEMU accepted migrate-pause but did not pause the migration within " +
                                                 std::to_string(timeouts_.switchover.count() / 1000.0) + " s");
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, std::string("the migration could not be paused: QEMU reports it ") +
                                                       to_string(paused.status));
    }
    if (now.completed_unconfirmed) {
        // The user's decision after a restart (see MigrationJob::restore):
        // the destination's copy never ran, keep the guest here.
        roll_back(JobStatus::canceled, "aborted after the managing process restarted; the destination never ran");
        return;
    }
    if (now.postcopy_started)
        throw Error(VIRTKIT_ERR_OPERATION_INVALID,
                    "cannot abort migration in post-copy mode (domjobabort --postcopy pauses it)");
    if (now.phase == P::begin3) {
        job_.finish_job(JobStatus::canceled, "cancelled before QEMU started migrating");
        return;
    }
    monitor_.execute("migrate_cancel", timeouts_.command);  // Perform's wait rolls back
}

SourceMigration::ConfirmResult SourceMigration::confirm(bool cancelled, const std::function<void()> &stop_qemu,
                                                        bool destination_never_ran)
{
    const JobSnapshot now = job_.snapshot();
    if (!now.active()) {
        if (cancelled)
            return ConfirmResult::rolled_back;  // Perform already rolled back
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "no outgoing migration is running for this domain");
    }
    const bool resume = now.phase == P::perform_resume;
    if (now.phase != P::perform3_done && !resume && !cancelled)
        check_phase_order(MigrationSide::source, now.phase, P::confirm3);
    query();
    JobSnapshot status = job_.snapshot();
    const bool forced = cancelled && status.postcopy_started && status.status == JobStatus::hypervisor_completed;
    if (!cancelled || forced) {
        // Finish failed, but QEMU completed the post-copy: the guest runs
        // there with all its memory, so this is a completed migration.
        job_.set_phase(resume ? P::confirm_resume : P::confirm3);
        status = job_.wait_until([](const JobSnapshot &j) { return j.status == JobStatus::hypervisor_completed; },
                                 Clock::now() + timeouts_.confirm_completion, [this] { query(); },
                                 timeouts_.poll_every);
        if (status.status == JobStatus::hypervisor_completed) {
            stop_qemu();
            job_.set_domain_state(VIRTKIT_DOMAIN_SHUTOFF, lm::shutoff_migrated, VIRTKIT_EVENT_STOPPED,
                                  lm::stopped_migrated);
            job_.finish_job(JobStatus::completed);
            return ConfirmResult::completed;
        }
        if (!status.postcopy_started) {
            roll_back(JobStatus::failed, "QEMU did not complete the migration");
            return ConfirmResult::rolled_back;
        }
        job_.set_phase(P::postcopy_failed);
        job_.mark_postcopy_broken();
        return ConfirmResult::postcopy_failed;
    }
    if (status.postcopy_started && !destination_never_ran) {
        // Memory is split between the hosts: keep both, wait for a resume.
        if (status.phase != P::postcopy_failed)
            job_.set_phase(P::postcopy_failed);
        job_.mark_postcopy_broken();
        return ConfirmResult::postcopy_failed;
    }
    if (!resume && phase_may_follow(MigrationSide::source, status.phase, P::confirm3_cancelled))
        job_.set_phase(P::confirm3_cancelled);
    roll_back(JobStatus::canceled, "the destination failed to finish the migration");
    return ConfirmResult::rolled_back;
}

void SourceMigration::begin_resume(std::uint32_t flags)
{
    if (!(flags & VIRTKIT_MIGRATE_POSTCOPY))
        throw Error(VIRTKIT_ERR_INVALID_ARG, "--postcopy-resume requires --postcopy");
    check_resumable(job_.snapshot());
    const JobSnapshot now = await_qemu_paused(job_, [this] { query(); }, timeouts_);
    if (now.qemu_status != QemuMigrationStatus::postcopy_paused)
        throw Error(VIRTKIT_ERR_OPERATION_INVALID,
                    std::string("QEMU reports the migration is not paused (status ") +
                        (now.qemu_status ? to_string(*now.qemu_status) : "none") + "): nothing to resume");
    job_.set_phase(P::begin_resume);
}

void SourceMigration::perform_resume(const MigrationParams &params)
{
    job_.set_phase(P::perform_resume);
    job_.begin_recovery_attempt();
    try {
        if (params.uri.empty())
            throw Error(VIRTKIT_ERR_INVALID_ARG, "no migration URI for the resume");
        if (params.bandwidth_mibs || params.postcopy_bandwidth_mibs) {
            if (params.bandwidth_mibs)
                job_.set_max_speed(params.bandwidth_mibs, false);
            if (params.postcopy_bandwidth_mibs)
                job_.set_max_speed(params.postcopy_bandwidth_mibs, true);
            set_bandwidth(job_.max_speed(false), job_.max_speed(true));
        }
        auto args = object();
        args->set("uri", params.uri);
        args->set("resume", true);
        monitor_.execute("migrate", args, timeouts_.command);
    } catch (const Error &) {
        job_.set_phase(P::postcopy_failed);
        throw;
    }
    // The seed rule: only postcopy-active proves the destination has left
    // postcopy-paused; postcopy-recover is not the end of this phase.
    const JobSnapshot end = job_.wait_until(
        [](const JobSnapshot &j) {
            return j.status == JobStatus::postcopy || j.status == JobStatus::hypervisor_completed ||
                   (j.recovery_seen && j.status == JobStatus::postcopy_paused);
        },
        Clock::now() + timeouts_.recovery_start, [this] { query(); }, timeouts_.poll_every);
    if (end.status == JobStatus::postcopy || end.status == JobStatus::hypervisor_completed)
        return;
    job_.set_phase(P::postcopy_failed);
    job_.mark_postcopy_broken();
    const auto seconds = std::to_string(timeouts_.recovery_start.count() / 1000.0);
    if (end.recovery_seen && end.status == JobStatus::postcopy_paused)
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, "post-copy recovery failed: QEMU went back to postcopy-paused");
    if (end.recovery_seen)
        throw Error(VIRTKIT_ERR_TIMEOUT, "post-copy recovery connected but did not become active within " + seconds +
                                             " s; the migration is kept paused");
    throw Error(VIRTKIT_ERR_TIMEOUT, "post-copy recovery did not start within " + seconds +
                                         " s: QEMU still reports postcopy-paused (QEMU before 9.1 reports a failed "
                                         "recovery connection only this way); the migration is kept paused");
}

void SourceMigration::set_max_speed(std::uint64_t mibs, bool postcopy)
{
    job_.set_max_speed(mibs, postcopy);
    const JobSnapshot now = job_.snapshot();
    if (now.phase == P::perform3 || now.phase == P::perform_resume)
        set_bandwidth(job_.max_speed(false), job_.max_speed(true));
}

// ---- destination ----------------------------------------------------------

DestinationMigration::DestinationMigration(QmpClient &monitor, MigrationJob &job, MigrationTimeouts timeouts)
    : monitor_(monitor), job_(job), timeouts_(timeouts)
{
}

void DestinationMigration::query()
{
    const std::uint64_t events = job_.events_seen();
    job_.on_query_migrate(monitor_.execute("query-migrate", timeouts_.command).extract<Poco::JSON::Object::Ptr>(),
                          events);
}

void DestinationMigration::prepare(std::uint32_t flags, bool userfaultfd, const std::string &uri)
{
    if (flags & VIRTKIT_MIGRATE_POSTCOPY_RESUME)
        throw Error(VIRTKIT_ERR_INVALID_ARG, "a post-copy resume is prepared with prepare_resume");
    check_flags(flags, userfaultfd);
    job_.start(P::prepare, flags);
    job_.set_domain_state(VIRTKIT_DOMAIN_PAUSED, lm::paused_migration, VIRTKIT_EVENT_STARTED, lm::started_migrated);
    try {
        monitor_.execute("migrate-set-capabilities", capabilities(flags & VIRTKIT_MIGRATE_POSTCOPY),
                         timeouts_.command);
        auto args = object();
        args->set("uri", uri);
        monitor_.execute("migrate-incoming", args, timeouts_.command);
    } catch (const Error &e) {
        job_.finish_job(JobStatus::failed, e.what());
        throw;
    }
}

void DestinationMigration::start_vcpus()
{
    monitor_.execute("cont", timeouts_.command);
    job_.mark_destination_started();
}

void DestinationMigration::finish(bool cancelled, const std::function<void()> &kill_qemu)
{
    const JobSnapshot now = job_.snapshot();
    if (!now.active())
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "no incoming migration is running for this domain");
    if (cancelled) {
        if (now.destination_started || now.phase != P::prepare)
            throw Error(VIRTKIT_ERR_OPERATION_INVALID,
                        std::string("cannot cancel the incoming migration in phase ") + to_string(now.phase));
        kill_qemu();
        job_.set_domain_state(VIRTKIT_DOMAIN_SHUTOFF, lm::shutoff_failed, VIRTKIT_EVENT_STOPPED, lm::stopped_failed);
        job_.finish_job(JobStatus::canceled, "the source cancelled the migration");
        return;
    }
    job_.set_phase(P::finish3);
    const bool postcopy = now.flags & VIRTKIT_MIGRATE_POSTCOPY;
    JobSnapshot end = job_.wait_until(
        [&](const JobSnapshot &j) {
            return j.status == JobStatus::hypervisor_completed || ended_badly(j.status) ||
                   j.status == JobStatus::postcopy_paused || (postcopy && j.status == JobStatus::postcopy);
        },
        Clock::now() + timeouts_.switchover, [this] { query(); }, timeouts_.poll_every);

    if (end.status == JobStatus::postcopy_paused) {
        // Post-copy started, the guest never ran here, the stream broke.  The
        // source still holds the guest; nothing is killed: resume or cancel.
        job_.set_phase(P::postcopy_failed);
        job_.mark_postcopy_broken();
        throw Error(VIRTKIT_ERR_OPERATION_FAILED,
                    "the migration connection broke in post-copy before the guest started here; both hosts keep "
                    "the domain (recover with migrate --postcopy --postcopy-resume)");
    }
    if (end.status != JobStatus::hypervisor_completed && end.status != JobStatus::postcopy) {
        const std::string why = ended_badly(end.status)
                                    ? std::string("QEMU reports the incoming migration ") + to_string(end.status)
                                    : "the incoming migration did not reach the switchover in time";
        kill_qemu();
        job_.set_domain_state(VIRTKIT_DOMAIN_SHUTOFF, lm::shutoff_failed, VIRTKIT_EVENT_STOPPED, lm::stopped_failed);
        job_.finish_job(JobStatus::failed, why);
        throw Error(VIRTKIT_ERR_OPERATION_FAILED,
                    "migration failed before the guest started on the destination: " + why +
                        "; the destination was cleaned up (confirm-cookie={\"destination_started\":false})");
    }
    if (!postcopy && (now.flags & VIRTKIT_MIGRATE_PAUSED)) {
        // --suspend, or a source that was paused: it stays paused here
        job_.set_domain_state(VIRTKIT_DOMAIN_PAUSED, lm::paused_user, VIRTKIT_EVENT_SUSPENDED, lm::suspended_paused);
        job_.finish_job(JobStatus::completed);
        return;
    }
    start_vcpus();
    if (job_.snapshot().status == JobStatus::hypervisor_completed) {
        job_.set_domain_state(VIRTKIT_DOMAIN_RUNNING, lm::running_migrated, VIRTKIT_EVENT_RESUMED,
                              lm::resumed_migrated);
        job_.finish_job(JobStatus::completed);
        return;
    }
    job_.set_domain_state(VIRTKIT_DOMAIN_RUNNING, lm::running_postcopy, VIRTKIT_EVENT_RESUMED, lm::resumed_postcopy);
    // From here on the guest runs here with pages on the source: never kill.
    try {
        end = job_.wait_until(
            [](const JobSnapshot &j) {
                return j.status == JobStatus::hypervisor_completed || j.status == JobStatus::postcopy_paused ||
                       ended_badly(j.status);
            },
            forever, [this] { query(); }, timeouts_.poll_every);
    } catch (const Error &) {
        // We lost sight of QEMU, not the migration: leave it unattended;
        // a later `completed` completes the job.
        job_.set_phase(P::postcopy_failed);
        throw;
    }
    if (end.status == JobStatus::hypervisor_completed) {
        job_.set_domain_state(VIRTKIT_DOMAIN_RUNNING, lm::running_migrated, VIRTKIT_EVENT_RESUMED,
                              lm::resumed_migrated);
        job_.finish_job(JobStatus::completed);
        return;
    }
    job_.set_phase(P::postcopy_failed);
    job_.mark_postcopy_broken();
    throw Error(VIRTKIT_ERR_OPERATION_FAILED,
                "post-copy migration broke; the domain keeps running here and stays paused on the source "
                "(recover with migrate --postcopy --postcopy-resume)");
}

void DestinationMigration::prepare_resume(std::uint32_t flags, const std::string &uri)
{
    if (!(flags & VIRTKIT_MIGRATE_POSTCOPY))
        throw Error(VIRTKIT_ERR_INVALID_ARG, "--postcopy-resume requires --postcopy");
    check_resumable(job_.snapshot());
    const JobSnapshot now = await_qemu_paused(job_, [this] { query(); }, timeouts_);
    if (now.qemu_status != QemuMigrationStatus::postcopy_paused)
        throw Error(VIRTKIT_ERR_OPERATION_INVALID,
                    std::string("QEMU reports the incoming migration is not paused (status ") +
                        (now.qemu_status ? to_string(*now.qemu_status) : "none") + "): nothing to resume");
    job_.set_phase(P::prepare_resume);
    job_.begin_recovery_attempt();
    try {
        auto args = object();
        args->set("uri", uri);
        monitor_.execute("migrate-recover", args, timeouts_.command);
    } catch (const Error &) {
        job_.set_phase(P::postcopy_failed);
        throw;
    }
}

void DestinationMigration::finish_resume(bool cancelled)
{
    const JobSnapshot now = job_.snapshot();
    if (now.phase != P::prepare_resume)
        check_phase_order(MigrationSide::destination, now.phase, P::finish_resume);
    if (cancelled) {
        job_.set_phase(P::postcopy_failed);
        return;
    }
    job_.set_phase(P::finish_resume);
    // A postcopy-paused read before recovery started is stale (the seed
    // race), not a failure: wait for recovery to start, within a bound.
    JobSnapshot end = job_.wait_until(
        [](const JobSnapshot &j) { return j.recovery_seen || j.status == JobStatus::hypervisor_completed; },
        Clock::now() + timeouts_.recovery_start, [this] { query(); }, timeouts_.poll_every);
    if (!end.recovery_seen && end.status != JobStatus::hypervisor_completed) {
        job_.set_phase(P::postcopy_failed);
        job_.mark_postcopy_broken();
        throw Error(VIRTKIT_ERR_TIMEOUT, "post-copy recovery did not reach the destination within " +
                                             std::to_string(timeouts_.recovery_start.count() / 1000.0) +
                                             " s; the migration is kept paused");
    }
    if (!end.destination_started) {
        start_vcpus();
        job_.set_domain_state(VIRTKIT_DOMAIN_RUNNING,
                              end.status == JobStatus::hypervisor_completed ? lm::running_migrated
                                                                            : lm::running_postcopy,
                              VIRTKIT_EVENT_RESUMED,
                              end.status == JobStatus::hypervisor_completed ? lm::resumed_migrated
                                                                            : lm::resumed_postcopy);
    }
    end = job_.wait_until(
        [](const JobSnapshot &j) {
            return j.status == JobStatus::hypervisor_completed ||
                   (j.recovery_seen && j.status == JobStatus::postcopy_paused) || ended_badly(j.status);
        },
        forever, [this] { query(); }, timeouts_.poll_every);
    if (end.status == JobStatus::hypervisor_completed) {
        job_.set_domain_state(VIRTKIT_DOMAIN_RUNNING, lm::running_migrated, VIRTKIT_EVENT_RESUMED,
                              lm::resumed_migrated);
        job_.finish_job(JobStatus::completed);
        return;
    }
    job_.set_phase(P::postcopy_failed);
    job_.mark_postcopy_broken();
    throw Error(VIRTKIT_ERR_OPERATION_FAILED, "post-copy migration broke again during the resume; the domain is "
                                              "kept on both hosts");
}

}  // namespace virtkit::qemu
