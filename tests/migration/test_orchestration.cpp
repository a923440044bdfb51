// The orchestration rules of migration.hpp, against two fake sides that
// record every phase call and fail on cue.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <thread>

#include <virtkit/error.hpp>
#include <virtkit/migration.hpp>

#include "fake_connection.hpp"

using namespace virtkit;
using virtkit::test::CallLog;
using virtkit::test::FakeConnection;
using namespace std::chrono_literals;

namespace {

struct Hosts {
    CallLog log;
    FakeConnection src{"src", "fake:///source", log};
    FakeConnection dst{"dst", "fake:///destination", log};
    MigrateParams params;
    Hosts() { params.pollIntervalMs = 10; }
    MigrationResult run(uint32_t flags = VIRTKIT_MIGRATE_LIVE, const MigrationProgressHandler &progress = {})
    {
        return migrate(src, dst, src.domain.uuid, params, flags, progress);
    }
};

// The message of the Error `fn` throws (fails the test if it does not throw Error).
template <typename Fn>
std::string errorOf(Fn fn, int *code = nullptr)
{
    try {
        fn();
    } catch (const Error &e) {
        if (code)
            *code = e.code();
        return e.what();
    }
    FAIL("no Error thrown");
    return {};
}

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

std::string stats(const std::string &status, int iteration, uint64_t total = 1000, uint64_t remaining = 400)
{
    return R"({"type":2,"operation":5,"phase":"perform3","status":")" + status +
           R"(","memory_iteration":)" + std::to_string(iteration) + R"(,"data_total":)" + std::to_string(total) +
           R"(,"data_remaining":)" + std::to_string(remaining) + R"(,"data_processed":600,"memory_bps":1048576})";
}

}  // namespace

TEST_CASE("a migration runs Begin, Prepare, Perform, Finish and Confirm in order, each given the previous cookie",
          "[migration]")
{
    Hosts h;
    const MigrationResult r = h.run();
    CHECK(h.log.sequence() == "src:begin dst:prepare src:perform dst:finish src:confirm");
    CHECK(h.log.find("dst", "prepare")->cookie == "cookie-begin");
    CHECK(h.log.find("src", "perform")->cookie == "cookie-prepare");
    CHECK(h.log.find("dst", "finish")->cookie == "cookie-perform");
    CHECK(h.log.find("src", "confirm")->cookie == "cookie-finish");
    // Prepare gets Begin's XML; Perform sends the stream where Prepare said; Finish names the domain.
    CHECK(contains(h.log.find("dst", "prepare")->params, "<name>vm</name>"));
    CHECK(contains(h.log.find("src", "perform")->params, R"("uri":"tcp:127.0.0.1:49152")"));
    CHECK(contains(h.log.find("dst", "finish")->params, R"("dest_name":"vm")"));
    CHECK(r.domain.name == "vm");
    CHECK(r.warnings.empty());
    for (const auto &c : h.log.calls())
        if (c.op == "finish" || c.op == "confirm")
            CHECK_FALSE(c.cancelled);
}

TEST_CASE("the caller's parameters reach the phases under libvirt's parameter names", "[migration]")
{
    Hosts h;
    h.params.uri = "tcp:10.0.0.2:4444";
    h.params.destName = "renamed";
    h.params.destXml = "<domain><name>renamed</name></domain>";
    h.params.bandwidth = 100;
    h.params.postcopyBandwidth = 50;
    h.params.listenAddress = "10.0.0.2";
    h.dst.preparedUri = "";  // Prepare answers no URI: Perform uses --migrateuri
    h.dst.domain.name = "renamed";
    h.run();
    const std::string prepare = h.log.find("dst", "prepare")->params;
    CHECK(contains(prepare, R"("dest_xml":"<domain><name>renamed</name></domain>")"));
    CHECK(contains(prepare, R"("dest_name":"renamed")"));
    CHECK(contains(prepare, R"("listen_address":"10.0.0.2")"));
    CHECK(contains(prepare, R"("bandwidth":100)"));
    CHECK(contains(prepare, R"("bandwidth.postcopy":50)"));
    CHECK(contains(h.log.find("src", "perform")->params, R"("uri":"tcp:10.0.0.2:4444")"));
    CHECK(contains(h.log.find("src", "begin")->params, R"("dest_name":"renamed")"));
}

TEST_CASE("a refused Begin calls nothing else", "[migration]")
{
    Hosts h;
    h.src.failAt = "begin";
    const std::string msg = errorOf([&] { h.run(); });
    CHECK(contains(msg, "failed at Begin: injected failure"));
    CHECK(h.log.sequence() == "src:begin");
}

TEST_CASE("a failed Prepare ends the source's job with Confirm(cancelled) and leaves the domain running there",
          "[migration]")
{
    Hosts h;
    h.dst.failAt = "prepare";
    const std::string msg = errorOf([&] { h.run(); });
    CHECK(h.log.sequence() == "src:begin dst:prepare src:confirm(cancelled)");
    CHECK(contains(msg, "failed at Prepare on fake:///destination"));
    CHECK(h.src.state == VIRTKIT_DOMAIN_RUNNING);
    CHECK_FALSE(h.src.jobActive);
}

TEST_CASE("a failed Perform rolls back with Finish(cancelled) then Confirm(cancelled)", "[migration]")
{
    Hosts h;
    h.src.failAt = "perform";
    SECTION("in pre-copy") {}
    SECTION("after the switch to post-copy, before the destination's vCPUs ran")
    {
        h.params.postcopyAfterPrecopy = true;
        h.src.jobStatsScript = [](int) { return stats("migrating", 2); };
        h.src.performBody = [&](FakeConnection &) { h.log.waitFor("src", "startPostcopy", 5s); };
    }
    const uint32_t flags = VIRTKIT_MIGRATE_LIVE | (h.params.postcopyAfterPrecopy ? VIRTKIT_MIGRATE_POSTCOPY : 0);
    const std::string msg = errorOf([&] { h.run(flags); });
    CHECK(h.log.sequence() == "src:begin dst:prepare src:perform dst:finish(cancelled) src:confirm(cancelled)");
    CHECK(contains(msg, "failed at Perform: injected failure"));
    CHECK(contains(msg, "rolled back"));
    CHECK(h.log.count("src", "destroy") == 0);
    CHECK(h.log.count("dst", "destroy") == 0);
}

TEST_CASE("a failed Finish in post-copy keeps the domain on both hosts and says how to recover", "[migration]")
{
    Hosts h;
    h.dst.failAt = "finish";
    h.dst.failMessage = "migration stream broke";
    h.src.jobStatus = "postcopy_paused";
    h.src.jobPhase = "postcopy_failed";
    const std::string msg =
        errorOf([&] { h.run(VIRTKIT_MIGRATE_LIVE | VIRTKIT_MIGRATE_POSTCOPY); });
    CHECK(h.log.sequence() == "src:begin dst:prepare src:perform dst:finish src:confirm(cancelled)");
    CHECK(contains(msg, "failed at Finish on fake:///destination: migration stream broke"));
    CHECK(contains(msg, "kept on both hosts"));
    CHECK(contains(msg, "--postcopy-resume"));
    for (const char *op : {"destroy", "undefine", "abort", "resume", "shutdown"}) {
        CHECK(h.log.count("src", op) == 0);
        CHECK(h.log.count("dst", op) == 0);
    }
}

TEST_CASE("a failed Finish that names a Confirm cookie (confirm-cookie=) hands it to Confirm; otherwise Confirm gets "
          "none",
          "[migration]")
{
    Hosts h;
    h.dst.failAt = "finish";
    h.src.jobStatus = "postcopy_paused";
    std::string expected;
    SECTION("the destination's guest never ran: its word reaches the source's Confirm")
    {
        h.dst.failMessage = "the destination QEMU exited; the guest never ran there, so the source may roll back "
                            R"((confirm-cookie={"destination_started":false}))";
        expected = R"({"destination_started":false})";
    }
    SECTION("strings inside the cookie may hold braces and escaped quotes")
    {
        h.dst.failMessage = R"(broke (confirm-cookie={"note":"}\"{","destination_started":false}) tail})";
        expected = R"({"note":"}\"{","destination_started":false})";
    }
    SECTION("no marker: no cookie (the plugin then keeps a post-copy source paused)")
    {
        h.dst.failMessage = "migration stream broke";
    }
    SECTION("a marker without a whole JSON object: no cookie")
    {
        h.dst.failMessage = R"(broke (confirm-cookie={"destination_started":false)";
    }
    SECTION("a marker followed by something else than an object: no cookie")
    {
        h.dst.failMessage = "broke (confirm-cookie=false)";
    }
    errorOf([&] { h.run(VIRTKIT_MIGRATE_LIVE | VIRTKIT_MIGRATE_POSTCOPY); });
    CHECK(h.log.sequence() == "src:begin dst:prepare src:perform dst:finish src:confirm(cancelled)");
    const auto confirm = h.log.find("src", "confirm");
    REQUIRE(confirm);
    CHECK(confirm->cookie == expected);
}

TEST_CASE("a failed Finish in pre-copy rolls back to the source", "[migration]")
{
    Hosts h;
    h.dst.failAt = "finish";
    const std::string msg = errorOf([&] { h.run(); });
    CHECK(h.log.sequence() == "src:begin dst:prepare src:perform dst:finish src:confirm(cancelled)");
    CHECK(contains(msg, "rolled back"));
    CHECK(h.src.state == VIRTKIT_DOMAIN_RUNNING);
}

TEST_CASE("Finish failing after QEMU completed: Confirm completes and the migration succeeds with a warning",
          "[migration]")
{
    Hosts h;
    h.dst.failAt = "finish";
    h.src.confirmCompletesOnCancel = true;  // the plugin's Confirm saw "completed"
    const MigrationResult r = h.run(VIRTKIT_MIGRATE_LIVE | VIRTKIT_MIGRATE_POSTCOPY);
    CHECK(h.log.sequence() == "src:begin dst:prepare src:perform dst:finish src:confirm(cancelled)");
    CHECK(r.domain.name == "vm");
    REQUIRE(r.warnings.size() == 1);
    CHECK(contains(r.warnings[0], "completed the migration"));
}

TEST_CASE("a failed Confirm after a successful Finish is a warning: the guest runs on the destination",
          "[migration]")
{
    Hosts h;
    h.src.failAt = "confirm";
    const MigrationResult r = h.run();
    CHECK(r.domain.name == "vm");
    REQUIRE(r.warnings.size() == 1);
    CHECK(contains(r.warnings[0], "Confirm on the source failed"));
}

TEST_CASE("post-copy recovery runs the same five phases in resume mode", "[migration]")
{
    Hosts h;
    h.src.state = VIRTKIT_DOMAIN_PAUSED;  // paused as post-copy failed
    h.src.jobActive = true;              // the failed post-copy job is kept
    const uint32_t flags = VIRTKIT_MIGRATE_POSTCOPY | VIRTKIT_MIGRATE_POSTCOPY_RESUME;
    SECTION("it completes")
    {
        h.run(flags);
        CHECK(h.log.sequence() == "src:begin dst:prepare src:perform dst:finish src:confirm");
    }
    SECTION("a failed recovery stays post-copy-failed: the phases are told, nothing is rolled back")
    {
        h.src.failAt = "perform";
        const std::string msg = errorOf([&] { h.run(flags); });
        CHECK(h.log.sequence() == "src:begin dst:prepare src:perform dst:finish(cancelled) src:confirm(cancelled)");
        CHECK(contains(msg, "post-copy recovery of domain 'vm' failed at Perform"));
        CHECK(contains(msg, "kept on both hosts"));
        CHECK(h.log.count("src", "resume") == 0);
    }
    for (const auto &c : h.log.calls())
        if (c.op != "abort") {
            CHECK((c.flags & VIRTKIT_MIGRATE_POSTCOPY_RESUME) != 0);
            CHECK((c.flags & VIRTKIT_MIGRATE_PAUSED) == 0);  // libvirt commit a5e603c808
        }
    CHECK(h.log.count("src", "startPostcopy") == 0);
}

TEST_CASE("a paused domain migrates paused, and cannot be migrated in post-copy", "[migration]")
{
    Hosts h;
    h.src.state = VIRTKIT_DOMAIN_PAUSED;
    SECTION("pre-copy adds VIRTKIT_MIGRATE_PAUSED")
    {
        h.run();
        CHECK((h.log.find("src", "begin")->flags & VIRTKIT_MIGRATE_PAUSED) != 0);
    }
    SECTION("post-copy is refused before Begin")
    {
        int code = 0;
        const std::string msg =
            errorOf([&] { h.run(VIRTKIT_MIGRATE_LIVE | VIRTKIT_MIGRATE_POSTCOPY); }, &code);
        CHECK(code == VIRTKIT_ERR_INVALID_ARG);
        CHECK(contains(msg, "paused"));
        CHECK(h.log.calls().empty());
    }
}

TEST_CASE("contradictory requests are refused before any phase runs", "[migration]")
{
    Hosts h;
    uint32_t flags = VIRTKIT_MIGRATE_LIVE;
    std::string expect;
    SECTION("resume without post-copy")
    {
        flags |= VIRTKIT_MIGRATE_POSTCOPY_RESUME;
        expect = "requires post-copy";
    }
    SECTION("non-live post-copy")
    {
        flags = VIRTKIT_MIGRATE_POSTCOPY;
        expect = "requires live migration";
    }
    SECTION("post-copy with --suspend")
    {
        flags |= VIRTKIT_MIGRATE_POSTCOPY | VIRTKIT_MIGRATE_PAUSED;
        expect = "--suspend";
    }
    SECTION("tunnelled post-copy")
    {
        flags |= VIRTKIT_MIGRATE_POSTCOPY | VIRTKIT_MIGRATE_TUNNELLED;
        expect = "tunnelled";
    }
    SECTION("--postcopy-after-precopy without --postcopy")
    {
        h.params.postcopyAfterPrecopy = true;
        expect = "--postcopy-after-precopy requires --postcopy";
    }
    SECTION("--timeout-postcopy without --postcopy")
    {
        h.params.timeoutSeconds = 5;
        h.params.timeoutPostcopy = true;
        expect = "--timeout-postcopy requires --postcopy";
    }
    SECTION("--timeout without --live")
    {
        flags = 0;
        h.params.timeoutSeconds = 5;
        expect = "--timeout requires live";
    }
    int code = 0;
    CHECK(contains(errorOf([&] { h.run(flags); }, &code), expect));
    CHECK(code == VIRTKIT_ERR_INVALID_ARG);
    CHECK(h.log.calls().empty());
    CHECK(h.src.state == VIRTKIT_DOMAIN_RUNNING);
}

TEST_CASE("a migration to the source connection itself is refused", "[migration]")
{
    Hosts h;
    CHECK(contains(errorOf([&] { migrate(h.src, h.src, h.src.domain.uuid, h.params, VIRTKIT_MIGRATE_LIVE); }),
                   "is the source connection itself"));
    CHECK(h.log.calls().empty());
}

TEST_CASE("a second migration of a migrating domain is refused at once and the first one is not disturbed",
          "[migration]")
{
    Hosts h;
    std::promise<void> release;
    auto released = release.get_future().share();
    h.src.performBody = [released](FakeConnection &) { released.wait_for(10s); };
    auto first = std::async(std::launch::async, [&] { return h.run(); });
    REQUIRE(h.log.waitFor("src", "perform", 5s));

    CallLog otherLog;
    FakeConnection otherDst{"dst2", "fake:///elsewhere", otherLog};
    const std::string msg =
        errorOf([&] { migrate(h.src, otherDst, h.src.domain.uuid, h.params, VIRTKIT_MIGRATE_LIVE); });
    CHECK(contains(msg, "another migration job is already running"));
    CHECK(otherLog.calls().empty());                // the second destination was never asked
    CHECK(h.log.count("src", "confirm") == 0);      // the first job was not cancelled by the refusal
    release.set_value();
    CHECK(first.get().domain.name == "vm");
    CHECK(h.log.sequence() == "src:begin dst:prepare src:perform src:begin dst:finish src:confirm");
}

TEST_CASE("the --postcopy-after-precopy option switches to post-copy once, when the first pre-copy pass has ended",
          "[migration]")
{
    Hosts h;
    h.params.postcopyAfterPrecopy = true;
    h.src.jobStatsScript = [](int poll) { return stats("migrating", poll < 3 ? 1 : 2); };
    h.src.performBody = [&](FakeConnection &) { h.log.waitFor("src", "startPostcopy", 5s); std::this_thread::sleep_for(50ms); };
    const MigrationResult r = h.run(VIRTKIT_MIGRATE_LIVE | VIRTKIT_MIGRATE_POSTCOPY);
    CHECK(r.switchedToPostcopy);
    CHECK(h.log.count("src", "startPostcopy") == 1);
    CHECK(h.src.statsCalls >= 3);
}

TEST_CASE("the --timeout option suspends the source, or with --timeout-postcopy switches to post-copy", "[migration]")
{
    Hosts h;
    h.params.timeoutSeconds = 1;
    uint32_t flags = VIRTKIT_MIGRATE_LIVE;
    std::string action;
    SECTION("suspend")
    {
        action = "suspend";
    }
    SECTION("post-copy")
    {
        h.params.timeoutPostcopy = true;
        flags |= VIRTKIT_MIGRATE_POSTCOPY;
        action = "startPostcopy";
    }
    h.src.performBody = [&](FakeConnection &) { h.log.waitFor("src", action, 5s); std::this_thread::sleep_for(50ms); };
    const auto start = std::chrono::steady_clock::now();
    const MigrationResult r = h.run(flags);
    CHECK(std::chrono::steady_clock::now() - start >= 1s);
    CHECK(h.log.count("src", action) == 1);
    CHECK(r.suspendedOnTimeout == (action == "suspend"));
    CHECK(r.switchedToPostcopy == (action == "startPostcopy"));
}

TEST_CASE("progress comes from the source's job statistics while Perform runs", "[migration]")
{
    Hosts h;
    h.src.jobStatsScript = [](int poll) { return stats("migrating", 1, 1000, poll >= 3 ? 100 : 400); };
    h.src.performBody = [&](FakeConnection &self) {
        while (self.statsCalls < 4)
            std::this_thread::sleep_for(5ms);
    };
    std::vector<MigrationProgress> seen;
    h.run(VIRTKIT_MIGRATE_LIVE, [&](const MigrationProgress &p) { seen.push_back(p); });
    std::vector<std::string> phases;
    for (const auto &p : seen)
        if (phases.empty() || phases.back() != p.phase)
            phases.push_back(p.phase);
    CHECK(phases == std::vector<std::string>{"begin", "prepare", "perform", "finish", "confirm"});
    bool sawSixty = false, sawNinety = false;
    for (const auto &p : seen) {
        sawSixty |= p.stats.percent() == 60;
        sawNinety |= p.stats.percent() == 90;
    }
    CHECK(sawSixty);
    CHECK(sawNinety);
}

TEST_CASE("unreadable job statistics and a throwing progress handler do not stop a migration", "[migration]")
{
    Hosts h;
    h.src.jobStatsScript = [](int) { return std::string("not json"); };
    h.src.performBody = [&](FakeConnection &self) {
        while (self.statsCalls < 2)
            std::this_thread::sleep_for(5ms);
    };
    const MigrationResult r =
        h.run(VIRTKIT_MIGRATE_LIVE, [](const MigrationProgress &) { throw std::runtime_error("printer broke"); });
    CHECK(r.domain.name == "vm");
    CHECK(h.log.sequence() == "src:begin dst:prepare src:perform dst:finish src:confirm");
}

TEST_CASE("an interrupt aborts the source's job once and the failed Perform rolls back", "[migration]")
{
    Hosts h;
    std::atomic<bool> interrupted{true};
    h.params.interrupt = &interrupted;
    h.src.performBody = [&](FakeConnection &self) {
        if (h.log.waitFor("src", "abort", 5s)) {
            std::this_thread::sleep_for(50ms);
            self.failAt = "perform";
            self.failMessage = "migration cancelled";
        }
    };
    const std::string msg = errorOf([&] { h.run(); });
    CHECK(h.log.count("src", "abort") == 1);
    CHECK(h.log.find("src", "abort")->flags == 0);  // never the post-copy pause
    CHECK(contains(msg, "migration cancelled"));
    CHECK(h.log.sequence() == "src:begin dst:prepare src:perform dst:finish(cancelled) src:confirm(cancelled)");
}

TEST_CASE("job statistics parse libvirt's typed-parameter names", "[migration]")
{
    const JobStats s = JobStats::parse(
        R"({"type":2,"operation":5,"phase":"perform3","status":"migrating","time_elapsed":1500,)"
        R"("data_total":1073741824,"data_remaining":268435456,"data_processed":805306368,"memory_bps":33554432,)"
        R"("memory_iteration":3,"downtime":300,"success":true})");
    CHECK(s.type == JobType::Unbounded);
    CHECK(std::string(jobTypeName(s.type)) == "Unbounded");
    CHECK(std::string(jobOperationName(s.operation)) == "Outgoing migration");
    CHECK(s.timeElapsedMs == 1500u);
    CHECK(s.memoryIteration == 3u);
    CHECK(s.percent() == 75);
    CHECK(s.success == true);
    CHECK_FALSE(s.inPostcopy());
    CHECK_FALSE(s.postcopyRequests.has_value());

    CHECK(JobStats::parse(R"({"status":"postcopy_paused"})").inPostcopy());
    CHECK(JobStats::parse(R"({"phase":"postcopy_failed","status":"none"})").inPostcopy());
    CHECK(JobStats::parse(R"({"phase":"prepare_resume"})").inPostcopy());
    CHECK(JobStats::parse(R"({"type":"completed"})").type == JobType::Completed);
    CHECK_FALSE(JobStats::parse("{}").percent().has_value());

    CHECK_THROWS_AS(JobStats::parse("[1,2]"), Error);
    CHECK_THROWS_AS(JobStats::parse("{\"data_total\":\"lots\"}"), Error);
    CHECK_THROWS_AS(JobStats::parse("{\"data_total\":-5}"), Error);
    CHECK_THROWS_AS(JobStats::parse("{\"type\":\"sideways\"}"), Error);
}
