#include "migration/migration_job.hpp"

#include <sstream>

#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <virtkit/error.hpp>
#include <virtkit/plugin.h>

#include "migration/migration_states.hpp"

namespace virtkit::qemu {
namespace {

namespace lm = libvirt_migration;
using P = MigrationPhase;
using Q = QemuMigrationStatus;

template <typename T>
T number_or(const Poco::JSON::Object::Ptr &object, const std::string &key, T fallback)
{
    if (!object || !object->has(key))
        return fallback;
    try {
        return object->getValue<T>(key);
    } catch (const Poco::Exception &) {
        return fallback;
    }
}

bool is_postcopy_reason(std::int32_t state, std::int32_t reason)
{
    return (state == VIRTKIT_DOMAIN_PAUSED &&
            (reason == lm::paused_postcopy || reason == lm::paused_postcopy_failed || reason == lm::paused_migration)) ||
           (state == VIRTKIT_DOMAIN_RUNNING && (reason == lm::running_postcopy || reason == lm::running_postcopy_failed));
}

}  // namespace

const char *to_string(RestartAction action)
{
    switch (action) {
    case RestartAction::nothing: return "nothing";
    case RestartAction::drop_job: return "drop-job";
    case RestartAction::cancel_and_resume: return "cancel-and-resume";
    case RestartAction::kill_destination: return "kill-destination";
    case RestartAction::complete: return "complete";
    case RestartAction::keep_unattended: return "keep-unattended";
    case RestartAction::keep_postcopy_failed: return "keep-postcopy-failed";
    case RestartAction::wait_for_confirm: return "wait-for-confirm";
    }
    return "unknown";
}

MigrationJob::MigrationJob(MigrationSide side, std::int32_t state, std::int32_t reason, Listener listener)
    : side_(side), listener_(std::move(listener))
{
    job_.side = side;
    job_.state = state;
    job_.reason = reason;
}

JobSnapshot MigrationJob::snapshot() const
{
    const std::lock_guard lock(mutex_);
    return job_;
}

void MigrationJob::touched_locked()
{
    ++job_.inputs;
    changed_.notify_all();
}

void MigrationJob::deliver()
{
    const std::lock_guard order(delivery_mutex_);
    for (;;) {
        DomainStateChange change;
        {
            const std::lock_guard lock(mutex_);
            if (undelivered_.empty())
                return;
            change = undelivered_.front();
            undelivered_.pop_front();
        }
        if (listener_)
            listener_(change);
    }
}

void MigrationJob::change_state_locked(std::int32_t state, std::int32_t reason, std::int32_t event, std::int32_t detail)
{
    if (job_.state == state && job_.reason == reason)
        return;  // a duplicate or late input changes nothing and says nothing
    job_.state = state;
    job_.reason = reason;
    undelivered_.push_back({state, reason, event, detail});
}

void MigrationJob::start(MigrationPhase first, std::uint32_t flags)
{
    {
        const std::lock_guard lock(mutex_);
        if (job_.phase == P::postcopy_failed)
            throw Error(VIRTKIT_ERR_OPERATION_INVALID,
                        "a broken post-copy migration of this domain is waiting to be resumed "
                        "(migrate --postcopy --postcopy-resume)");
        if (job_.completed_unconfirmed)
            throw Error(VIRTKIT_ERR_OPERATION_INVALID,
                        "the previous migration of this domain completed in QEMU, but its managing process died "
                        "before the destination was started or cancelled; the domain stays paused here until "
                        "'domjobabort' resumes it here (the destination's copy never ran) or 'destroy' stops it");
        if (job_.active())
            throw Error(VIRTKIT_ERR_OPERATION_INVALID, std::string("another migration job is already running "
                                                                   "for this domain (phase ") +
                                                           to_string(job_.phase) + ")");
        check_phase_order(side_, P::none, first);
        const std::int32_t state = job_.state, reason = job_.reason;
        job_ = JobSnapshot{};
        job_.side = side_;
        job_.state = state;
        job_.reason = reason;
        job_.phase = first;
        job_.flags = flags;
        job_.running_at_start = state == VIRTKIT_DOMAIN_RUNNING;
        job_.status = JobStatus::migrating;
        stats_ = MigrationStats{};
        started_at_ = std::chrono::steady_clock::now();
        touched_locked();
    }
}

void MigrationJob::set_phase(MigrationPhase next)
{
    {
        const std::lock_guard lock(mutex_);
        check_phase_order(side_, job_.phase, next);
        job_.phase = next;
        touched_locked();
    }
    if (persist_)
        persist_();
}

void MigrationJob::set_persist(std::function<void()> persist) { persist_ = std::move(persist); }

void MigrationJob::finish_job(JobStatus final_status, const std::string &error)
{
    {
        const std::lock_guard lock(mutex_);
        if (!job_.active())
            return;
        job_.status = final_status;
        if (!error.empty())
            stats_.error = error;
        last_elapsed_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - started_at_)
                               .count();
        last_ = std::make_pair(job_, stats_);
        job_.phase = P::none;
        job_.postcopy_broken = false;
        job_.completed_unconfirmed = false;
        touched_locked();
    }
    deliver();
}

void MigrationJob::postcopy_failed_locked()
{
    const bool already = job_.postcopy_broken;
    job_.postcopy_broken = true;
    if (side_ == MigrationSide::source) {
        change_state_locked(VIRTKIT_DOMAIN_PAUSED, lm::paused_postcopy_failed, VIRTKIT_EVENT_SUSPENDED,
                            lm::suspended_postcopy_failed);
    } else if (job_.state == VIRTKIT_DOMAIN_RUNNING) {
        change_state_locked(VIRTKIT_DOMAIN_RUNNING, lm::running_postcopy_failed, VIRTKIT_EVENT_RESUMED,
                            lm::resumed_postcopy_failed);
    } else if (job_.state == VIRTKIT_DOMAIN_PAUSED && is_postcopy_reason(job_.state, job_.reason)) {
        change_state_locked(VIRTKIT_DOMAIN_PAUSED, lm::paused_postcopy_failed, VIRTKIT_EVENT_SUSPENDED,
                            lm::suspended_postcopy_failed);
    } else if (!already) {
        // paused for another reason (an I/O error): keep it, only say so
        undelivered_.push_back({job_.state, job_.reason, VIRTKIT_EVENT_SUSPENDED, lm::suspended_postcopy_failed});
    }
}

void MigrationJob::mark_postcopy_broken()
{
    {
        const std::lock_guard lock(mutex_);
        postcopy_failed_locked();
        touched_locked();
    }
    deliver();
}

bool MigrationJob::on_qemu_status(QemuMigrationStatus status) { return apply_status(status, std::nullopt); }

bool MigrationJob::apply_status(QemuMigrationStatus status, std::optional<std::uint64_t> events_before)
{
    bool complete_unattended = false;
    {
        const std::lock_guard lock(mutex_);
        // Checked under the same lock that applies it: an event counted
        // between a separate check and the update would be overwritten by
        // this older reply (the job's view would go stale).
        if (events_before && events_ != *events_before)
            return false;  // overtaken by an event: that one is newer
        job_.qemu_status = status;
        touched_locked();
        if (!job_.active())
            return false;  // a late event of a finished job
        job_.status = job_status_of(status, job_.status);
        const bool resuming = is_resume_phase(job_.phase);
        const bool source = side_ == MigrationSide::source;
        switch (status) {
        case Q::postcopy_active:
        case Q::postcopy_recover_setup:
        case Q::postcopy_recover:
            job_.postcopy_started = true;
            if (resuming || job_.phase == P::postcopy_failed)
                job_.recovery_seen = true;
            job_.postcopy_broken = false;
            if (source)
                change_state_locked(VIRTKIT_DOMAIN_PAUSED, lm::paused_postcopy, VIRTKIT_EVENT_SUSPENDED,
                                    lm::suspended_postcopy);
            else if (job_.destination_started && job_.state == VIRTKIT_DOMAIN_RUNNING)
                change_state_locked(VIRTKIT_DOMAIN_RUNNING, lm::running_postcopy, VIRTKIT_EVENT_RESUMED,
                                    lm::resumed_postcopy);
            break;
        case Q::postcopy_paused:
            job_.postcopy_started = true;
            // A resume that has not yet seen recovery start reads a stale
            // pause (the seed race): not news, and not a failure.
            if (resuming && !job_.recovery_seen)
                break;
            postcopy_failed_locked();
            break;
        case Q::completed:
            job_.postcopy_broken = false;
            if (!source && job_.destination_started)
                change_state_locked(VIRTKIT_DOMAIN_RUNNING, lm::running_migrated, VIRTKIT_EVENT_RESUMED,
                                    lm::resumed_migrated);
            complete_unattended = job_.phase == P::postcopy_failed;
            break;
        case Q::failed:
        case Q::cancelled:
            // QEMU does not fail a post-copy it can pause; if it ever does,
            // the memory is still split: keep both sides.
            if (job_.postcopy_started && job_.destination_started)
                postcopy_failed_locked();
            break;
        default: break;
        }
    }
    deliver();
    return complete_unattended;
}

std::uint64_t MigrationJob::events_seen() const
{
    const std::lock_guard lock(mutex_);
    return events_;
}

bool MigrationJob::on_migration_event(QemuMigrationStatus status)
{
    {
        const std::lock_guard lock(mutex_);
        ++events_;
    }
    return on_qemu_status(status);
}

bool MigrationJob::on_query_migrate(const Poco::JSON::Object::Ptr &reply, std::uint64_t events_before)
{
    if (!reply)
        return false;
    {
        const std::lock_guard lock(mutex_);
        if (job_.active()) {
            stats_.total_time_ms = number_or<std::int64_t>(reply, "total-time", stats_.total_time_ms);
            stats_.setup_time_ms = number_or<std::int64_t>(reply, "setup-time", stats_.setup_time_ms);
            stats_.downtime_ms = number_or<std::int64_t>(reply, "downtime", stats_.downtime_ms);
            stats_.expected_downtime_ms = number_or<std::int64_t>(reply, "expected-downtime", stats_.expected_downtime_ms);
            stats_.error = reply->has("error-desc") ? reply->getValue<std::string>("error-desc") : stats_.error;
            const auto ram = reply->getObject("ram");
            if (ram) {
                stats_.transferred = number_or<std::uint64_t>(ram, "transferred", stats_.transferred);
                stats_.remaining = number_or<std::uint64_t>(ram, "remaining", stats_.remaining);
                stats_.total = number_or<std::uint64_t>(ram, "total", stats_.total);
                stats_.dirty_rate = number_or<std::uint64_t>(ram, "dirty-pages-rate", stats_.dirty_rate);
                stats_.iterations = number_or<std::uint64_t>(ram, "dirty-sync-count", stats_.iterations);
                stats_.postcopy_requests = number_or<std::uint64_t>(ram, "postcopy-requests", stats_.postcopy_requests);
                stats_.page_size = number_or<std::uint64_t>(ram, "page-size", stats_.page_size);
                stats_.mbps = number_or<double>(ram, "mbps", stats_.mbps);
            }
        }
    }
    const std::string text = reply->has("status") ? reply->getValue<std::string>("status") : "none";
    const auto status = parse_qemu_migration_status(text);
    if (!status)
        throw Error(VIRTKIT_ERR_INTERNAL, "query-migrate reported an unknown migration status '" + text + "'");
    return apply_status(*status, events_before);
}

bool MigrationJob::on_vcpus_stopped()
{
    bool mine = false;
    {
        const std::lock_guard lock(mutex_);
        touched_locked();
        if (!job_.active())
            return false;
        if (side_ == MigrationSide::source) {
            mine = true;
            // (a broken post-copy is paused as failed already: keep that)
            if (job_.postcopy_broken) {
            } else if (job_.status == JobStatus::postcopy || job_.postcopy_started)
                change_state_locked(VIRTKIT_DOMAIN_PAUSED, lm::paused_postcopy, VIRTKIT_EVENT_SUSPENDED,
                                    lm::suspended_postcopy);
            else
                change_state_locked(VIRTKIT_DOMAIN_PAUSED, lm::paused_migration, VIRTKIT_EVENT_SUSPENDED,
                                    lm::suspended_migrated);
        } else {
            mine = !job_.destination_started;  // an incoming QEMU is paused until Finish
        }
    }
    deliver();
    return mine;
}

void MigrationJob::observe_domain_state(std::int32_t state, std::int32_t reason)
{
    const std::lock_guard lock(mutex_);
    job_.state = state;
    job_.reason = reason;
    touched_locked();
}

void MigrationJob::set_domain_state(std::int32_t state, std::int32_t reason, std::int32_t event, std::int32_t detail)
{
    {
        const std::lock_guard lock(mutex_);
        change_state_locked(state, reason, event, detail);
        touched_locked();
    }
    deliver();
}

void MigrationJob::mark_destination_started()
{
    {
        const std::lock_guard lock(mutex_);
        job_.destination_started = true;
        touched_locked();
    }
    if (persist_)
        persist_();
}

void MigrationJob::begin_recovery_attempt()
{
    const std::lock_guard lock(mutex_);
    job_.recovery_seen = false;
    touched_locked();
}

JobSnapshot MigrationJob::wait_until(const std::function<bool(const JobSnapshot &)> &done,
                                     std::chrono::steady_clock::time_point deadline,
                                     const std::function<void()> &poll, std::chrono::milliseconds poll_every)
{
    auto next_poll = std::chrono::steady_clock::now() + poll_every;
    for (;;) {
        std::optional<JobSnapshot> result;
        {
            std::unique_lock lock(mutex_);
            for (;;) {
                const auto now = std::chrono::steady_clock::now();
                if (done(job_) || now >= deadline) {
                    result = job_;
                    break;
                }
                if (poll && now >= next_poll)
                    break;
                changed_.wait_until(lock, poll ? std::min(deadline, next_poll) : deadline);
            }
        }
        if (result) {
            // The input that satisfied us may still be announcing its state
            // change on the monitor's thread (inputs wake waiters before they
            // deliver): let it land, so a caller that returns now never shows
            // the domain's state from before (the running/booted source seen
            // right after Perform switched to post-copy).
            deliver();
            return *result;
        }
        next_poll = std::chrono::steady_clock::now() + poll_every;
        poll();  // without the lock: it feeds on_query_migrate
    }
}

RestartAction MigrationJob::restore(MigrationPhase saved, std::uint32_t flags, bool destination_started,
                                    QemuMigrationStatus qemu)
{
    RestartAction action = RestartAction::nothing;
    {
        const std::lock_guard lock(mutex_);
        const bool source = side_ == MigrationSide::source;
        const bool postcopy = is_postcopy(qemu) ||
                              (qemu == Q::completed && (flags & VIRTKIT_MIGRATE_POSTCOPY) &&
                               (!source || saved != P::perform3));
        job_.flags = flags;
        job_.destination_started = destination_started;
        job_.qemu_status = qemu;
        job_.status = job_status_of(qemu, JobStatus::migrating);
        job_.phase = saved;
        job_.postcopy_started = postcopy;
        // libvirt resumes after a rollback only a domain the migration paused
        job_.running_at_start = job_.state == VIRTKIT_DOMAIN_RUNNING ||
                                (job_.state == VIRTKIT_DOMAIN_PAUSED &&
                                 (job_.reason == lm::paused_migration || job_.reason == lm::paused_unknown));
        started_at_ = std::chrono::steady_clock::now();

        // phases after which post-copy may be running with both sides needed
        bool postcopy_path = false;
        if (source) {
            switch (saved) {
            case P::none: action = RestartAction::nothing; break;
            case P::begin3: action = RestartAction::drop_job; break;
            case P::perform3:
                // Perform never returned, so Finish never started the
                // destination.  Still migrating: cancel and resume (libvirt).
                // Completed: the destination holds a whole paused copy whose
                // fate this host cannot see (its manager may be gone too, or
                // a user may resume it): not resumed blindly, Confirm or
                // domjobabort decides.
                if (qemu == Q::completed) {
                    action = RestartAction::wait_for_confirm;
                    job_.completed_unconfirmed = true;
                } else {
                    action = RestartAction::cancel_and_resume;
                }
                break;
            case P::perform3_done:
            case P::confirm3_cancelled:
                // Completed, but did Finish run?  Only Confirm can say:
                // stay paused (stopping could lose the guest, resuming could
                // run it twice).
                if (qemu == Q::completed)
                    action = RestartAction::wait_for_confirm;
                else if (postcopy)
                    postcopy_path = true;
                else
                    action = RestartAction::cancel_and_resume;
                break;
            case P::confirm3:
                if (qemu == Q::completed)
                    action = RestartAction::complete;
                else if (postcopy)
                    postcopy_path = true;
                else
                    action = RestartAction::cancel_and_resume;
                break;
            case P::confirm_resume:
                if (qemu == Q::completed)
                    action = RestartAction::complete;
                else
                    postcopy_path = true;
                break;
            default: postcopy_path = true; break;  // postcopy_failed and the resume phases
            }
        } else {
            switch (saved) {
            case P::none: action = RestartAction::nothing; break;
            case P::prepare: action = RestartAction::kill_destination; break;
            case P::finish3:
            case P::finish2:
                if (destination_started)
                    postcopy_path = true;
                else
                    action = RestartAction::kill_destination;
                break;
            default: postcopy_path = true; break;
            }
        }
        if (postcopy_path) {
            job_.phase = P::postcopy_failed;
            job_.postcopy_started = true;
            if (qemu == Q::completed) {
                action = RestartAction::complete;
            } else if (qemu == Q::postcopy_active) {
                action = RestartAction::keep_unattended;
                if (source)
                    change_state_locked(VIRTKIT_DOMAIN_PAUSED, lm::paused_postcopy, VIRTKIT_EVENT_SUSPENDED,
                                        lm::suspended_postcopy);
                else if (destination_started)
                    change_state_locked(VIRTKIT_DOMAIN_RUNNING, lm::running_postcopy, VIRTKIT_EVENT_RESUMED,
                                        lm::resumed_postcopy);
            } else {
                action = RestartAction::keep_postcopy_failed;
                postcopy_failed_locked();
            }
        }
        if (action == RestartAction::wait_for_confirm && job_.state != VIRTKIT_DOMAIN_PAUSED)
            change_state_locked(VIRTKIT_DOMAIN_PAUSED, lm::paused_migration, VIRTKIT_EVENT_SUSPENDED,
                                lm::suspended_migrated);
        if (action == RestartAction::complete && !source)
            change_state_locked(VIRTKIT_DOMAIN_RUNNING, lm::running_migrated, VIRTKIT_EVENT_RESUMED,
                                lm::resumed_migrated);
        if (action == RestartAction::nothing || action == RestartAction::drop_job)
            job_.phase = P::none;
        touched_locked();
    }
    deliver();
    return action;
}

void MigrationJob::set_max_speed(std::uint64_t mibs, bool postcopy)
{
    if (mibs > unlimited_speed_mibs)
        throw Error(VIRTKIT_ERR_INVALID_ARG, "bandwidth must be at most " + std::to_string(unlimited_speed_mibs) + " MiB/s");
    const std::lock_guard lock(mutex_);
    (postcopy ? postcopy_speed_mibs_ : max_speed_mibs_) = mibs;
}

std::uint64_t MigrationJob::max_speed(bool postcopy) const
{
    const std::lock_guard lock(mutex_);
    return postcopy ? postcopy_speed_mibs_ : max_speed_mibs_;
}

std::string MigrationJob::stats_json(bool completed_job) const
{
    const std::lock_guard lock(mutex_);
    if (completed_job) {
        if (!last_)
            return stats_json_locked(JobSnapshot{}, MigrationStats{}, true);
        return stats_json_locked(last_->first, last_->second, true);
    }
    return stats_json_locked(job_, stats_, false);
}

std::string MigrationJob::stats_json_locked(const JobSnapshot &job, const MigrationStats &stats, bool ended) const
{
    Poco::JSON::Object out;
    std::int32_t type = lm::job_none;
    if (ended && last_) {
        type = job.status == JobStatus::completed  ? lm::job_completed
               : job.status == JobStatus::canceled ? lm::job_cancelled
                                                   : lm::job_failed;
    } else if (job.active()) {
        type = lm::job_unbounded;
    }
    out.set("type", type);
    out.set("phase", std::string(to_string(job.phase)));
    out.set("status", std::string(to_string(job.status)));
    if (type != lm::job_none) {
        const std::int32_t operation =
            side_ == MigrationSide::source ? lm::operation_migration_out : lm::operation_migration_in;
        out.set("operation", operation);
        const auto elapsed = ended ? last_elapsed_ms_
                                   : std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - started_at_)
                                         .count();
        out.set("time_elapsed", elapsed);
        out.set("data_total", stats.total);
        out.set("data_processed", stats.transferred);
        out.set("data_remaining", stats.remaining);
        out.set("memory_total", stats.total);
        out.set("memory_processed", stats.transferred);
        out.set("memory_remaining", stats.remaining);
        out.set("memory_bps", static_cast<std::uint64_t>(stats.mbps * 1000.0 * 1000.0 / 8.0));
        out.set("memory_dirty_rate", stats.dirty_rate);
        out.set("memory_iteration", stats.iterations);
        out.set("memory_postcopy_requests", stats.postcopy_requests);
        if (stats.page_size)
            out.set("memory_page_size", stats.page_size);
        if (stats.downtime_ms >= 0)
            out.set("downtime", stats.downtime_ms);
        else if (stats.expected_downtime_ms >= 0)
            out.set("downtime", stats.expected_downtime_ms);
        out.set("setup_time", stats.setup_time_ms);
        if (ended)
            out.set("success", job.status == JobStatus::completed);
        if (!stats.error.empty())
            out.set("errmsg", stats.error);
    }
    std::ostringstream text;
    Poco::JSON::Stringifier::condense(out, text);
    return text.str();
}

std::string MigrationJob::saved_state() const
{
    const std::lock_guard lock(mutex_);
    Poco::JSON::Object out;
    out.set("side", std::string(to_string(side_)));
    out.set("phase", std::string(to_string(job_.phase)));
    out.set("flags", job_.flags);
    out.set("destination_started", job_.destination_started);
    std::ostringstream text;
    Poco::JSON::Stringifier::condense(out, text);
    return text.str();
}

MigrationJob::Saved MigrationJob::parse_saved_state(const std::string &json)
{
    Saved saved;
    try {
        const auto object = Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
        const auto phase = parse_migration_phase(object->getValue<std::string>("phase"));
        if (!phase)
            throw Error(VIRTKIT_ERR_INTERNAL, "saved migration state names an unknown phase");
        saved.phase = *phase;
        saved.side = object->optValue<std::string>("side", to_string(MigrationSide::source)) ==
                             to_string(MigrationSide::destination)
                         ? MigrationSide::destination
                         : MigrationSide::source;
        saved.flags = object->getValue<std::uint32_t>("flags");
        saved.destination_started = object->getValue<bool>("destination_started");
    } catch (const Poco::Exception &e) {
        throw Error(VIRTKIT_ERR_INTERNAL, "saved migration state is unreadable: " + e.displayText());
    }
    return saved;
}

}  // namespace virtkit::qemu
