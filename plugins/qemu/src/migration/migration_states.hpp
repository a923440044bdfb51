// libvirt's domain state reasons and lifecycle event details that migration
// uses (include/libvirt/libvirt-domain.h; values checked against libvirt's
// headers and language bindings).
#pragma once

#include <cstdint>

namespace virtkit::qemu::libvirt_migration {

enum : std::int32_t {
    running_migrated = 2,
    running_migration_canceled = 6,
    running_postcopy = 10,
    running_postcopy_failed = 11,
    paused_unknown = 0,
    paused_user = 1,
    paused_migration = 2,
    paused_postcopy = 12,
    paused_postcopy_failed = 13,
    shutoff_migrated = 4,
    shutoff_failed = 6,

    started_migrated = 1,
    suspended_paused = 0,
    suspended_migrated = 1,
    suspended_postcopy = 7,
    suspended_postcopy_failed = 8,
    resumed_migrated = 1,
    resumed_postcopy = 3,
    resumed_postcopy_failed = 4,
    stopped_migrated = 3,
    stopped_failed = 5,
};

// libvirt's virDomainJobType and virDomainJobOperation, for job stats.
enum : std::int32_t {
    job_none = 0,
    job_unbounded = 2,
    job_completed = 3,
    job_failed = 4,
    job_cancelled = 5,
    operation_migration_in = 4,   // VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN (3 is RESTORE)
    operation_migration_out = 5,  // VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT
};

}  // namespace virtkit::qemu::libvirt_migration
