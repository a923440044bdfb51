#include "migration/migration_status.hpp"

#include <array>
#include <utility>

namespace virtkit::qemu {
namespace {

constexpr std::array<std::pair<QemuMigrationStatus, const char *>, 15> qemu_names{{
    {QemuMigrationStatus::none, "none"},
    {QemuMigrationStatus::setup, "setup"},
    {QemuMigrationStatus::cancelling, "cancelling"},
    {QemuMigrationStatus::cancelled, "cancelled"},
    {QemuMigrationStatus::active, "active"},
    {QemuMigrationStatus::postcopy_active, "postcopy-active"},
    {QemuMigrationStatus::postcopy_paused, "postcopy-paused"},
    {QemuMigrationStatus::postcopy_recover_setup, "postcopy-recover-setup"},
    {QemuMigrationStatus::postcopy_recover, "postcopy-recover"},
    {QemuMigrationStatus::completed, "completed"},
    {QemuMigrationStatus::failed, "failed"},
    {QemuMigrationStatus::colo, "colo"},
    {QemuMigrationStatus::pre_switchover, "pre-switchover"},
    {QemuMigrationStatus::device, "device"},
    {QemuMigrationStatus::wait_unplug, "wait-unplug"},
}};

}  // namespace

std::optional<QemuMigrationStatus> parse_qemu_migration_status(const std::string &text)
{
    for (const auto &[status, name] : qemu_names)
        if (text == name)
            return status;
    return std::nullopt;
}

const char *to_string(QemuMigrationStatus status)
{
    for (const auto &[s, name] : qemu_names)
        if (s == status)
            return name;
    return "unknown";
}

const char *to_string(JobStatus status)
{
    switch (status) {
    case JobStatus::none: return "none";
    case JobStatus::migrating: return "migrating";
    case JobStatus::paused: return "paused";
    case JobStatus::postcopy: return "postcopy";
    case JobStatus::postcopy_recover: return "postcopy_recover";
    case JobStatus::postcopy_paused: return "postcopy_paused";
    case JobStatus::hypervisor_completed: return "hypervisor_completed";
    case JobStatus::completed: return "completed";
    case JobStatus::failed: return "failed";
    case JobStatus::canceled: return "canceled";
    }
    return "unknown";
}

JobStatus job_status_of(QemuMigrationStatus status, JobStatus current)
{
    switch (status) {
    case QemuMigrationStatus::none: return JobStatus::none;
    case QemuMigrationStatus::setup:
    case QemuMigrationStatus::active:
    case QemuMigrationStatus::device:
    case QemuMigrationStatus::wait_unplug:
    case QemuMigrationStatus::colo: return JobStatus::migrating;
    case QemuMigrationStatus::pre_switchover: return JobStatus::paused;
    case QemuMigrationStatus::postcopy_active: return JobStatus::postcopy;
    // The seed commit's rule: a recovering stream is not an active one.
    case QemuMigrationStatus::postcopy_recover_setup:
    case QemuMigrationStatus::postcopy_recover: return JobStatus::postcopy_recover;
    case QemuMigrationStatus::postcopy_paused: return JobStatus::postcopy_paused;
    case QemuMigrationStatus::completed: return JobStatus::hypervisor_completed;
    case QemuMigrationStatus::failed: return JobStatus::failed;
    case QemuMigrationStatus::cancelled: return JobStatus::canceled;
    case QemuMigrationStatus::cancelling: return current;
    }
    return current;
}

bool is_postcopy(QemuMigrationStatus status)
{
    return status == QemuMigrationStatus::postcopy_active || status == QemuMigrationStatus::postcopy_paused ||
           status == QemuMigrationStatus::postcopy_recover_setup || status == QemuMigrationStatus::postcopy_recover;
}

}  // namespace virtkit::qemu
