// libvirt's per-state reasons and per-event details (virDomain*Reason,
// virDomainEvent*DetailType) used by this driver.
#pragma once

#include <cstdint>

namespace virtkit::qemu::libvirt {

enum : std::int32_t {
    running_booted = 1,
    running_unpaused = 5,
    paused_unknown = 0,
    paused_user = 1,
    paused_migration = 2,
    paused_shutting_down = 8,
    shutdown_user = 1,
    shutoff_unknown = 0,
    shutoff_shutdown = 1,
    shutoff_destroyed = 2,
    shutoff_crashed = 3,
    shutoff_failed = 6,
    shutoff_migrated = 4,
    crashed_panicked = 1,

    defined_added = 0,
    defined_updated = 1,
    undefined_removed = 0,
    started_booted = 0,
    suspended_paused = 0,
    resumed_unpaused = 0,
    stopped_shutdown = 0,
    stopped_destroyed = 1,
    stopped_migrated = 3,
    stopped_crashed = 2,
    shutdown_event_guest = 1,
    shutdown_event_host = 2,
    stopped_failed = 5,
    crashed_event_panicked = 0,
};

}  // namespace virtkit::qemu::libvirt
