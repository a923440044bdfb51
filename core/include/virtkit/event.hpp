// Typed events on the bus: domain lifecycle (libvirt's event/detail
// vocabulary), job progress, migration state, device changes, plugin
// load/refusal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <virtkit/plugin.h>

namespace virtkit {

enum class EventKind : int32_t {
    Lifecycle = VIRTKIT_EVENT_LIFECYCLE,
    Job = VIRTKIT_EVENT_JOB,
    Migration = VIRTKIT_EVENT_MIGRATION,
    Device = VIRTKIT_EVENT_DEVICE,
    Plugin = 100,  // host-only: plugin loaded or refused
};

struct Event {
    EventKind kind = EventKind::Lifecycle;
    std::string connection;  // connection URI ("" for host events)
    std::string domainName;
    std::string domainUuid;
    int32_t type = 0;        // virtkit_lifecycle_event for Lifecycle
    int32_t detail = 0;      // libvirt detail value
    std::string payloadJson; // optional
    uint64_t seq = 0;        // assigned by the bus, increasing
    std::chrono::system_clock::time_point time{};
};

// "started", "stopped", ... ; "unknown" outside the range.
const char *lifecycleEventName(int32_t type);
// libvirt's detail names: ("started", 0) -> "booted", ("stopped", 1) -> "destroyed".
const char *lifecycleDetailName(int32_t type, int32_t detail);
// Parse "started" etc. back; returns -1 if unknown.
int32_t lifecycleEventFromName(const std::string &name);

}  // namespace virtkit
