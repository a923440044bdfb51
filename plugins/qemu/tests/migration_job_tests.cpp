// The migration job as pure logic: QEMU statuses in, phases, job statuses,
// libvirt's states/reasons and lifecycle events out; and what a restarted
// process re-derives from its saved phase and query-migrate.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <future>
#include <mutex>

#include <Poco/JSON/Parser.h>

#include <virtkit/error.hpp>

#include "migration/migration_job.hpp"
#include "migration/migration_states.hpp"

using namespace virtkit::qemu;
namespace lm = virtkit::qemu::libvirt_migration;
using Q = QemuMigrationStatus;
using P = MigrationPhase;
using Events = std::vector<std::pair<std::int32_t, std::int32_t>>;

namespace {

constexpr std::uint32_t postcopy = VIRTKIT_MIGRATE_LIVE | VIRTKIT_MIGRATE_POSTCOPY;

struct Recorded {
    Events events;
    MigrationJob job;
    explicit Recorded(MigrationSide side, std::int32_t state = VIRTKIT_DOMAIN_RUNNING, std::int32_t reason = 1)
        : job(side, state, reason, [this](const DomainStateChange &c) { events.emplace_back(c.event, c.detail); })
    {
    }
};

Poco::JSON::Object::Ptr reply(const std::string &json)
{
    return Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
}

}  // namespace

TEST_CASE("every QEMU 7.2 migration status and postcopy-recover-setup is known; recovering is not active",
          "[migration]")
{
    for (const char *name : {"none", "setup", "cancelling", "cancelled", "active", "postcopy-active",
                             "postcopy-paused", "postcopy-recover", "completed", "failed", "colo", "pre-switchover",
                             "device", "wait-unplug", "postcopy-recover-setup"}) {
        const auto status = parse_qemu_migration_status(name);
        REQUIRE(status);
        CHECK(std::string(to_string(*status)) == name);
    }
    CHECK_FALSE(parse_qemu_migration_status("postcopy-device"));
    CHECK(job_status_of(Q::postcopy_recover, JobStatus::postcopy_paused) == JobStatus::postcopy_recover);
    CHECK(job_status_of(Q::postcopy_recover_setup, JobStatus::postcopy_paused) == JobStatus::postcopy_recover);
    CHECK(job_status_of(Q::postcopy_active, JobStatus::postcopy_recover) == JobStatus::postcopy);
    CHECK(job_status_of(Q::pre_switchover, JobStatus::migrating) == JobStatus::paused);
    CHECK(job_status_of(Q::completed, JobStatus::postcopy) == JobStatus::hypervisor_completed);
    CHECK(job_status_of(Q::cancelling, JobStatus::postcopy) == JobStatus::postcopy);
}

TEST_CASE("phases only move forward; after a broken post-copy only the resume phases, in order", "[migration]")
{
    using S = MigrationSide;
    CHECK(phase_may_follow(S::source, P::none, P::begin3));
    CHECK(phase_may_follow(S::source, P::perform3_done, P::confirm3));
    CHECK_FALSE(phase_may_follow(S::source, P::perform3_done, P::perform3));
    CHECK_FALSE(phase_may_follow(S::source, P::postcopy_failed, P::perform_resume));
    CHECK(phase_may_follow(S::source, P::postcopy_failed, P::begin_resume));
    CHECK(phase_may_follow(S::source, P::perform_resume, P::postcopy_failed));
    CHECK_FALSE(phase_may_follow(S::source, P::none, P::prepare));
    CHECK(phase_may_follow(S::destination, P::postcopy_failed, P::prepare_resume));
    CHECK_FALSE(phase_may_follow(S::destination, P::prepare_resume, P::prepare));
    CHECK_THROWS_WITH(check_phase_order(S::source, P::confirm3, P::perform3), Catch::Contains("backwards"));
    CHECK_THROWS_WITH(check_phase_order(S::destination, P::postcopy_failed, P::finish3),
                      Catch::Contains("only --postcopy-resume"));
    for (int i = 0; i <= static_cast<int>(P::finish_resume); ++i) {
        const auto phase = static_cast<P>(i);
        CHECK(parse_migration_phase(to_string(phase)) == phase);
    }
}

TEST_CASE("the source's substate-only changes each raise a lifecycle event, duplicates none", "[migration]")
{
    Recorded src(MigrationSide::source);
    src.job.start(P::begin3, postcopy);
    src.job.set_phase(P::perform3);
    src.job.on_qemu_status(Q::active);
    src.job.on_qemu_status(Q::postcopy_active);
    CHECK(src.job.on_vcpus_stopped());
    src.job.on_qemu_status(Q::postcopy_active);
    src.job.set_phase(P::perform3_done);
    src.job.on_qemu_status(Q::postcopy_paused);
    src.job.on_qemu_status(Q::postcopy_paused);
    CHECK(src.job.snapshot().postcopy_broken);
    src.job.on_qemu_status(Q::postcopy_recover);
    CHECK_FALSE(src.job.snapshot().postcopy_broken);
    src.job.on_qemu_status(Q::postcopy_active);
    CHECK(src.events == Events{{VIRTKIT_EVENT_SUSPENDED, lm::suspended_postcopy},
                               {VIRTKIT_EVENT_SUSPENDED, lm::suspended_postcopy_failed},
                               {VIRTKIT_EVENT_SUSPENDED, lm::suspended_postcopy}});
    CHECK(src.job.snapshot().reason == lm::paused_postcopy);
}

TEST_CASE("a destination paused for another reason keeps it when post-copy fails; only the event says so",
          "[migration]")
{
    Recorded dst(MigrationSide::destination);
    dst.job.start(P::prepare, postcopy);
    dst.job.set_phase(P::finish3);
    dst.job.mark_destination_started();
    dst.job.set_domain_state(VIRTKIT_DOMAIN_RUNNING, lm::running_postcopy, VIRTKIT_EVENT_RESUMED, lm::resumed_postcopy);
    CHECK_FALSE(dst.job.on_vcpus_stopped());     // a guest that ran: not the migration's pause
    dst.job.observe_domain_state(VIRTKIT_DOMAIN_PAUSED, 5 /* I/O error */);
    dst.job.on_qemu_status(Q::postcopy_paused);
    dst.job.on_qemu_status(Q::postcopy_paused);  // said once
    const auto job = dst.job.snapshot();
    CHECK(job.state == VIRTKIT_DOMAIN_PAUSED);
    CHECK(job.reason == 5);
    CHECK(dst.events == Events{{VIRTKIT_EVENT_RESUMED, lm::resumed_postcopy},
                               {VIRTKIT_EVENT_SUSPENDED, lm::suspended_postcopy_failed}});
}

TEST_CASE("a resume ignores a stale postcopy-paused until it has seen recovery start", "[migration]")
{
    Recorded dst(MigrationSide::destination);
    dst.job.restore(P::postcopy_failed, postcopy, true, Q::postcopy_paused);
    dst.events.clear();
    dst.job.set_phase(P::prepare_resume);
    dst.job.begin_recovery_attempt();
    dst.job.set_phase(P::finish_resume);
    dst.job.on_qemu_status(Q::postcopy_paused);  // stale
    CHECK_FALSE(dst.job.snapshot().recovery_seen);
    CHECK(dst.events.empty());
    dst.job.on_qemu_status(Q::postcopy_recover);
    CHECK(dst.job.snapshot().recovery_seen);
    dst.job.on_qemu_status(Q::postcopy_paused);  // now a real failure
    CHECK(dst.events == Events{{VIRTKIT_EVENT_RESUMED, lm::resumed_postcopy},
                               {VIRTKIT_EVENT_RESUMED, lm::resumed_postcopy_failed}});
}

TEST_CASE("a query-migrate answer overtaken by a MIGRATION event does not roll the status back", "[migration]")
{
    Recorded src(MigrationSide::source);
    src.job.start(P::begin3, postcopy);
    src.job.set_phase(P::perform3);
    const auto before = src.job.events_seen();
    src.job.on_migration_event(Q::completed);  // arrived while the query was in flight
    src.job.on_query_migrate(reply(R"({"status": "active", "ram": {"transferred": 42}})"), before);
    CHECK(src.job.snapshot().status == JobStatus::hypervisor_completed);
    CHECK_THAT(src.job.stats_json(false), Catch::Contains(R"("memory_processed":42)"));
    // without an event in between the reply counts
    src.job.on_query_migrate(reply(R"({"status": "failed", "error-desc": "boom"})"), src.job.events_seen());
    CHECK(src.job.snapshot().status == JobStatus::failed);
    CHECK_THROWS_WITH(src.job.on_query_migrate(reply(R"({"status": "warp-speed"})"), src.job.events_seen()),
                      Catch::Contains("warp-speed"));
}

TEST_CASE("a second migration of a migrating domain is refused at once and changes nothing", "[migration]")
{
    Recorded src(MigrationSide::source);
    src.job.start(P::begin3, VIRTKIT_MIGRATE_LIVE);
    src.job.set_phase(P::perform3);
    try {
        src.job.start(P::begin3, VIRTKIT_MIGRATE_LIVE);
        FAIL("a second migration started");
    } catch (const virtkit::Error &e) {
        CHECK(e.code() == VIRTKIT_ERR_OPERATION_INVALID);
        CHECK_THAT(e.what(), Catch::Contains("already running"));
    }
    CHECK(src.job.snapshot().phase == P::perform3);
    CHECK(src.job.snapshot().flags == VIRTKIT_MIGRATE_LIVE);
}

TEST_CASE("a restarted process re-derives the job from its saved phase and query-migrate", "[migration]")
{
    struct Row {
        MigrationSide side;
        P saved;
        bool destination_started;
        Q qemu;
        RestartAction action;
        P phase_after;
    };
    using S = MigrationSide;
    using A = RestartAction;
    const Row rows[] = {
        {S::source, P::begin3, false, Q::none, A::drop_job, P::none},
        {S::source, P::perform3, false, Q::active, A::cancel_and_resume, P::perform3},
        {S::source, P::perform3, false, Q::postcopy_active, A::cancel_and_resume, P::perform3},
        {S::source, P::perform3, false, Q::completed, A::wait_for_confirm, P::perform3},
        {S::source, P::perform3_done, false, Q::postcopy_active, A::keep_unattended, P::postcopy_failed},
        {S::source, P::perform3_done, false, Q::postcopy_paused, A::keep_postcopy_failed, P::postcopy_failed},
        {S::source, P::perform3_done, false, Q::completed, A::wait_for_confirm, P::perform3_done},
        {S::source, P::perform_resume, false, Q::postcopy_recover, A::keep_postcopy_failed, P::postcopy_failed},
        {S::source, P::confirm_resume, false, Q::completed, A::complete, P::confirm_resume},
        {S::source, P::confirm3, false, Q::completed, A::complete, P::confirm3},
        {S::destination, P::prepare, false, Q::active, A::kill_destination, P::prepare},
        {S::destination, P::finish3, false, Q::completed, A::kill_destination, P::finish3},
        {S::destination, P::finish3, true, Q::postcopy_active, A::keep_unattended, P::postcopy_failed},
        {S::destination, P::finish_resume, true, Q::postcopy_paused, A::keep_postcopy_failed, P::postcopy_failed},
        {S::destination, P::prepare_resume, true, Q::completed, A::complete, P::postcopy_failed},
    };
    for (const Row &row : rows) {
        INFO(to_string(row.side) << " saved " << to_string(row.saved) << " QEMU " << to_string(row.qemu));
        Recorded host(row.side);
        CHECK(host.job.restore(row.saved, postcopy, row.destination_started, row.qemu) == row.action);
        CHECK(host.job.snapshot().phase == row.phase_after);
    }

    // A pre-copy the source QEMU completed while Perform was still waiting
    // (the manager was killed): the destination holds a whole paused copy
    // nobody will start, but this host cannot see it.  Never resumed
    // blindly: paused as the migration's, a new migration refused naming the
    // way out, and domjobabort (QMP side) may roll back.
    Recorded completed(MigrationSide::source, VIRTKIT_DOMAIN_PAUSED, lm::paused_migration);
    REQUIRE(completed.job.restore(P::perform3, VIRTKIT_MIGRATE_LIVE, false, Q::completed) == A::wait_for_confirm);
    CHECK(completed.job.snapshot().completed_unconfirmed);
    CHECK(completed.job.snapshot().running_at_start);  // paused by the migration: a rollback resumes it
    CHECK(completed.job.snapshot().state == VIRTKIT_DOMAIN_PAUSED);
    CHECK(completed.job.snapshot().reason == lm::paused_migration);
    CHECK(completed.events.empty());
    CHECK_THROWS_WITH(completed.job.start(P::begin3, VIRTKIT_MIGRATE_LIVE), Catch::Contains("domjobabort"));
    CHECK(MigrationJob::parse_saved_state(completed.job.saved_state()).phase == P::perform3);  // same answer again
    // a domain the user had paused before the migration is not resumed by a rollback
    Recorded user_paused(MigrationSide::source, VIRTKIT_DOMAIN_PAUSED, lm::paused_user);
    REQUIRE(user_paused.job.restore(P::perform3, VIRTKIT_MIGRATE_LIVE, false, Q::active) == A::cancel_and_resume);
    CHECK_FALSE(user_paused.job.snapshot().running_at_start);

    // an unattended post-copy completes on QEMU's completed, and only then
    Recorded dst(MigrationSide::destination);
    REQUIRE(dst.job.restore(P::finish3, postcopy, true, Q::postcopy_active) == RestartAction::keep_unattended);
    CHECK(dst.job.snapshot().reason == lm::running_postcopy);
    CHECK_FALSE(dst.job.on_qemu_status(Q::postcopy_active));
    CHECK(dst.job.on_qemu_status(Q::completed));
    CHECK(dst.job.snapshot().reason == lm::running_migrated);
}

TEST_CASE("the saved live state round-trips the phase, flags and whether the destination ran", "[migration]")
{
    Recorded dst(MigrationSide::destination);
    dst.job.start(P::prepare, postcopy);
    dst.job.set_phase(P::finish3);
    dst.job.mark_destination_started();
    const auto saved = MigrationJob::parse_saved_state(dst.job.saved_state());
    CHECK(saved.phase == P::finish3);
    CHECK(saved.flags == postcopy);
    CHECK(saved.destination_started);
    CHECK(saved.side == MigrationSide::destination);
    CHECK_THROWS_WITH(MigrationJob::parse_saved_state(R"({"phase": "perform9"})"), Catch::Contains("unknown phase"));
    CHECK_THROWS_WITH(MigrationJob::parse_saved_state("not json"), Catch::Contains("unreadable"));
}

TEST_CASE("job stats use libvirt's typed-parameter names and keep the last job after it ends", "[migration]")
{
    Recorded src(MigrationSide::source);
    CHECK_THAT(src.job.stats_json(false), Catch::Contains(R"("type":0)"));
    src.job.start(P::begin3, VIRTKIT_MIGRATE_LIVE);
    src.job.set_phase(P::perform3);
    src.job.on_query_migrate(
        reply(R"({"status": "active", "total-time": 10, "expected-downtime": 300, "setup-time": 2,
                  "ram": {"transferred": 100, "remaining": 900, "total": 1000, "mbps": 8, "dirty-pages-rate": 5,
                          "dirty-sync-count": 3}})"),
        src.job.events_seen());
    const std::string live = src.job.stats_json(false);
    for (const char *part : {R"("type":2)", R"("operation":5)", R"("phase":"perform3")", R"("status":"migrating")",
                             R"("data_total":1000)", R"("memory_remaining":900)", R"("memory_bps":1000000)",
                             R"("memory_dirty_rate":5)", R"("memory_iteration":3)", R"("downtime":300)",
                             R"("setup_time":2)"})
        CHECK_THAT(live, Catch::Contains(part));
    src.job.finish_job(JobStatus::failed, "link down");
    const std::string last = src.job.stats_json(true);
    CHECK_THAT(last, Catch::Contains(R"("type":4)"));
    CHECK_THAT(last, Catch::Contains(R"("errmsg":"link down")"));
    CHECK_THAT(src.job.stats_json(false), Catch::Contains(R"("type":0)"));
}

TEST_CASE("a completed job names its own side's operation with libvirt's numbers, also for a domain that had "
          "arrived by migration",
          "[migration]")
{
    // libvirt's virDomainJobOperation: 3 RESTORE, 4 MIGRATION_IN, 5 MIGRATION_OUT.
    Recorded dst(MigrationSide::destination);
    dst.job.start(P::prepare, VIRTKIT_MIGRATE_LIVE);
    CHECK_THAT(dst.job.stats_json(false), Catch::Contains(R"("operation":4)"));
    dst.job.finish_job(JobStatus::completed);
    CHECK_THAT(dst.job.stats_json(true), Catch::Contains(R"("operation":4)"));

    // The same domain leaves again: the driver gives its QEMU a source job.
    Recorded src(MigrationSide::source);
    src.job.start(P::begin3, VIRTKIT_MIGRATE_LIVE);
    src.job.set_phase(P::perform3);
    src.job.set_phase(P::perform3_done);
    src.job.set_phase(P::confirm3);
    src.job.finish_job(JobStatus::completed);
    const std::string last = src.job.stats_json(true);
    CHECK_THAT(last, Catch::Contains(R"("type":3)"));
    CHECK_THAT(last, Catch::Contains(R"("operation":5)"));
}

TEST_CASE("a step that waited returns only once the state change that ended its wait was announced", "[migration]")
{
    // The monitor's thread feeds postcopy-active, and its announcement (the
    // domain's paused/postcopy) is held up; Perform's wait must not return
    // before it lands, or a caller reads the state from before the switch.
    std::mutex mutex;
    std::condition_variable changed;
    bool in_listener = false, release = false, announced = false;
    MigrationJob job(MigrationSide::source, VIRTKIT_DOMAIN_RUNNING, 1, [&](const DomainStateChange &) {
        std::unique_lock lock(mutex);
        in_listener = true;
        changed.notify_all();
        changed.wait(lock, [&] { return release; });
        announced = true;
    });
    job.start(P::begin3, postcopy);
    job.set_phase(P::perform3);
    auto waiter = std::async(std::launch::async, [&] {
        job.wait_until([](const JobSnapshot &j) { return j.status == JobStatus::postcopy; },
                       std::chrono::steady_clock::now() + std::chrono::seconds(30));
        const std::lock_guard lock(mutex);
        return announced;
    });
    auto monitor_thread = std::async(std::launch::async, [&] { job.on_migration_event(Q::postcopy_active); });
    {
        std::unique_lock lock(mutex);
        REQUIRE(changed.wait_for(lock, std::chrono::seconds(30), [&] { return in_listener; }));
    }
    // Without the fix the waiter returns now, with nothing announced; give it
    // the chance (correct code just waits here), then let the announcement land.
    waiter.wait_for(std::chrono::milliseconds(300));
    {
        const std::lock_guard lock(mutex);
        release = true;
    }
    changed.notify_all();
    monitor_thread.get();
    CHECK(waiter.get());
    CHECK(job.snapshot().reason == lm::paused_postcopy);
}
