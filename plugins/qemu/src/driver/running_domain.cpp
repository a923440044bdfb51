#include "driver/running_domain.hpp"

#include <csignal>
#include <filesystem>

#include <virtkit/error.hpp>

#include "capabilities/qemu_capabilities.hpp"
#include "command_line/command_line.hpp"
#include "command_line/domain_document.hpp"
#include "driver/libvirt_states.hpp"
#include "qmp/monitor_connect.hpp"

namespace virtkit::qemu {
namespace {

using namespace std::chrono_literals;

// What QEMU would only report after starting: missing files.
void check_files_exist(const std::string &xml, const std::string &emulator)
{
    BinaryStamp::of(emulator);  // throws naming the emulator
    const DomainDocument document(xml);
    for (const xmlNode *disk : xml::children(xml::child(document.root(), "devices"), "disk")) {
        const xmlNode *source = xml::child(disk, "source");
        const auto path = source ? (xml::attr(source, "file") ? xml::attr(source, "file") : xml::attr(source, "dev"))
                                 : std::nullopt;
        if (path && !std::filesystem::exists(*path))
            throw Error(VIRTKIT_ERR_INVALID_ARG, "disk image '" + *path + "' does not exist");
    }
}

}  // namespace

RunningDomain::RunningDomain(const DomainDefinition &definition, const StatePaths &paths, bool kvm_usable,
                             Listener listener)
    : listener_(std::move(listener)), log_path_((paths.state / "log" / (definition.name + ".log")).string())
{
    const auto run_dir = paths.runtime / "domains" / definition.uuid;
    std::filesystem::create_directories(run_dir);
    const std::string socket = (run_dir / "monitor.sock").string();
    std::filesystem::remove(socket);

    CommandLineOptions options;
    options.monitor_socket = socket;
    options.kvm_usable = kvm_usable;
    const QemuCommandLine line = build_command_line(definition.xml, options);
    check_files_exist(definition.xml, line.emulator);

    process_.emplace(ChildProcess::spawn(line.argv(), {"", log_path_, line.environment}));
    QmpClient::Options monitor_options;
    monitor_options.on_event = [this](const QmpEvent &event) { on_event(event); };
    monitor_options.on_close = [this](const std::string &) { on_monitor_closed(); };
    {
        const std::lock_guard lock(mutex_);
        state_ = VIRTKIT_DOMAIN_PAUSED;  // -S: created, not yet running
    }
    monitor_ = connect_to_started_qemu(*process_, socket, log_path_, monitor_options,
                                       std::chrono::steady_clock::now() + 10s);
    monitor_->execute("cont", 5s);
    bool announce = false;
    {
        const std::lock_guard lock(mutex_);
        started_ = true;
        if (state_ == VIRTKIT_DOMAIN_PAUSED) {
            state_ = VIRTKIT_DOMAIN_RUNNING;
            reason_ = libvirt::running_booted;
            announce = true;
        }
    }
    if (announce && listener_)
        listener_(VIRTKIT_EVENT_STARTED, libvirt::started_booted);
}

RunningDomain::~RunningDomain()
{
    if (process_)
        process_->kill_and_reap();
    monitor_.reset();  // joins the reader: no callback after this
}

void RunningDomain::set_state(std::int32_t state, std::int32_t reason, std::int32_t event, std::int32_t detail)
{
    {
        const std::lock_guard lock(mutex_);
        if (state_ == state && reason_ == reason)
            return;
        state_ = state;
        reason_ = reason;
    }
    if (listener_)
        listener_(event, detail);
}

void RunningDomain::on_event(const QmpEvent &event)
{
    bool started = false;
    bool user_pause = false;
    {
        const std::lock_guard lock(mutex_);
        started = started_;
        user_pause = pause_requested_;
    }
    if (!started)
        return;  // the start sequence sets the first state itself
    if (event.name == "STOP") {
        set_state(VIRTKIT_DOMAIN_PAUSED, user_pause ? libvirt::paused_user : libvirt::paused_unknown,
                  VIRTKIT_EVENT_SUSPENDED, libvirt::suspended_paused);
    } else if (event.name == "RESUME") {
        set_state(VIRTKIT_DOMAIN_RUNNING, libvirt::running_unpaused, VIRTKIT_EVENT_RESUMED, libvirt::resumed_unpaused);
    } else if (event.name == "SHUTDOWN") {
        // -no-shutdown keeps QEMU after the guest powered off: end it now
        bool ours = false;
        {
            const std::lock_guard lock(mutex_);
            ours = destroying_;
            powered_off_ = !ours;
        }
        if (!ours)
            ::kill(process_->pid(), SIGTERM);
    } else if (event.name == "GUEST_PANICKED") {
        set_state(VIRTKIT_DOMAIN_CRASHED, libvirt::crashed_panicked, VIRTKIT_EVENT_CRASHED,
                  libvirt::crashed_event_panicked);
    }
}

void RunningDomain::on_monitor_closed()
{
    bool destroying = false, powered_off = false;
    {
        const std::lock_guard lock(mutex_);
        destroying = destroying_;
        powered_off = powered_off_;
    }
    if (destroying)
        set_state(VIRTKIT_DOMAIN_SHUTOFF, libvirt::shutoff_destroyed, VIRTKIT_EVENT_STOPPED, libvirt::stopped_destroyed);
    else if (powered_off)
        set_state(VIRTKIT_DOMAIN_SHUTOFF, libvirt::shutoff_shutdown, VIRTKIT_EVENT_STOPPED, libvirt::stopped_shutdown);
    else
        set_state(VIRTKIT_DOMAIN_SHUTOFF, libvirt::shutoff_crashed, VIRTKIT_EVENT_STOPPED, libvirt::stopped_failed);
}

void RunningDomain::suspend()
{
    {
        const std::lock_guard lock(mutex_);
        if (state_ != VIRTKIT_DOMAIN_RUNNING)
            throw Error(VIRTKIT_ERR_OPERATION_INVALID, "the domain is not running");
        pause_requested_ = true;
    }
    monitor_->execute("stop", 5s);
    // QEMU answers before or after its STOP event; the state is set either way
    set_state(VIRTKIT_DOMAIN_PAUSED, libvirt::paused_user, VIRTKIT_EVENT_SUSPENDED, libvirt::suspended_paused);
}

void RunningDomain::resume()
{
    {
        const std::lock_guard lock(mutex_);
        if (state_ != VIRTKIT_DOMAIN_PAUSED)
            throw Error(VIRTKIT_ERR_OPERATION_INVALID, "the domain is not paused");
        pause_requested_ = false;
    }
    monitor_->execute("cont", 5s);
    set_state(VIRTKIT_DOMAIN_RUNNING, libvirt::running_unpaused, VIRTKIT_EVENT_RESUMED, libvirt::resumed_unpaused);
}

void RunningDomain::destroy()
{
    {
        const std::lock_guard lock(mutex_);
        destroying_ = true;
    }
    try {
        monitor_->execute("quit", 1s);
    } catch (const Error &) {
        // a dead or wedged monitor: the signals below still work
    }
    if (!process_->wait_for_exit(3s)) {
        process_->signal(SIGTERM);
        if (!process_->wait_for_exit(1s))
            process_->kill_and_reap();
    }
    set_state(VIRTKIT_DOMAIN_SHUTOFF, libvirt::shutoff_destroyed, VIRTKIT_EVENT_STOPPED, libvirt::stopped_destroyed);
}

std::int32_t RunningDomain::state() const
{
    const std::lock_guard lock(mutex_);
    return state_;
}

std::int32_t RunningDomain::reason() const
{
    const std::lock_guard lock(mutex_);
    return reason_;
}

bool RunningDomain::is_active() const
{
    const std::lock_guard lock(mutex_);
    return state_ != VIRTKIT_DOMAIN_SHUTOFF;
}

}  // namespace virtkit::qemu
