// Records the lifecycle events of one connection so a check can wait for the
// event a transition should have produced.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <virtkit/connection.hpp>

namespace virtkit::check {

class EventRecorder {
public:
    EventRecorder(Connection &conn, std::chrono::milliseconds timeout);

    // The next lifecycle event of `type` about `uuid`, after the last one
    // matched; waits up to the timeout.  Events in between are passed over.
    std::optional<Event> waitFor(const std::string &uuid, int32_t type);
    // "defined, started" — what arrived for `uuid` so far, for messages.
    std::string seenFor(const std::string &uuid) const;

private:
    std::chrono::milliseconds timeout_;
    mutable std::mutex mutex_;
    std::condition_variable arrived_;
    std::vector<Event> events_;
    std::size_t next_ = 0;
    EventBus::Subscription subscription_;  // last: unsubscribes before the members above go
};

}  // namespace virtkit::check
