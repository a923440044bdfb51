// One running QEMU and its monitor.  Started paused (-S), connected, then
// let run (cont); from then on its state follows QMP events, and the end of
// the monitor means QEMU is gone.  The destructor leaves nothing running.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <virtkit/plugin.h>

#include "driver/domain_definition.hpp"
#include "driver/state_paths.hpp"
#include "process/child_process.hpp"
#include "qmp/qmp_client.hpp"

namespace virtkit::qemu {

class RunningDomain {
public:
    // Called (from any thread, never under a lock of ours) with a lifecycle
    // event type and detail each time the state changes.
    using Listener = std::function<void(std::int32_t type, std::int32_t detail)>;

    RunningDomain(const DomainDefinition &definition, const StatePaths &paths, bool kvm_usable, Listener listener);
    ~RunningDomain();
    RunningDomain(const RunningDomain &) = delete;
    RunningDomain &operator=(const RunningDomain &) = delete;

    void suspend();
    void resume();
    // quit over QMP, then SIGTERM, then SIGKILL; always ends reaped.
    void destroy();

    std::int32_t state() const;
    std::int32_t reason() const;
    bool is_active() const;  // QEMU still there (a zombie counts as gone)
    pid_t pid() const { return process_->pid(); }
    const std::string &log_path() const { return log_path_; }

private:
    void on_event(const QmpEvent &event);
    void on_monitor_closed();
    void set_state(std::int32_t state, std::int32_t reason, std::int32_t event, std::int32_t detail);

    Listener listener_;
    std::string log_path_;
    std::optional<ChildProcess> process_;
    std::unique_ptr<QmpClient> monitor_;

    mutable std::mutex mutex_;
    std::int32_t state_ = VIRTKIT_DOMAIN_SHUTOFF;
    std::int32_t reason_ = 0;
    bool started_ = false;       // the first RESUME is the boot
    bool destroying_ = false;    // we asked QEMU to go
    bool powered_off_ = false;   // the guest shut itself down
    bool pause_requested_ = false;
};

}  // namespace virtkit::qemu
