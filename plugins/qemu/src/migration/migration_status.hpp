// QEMU's migration statuses (the MIGRATION event and query-migrate), and the
// job statuses a user sees, as libvirt reports them.
#pragma once

#include <optional>
#include <string>

namespace virtkit::qemu {

// QAPI MigrationStatus of QEMU 7.2, plus postcopy-recover-setup (QEMU 9.1).
enum class QemuMigrationStatus {
    none,
    setup,
    cancelling,
    cancelled,
    active,
    postcopy_active,
    postcopy_paused,
    postcopy_recover_setup,
    postcopy_recover,
    completed,
    failed,
    colo,
    pre_switchover,
    device,
    wait_unplug,
};

// nullopt for a string this build does not know (a newer QEMU): events with
// one are ignored, a query-migrate reply with one is an error.
std::optional<QemuMigrationStatus> parse_qemu_migration_status(const std::string &text);
const char *to_string(QemuMigrationStatus status);

// libvirt's virDomainJobStatus: what the migration is doing, independent of
// which side asks.
enum class JobStatus {
    none,
    migrating,           // setup, active, device, wait-unplug
    paused,              // pre-switchover: QEMU waits for migrate-continue
    postcopy,            // postcopy-active only
    postcopy_recover,    // recover-setup and recover: recovering, NOT active yet
    postcopy_paused,     // the stream broke (or migrate-pause) in post-copy
    hypervisor_completed,// QEMU says completed; the phases are not done yet
    completed,
    failed,
    canceled,
};

const char *to_string(JobStatus status);

// The job status for a QEMU status.  `cancelling` keeps `current`: it is
// neither over nor progressing.
JobStatus job_status_of(QemuMigrationStatus status, JobStatus current);

// QEMU has entered post-copy at least once (memory is split between hosts).
bool is_postcopy(QemuMigrationStatus status);

}  // namespace virtkit::qemu
