// Asynchronous event bus.  publish() never blocks on a subscriber: each
// subscriber has a bounded queue; when it is full the event is dropped for
// that subscriber and its overflow count grows.  Delivery is in publish
// order per domain (and in fact per subscriber).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <virtkit/event.hpp>

namespace virtkit {

struct EventFilter {
    std::string connection;             // "" = any
    std::string domain;                 // name or UUID, "" = any
    std::optional<EventKind> kind;      // any if unset
    std::optional<int32_t> type;        // lifecycle type, any if unset
    bool matches(const Event &e) const;
};

class EventBus {
public:
    using Handler = std::function<void(const Event &)>;
    static constexpr std::size_t kDefaultQueueCapacity = 65536;

    EventBus();
    ~EventBus();  // stops delivery; undelivered events are dropped
    EventBus(const EventBus &) = delete;
    EventBus &operator=(const EventBus &) = delete;

    // RAII: destroying (or move-assigning over) a Subscription unsubscribes.
    // unsubscribe() may be called from any thread; once it returns, the
    // handler is not running and will not run again.  Called from inside its
    // own handler it is also safe: that handler finishes, no further one runs.
    // Do not call flush() from inside a handler of the same bus expecting it
    // to wait for that handler's own queue (it skips it).
    class Subscription {
    public:
        Subscription() = default;
        Subscription(Subscription &&) noexcept = default;
        Subscription &operator=(Subscription &&) noexcept = default;
        ~Subscription();            // unsubscribes
        void unsubscribe();
        uint64_t overflowCount() const;  // events dropped because the queue was full
        uint64_t deliveredCount() const;
        explicit operator bool() const { return static_cast<bool>(state_); }

    private:
        friend class EventBus;
        struct State;
        std::shared_ptr<State> state_;
    };

    // The handler runs on a bus thread, never inside publish().
    Subscription subscribe(EventFilter filter, Handler handler,
                           std::size_t queueCapacity = kDefaultQueueCapacity);
    // Thread-safe; assigns seq and time if unset; never blocks on subscribers.
    void publish(Event event);
    // Wait until every event published before this call has been delivered
    // (or dropped) to every subscriber.  For tests and short-lived CLIs.
    void flush();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace virtkit
