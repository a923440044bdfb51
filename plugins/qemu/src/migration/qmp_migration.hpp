// The QMP side of each migration phase, on one host: the commands QEMU
// needs (QEMU 7.2's qapi/migration.json) and the waits between them, with
// every decision taken by MigrationJob.  Starting and stopping the QEMU
// process belongs to the driver; the steps call back for it.
//
// The caller must feed the job every MIGRATION event (job.on_qemu_status)
// and STOP event (job.on_vcpus_stopped) of this QEMU; the steps also poll
// query-migrate, because QEMU 7.2 reports a failed recovery connection by
// saying nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "migration/migration_job.hpp"
#include "qmp/qmp_client.hpp"

namespace virtkit::qemu {

struct MigrationTimeouts {
    std::chrono::milliseconds command{5000};
    std::chrono::milliseconds poll_every{200};
    // 7.2 has no postcopy-recover-setup: a recovery that never connects
    // leaves QEMU in postcopy-paused without a word.
    std::chrono::milliseconds recovery_start{30000};
    // Finish: for the destination to reach the point the source's Perform ended at.
    std::chrono::milliseconds switchover{60000};
    // Confirm: for the source QEMU to report completed after Finish did.
    std::chrono::milliseconds confirm_completion{10000};
};

struct MigrationParams {
    std::string uri;                      // tcp:HOST:PORT (what Prepare returned)
    std::uint64_t bandwidth_mibs = 0;     // 0: keep the job's speed
    std::uint64_t postcopy_bandwidth_mibs = 0;
};

// Where post-copy's page faults are served from; Begin and Prepare refuse
// post-copy before anything starts when it is missing.
bool userfaultfd_available(const std::string &device = "/dev/userfaultfd");

class SourceMigration {
public:
    SourceMigration(QmpClient &monitor, MigrationJob &job, MigrationTimeouts timeouts = {});

    // Begin3: validates the flags and starts the job.  `userfaultfd`: this
    // host can serve post-copy.
    void begin(std::uint32_t flags, bool userfaultfd);
    // Perform3: capabilities, parameters, migrate, wait until completed (or
    // post-copy active with VIRTKIT_MIGRATE_POSTCOPY).  On failure the
    // destination has not run: cancel, resume here, end the job, throw.
    void perform(const MigrationParams &params);
    void start_postcopy();
    // domjobabort: cancel a pre-copy; with VIRTKIT_ABORT_JOB_POSTCOPY pause a post-copy.
    void abort(std::uint32_t flags);

    enum class ConfirmResult { completed, rolled_back, postcopy_failed };
    // Confirm3 / Confirm(resume).  `stop_qemu` ends this QEMU after a
    // completed migration.  Cancelled after post-copy started: both hosts
    // keep the domain (the destination may have run), the job waits for a
    // resume.
    // `destination_never_ran`: the destination said so (Finish's cookie, or
    // its QEMU exited before Finish started it): the source's memory is
    // whole, so a cancelled post-copy rolls back here too.
    ConfirmResult confirm(bool cancelled, const std::function<void()> &stop_qemu, bool destination_never_ran = false);

    // Begin(resume) and Perform(resume): only after a broken post-copy.
    void begin_resume(std::uint32_t flags);
    void perform_resume(const MigrationParams &params);

    void set_max_speed(std::uint64_t mibs, bool postcopy);

private:
    void query();
    void set_capabilities(bool postcopy);
    void set_bandwidth(std::uint64_t mibs, std::uint64_t postcopy_mibs);
    void roll_back(JobStatus final_status, const std::string &why);
    void resume_vcpus();

    QmpClient &monitor_;
    MigrationJob &job_;
    MigrationTimeouts timeouts_;
};

class DestinationMigration {
public:
    DestinationMigration(QmpClient &monitor, MigrationJob &job, MigrationTimeouts timeouts = {});

    // Prepare: on a QEMU started with -incoming defer; capabilities, then
    // migrate-incoming on `uri` (tcp:ADDR:PORT).
    void prepare(std::uint32_t flags, bool userfaultfd, const std::string &uri);
    // Finish3: wait, start the vCPUs, wait for the last page.  Cancelled (or
    // failed before the guest ran here): `kill_qemu` cleans up.  After the
    // guest ran here nothing is killed: a broken post-copy keeps the job.
    void finish(bool cancelled, const std::function<void()> &kill_qemu);

    void prepare_resume(std::uint32_t flags, const std::string &uri);
    void finish_resume(bool cancelled);

private:
    void query();
    void start_vcpus();

    QmpClient &monitor_;
    MigrationJob &job_;
    MigrationTimeouts timeouts_;
};

}  // namespace virtkit::qemu
