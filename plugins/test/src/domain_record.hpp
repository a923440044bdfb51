// One domain of a test connection's state: its definitions and runtime
// state, modelled on libvirt's virDomainObj (def / newDef / persistent).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include <virtkit/plugin.h>

#include "domain_definition.hpp"

namespace virtkit::testdriver {

// libvirt's per-state reasons and per-event details used here.
enum : int32_t {
    kRunningUnknown = 0,
    kRunningBooted = 1,
    kRunningUnpaused = 5,
    kPausedUser = 1,
    kShutoffUnknown = 0,
    kShutoffShutdown = 1,
    kShutoffDestroyed = 2,

    kDefinedAdded = 0,
    kDefinedUpdated = 1,
    kUndefinedRemoved = 0,
    kStartedBooted = 0,
    kSuspendedPaused = 0,
    kResumedUnpaused = 0,
    kStoppedShutdown = 0,
    kStoppedDestroyed = 1,
    kShutdownFinished = 0,
};

struct DomainRecord {
    using Clock = std::chrono::steady_clock;

    DomainDefinition def;                     // the live definition while active, else the persistent one
    std::optional<DomainDefinition> nextDef;  // persistent definition waiting for the next stop
    bool persistent = true;
    bool autostart = false;
    int32_t id = -1;
    int32_t state = VIRTKIT_DOMAIN_SHUTOFF;
    int32_t reason = kShutoffUnknown;
    Clock::duration cpuTime{};     // accumulated while RUNNING during this boot
    Clock::time_point runningSince{};

    bool active() const { return state != VIRTKIT_DOMAIN_SHUTOFF; }
    const DomainDefinition &inactiveDef() const { return nextDef ? *nextDef : def; }

    void setState(int32_t newState, int32_t newReason)
    {
        const auto now = Clock::now();
        if (state == VIRTKIT_DOMAIN_RUNNING)
            cpuTime += now - runningSince;
        if (newState == VIRTKIT_DOMAIN_RUNNING)
            runningSince = now;
        state = newState;
        reason = newReason;
    }

    void boot(int32_t newId, int32_t runningReason)
    {
        id = newId;
        cpuTime = {};
        setState(VIRTKIT_DOMAIN_RUNNING, runningReason);
    }

    // Shut off; a waiting persistent definition takes effect (libvirt's
    // virDomainObjRemoveTransientDef).
    void stop(int32_t shutoffReason)
    {
        setState(VIRTKIT_DOMAIN_SHUTOFF, shutoffReason);
        id = -1;
        cpuTime = {};
        if (nextDef) {
            def = std::move(*nextDef);
            nextDef.reset();
        }
    }

    uint64_t cpuTimeNs() const
    {
        auto total = cpuTime;
        if (state == VIRTKIT_DOMAIN_RUNNING)
            total += Clock::now() - runningSince;
        return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(total).count());
    }
};

}  // namespace virtkit::testdriver
