// One host of a fake migration: a scripted QMP monitor (the real wire
// format), a real QmpClient on it, and a MigrationJob fed with the
// monitor's MIGRATION and STOP events exactly as the driver feeds it.
// Two of these make the two sides; Gates order their scripts.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <virtkit/plugin.h>

#include "fake_qmp_monitor.hpp"
#include "migration/migration_job.hpp"
#include "migration/qmp_migration.hpp"
#include "qmp/qmp_client.hpp"

namespace virtkit::qemu::testing {

// A one-shot latch between a fake's script and the test (or the other fake).
class Gate {
public:
    void open()
    {
        const std::lock_guard lock(mutex_);
        open_ = true;
        changed_.notify_all();
    }
    void wait()
    {
        std::unique_lock lock(mutex_);
        if (!changed_.wait_for(lock, std::chrono::seconds(5), [this] { return open_; }))
            throw std::runtime_error("a gate of the migration test was never opened");
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool open_ = false;
};

// Script pieces.
inline Poco::JSON::Object::Ptr expect(FakeQmpPeer &peer, const std::string &command)
{
    const auto got = peer.receive();
    const auto name = got->getValue<std::string>("execute");
    if (name != command)
        throw std::runtime_error("expected command '" + command + "', got '" + name + "'");
    return got;
}
inline Poco::JSON::Object::Ptr arguments(const Poco::JSON::Object::Ptr &command)
{
    const auto args = command->getObject("arguments");
    if (!args)
        throw std::runtime_error(command->getValue<std::string>("execute") + " came without arguments");
    return args;
}
inline void migration(FakeQmpPeer &peer, const std::string &status)
{
    peer.event("MIGRATION", R"({"status": ")" + status + "\"}");
}
inline std::string query_reply(const std::string &status)
{
    return R"({"status": ")" + status +
           R"(", "total-time": 1500, "setup-time": 3, "downtime": 40, "ram": {"transferred": 1048576, "remaining": 0, "total": 134217728, "mbps": 800.5, "dirty-pages-rate": 0, "dirty-sync-count": 2, "postcopy-requests": 7, "page-size": 4096}})";
}
// Answers query-migrate with `status()` until the client goes away; any
// other command is a script failure.
inline void answer_queries_until_close(FakeQmpPeer &peer, const std::function<std::string()> &status)
{
    while (const auto command = peer.receive_unless_closed()) {
        const auto name = command->getValue<std::string>("execute");
        if (name != "query-migrate")
            throw std::runtime_error("unexpected command '" + name + "' while answering query-migrate");
        peer.reply(command, query_reply(status()));
    }
}
inline void expect_nothing(FakeQmpPeer &peer)
{
    if (const auto command = peer.receive_unless_closed())
        throw std::runtime_error("unexpected command '" + command->getValue<std::string>("execute") + "'");
}

// Timeouts for event-driven tests: no background polling at all, so every
// command a script sees is one the test expects.
inline MigrationTimeouts events_only()
{
    MigrationTimeouts t;
    t.poll_every = std::chrono::hours(1);
    t.recovery_start = std::chrono::seconds(5);
    t.switchover = std::chrono::seconds(5);
    t.confirm_completion = std::chrono::seconds(5);
    return t;
}

class FakeMigrationHost {
public:
    FakeMigrationHost(MigrationSide side, FakeQmpMonitor::Script script,
                      std::int32_t state = VIRTKIT_DOMAIN_RUNNING, std::int32_t reason = 1 /* booted */)
        : job(side, state, reason, [this](const DomainStateChange &c) { record(c); }), monitor(std::move(script))
    {
        QmpClient::Options options;
        options.handshake_timeout = std::chrono::seconds(2);
        options.on_event = [this](const QmpEvent &event) { route(event); };
        client = std::make_unique<QmpClient>(UnixStream::connect(monitor.socket_path(), std::chrono::seconds(2)),
                                             options);
    }
    ~FakeMigrationHost() { client.reset(); }

    // What the fake's script reported as wrong ("" when it ran as written).
    std::string finish()
    {
        client.reset();
        return monitor.finish();
    }

    std::vector<std::pair<std::int32_t, std::int32_t>> lifecycle() const
    {
        const std::lock_guard lock(mutex_);
        std::vector<std::pair<std::int32_t, std::int32_t>> out;
        for (const auto &c : changes_)
            out.emplace_back(c.event, c.detail);
        return out;
    }
    bool unattended_completion() const
    {
        const std::lock_guard lock(mutex_);
        return unattended_completed_;
    }

    MigrationJob job;
    FakeQmpMonitor monitor;
    std::unique_ptr<QmpClient> client;

private:
    void record(const DomainStateChange &change)
    {
        const std::lock_guard lock(mutex_);
        changes_.push_back(change);
    }
    // What the driver does with the monitor's events.
    void route(const QmpEvent &event)
    {
        if (event.name == "MIGRATION") {
            const auto status = parse_qemu_migration_status(event.data->optValue<std::string>("status", ""));
            if (status && job.on_migration_event(*status)) {
                {
                    const std::lock_guard lock(mutex_);
                    unattended_completed_ = true;
                }
                job.finish_job(JobStatus::completed);
            }
        } else if (event.name == "STOP") {
            if (!job.on_vcpus_stopped())
                job.observe_domain_state(VIRTKIT_DOMAIN_PAUSED, 0 /* unknown */);
        }
    }

    mutable std::mutex mutex_;
    std::vector<DomainStateChange> changes_;
    bool unattended_completed_ = false;
};

}  // namespace virtkit::qemu::testing
