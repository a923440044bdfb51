// Names of lifecycle events and their details, in libvirt's vocabulary
// (virDomainEventType and the virDomainEvent*DetailType enums), lowercase.
#include <virtkit/event.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <span>
#include <string_view>

namespace virtkit {
namespace {

// Indexed by virtkit_lifecycle_event (= virDomainEventType).
constexpr std::array<const char *, 9> kEventNames = {
    "defined", "undefined", "started", "suspended", "resumed",
    "stopped", "shutdown",  "pmsuspended", "crashed",
};

// Each table is indexed by libvirt's detail value for that event type.
constexpr std::array<const char *, 4> kDefined = {"added", "updated", "renamed", "from snapshot"};
constexpr std::array<const char *, 2> kUndefined = {"removed", "renamed"};
constexpr std::array<const char *, 6> kStarted = {
    "booted", "migrated", "restored", "from snapshot", "wakeup", "recreated"};
constexpr std::array<const char *, 9> kSuspended = {
    "paused", "migrated", "ioerror", "watchdog", "restored",
    "from snapshot", "api error", "postcopy", "postcopy failed"};
constexpr std::array<const char *, 5> kResumed = {
    "unpaused", "migrated", "from snapshot", "postcopy", "postcopy failed"};
constexpr std::array<const char *, 7> kStopped = {
    "shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot"};
constexpr std::array<const char *, 3> kShutdown = {"finished", "guest", "host"};
constexpr std::array<const char *, 2> kPMSuspended = {"memory", "disk"};
constexpr std::array<const char *, 2> kCrashed = {"panicked", "crashloaded"};

constexpr std::array<std::span<const char *const>, 9> kDetails = {
    kDefined, kUndefined, kStarted, kSuspended, kResumed,
    kStopped, kShutdown, kPMSuspended, kCrashed,
};

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
    return std::ranges::equal(a, b, [](unsigned char x, unsigned char y) {
        return std::tolower(x) == std::tolower(y);
    });
}

bool inRange(int32_t value, std::size_t size) {
    return value >= 0 && static_cast<std::size_t>(value) < size;
}

}  // namespace

const char *lifecycleEventName(int32_t type) {
    return inRange(type, kEventNames.size()) ? kEventNames[static_cast<std::size_t>(type)] : "unknown";
}

const char *lifecycleDetailName(int32_t type, int32_t detail) {
    if (!inRange(type, kDetails.size())) {
        return "unknown";
    }
    const auto names = kDetails[static_cast<std::size_t>(type)];
    return inRange(detail, names.size()) ? names[static_cast<std::size_t>(detail)] : "unknown";
}

int32_t lifecycleEventFromName(const std::string &name) {
    for (std::size_t i = 0; i < kEventNames.size(); ++i) {
        if (equalsIgnoringCase(name, kEventNames[i])) {  // virsh prints "Started"
            return static_cast<int32_t>(i);
        }
    }
    return -1;
}

}  // namespace virtkit
