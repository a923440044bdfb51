// Migration phases against two scripted QMP monitors, one per host, driving
// the orders QEMU's events can arrive in: before and after command replies,
// duplicated, late, stale (the seed race), missing (a silent failed
// recovery), and a Finish that fails while QEMU completes.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>

#include <virtkit/error.hpp>

#include "error_code.hpp"
#include "migration/migration_states.hpp"
#include "migration_fake_host.hpp"

using namespace std::chrono_literals;
using namespace virtkit::qemu;
using namespace virtkit::qemu::testing;
namespace lm = virtkit::qemu::libvirt_migration;
using Events = std::vector<std::pair<std::int32_t, std::int32_t>>;

namespace {

constexpr std::uint32_t live = VIRTKIT_MIGRATE_LIVE;
constexpr std::uint32_t postcopy = VIRTKIT_MIGRATE_LIVE | VIRTKIT_MIGRATE_POSTCOPY;
const std::string incoming_uri = "tcp:127.0.0.1:49152";

void expect_capabilities(FakeQmpPeer &peer, bool with_postcopy)
{
    const auto command = expect(peer, "migrate-set-capabilities");
    const auto caps = arguments(command)->getArray("capabilities");
    bool seen = false;
    for (std::size_t i = 0; i < caps->size(); ++i) {
        const auto cap = caps->getObject(static_cast<unsigned>(i));
        if (cap->getValue<std::string>("capability") == "postcopy-ram") {
            seen = true;
            if (cap->getValue<bool>("state") != with_postcopy)
                throw std::runtime_error("postcopy-ram has the wrong state");
        }
    }
    if (!seen)
        throw std::runtime_error("postcopy-ram was not set");
    peer.reply(command, "{}");
}

// Source: capabilities, parameters, then migrate to the incoming URI.
void expect_migrate_start(FakeQmpPeer &peer, bool with_postcopy)
{
    expect_capabilities(peer, with_postcopy);
    const auto params = expect(peer, "migrate-set-parameters");
    if (!arguments(params)->has("max-bandwidth"))
        throw std::runtime_error("max-bandwidth not set");
    peer.reply(params, "{}");
    const auto migrate = expect(peer, "migrate");
    if (arguments(migrate)->getValue<std::string>("uri") != incoming_uri)
        throw std::runtime_error("migrate went to the wrong URI");
    if (arguments(migrate)->optValue<bool>("resume", false))
        throw std::runtime_error("a fresh migration must not resume");
    peer.reply(migrate, "{}");
}

void expect_incoming(FakeQmpPeer &peer, bool with_postcopy)
{
    expect_capabilities(peer, with_postcopy);
    const auto incoming = expect(peer, "migrate-incoming");
    if (arguments(incoming)->getValue<std::string>("uri") != incoming_uri)
        throw std::runtime_error("migrate-incoming listens on the wrong URI");
    peer.reply(incoming, "{}");
}

// Waits (bounded) for the job to reach a condition the test needs before its next step.
JobSnapshot await(MigrationJob &job, const std::function<bool(const JobSnapshot &)> &done)
{
    const auto s = job.wait_until(done, std::chrono::steady_clock::now() + 5s);
    REQUIRE(done(s));
    return s;
}

// Brings both hosts to a broken post-copy, as a restarted process re-derives
// it: used by the tests that begin at the recovery.
void break_postcopy(FakeMigrationHost &src, FakeMigrationHost &dst)
{
    REQUIRE(src.job.restore(MigrationPhase::postcopy_failed, postcopy, false, QemuMigrationStatus::postcopy_paused) ==
            RestartAction::keep_postcopy_failed);
    REQUIRE(dst.job.restore(MigrationPhase::postcopy_failed, postcopy, true, QemuMigrationStatus::postcopy_paused) ==
            RestartAction::keep_postcopy_failed);
}

}  // namespace

TEST_CASE("pre-copy: the source pauses and stops as migrated, the destination starts and runs as migrated",
          "[migration]")
{
    FakeMigrationHost src(MigrationSide::source, [](FakeQmpPeer &peer) {
        peer.negotiate();
        expect_migrate_start(peer, false);
        migration(peer, "setup");
        migration(peer, "active");
        peer.event("STOP");
        migration(peer, "completed");
        peer.reply(expect(peer, "query-migrate"), query_reply("completed"));  // Confirm
        expect_nothing(peer);
    });
    FakeMigrationHost dst(MigrationSide::destination, [](FakeQmpPeer &peer) {
        peer.negotiate();
        expect_incoming(peer, false);
        migration(peer, "active");
        migration(peer, "completed");
        peer.reply(expect(peer, "cont"), "{}");
        peer.event("RESUME");
        expect_nothing(peer);
    });
    SourceMigration source(*src.client, src.job, events_only());
    DestinationMigration destination(*dst.client, dst.job, events_only());
    bool killed = false, stopped = false;

    source.begin(live, true);
    destination.prepare(live, true, incoming_uri);
    source.perform({incoming_uri});
    CHECK(src.job.snapshot().phase == MigrationPhase::perform3_done);
    destination.finish(false, [&] { killed = true; });
    CHECK(source.confirm(false, [&] { stopped = true; }) == SourceMigration::ConfirmResult::completed);

    CHECK(stopped);
    CHECK_FALSE(killed);
    CHECK_FALSE(src.job.snapshot().active());
    CHECK_FALSE(dst.job.snapshot().active());
    CHECK(src.lifecycle() == Events{{VIRTKIT_EVENT_SUSPENDED, lm::suspended_migrated},
                                    {VIRTKIT_EVENT_STOPPED, lm::stopped_migrated}});
    CHECK(dst.lifecycle() == Events{{VIRTKIT_EVENT_STARTED, lm::started_migrated},
                                    {VIRTKIT_EVENT_RESUMED, lm::resumed_migrated}});
    CHECK(dst.job.snapshot().reason == lm::running_migrated);
    const std::string stats = src.job.stats_json(true);
    CHECK_THAT(stats, Catch::Contains(R"("success":true)"));
    CHECK_THAT(stats, Catch::Contains(R"("memory_processed":1048576)"));
    CHECK(src.finish().empty());
    CHECK(dst.finish().empty());
}

TEST_CASE("post-copy: events that arrive before the command's reply still switch both hosts, once each",
          "[migration]")
{
    Gate dst_completes;
    FakeMigrationHost src(MigrationSide::source, [&](FakeQmpPeer &peer) {
        peer.negotiate();
        expect_migrate_start(peer, true);
        migration(peer, "setup");
        migration(peer, "active");
        const auto switch_over = expect(peer, "migrate-start-postcopy");
        migration(peer, "postcopy-active");  // before the reply...
        peer.event("STOP");                  // ...and the STOP after it
        peer.reply(switch_over, "{}");
        dst_completes.wait();
        migration(peer, "completed");
        peer.reply(expect(peer, "query-migrate"), query_reply("completed"));
        expect_nothing(peer);
    });
    FakeMigrationHost dst(MigrationSide::destination, [&](FakeQmpPeer &peer) {
        peer.negotiate();
        expect_incoming(peer, true);
        migration(peer, "active");
        migration(peer, "postcopy-active");
        peer.reply(expect(peer, "cont"), "{}");
        peer.event("RESUME");
        dst_completes.wait();
        migration(peer, "completed");
        migration(peer, "completed");  // duplicated
        expect_nothing(peer);
    });
    SourceMigration source(*src.client, src.job, events_only());
    DestinationMigration destination(*dst.client, dst.job, events_only());

    source.begin(postcopy, true);
    destination.prepare(postcopy, true, incoming_uri);
    auto perform = std::async(std::launch::async, [&] { source.perform({incoming_uri}); });
    await(src.job, [](const JobSnapshot &j) { return j.qemu_status == QemuMigrationStatus::active; });
    source.start_postcopy();
    perform.get();  // Perform ends at the source's postcopy-active
    CHECK(src.job.snapshot().reason == lm::paused_postcopy);

    auto finish = std::async(std::launch::async, [&] { destination.finish(false, [] {}); });
    await(dst.job, [](const JobSnapshot &j) { return j.reason == lm::running_postcopy; });
    dst_completes.open();
    finish.get();
    CHECK(source.confirm(false, [] {}) == SourceMigration::ConfirmResult::completed);

    CHECK(src.lifecycle() == Events{{VIRTKIT_EVENT_SUSPENDED, lm::suspended_postcopy},
                                    {VIRTKIT_EVENT_STOPPED, lm::stopped_migrated}});
    CHECK(dst.lifecycle() == Events{{VIRTKIT_EVENT_STARTED, lm::started_migrated},
                                    {VIRTKIT_EVENT_RESUMED, lm::resumed_postcopy},
                                    {VIRTKIT_EVENT_RESUMED, lm::resumed_migrated}});
    CHECK(src.finish().empty());
    CHECK(dst.finish().empty());
}

TEST_CASE("duplicated, reordered and late events announce each change once and touch no finished job",
          "[migration]")
{
    Gate late;
    FakeMigrationHost src(MigrationSide::source, [&](FakeQmpPeer &peer) {
        peer.negotiate();
        expect_migrate_start(peer, true);
        migration(peer, "active");
        migration(peer, "active");
        const auto switch_over = expect(peer, "migrate-start-postcopy");
        peer.reply(switch_over, "{}");  // the reply first this time
        peer.event("STOP");             // STOP before postcopy-active
        migration(peer, "postcopy-active");
        migration(peer, "postcopy-active");
        migration(peer, "completed");
        peer.reply(expect(peer, "query-migrate"), query_reply("completed"));
        late.wait();
        migration(peer, "postcopy-active");  // a delayed event after the job ended
        migration(peer, "completed");
        peer.reply(expect(peer, "query-status"), R"({"running": false, "status": "postmigrate"})");
        expect_nothing(peer);
    });
    SourceMigration source(*src.client, src.job, events_only());
    source.begin(postcopy, true);
    auto perform = std::async(std::launch::async, [&] { source.perform({incoming_uri}); });
    await(src.job, [](const JobSnapshot &j) { return j.qemu_status == QemuMigrationStatus::active; });
    source.start_postcopy();
    perform.get();
    CHECK(source.confirm(false, [] {}) == SourceMigration::ConfirmResult::completed);
    late.open();
    src.client->execute("query-status", 2s);  // its reply follows the late events

    CHECK(src.lifecycle() == Events{{VIRTKIT_EVENT_SUSPENDED, lm::suspended_migrated},
                                    {VIRTKIT_EVENT_SUSPENDED, lm::suspended_postcopy},
                                    {VIRTKIT_EVENT_STOPPED, lm::stopped_migrated}});
    CHECK(src.job.snapshot().state == VIRTKIT_DOMAIN_SHUTOFF);
    CHECK_FALSE(src.job.snapshot().active());
    CHECK(src.finish().empty());
}

TEST_CASE("the seed race: the source at postcopy-recover while the destination still reports postcopy-paused",
          "[migration]")
{
    Gate source_active, recovery_reaches_destination;
    std::atomic<bool> stale_pause_served{false};
    FakeMigrationHost src(MigrationSide::source, [&](FakeQmpPeer &peer) {
        peer.negotiate();
        peer.reply(expect(peer, "query-migrate"), query_reply("postcopy-paused"));  // Begin(resume)
        const auto migrate = expect(peer, "migrate");
        if (!arguments(migrate)->optValue<bool>("resume", false))
            throw std::runtime_error("Perform(resume) must migrate with resume: true");
        peer.reply(migrate, "{}");
        migration(peer, "postcopy-recover");
        source_active.wait();
        migration(peer, "postcopy-active");
        recovery_reaches_destination.open();
        migration(peer, "completed");
        peer.reply(expect(peer, "query-migrate"), query_reply("completed"));  // Confirm(resume)
        expect_nothing(peer);
    });
    MigrationTimeouts dst_timeouts = events_only();
    dst_timeouts.poll_every = 20ms;
    FakeMigrationHost dst(MigrationSide::destination, [&](FakeQmpPeer &peer) {
        peer.negotiate();
        peer.reply(expect(peer, "query-migrate"), query_reply("postcopy-paused"));  // Prepare(resume)
        const auto recover = expect(peer, "migrate-recover");
        if (arguments(recover)->getValue<std::string>("uri") != incoming_uri)
            throw std::runtime_error("migrate-recover listens on the wrong URI");
        peer.reply(recover, "{}");
        // Finish(resume) polls before the stream reached this side: stale.
        peer.reply(expect(peer, "query-migrate"), query_reply("postcopy-paused"));
        stale_pause_served = true;
        recovery_reaches_destination.wait();
        migration(peer, "postcopy-recover");
        migration(peer, "postcopy-active");
        migration(peer, "completed");
        answer_queries_until_close(peer, [] { return "completed"; });
    });
    break_postcopy(src, dst);
    SourceMigration source(*src.client, src.job, events_only());
    DestinationMigration destination(*dst.client, dst.job, dst_timeouts);

    source.begin_resume(postcopy);
    destination.prepare_resume(postcopy, incoming_uri);
    auto perform = std::async(std::launch::async, [&] { source.perform_resume({incoming_uri}); });
    await(src.job, [](const JobSnapshot &j) { return j.recovery_seen; });
    // postcopy-recover does not end Perform(resume): only postcopy-active does
    CHECK(perform.wait_for(300ms) == std::future_status::timeout);
    CHECK(src.job.snapshot().reason == lm::paused_postcopy);  // no longer "failed"
    source_active.open();
    perform.get();

    auto finish = std::async(std::launch::async, [&] { destination.finish_resume(false); });
    finish.get();  // a stale postcopy-paused is not a failure
    CHECK(stale_pause_served);
    CHECK(source.confirm(false, [] {}) == SourceMigration::ConfirmResult::completed);

    CHECK(src.lifecycle() == Events{{VIRTKIT_EVENT_SUSPENDED, lm::suspended_postcopy_failed},
                                    {VIRTKIT_EVENT_SUSPENDED, lm::suspended_postcopy},
                                    {VIRTKIT_EVENT_STOPPED, lm::stopped_migrated}});
    CHECK(dst.lifecycle() == Events{{VIRTKIT_EVENT_RESUMED, lm::resumed_postcopy_failed},
                                    {VIRTKIT_EVENT_RESUMED, lm::resumed_postcopy},
                                    {VIRTKIT_EVENT_RESUMED, lm::resumed_migrated}});
    CHECK_FALSE(dst.job.snapshot().active());
    CHECK(src.finish().empty());
    CHECK(dst.finish().empty());
}

TEST_CASE("a recovery that fails silently (QEMU 7.2) times out and keeps the job paused and resumable",
          "[migration]")
{
    MigrationTimeouts quick = events_only();
    quick.poll_every = 20ms;
    quick.recovery_start = 300ms;
    std::atomic<int> queries{0};
    FakeMigrationHost src(MigrationSide::source, [&](FakeQmpPeer &peer) {
        peer.negotiate();
        peer.reply(expect(peer, "query-migrate"), query_reply("postcopy-paused"));
        peer.reply(expect(peer, "migrate"), "{}");
        // the connection to the destination never comes up: no event at all
        answer_queries_until_close(peer, [&] {
            ++queries;
            return "postcopy-paused";
        });
    });
    FakeMigrationHost dst(MigrationSide::destination, [&](FakeQmpPeer &peer) {
        peer.negotiate();
        peer.reply(expect(peer, "query-migrate"), query_reply("postcopy-paused"));
        peer.reply(expect(peer, "migrate-recover"), "{}");
        answer_queries_until_close(peer, [] { return "postcopy-paused"; });
    });
    break_postcopy(src, dst);
    SourceMigration source(*src.client, src.job, quick);
    DestinationMigration destination(*dst.client, dst.job, quick);
    bool killed = false;

    source.begin_resume(postcopy);
    destination.prepare_resume(postcopy, incoming_uri);
    try {
        source.perform_resume({incoming_uri});
        FAIL("a recovery that never started was reported as success");
    } catch (const virtkit::Error &e) {
        CHECK(e.code() == VIRTKIT_ERR_TIMEOUT);
        CHECK_THAT(e.what(), Catch::Contains("postcopy-paused"));
    }
    CHECK(queries >= 2);  // it was polled, not merely waited for
    try {
        destination.finish_resume(false);
        FAIL("the destination reported a recovery that never reached it");
    } catch (const virtkit::Error &e) {
        CHECK(e.code() == VIRTKIT_ERR_TIMEOUT);
    }
    for (auto *host : {&src, &dst}) {
        const auto job = host->job.snapshot();
        CHECK(job.phase == MigrationPhase::postcopy_failed);
        CHECK(job.postcopy_broken);
    }
    CHECK(src.job.snapshot().reason == lm::paused_postcopy_failed);
    CHECK(dst.job.snapshot().reason == lm::running_postcopy_failed);
    CHECK_FALSE(killed);
    // nothing new was announced: both were post-copy-failed already
    CHECK(src.lifecycle().size() == 1);
    CHECK(dst.lifecycle().size() == 1);
    // still resumable; a fresh migration is not
    CHECK_THROWS_WITH(src.job.start(MigrationPhase::begin3, postcopy), Catch::Contains("waiting to be resumed"));
    CHECK_NOTHROW(source.begin_resume(postcopy));
    CHECK(src.finish().empty());
    CHECK(dst.finish().empty());
}

TEST_CASE("a recovery that fails with QEMU 9.1's postcopy-recover-setup fails at once, not at the timeout",
          "[migration]")
{
    FakeMigrationHost src(MigrationSide::source, [&](FakeQmpPeer &peer) {
        peer.negotiate();
        peer.reply(expect(peer, "query-migrate"), query_reply("postcopy-paused"));
        const auto migrate = expect(peer, "migrate");
        migration(peer, "postcopy-recover-setup");
        peer.reply(migrate, "{}");
        migration(peer, "postcopy-paused");
        expect_nothing(peer);
    });
    FakeMigrationHost dst(MigrationSide::destination, [](FakeQmpPeer &peer) {
        peer.negotiate();
        expect_nothing(peer);
    });
    break_postcopy(src, dst);
    MigrationTimeouts slow = events_only();
    slow.recovery_start = 1h;  // a wrong implementation would hang here
    SourceMigration source(*src.client, src.job, slow);
    source.begin_resume(postcopy);
    CHECK_THROWS_WITH(source.perform_resume({incoming_uri}), Catch::Contains("went back to postcopy-paused"));
    CHECK(src.job.snapshot().phase == MigrationPhase::postcopy_failed);
    CHECK(src.lifecycle() == Events{{VIRTKIT_EVENT_SUSPENDED, lm::suspended_postcopy_failed},
                                    {VIRTKIT_EVENT_SUSPENDED, lm::suspended_postcopy},
                                    {VIRTKIT_EVENT_SUSPENDED, lm::suspended_postcopy_failed}});
    CHECK(src.finish().empty());
    CHECK(dst.finish().empty());
}

TEST_CASE("QEMU reports completed while the destination's Finish fails: Confirm completes the migration",
          "[migration]")
{
    Gate finish_failed, source_completed;
    FakeMigrationHost src(MigrationSide::source, [&](FakeQmpPeer &peer) {
        peer.negotiate();
        expect_migrate_start(peer, true);
        migration(peer, "active");
        const auto switch_over = expect(peer, "migrate-start-postcopy");
        peer.reply(switch_over, "{}");
        migration(peer, "postcopy-active");
        finish_failed.wait();
        migration(peer, "completed");
        peer.reply(expect(peer, "query-migrate"), query_reply("completed"));
        expect_nothing(peer);
    });
    MigrationTimeouts dst_timeouts = events_only();
    dst_timeouts.poll_every = 20ms;
    FakeMigrationHost dst(MigrationSide::destination, [&](FakeQmpPeer &peer) {
        peer.negotiate();
        expect_incoming(peer, true);
        migration(peer, "postcopy-active");
        peer.reply(expect(peer, "cont"), "{}");
        peer.reply_error(expect(peer, "query-migrate"), "monitor hiccup");
        source_completed.wait();
        migration(peer, "completed");  // QEMU finished on its own
        peer.reply(expect(peer, "query-status"), R"({"running": true, "status": "running"})");
        expect_nothing(peer);
    });
    SourceMigration source(*src.client, src.job, events_only());
    DestinationMigration destination(*dst.client, dst.job, dst_timeouts);
    bool killed = false, stopped = false;

    source.begin(postcopy, true);
    destination.prepare(postcopy, true, incoming_uri);
    auto perform = std::async(std::launch::async, [&] { source.perform({incoming_uri}); });
    await(src.job, [](const JobSnapshot &j) { return j.qemu_status == QemuMigrationStatus::active; });
    source.start_postcopy();
    perform.get();
    CHECK_THROWS_WITH(destination.finish(false, [&] { killed = true; }), Catch::Contains("monitor hiccup"));
    CHECK_FALSE(killed);  // the guest ran there: never killed
    CHECK(dst.job.snapshot().reason == lm::running_postcopy);
    finish_failed.open();

    CHECK(source.confirm(true, [&] { stopped = true; }) == SourceMigration::ConfirmResult::completed);
    CHECK(stopped);
    source_completed.open();
    dst.client->execute("query-status", 2s);  // after the destination's completed event
    CHECK(dst.unattended_completion());
    CHECK(dst.job.snapshot().reason == lm::running_migrated);
    CHECK_FALSE(dst.job.snapshot().active());
    CHECK(src.finish().empty());
    CHECK(dst.finish().empty());
}

TEST_CASE("pre-copy broken mid-way rolls back: the source runs again, the destination is cleaned up",
          "[migration]")
{
    FakeMigrationHost src(MigrationSide::source, [](FakeQmpPeer &peer) {
        peer.negotiate();
        expect_migrate_start(peer, false);
        migration(peer, "active");
        peer.event("STOP");
        migration(peer, "failed");
        peer.reply(expect(peer, "query-status"), R"({"running": false, "status": "postmigrate"})");
        peer.reply(expect(peer, "cont"), "{}");
        expect_nothing(peer);
    });
    FakeMigrationHost dst(MigrationSide::destination, [](FakeQmpPeer &peer) {
        peer.negotiate();
        expect_incoming(peer, false);
        migration(peer, "active");
        expect_nothing(peer);
    });
    SourceMigration source(*src.client, src.job, events_only());
    DestinationMigration destination(*dst.client, dst.job, events_only());
    bool killed = false;

    source.begin(live, true);
    destination.prepare(live, true, incoming_uri);
    CHECK_THROWS_WITH(source.perform({incoming_uri}), Catch::Contains("keeps running on the source"));
    destination.finish(true, [&] { killed = true; });
    CHECK(source.confirm(true, [] { FAIL("the source must not be stopped"); }) ==
          SourceMigration::ConfirmResult::rolled_back);

    CHECK(killed);
    CHECK(src.job.snapshot().state == VIRTKIT_DOMAIN_RUNNING);
    CHECK(src.job.snapshot().reason == lm::running_migration_canceled);
    CHECK_FALSE(src.job.snapshot().active());
    CHECK(src.lifecycle() == Events{{VIRTKIT_EVENT_SUSPENDED, lm::suspended_migrated},
                                    {VIRTKIT_EVENT_RESUMED, lm::resumed_migrated}});
    CHECK(dst.lifecycle() == Events{{VIRTKIT_EVENT_STARTED, lm::started_migrated},
                                    {VIRTKIT_EVENT_STOPPED, lm::stopped_failed}});
    CHECK_THAT(src.job.stats_json(true), Catch::Contains(R"("success":false)"));
    CHECK(src.finish().empty());
    CHECK(dst.finish().empty());
}

TEST_CASE("post-copy broken before the destination ran: Perform cancels and rolls back to the source",
          "[migration]")
{
    FakeMigrationHost src(MigrationSide::source, [](FakeQmpPeer &peer) {
        peer.negotiate();
        expect_migrate_start(peer, true);
        migration(peer, "active");
        peer.reply(expect(peer, "migrate-start-postcopy"), "{}");
        peer.event("STOP");
        migration(peer, "postcopy-paused");  // broke before Perform saw postcopy-active
        const auto cancel = expect(peer, "migrate_cancel");
        peer.reply(cancel, "{}");
        migration(peer, "cancelled");
        // QEMU says cancelled before it left finish-migrate, where it refuses cont
        peer.reply(expect(peer, "query-status"), R"({"running": false, "status": "finish-migrate"})");
        peer.reply(expect(peer, "query-status"), R"({"running": false, "status": "postmigrate"})");
        peer.reply(expect(peer, "cont"), "{}");
        expect_nothing(peer);
    });
    SourceMigration source(*src.client, src.job, events_only());
    source.begin(postcopy, true);
    auto perform = std::async(std::launch::async, [&] { source.perform({incoming_uri}); });
    await(src.job, [](const JobSnapshot &j) { return j.qemu_status == QemuMigrationStatus::active; });
    source.start_postcopy();
    CHECK_THROWS_WITH(perform.get(), Catch::Contains("before the destination started"));
    CHECK(src.job.snapshot().state == VIRTKIT_DOMAIN_RUNNING);
    CHECK_FALSE(src.job.snapshot().active());
    CHECK(src.lifecycle().back() == std::make_pair<std::int32_t, std::int32_t>(VIRTKIT_EVENT_RESUMED,
                                                                               lm::resumed_migrated));
    CHECK(src.finish().empty());
}

TEST_CASE("post-copy paused by domjobabort --postcopy keeps both hosts; the resume phases recover it, in order",
          "[migration]")
{
    Gate link_breaks, recovery_on_destination, source_done;
    FakeMigrationHost src(MigrationSide::source, [&](FakeQmpPeer &peer) {
        peer.negotiate();
        expect_migrate_start(peer, true);
        migration(peer, "active");
        peer.reply(expect(peer, "migrate-start-postcopy"), "{}");
        peer.event("STOP");
        migration(peer, "postcopy-active");
        peer.reply(expect(peer, "migrate-pause"), "{}");
        migration(peer, "postcopy-paused");
        peer.reply(expect(peer, "query-migrate"), query_reply("postcopy-paused"));  // Confirm(cancelled)
        peer.reply(expect(peer, "query-migrate"), query_reply("postcopy-paused"));  // Begin(resume)
        const auto params = expect(peer, "migrate-set-parameters");  // a resume may bring a new bandwidth
        if (arguments(params)->getValue<std::uint64_t>("max-postcopy-bandwidth") != 64ull << 20)
            throw std::runtime_error("the resume's post-copy bandwidth was not applied");
        peer.reply(params, "{}");
        const auto migrate = expect(peer, "migrate");
        if (!arguments(migrate)->optValue<bool>("resume", false))
            throw std::runtime_error("Perform(resume) must migrate with resume: true");
        peer.reply(migrate, "{}");
        migration(peer, "postcopy-recover");
        recovery_on_destination.open();
        migration(peer, "postcopy-active");
        source_done.wait();
        migration(peer, "completed");
        peer.reply(expect(peer, "query-migrate"), query_reply("completed"));
        expect_nothing(peer);
    });
    FakeMigrationHost dst(MigrationSide::destination, [&](FakeQmpPeer &peer) {
        peer.negotiate();
        expect_incoming(peer, true);
        migration(peer, "postcopy-active");
        peer.reply(expect(peer, "cont"), "{}");
        peer.event("RESUME");
        link_breaks.wait();
        migration(peer, "postcopy-paused");
        peer.reply(expect(peer, "query-migrate"), query_reply("postcopy-paused"));  // Prepare(resume)
        peer.reply(expect(peer, "migrate-recover"), "{}");
        recovery_on_destination.wait();
        migration(peer, "postcopy-recover");
        migration(peer, "postcopy-active");
        source_done.wait();
        migration(peer, "completed");
        expect_nothing(peer);
    });
    SourceMigration source(*src.client, src.job, events_only());
    DestinationMigration destination(*dst.client, dst.job, events_only());
    bool killed = false, stopped = false;

    source.begin(postcopy, true);
    destination.prepare(postcopy, true, incoming_uri);
    auto perform = std::async(std::launch::async, [&] { source.perform({incoming_uri}); });
    await(src.job, [](const JobSnapshot &j) { return j.qemu_status == QemuMigrationStatus::active; });
    source.start_postcopy();
    perform.get();
    auto finish = std::async(std::launch::async, [&] { destination.finish(false, [&] { killed = true; }); });
    await(dst.job, [](const JobSnapshot &j) { return j.reason == lm::running_postcopy; });

    CHECK_THROWS_WITH(source.abort(0), Catch::Contains("post-copy"));  // cannot cancel in post-copy
    source.abort(VIRTKIT_ABORT_JOB_POSTCOPY);
    await(src.job, [](const JobSnapshot &j) { return j.postcopy_broken; });
    link_breaks.open();
    CHECK_THROWS_WITH(finish.get(), Catch::Contains("--postcopy-resume"));
    CHECK(source.confirm(true, [&] { stopped = true; }) == SourceMigration::ConfirmResult::postcopy_failed);

    // Nothing killed, both kept, only the resume phases allowed.
    CHECK_FALSE(killed);
    CHECK_FALSE(stopped);
    CHECK(src.job.snapshot().reason == lm::paused_postcopy_failed);
    CHECK(dst.job.snapshot().reason == lm::running_postcopy_failed);
    CHECK_THROWS_WITH(source.begin(postcopy, true), Catch::Contains("waiting to be resumed"));
    CHECK_THROWS_WITH(src.job.set_phase(MigrationPhase::perform3), Catch::Contains("only --postcopy-resume"));
    CHECK_THROWS_WITH(destination.finish_resume(false), Catch::Contains("cannot follow"));
    CHECK(src.job.snapshot().phase == MigrationPhase::postcopy_failed);

    source.begin_resume(postcopy);
    CHECK_THROWS_WITH(source.begin_resume(postcopy), Catch::Contains("already in progress"));
    destination.prepare_resume(postcopy, incoming_uri);
    MigrationParams resume{incoming_uri};
    resume.postcopy_bandwidth_mibs = 64;
    source.perform_resume(resume);
    auto finish_resume = std::async(std::launch::async, [&] { destination.finish_resume(false); });
    await(dst.job, [](const JobSnapshot &j) { return j.reason == lm::running_postcopy; });
    source_done.open();
    finish_resume.get();
    CHECK(source.confirm(false, [&] { stopped = true; }) == SourceMigration::ConfirmResult::completed);

    CHECK(stopped);
    CHECK(src.lifecycle() == Events{{VIRTKIT_EVENT_SUSPENDED, lm::suspended_migrated},
                                    {VIRTKIT_EVENT_SUSPENDED, lm::suspended_postcopy},
                                    {VIRTKIT_EVENT_SUSPENDED, lm::suspended_postcopy_failed},
                                    {VIRTKIT_EVENT_SUSPENDED, lm::suspended_postcopy},
                                    {VIRTKIT_EVENT_STOPPED, lm::stopped_migrated}});
    CHECK(dst.lifecycle() == Events{{VIRTKIT_EVENT_STARTED, lm::started_migrated},
                                    {VIRTKIT_EVENT_RESUMED, lm::resumed_postcopy},
                                    {VIRTKIT_EVENT_RESUMED, lm::resumed_postcopy_failed},
                                    {VIRTKIT_EVENT_RESUMED, lm::resumed_postcopy},
                                    {VIRTKIT_EVENT_RESUMED, lm::resumed_migrated}});
    CHECK(src.finish().empty());
    CHECK(dst.finish().empty());
}

TEST_CASE("domjobabort --postcopy returns only once QEMU reports postcopy-paused, so a resume can follow at once "
          "(issue #4)",
          "[migration]")
{
    FakeMigrationHost src(MigrationSide::source, [&](FakeQmpPeer &peer) {
        peer.negotiate();
        expect_migrate_start(peer, true);
        migration(peer, "active");
        peer.reply(expect(peer, "migrate-start-postcopy"), "{}");
        peer.event("STOP");
        migration(peer, "postcopy-active");
        peer.reply(expect(peer, "migrate-pause"), "{}");
        // QEMU accepted the pause, but its migration thread has not noticed
        // the shut stream yet: the next query still says postcopy-active.
        // Only a caller that keeps waiting sees the pause that follows.
        peer.reply(expect(peer, "query-migrate"), query_reply("postcopy-active"));
        migration(peer, "postcopy-paused");
        answer_queries_until_close(peer, [] { return std::string("postcopy-paused"); });
    });
    SourceMigration source(*src.client, src.job, events_only());
    MigrationTimeouts polling = events_only();
    polling.poll_every = 10ms;
    SourceMigration pausing(*src.client, src.job, polling);

    source.begin(postcopy, true);
    auto perform = std::async(std::launch::async, [&] { source.perform({incoming_uri}); });
    await(src.job, [](const JobSnapshot &j) { return j.qemu_status == QemuMigrationStatus::active; });
    source.start_postcopy();
    perform.get();
    REQUIRE(src.job.snapshot().status == JobStatus::postcopy);

    pausing.abort(VIRTKIT_ABORT_JOB_POSTCOPY);
    // Right when abort returns: QEMU reported the pause, the job says so.
    const JobSnapshot after = src.job.snapshot();
    CHECK(after.status == JobStatus::postcopy_paused);
    CHECK(after.qemu_status == QemuMigrationStatus::postcopy_paused);
    CHECK(after.reason == lm::paused_postcopy_failed);
    // What the orchestrator does next: Confirm(cancelled) after Finish failed, then the resume's Begin.
    CHECK(pausing.confirm(true, [] {}) == SourceMigration::ConfirmResult::postcopy_failed);
    pausing.begin_resume(postcopy);
    CHECK(src.job.snapshot().phase == MigrationPhase::begin_resume);
    CHECK(src.finish().empty());
}

TEST_CASE("refused before anything starts: no userfaultfd, non-live post-copy, resume with nothing paused, "
          "a second migration",
          "[migration]")
{
    FakeMigrationHost src(MigrationSide::source, [](FakeQmpPeer &peer) {
        peer.negotiate();
        expect_nothing(peer);
    });
    FakeMigrationHost dst(MigrationSide::destination, [](FakeQmpPeer &peer) {
        peer.negotiate();
        expect_nothing(peer);
    });
    SourceMigration source(*src.client, src.job, events_only());
    DestinationMigration destination(*dst.client, dst.job, events_only());

    SECTION("no userfaultfd")
    {
        try {
            source.begin(postcopy, false);
            FAIL("post-copy began without userfaultfd");
        } catch (const virtkit::Error &e) {
            CHECK(e.code() == VIRTKIT_ERR_NO_SUPPORT);
            CHECK_THAT(e.what(), Catch::Contains("userfaultfd"));
        }
        CHECK_THROWS_WITH(destination.prepare(postcopy, false, incoming_uri), Catch::Contains("userfaultfd"));
        CHECK(userfaultfd_available("/nonexistent/userfaultfd") == false);
    }
    SECTION("non-live post-copy")
    {
        CHECK_THROWS_WITH(source.begin(VIRTKIT_MIGRATE_POSTCOPY, true), Catch::Contains("--live"));
    }
    SECTION("resume with nothing paused")
    {
        CHECK_THROWS_WITH(source.begin_resume(postcopy), Catch::Contains("nothing to resume"));
        CHECK_THROWS_WITH(destination.prepare_resume(postcopy, incoming_uri), Catch::Contains("nothing to resume"));
        CHECK_THROWS_WITH(source.begin_resume(live), Catch::Contains("requires --postcopy"));
    }
    SECTION("twice at once")
    {
        source.begin(live, true);
        CHECK_THROWS_WITH(source.begin(live, true), Catch::Contains("already running"));
        CHECK_THROWS_WITH(source.begin_resume(postcopy), Catch::Contains("still running"));
        CHECK(src.job.snapshot().phase == MigrationPhase::begin3);
        CHECK_THROWS_WITH(source.start_postcopy(), Catch::Contains("--postcopy"));
        CHECK_THROWS_WITH(src.job.set_phase(MigrationPhase::begin3), Catch::Contains("backwards"));
        source.abort(0);  // before Perform: nothing reached QEMU
        CHECK_FALSE(src.job.snapshot().active());
    }
    for (auto *host : {&src, &dst}) {
        CHECK(host->job.snapshot().state == VIRTKIT_DOMAIN_RUNNING);
        CHECK(host->lifecycle().empty());
    }
    CHECK_FALSE(dst.job.snapshot().active());
    CHECK(dst.finish().empty());
    CHECK(src.finish().empty());
}

TEST_CASE("a paused domain migrates paused, and a failed migration of it leaves it paused", "[migration]")
{
    constexpr std::uint32_t paused = VIRTKIT_MIGRATE_LIVE | VIRTKIT_MIGRATE_PAUSED;
    SECTION("completed: the destination stays paused")
    {
        FakeMigrationHost dst(MigrationSide::destination, [](FakeQmpPeer &peer) {
            peer.negotiate();
            expect_incoming(peer, false);
            migration(peer, "completed");
            expect_nothing(peer);  // no cont
        });
        DestinationMigration destination(*dst.client, dst.job, events_only());
        destination.prepare(paused, true, incoming_uri);
        destination.finish(false, [] {});
        CHECK(dst.job.snapshot().state == VIRTKIT_DOMAIN_PAUSED);
        CHECK(dst.job.snapshot().reason == lm::paused_user);
        CHECK(dst.finish().empty());
    }
    SECTION("failed: the source is not resumed")
    {
        FakeMigrationHost src(
            MigrationSide::source,
            [](FakeQmpPeer &peer) {
                peer.negotiate();
                expect_migrate_start(peer, false);
                migration(peer, "active");
                migration(peer, "failed");
                expect_nothing(peer);  // neither query-status nor cont
            },
            VIRTKIT_DOMAIN_PAUSED, lm::paused_user);
        SourceMigration source(*src.client, src.job, events_only());
        source.begin(paused, true);
        CHECK_THROWS(source.perform({incoming_uri}));
        CHECK(src.job.snapshot().state == VIRTKIT_DOMAIN_PAUSED);
        CHECK(src.job.snapshot().reason == lm::paused_user);
        CHECK(src.lifecycle().empty());
        CHECK(src.finish().empty());
    }
}
