#include "event_recorder.hpp"

namespace virtkit::check {

EventRecorder::EventRecorder(Connection &conn, std::chrono::milliseconds timeout) : timeout_(timeout)
{
    EventFilter filter;
    filter.kind = EventKind::Lifecycle;
    subscription_ = conn.subscribe(filter, [this](const Event &event) {
        {
            const std::lock_guard lock(mutex_);
            events_.push_back(event);
        }
        arrived_.notify_all();
    });
}

std::optional<Event> EventRecorder::waitFor(const std::string &uuid, int32_t type)
{
    std::unique_lock lock(mutex_);
    std::optional<Event> found;
    const auto match = [&] {
        for (std::size_t i = next_; i < events_.size(); ++i)
            if (events_[i].domainUuid == uuid && events_[i].type == type) {
                found = events_[i];
                next_ = i + 1;
                return true;
            }
        return false;
    };
    arrived_.wait_for(lock, timeout_, match);
    return found;
}

std::string EventRecorder::seenFor(const std::string &uuid) const
{
    const std::lock_guard lock(mutex_);
    std::string seen;
    for (const Event &e : events_)
        if (e.domainUuid == uuid)
            seen += (seen.empty() ? "" : ", ") + std::string(lifecycleEventName(e.type));
    return seen.empty() ? "none" : seen;
}

}  // namespace virtkit::check
