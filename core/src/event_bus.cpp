// The event bus.  Threading:
//  - publish() allocates the event once (shared by every subscriber), then
//    under the hub mutex assigns seq and appends a pointer to each matching
//    subscriber's queue.  One mutex for all publishers gives every subscriber
//    the same total order, consistent with seq.
//  - Each subscriber has its own delivery thread and bounded queue.  The
//    thread swaps the whole queue out under the subscriber's mutex and runs
//    the handlers with no lock held, so a publisher only ever waits for a
//    push_back or a swap, never for a handler.  A slow handler delays only
//    its own queue; when that is full, new events are dropped and counted.
//  - Publishers wake a delivery thread only when it is asleep.
#include <virtkit/event_bus.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include <virtkit/log.hpp>

namespace virtkit {

bool EventFilter::matches(const Event &e) const {
    if (kind && *kind != e.kind) {
        return false;
    }
    if (type && *type != e.type) {
        return false;
    }
    if (!connection.empty() && connection != e.connection) {
        return false;
    }
    return domain.empty() || domain == e.domainName || domain == e.domainUuid;
}

namespace {

using EventPtr = std::shared_ptr<const Event>;

// One subscriber: its filter, handler, queue and delivery thread.
class Subscriber {
public:
    Subscriber(uint64_t id, EventFilter filter, EventBus::Handler handler, std::size_t capacity)
        : id_(id), filter_(std::move(filter)), handler_(std::move(handler)), capacity_(capacity) {}

    // Must be called once, before the first offer().
    void start(const std::shared_ptr<Subscriber> &self) {
        thread_ = std::thread([self] { self->run(); });  // the thread keeps its subscriber alive
        threadId_ = thread_.get_id();
    }

    const EventFilter &filter() const { return filter_; }

    // Called by publish() with the hub mutex held.  Never waits for a handler.
    void offer(const EventPtr &event) {
        bool wake = false;
        bool firstDropOfBurst = false;
        {
            const std::lock_guard lock(mutex_);
            if (stopping_) {
                return;
            }
            if (pending_.size() + inBatch_ >= capacity_) {
                overflow_.fetch_add(1, std::memory_order_relaxed);
                firstDropOfBurst = !inOverflowBurst_;
                inOverflowBurst_ = true;
            } else {
                pending_.push_back(event);
                hasPending_.store(true, std::memory_order_relaxed);
                ++accepted_;
                inOverflowBurst_ = false;
                wake = sleeping_;
                sleeping_ = false;
            }
        }
        if (wake) {
            wakeDelivery_.notify_one();
        }
        if (firstDropOfBurst) {
            log::get("bus")->warn("subscriber {} is too slow: its queue of {} events is full, dropping new "
                                  "events until it catches up",
                                  id_, capacity_);
        }
    }

    // Blocks until every event accepted so far has been handled (or the
    // subscriber stopped).  From its own handler it returns at once.
    void waitUntilDelivered() {
        if (std::this_thread::get_id() == threadId_) {
            return;
        }
        std::unique_lock lock(mutex_);
        const uint64_t target = accepted_;
        ++flushWaiters_;
        delivered_cv_.wait(lock, [&] { return handled_ >= target || stopping_; });
        --flushWaiters_;
    }

    // Stops delivery: no handler runs after this returns, unless called from
    // this subscriber's own handler (then the current handler finishes and no
    // further one starts).  Idempotent and callable from any thread.
    void stop() {
        {
            const std::lock_guard lock(mutex_);
            stopping_ = true;
            stopRequested_.store(true, std::memory_order_relaxed);
        }
        wakeDelivery_.notify_all();
        delivered_cv_.notify_all();
        std::call_once(joined_, [this] {
            if (!thread_.joinable()) {
                return;
            }
            if (std::this_thread::get_id() == threadId_) {
                thread_.detach();  // cannot join ourselves; run() exits after this handler
            } else {
                thread_.join();
            }
        });
    }

    uint64_t overflowCount() const { return overflow_.load(std::memory_order_relaxed); }
    uint64_t deliveredCount() const { return deliveredTotal_.load(std::memory_order_relaxed); }

private:
    void run() {
        std::vector<EventPtr> batch;
        std::size_t handled = 0;
        bool dense = false;
        for (;;) {
            finishBatch(handled);
            if (dense) {
                spinBriefly();
            }
            if (!takeBatch(batch, dense)) {
                return;  // stopped: undelivered events are dropped
            }
            handled = deliver(batch);
            batch.clear();  // keeps its capacity: the two vectors take turns
        }
    }

    void finishBatch(std::size_t handled) {
        const std::lock_guard lock(mutex_);
        handled_ += handled;
        inBatch_ = 0;
        if (flushWaiters_ > 0) {
            delivered_cv_.notify_all();
        }
    }

    // When events come faster than a sleep/wake pair costs, wait for the
    // next one by yielding for a few microseconds before sleeping.  Yielding
    // rather than spinning on the CPU lets a publisher (or another
    // subscriber) that shares this core run meanwhile.
    void spinBriefly() const {
        const auto until = std::chrono::steady_clock::now() + kSpinWindow;
        while (!hasPending_.load(std::memory_order_relaxed) && !stopRequested_.load(std::memory_order_relaxed) &&
               std::chrono::steady_clock::now() < until) {
            std::this_thread::yield();
        }
    }

    // Swaps the queue out, sleeping until it is non-empty.  `dense` tells
    // whether events arrived within the spin window.
    bool takeBatch(std::vector<EventPtr> &batch, bool &dense) {
        std::unique_lock lock(mutex_);
        dense = true;
        if (pending_.empty() && !stopping_) {
            const auto asleepSince = std::chrono::steady_clock::now();
            do {
                sleeping_ = true;
                wakeDelivery_.wait(lock);
            } while (pending_.empty() && !stopping_);
            dense = std::chrono::steady_clock::now() - asleepSince < kSpinWindow;
        }
        if (stopping_) {
            return false;
        }
        batch.swap(pending_);
        inBatch_ = batch.size();
        hasPending_.store(false, std::memory_order_relaxed);
        return true;
    }

    std::size_t deliver(const std::vector<EventPtr> &batch) {
        std::size_t handled = 0;
        for (const EventPtr &event : batch) {
            if (stopRequested_.load(std::memory_order_relaxed)) {
                break;
            }
            try {
                handler_(*event);
            } catch (const std::exception &e) {
                log::get("bus")->error("subscriber {} handler threw: {}", id_, e.what());
            } catch (...) {
                log::get("bus")->error("subscriber {} handler threw a non-standard exception", id_);
            }
            ++handled;
            deliveredTotal_.fetch_add(1, std::memory_order_relaxed);
        }
        return handled;
    }

    const uint64_t id_;
    const EventFilter filter_;
    const EventBus::Handler handler_;
    const std::size_t capacity_;

    std::mutex mutex_;
    std::condition_variable wakeDelivery_;
    std::condition_variable delivered_cv_;
    std::vector<EventPtr> pending_;  // guarded by mutex_, like everything below up to the atomics
    std::size_t inBatch_ = 0;        // events swapped out and not yet handled
    uint64_t accepted_ = 0;
    uint64_t handled_ = 0;
    int flushWaiters_ = 0;
    bool sleeping_ = false;
    bool stopping_ = false;
    bool inOverflowBurst_ = false;

    static constexpr auto kSpinWindow = std::chrono::microseconds(20);
    std::atomic<bool> hasPending_{false};      // pending_ is non-empty; polled by spinBriefly()
    std::atomic<bool> stopRequested_{false};  // read between handlers without the mutex
    std::atomic<uint64_t> overflow_{0};
    std::atomic<uint64_t> deliveredTotal_{0};
    std::once_flag joined_;
    std::thread thread_;
    std::thread::id threadId_;  // set by start(), read without the mutex
};

// Shared between the bus and its subscriptions, so a Subscription may outlive
// the bus.
struct Hub {
    std::mutex mutex;
    std::vector<std::shared_ptr<Subscriber>> subscribers;  // guarded by mutex
    uint64_t nextSeq = 1;                                  // guarded by mutex
    uint64_t nextId = 1;                                   // guarded by mutex

    void remove(const std::shared_ptr<Subscriber> &sub) {
        const std::lock_guard lock(mutex);
        std::erase(subscribers, sub);
    }
};

}  // namespace

struct EventBus::Impl {
    std::shared_ptr<Hub> hub = std::make_shared<Hub>();
};

// Owned by exactly one Subscription (which is move-only); destroying it
// unsubscribes, so even a Subscription overwritten by a move stops delivery.
struct EventBus::Subscription::State {
    std::weak_ptr<Hub> hub;
    std::shared_ptr<Subscriber> subscriber;

    ~State() {
        if (const auto alive = hub.lock()) {
            alive->remove(subscriber);  // no new events first, then stop the thread
        }
        subscriber->stop();
    }
};

EventBus::EventBus() : impl_(std::make_unique<Impl>()) {}

EventBus::~EventBus() {
    std::vector<std::shared_ptr<Subscriber>> subscribers;
    {
        const std::lock_guard lock(impl_->hub->mutex);
        subscribers.swap(impl_->hub->subscribers);
    }
    for (const auto &sub : subscribers) {
        sub->stop();
    }
}

EventBus::Subscription EventBus::subscribe(EventFilter filter, Handler handler, std::size_t queueCapacity) {
    Hub &hub = *impl_->hub;
    std::shared_ptr<Subscriber> subscriber;
    {
        const std::lock_guard lock(hub.mutex);
        subscriber = std::make_shared<Subscriber>(hub.nextId++, std::move(filter), std::move(handler),
                                                  std::max<std::size_t>(queueCapacity, 1));
        subscriber->start(subscriber);
        hub.subscribers.push_back(subscriber);
    }
    Subscription subscription;
    subscription.state_ = std::make_shared<Subscription::State>(impl_->hub, std::move(subscriber));
    return subscription;
}

void EventBus::publish(Event event) {
    if (event.time.time_since_epoch().count() == 0) {
        event.time = std::chrono::system_clock::now();
    }
    auto shared = std::make_shared<Event>(std::move(event));
    Hub &hub = *impl_->hub;
    const std::lock_guard lock(hub.mutex);
    if (shared->seq == 0) {
        shared->seq = hub.nextSeq++;
    }
    const EventPtr frozen = std::move(shared);
    for (const auto &sub : hub.subscribers) {
        if (sub->filter().matches(*frozen)) {
            sub->offer(frozen);
        }
    }
}

void EventBus::flush() {
    std::vector<std::shared_ptr<Subscriber>> subscribers;
    {
        const std::lock_guard lock(impl_->hub->mutex);
        subscribers = impl_->hub->subscribers;
    }
    for (const auto &sub : subscribers) {
        sub->waitUntilDelivered();
    }
}

EventBus::Subscription::~Subscription() {
    unsubscribe();
}

void EventBus::Subscription::unsubscribe() {
    state_.reset();  // ~State does the work
}

uint64_t EventBus::Subscription::overflowCount() const {
    return state_ ? state_->subscriber->overflowCount() : 0;
}

uint64_t EventBus::Subscription::deliveredCount() const {
    return state_ ? state_->subscriber->deliveredCount() : 0;
}

}  // namespace virtkit
