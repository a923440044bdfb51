// One QEMU of ours and its monitor, held by this process.  Started paused
// (-S), connected, then let run (cont) -- or taken over from the live state
// an earlier process saved.  From then on its state follows QMP events, each
// change is saved (live.json) and announced, and the end of the process is
// waited on (pidfd), never polled.
//
// Destroying the object *detaches*: the monitor is closed, the QEMU keeps
// running and the next process to open the URI takes it over.  Only a start
// that fails leaves nothing running.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <virtkit/plugin.h>

#include "driver/domain_definition.hpp"
#include "driver/file_lock.hpp"
#include "driver/live_state.hpp"
#include "driver/state_paths.hpp"
#include "process/child_process.hpp"
#include "process/process_probe.hpp"
#include "qmp/qmp_client.hpp"

namespace virtkit::qemu {

// The runtime files of one domain: run/domains/UUID/.
struct DomainRunFiles {
    std::filesystem::path dir;
    std::filesystem::path live() const { return dir / "live.json"; }
    std::filesystem::path monitor() const { return dir / "monitor.sock"; }
    std::filesystem::path owner_lock() const { return dir / "owner.lock"; }
    std::filesystem::path last_stop() const { return dir / "last-stop"; }  // the shut-off reason
    static DomainRunFiles of(const StatePaths &paths, const std::string &uuid);
    // Removes what a gone QEMU left and records why it stopped.
    void clean_after_stop(std::int32_t shutoff_reason) const;
    std::int32_t last_stop_reason() const;  // libvirt's shutoff reason, 0 (unknown) without record
};

class RunningDomain {
public:
    // Lifecycle event type and detail, each time the state changes; from any
    // thread, never under a lock of ours.
    using Listener = std::function<void(std::int32_t type, std::int32_t detail)>;
    // Every QMP event, after this class has handled it (reader thread: must
    // not wait for a reply of the monitor).
    using QmpListener = std::function<void(const QmpEvent &)>;

    struct StartOptions {
        std::vector<std::string> extra_args;  // appended to QEMU's argv, e.g. {"-incoming", "defer"}
        bool leave_paused = false;            // no `cont`: the domain stays paused (migration destination)
    };

    // Starts QEMU for `definition`.  Throws Error; then nothing is left running.
    static std::unique_ptr<RunningDomain> start(const DomainDefinition &definition, const StatePaths &paths,
                                                bool kvm_usable, std::int32_t id, FileLock owner, Listener listener,
                                                const StartOptions &options);
    // Takes over the QEMU that `live` describes (its owner lock is held by
    // the caller and handed over).  A QEMU that is gone, or one whose start
    // was interrupted (phase "starting": killed, as libvirt does), ends as
    // shut off (crashed / failed) with its files cleaned; is_active() then
    // says false.
    static std::unique_ptr<RunningDomain> take_over(const LiveState &live, const StatePaths &paths, FileLock owner,
                                                    Listener listener);

    ~RunningDomain();
    RunningDomain(const RunningDomain &) = delete;
    RunningDomain &operator=(const RunningDomain &) = delete;

    void suspend();
    void resume();
    // quit over QMP, then SIGTERM, then SIGKILL, each waited on (pidfd).
    void destroy();
    // The same after an outgoing migration completed: shut off as migrated.
    void destroy_migrated();
    // ACPI power button; waits up to `timeout` for the guest to power off and
    // throws TIMEOUT (domain still running) if it does not.  flags:
    // VIRTKIT_SHUTDOWN_* (0 or ACPI_POWER_BTN; the others are unsupported).
    void shutdown(std::uint32_t flags, std::chrono::milliseconds timeout);
    // libvirt's ACPI reboot: power button, and the guest's SHUTDOWN becomes
    // system_reset + cont.  Returns once asked, as virsh reboot does.
    void reboot(std::uint32_t flags);
    // Raw QMP (a JSON object) or, with hmp, an HMP command line; returns
    // QEMU's reply (JSON text) or the HMP output.
    std::string monitor_command(const std::string &command, bool hmp);

    std::int32_t state() const;
    std::int32_t reason() const;
    bool is_active() const;  // QEMU still there (a zombie counts as gone)
    std::int32_t id() const;
    pid_t pid() const;
    const std::string &log_path() const { return log_path_; }
    std::string live_xml() const;

    // Hooks for other parts of the driver (migration).
    QmpClient &monitor();
    void add_qmp_listener(QmpListener listener);
    void set_extra(const std::string &key, const std::string &value);  // saved in live.json
    std::optional<std::string> extra(const std::string &key) const;
    // While a migration job runs it owns the state: STOP/RESUME are left to
    // it, and it sets state, reason and event (saved and announced here).
    // `outgoing`: this host is the source (a suspend is then the migration's pause).
    void set_migration_owns_vcpu_state(bool owns, bool outgoing);
    void set_migration_state(std::int32_t state, std::int32_t reason, std::int32_t event, std::int32_t detail);

private:
    RunningDomain(const StatePaths &paths, const std::string &uuid, FileLock owner, Listener listener);

    void launch(const DomainDefinition &definition, bool kvm_usable, std::int32_t id, const StartOptions &options);
    void adopt(const LiveState &live);
    void record_pty_paths(const std::vector<std::string> &chardevs);
    void open_monitor(std::unique_ptr<QmpClient> monitor);
    QmpClient::Options monitor_options();
    void on_event(const QmpEvent &event);
    void on_monitor_closed();
    void on_guest_shutdown(bool by_guest, const std::string &cause);
    void on_guest_panicked();
    void apply_lifecycle_action(const std::string &action);
    // Waits for the process to go (escalating to SIGTERM, SIGKILL), reaps it
    // if it is our child, cleans its files and reports it shut off.
    void finish(std::int32_t reason, std::int32_t event, std::int32_t detail, std::chrono::milliseconds grace);
    void end_process(std::chrono::milliseconds grace);
    void destroy_as(std::int32_t shutoff_reason, std::int32_t stopped_detail);
    void set_state(std::int32_t state, std::int32_t reason, std::int32_t event, std::int32_t detail);
    void save_locked();
    void run_later(std::function<void()> task);  // off the reader thread, in order
    void actor_loop();

    DomainRunFiles files_;
    Listener listener_;
    FileLock owner_;
    std::string log_path_;
    std::string on_poweroff_ = "destroy", on_reboot_ = "restart", on_crash_ = "destroy";

    std::optional<ChildProcess> child_;  // when this process started it
    std::unique_ptr<ProcessWatch> watch_;
    std::unique_ptr<QmpClient> monitor_;

    mutable std::mutex mutex_;
    std::condition_variable state_changed_;
    LiveState live_;  // state, reason, phase ... as saved
    bool started_ = false;        // the first RESUME is the boot
    bool destroying_ = false;     // we asked QEMU to go
    bool powered_off_ = false;    // the guest shut itself down
    bool panicked_ = false;
    bool pause_requested_ = false;
    bool migration_owns_vcpus_ = false;
    bool migration_outgoing_ = false;
    std::int32_t destroy_reason_ = 2, destroy_detail_ = 1;  // shutoff/destroyed, STOPPED/destroyed
    bool finishing_ = false;
    bool finished_ = false;
    int shutdowns_seen_ = 0;

    std::mutex listeners_mutex_;
    std::vector<QmpListener> qmp_listeners_;

    std::mutex actor_mutex_;
    std::condition_variable actor_wake_;
    std::deque<std::function<void()>> tasks_;
    bool actor_stop_ = false;
    std::thread actor_;  // last: starts after everything above exists
};

}  // namespace virtkit::qemu
