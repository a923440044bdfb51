// Lifecycle events from the property collector: a thread with its own HTTP
// connection (sharing the session cookie) and its own PropertyCollector,
// long-polling WaitForUpdatesEx on the host's VMs and turning power-state
// changes, new and removed VMs into lifecycle events.  If the connection
// breaks it starts over and reports what changed in the meantime.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include <virtkit/plugin.h>

#include "vsphere/vsphere_session.hpp"

namespace virtkit::esx::vsphere {

class UpdateWatcher {
public:
    using Emit = std::function<void(const VmRecord &vm, virtkit_lifecycle_event type, int32_t detail)>;

    UpdateWatcher(VsphereSession &session, Emit emit);
    ~UpdateWatcher();  // cancels the pending wait and joins
    UpdateWatcher(const UpdateWatcher &) = delete;
    UpdateWatcher &operator=(const UpdateWatcher &) = delete;

    uint64_t requests() const { return requests_; }
    // Waits (at most `limit`) until the first inventory snapshot is in, so a
    // change made right after opening is reported rather than taken as the
    // starting state.  False if it did not come in time.
    bool waitUntilWatching(std::chrono::milliseconds limit);

private:
    void run();
    void watchOnce(bool baseline);
    void apply(const xmlNode *objectUpdate, bool baseline);
    void change(VmRecord &known, const VmRecord &now);

    VsphereSession &session_;
    Emit emit_;
    std::map<std::string, VmRecord> known_;  // by moref value
    std::mutex mutex_;                        // guards collector_, stop_ waits
    std::condition_variable wake_;
    Moref collector_;
    bool finished_ = false;  // run() has returned
    bool watching_ = false;  // the baseline snapshot is in
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> requests_{0};
    std::thread thread_;
};

}  // namespace virtkit::esx::vsphere
