#include "driver/running_domain.hpp"

#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <Poco/JSON/Parser.h>

#include <virtkit/error.hpp>

#include "capabilities/qemu_capabilities.hpp"
#include "command_line/command_line.hpp"
#include "command_line/domain_document.hpp"
#include "driver/libvirt_states.hpp"
#include "process/cpu_affinity.hpp"
#include "migration/migration_states.hpp"
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

// VIRTKIT_SHUTDOWN_* (the same bits as libvirt's reboot flags): only ACPI.
void check_mode(std::uint32_t flags, const char *operation)
{
    if (flags & VIRTKIT_SHUTDOWN_GUEST_AGENT)
        throw Error(VIRTKIT_ERR_NO_SUPPORT, std::string(operation) +
                                                " through the guest agent is not supported by the qemu driver "
                                                "(no guest agent channel); use --mode acpi");
    if (flags & ~VIRTKIT_SHUTDOWN_ACPI_POWER_BTN)
        throw Error(VIRTKIT_ERR_NO_SUPPORT,
                    std::string(operation) + " mode other than acpi is not supported by the qemu driver");
}

std::string to_text(const Poco::JSON::Object::Ptr &object)
{
    std::ostringstream out;
    object->stringify(out);
    return out.str();
}

}  // namespace

DomainRunFiles DomainRunFiles::of(const StatePaths &paths, const std::string &uuid)
{
    return {paths.runtime / "domains" / uuid};
}

void DomainRunFiles::clean_after_stop(std::int32_t shutoff_reason) const
{
    std::error_code ec;
    std::filesystem::remove(monitor(), ec);
    std::ofstream(last_stop(), std::ios::trunc) << shutoff_reason << '\n';
    std::filesystem::remove(live(), ec);  // last: while it exists, the QEMU counts as tracked
}

std::int32_t DomainRunFiles::last_stop_reason() const
{
    std::ifstream in(last_stop());
    std::int32_t reason = 0;
    return in >> reason ? reason : 0;
}

RunningDomain::RunningDomain(const StatePaths &paths, const std::string &uuid, FileLock owner, Listener listener)
    : files_(DomainRunFiles::of(paths, uuid)), listener_(std::move(listener)), owner_(std::move(owner)),
      actor_([this] { actor_loop(); })
{
}

std::unique_ptr<RunningDomain> RunningDomain::start(const DomainDefinition &definition, const StatePaths &paths,
                                                    bool kvm_usable, std::int32_t id, FileLock owner,
                                                    Listener listener, const StartOptions &options)
{
    std::unique_ptr<RunningDomain> domain(
        new RunningDomain(paths, definition.uuid, std::move(owner), std::move(listener)));
    domain->log_path_ = (paths.state / "log" / (definition.name + ".log")).string();
    domain->launch(definition, kvm_usable, id, options);
    return domain;
}

std::unique_ptr<RunningDomain> RunningDomain::take_over(const LiveState &live, const StatePaths &paths,
                                                        FileLock owner, Listener listener)
{
    std::unique_ptr<RunningDomain> domain(new RunningDomain(paths, live.uuid, std::move(owner), std::move(listener)));
    domain->adopt(live);
    return domain;
}

RunningDomain::~RunningDomain()
{
    {
        const std::lock_guard lock(actor_mutex_);
        actor_stop_ = true;
    }
    actor_wake_.notify_all();
    actor_.join();
    monitor_.reset();  // joins the reader: no callback after this
    const std::lock_guard lock(mutex_);
    if (child_ && !finished_)
        child_->release();  // detach: the guest outlives this process
}

void RunningDomain::launch(const DomainDefinition &definition, bool kvm_usable, std::int32_t id,
                           const StartOptions &options)
{
    std::filesystem::create_directories(files_.dir);
    std::filesystem::remove(files_.monitor());
    CommandLineOptions line_options;
    line_options.monitor_socket = files_.monitor().string();
    line_options.kvm_usable = kvm_usable;
    const QemuCommandLine line = build_command_line(definition.xml, line_options);
    check_files_exist(definition.xml, line.emulator);
    std::vector<std::string> argv = line.argv();
    argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
    {
        const DomainDocument document(definition.xml);
        on_poweroff_ = xml::child_text(document.root(), "on_poweroff").value_or("destroy");
        on_reboot_ = xml::child_text(document.root(), "on_reboot").value_or("restart");
        on_crash_ = xml::child_text(document.root(), "on_crash").value_or("destroy");
    }
    {
        const std::lock_guard lock(mutex_);
        live_.uuid = definition.uuid;
        live_.name = definition.name;
        live_.monitor = files_.monitor().string();
        live_.log = log_path_;
        live_.started_at = static_cast<std::int64_t>(std::time(nullptr));
        live_.id = id;
        live_.state = VIRTKIT_DOMAIN_PAUSED;  // -S: created, not yet running
        live_.reason = libvirt::paused_unknown;
        live_.phase = "starting";
        DomainDocument live_document(definition.xml);
        live_document.mark_live(id, log_path_);
        live_.xml = live_document.to_string();
        save_locked();  // before QEMU exists: an interrupted start is always found
    }
    try {
        child_.emplace(ChildProcess::spawn(argv, {"", log_path_, line.environment}));
        {
            const std::lock_guard lock(mutex_);
            live_.pid = child_->pid();
            live_.start_ticks = process_start_ticks(child_->pid()).value_or(0);
            save_locked();
        }
        watch_ = std::make_unique<ProcessWatch>(child_->pid());
        // As long as libvirt waits: a guest with a large loader blob or
        // preallocated memory takes seconds to answer; a QEMU that exits
        // early is noticed at once.
        monitor_ = connect_to_started_qemu(*child_, files_.monitor().string(), log_path_, monitor_options(),
                                           std::chrono::steady_clock::now() + 30s);
        record_pty_paths(line.pty_chardevs);
        if (!line.host_cpus.empty())
            pin_process_threads(child_->pid(), line.host_cpus);  // before any guest code runs
        if (!options.leave_paused)
            monitor_->execute("cont", 5s);
    } catch (...) {
        monitor_.reset();
        if (child_)
            child_->kill_and_reap();
        files_.clean_after_stop(libvirt::shutoff_failed);
        const std::lock_guard lock(mutex_);
        finishing_ = finished_ = true;
        live_.state = VIRTKIT_DOMAIN_SHUTOFF;
        live_.reason = libvirt::shutoff_failed;
        throw;
    }
    bool announce = false;
    {
        const std::lock_guard lock(mutex_);
        started_ = true;
        live_.phase = "running";
        if (!options.leave_paused && live_.state == VIRTKIT_DOMAIN_PAUSED) {
            live_.state = VIRTKIT_DOMAIN_RUNNING;
            live_.reason = libvirt::running_booted;
            announce = true;
        }
        save_locked();
    }
    if (announce && listener_)
        listener_(VIRTKIT_EVENT_STARTED, libvirt::started_booted);
}

// What `console` attaches to: the ptys QEMU opened, written into the live XML.
void RunningDomain::record_pty_paths(const std::vector<std::string> &chardevs)
{
    if (chardevs.empty())
        return;  // no round trip for the common guest without a pty
    std::map<std::string, std::string> paths;
    const Poco::Dynamic::Var reply = monitor_->execute("query-chardev", 5s);
    const auto listed = reply.type() == typeid(Poco::JSON::Array::Ptr) ? reply.extract<Poco::JSON::Array::Ptr>()
                                                                      : Poco::JSON::Array::Ptr();
    for (std::size_t i = 0; listed && i < listed->size(); ++i) {
        const auto chardev = listed->getObject(static_cast<unsigned>(i));
        const std::string filename = chardev ? chardev->optValue<std::string>("filename", "") : "";
        if (filename.rfind("pty:", 0) == 0)
            paths[chardev->optValue<std::string>("label", "")] = filename.substr(4);
    }
    const std::lock_guard lock(mutex_);
    live_.xml = with_pty_paths(live_.xml, paths);
}

void RunningDomain::adopt(const LiveState &live)
{
    {
        const std::lock_guard lock(mutex_);
        live_ = live;
        started_ = true;
    }
    log_path_ = live.log;
    try {
        const DomainDocument document(live.xml);
        on_poweroff_ = xml::child_text(document.root(), "on_poweroff").value_or("destroy");
        on_reboot_ = xml::child_text(document.root(), "on_reboot").value_or("restart");
        on_crash_ = xml::child_text(document.root(), "on_crash").value_or("destroy");
    } catch (const Error &) {
        // keep libvirt's defaults
    }
    // A start killed before it saved the pid: find the QEMU by its command line.
    // Its spawn may still be between fork and exec, its argv not yet QEMU's:
    // look again for a moment before calling the start undone.
    pid_t pid = live.pid > 0 ? live.pid : find_qemu_process(live.uuid, live.monitor);
    for (int retry = 0; pid <= 0 && live.phase == "starting" && retry < 20; ++retry) {
        std::this_thread::sleep_for(10ms);
        pid = find_qemu_process(live.uuid, live.monitor);
    }
    const bool ours = pid > 0 && process_alive(pid) && process_is_qemu_for(pid, live.uuid) &&
                      (live.start_ticks == 0 || process_start_ticks(pid) == live.start_ticks);
    {
        const std::lock_guard lock(mutex_);
        live_.pid = pid;
    }
    if (!ours) {
        reap_if_child(pid);
        watch_ = std::make_unique<ProcessWatch>(-1);
        if (live.phase == "starting")
            finish(libvirt::shutoff_failed, VIRTKIT_EVENT_STOPPED, libvirt::stopped_failed, 0ms);
        else if (live.phase == "stopping")
            finish(libvirt::shutoff_destroyed, VIRTKIT_EVENT_STOPPED, libvirt::stopped_destroyed, 0ms);
        else
            finish(libvirt::shutoff_crashed, VIRTKIT_EVENT_STOPPED, libvirt::stopped_failed, 0ms);
        return;
    }
    watch_ = std::make_unique<ProcessWatch>(pid);
    if (live.phase == "starting") {
        // Its starter died before the guest ran: undo the start (libvirt does the same).
        watch_->signal(SIGKILL);
        finish(libvirt::shutoff_failed, VIRTKIT_EVENT_STOPPED, libvirt::stopped_failed, 5s);
        return;
    }
    try {
        UnixStream stream = UnixStream::connect(live.monitor, 1s);
        if (stream.peer_pid() != pid)
            throw Error(VIRTKIT_ERR_NO_CONNECT, "the monitor socket belongs to another process");
        QmpClient::Options options = monitor_options();
        options.handshake_timeout = 5s;
        monitor_ = std::make_unique<QmpClient>(std::move(stream), options);
    } catch (const Error &) {
        // Without its monitor the guest cannot be managed, and starting it
        // again would run it twice: end it, as libvirt does.
        watch_->signal(SIGKILL);
        finish(libvirt::shutoff_failed, VIRTKIT_EVENT_STOPPED, libvirt::stopped_failed, 5s);
        return;
    }
    if (live.phase == "stopping") {
        destroy();
        return;
    }
    const auto status = monitor_->execute("query-status", 5s).extract<Poco::JSON::Object::Ptr>();
    const std::string run_state = status->optValue<std::string>("status", "");
    if (run_state == "shutdown") {  // the guest powered off while nobody watched
        on_guest_shutdown(true, "guest-shutdown");
    } else if (run_state == "guest-panicked") {
        on_guest_panicked();
    } else if (run_state == "running") {
        const std::int32_t reason = live.state == VIRTKIT_DOMAIN_RUNNING ? live.reason : libvirt::running_unpaused;
        set_state(VIRTKIT_DOMAIN_RUNNING, reason, VIRTKIT_EVENT_RESUMED, libvirt::resumed_unpaused);
    } else {
        const bool migrating = run_state == "inmigrate" || run_state == "postmigrate" || run_state == "finish-migrate";
        const std::int32_t reason = live.state == VIRTKIT_DOMAIN_PAUSED ? live.reason
                                    : migrating                         ? libvirt::paused_migration
                                                                        : libvirt::paused_unknown;
        {
            const std::lock_guard lock(mutex_);
            pause_requested_ = reason == libvirt::paused_user;
        }
        set_state(VIRTKIT_DOMAIN_PAUSED, reason, VIRTKIT_EVENT_SUSPENDED, libvirt::suspended_paused);
    }
}

QmpClient::Options RunningDomain::monitor_options()
{
    QmpClient::Options options;
    options.on_event = [this](const QmpEvent &event) { on_event(event); };
    options.on_close = [this](const std::string &) { on_monitor_closed(); };
    return options;
}

void RunningDomain::save_locked()
{
    if (!finishing_ && !files_.dir.empty())
        live_.save(files_.live());
}

void RunningDomain::set_state(std::int32_t state, std::int32_t reason, std::int32_t event, std::int32_t detail)
{
    {
        const std::lock_guard lock(mutex_);
        if (state == VIRTKIT_DOMAIN_RUNNING)
            pause_requested_ = false;  // a later STOP is not that old pause (e.g. after a migration's rollback)
        if (live_.state == state && live_.reason == reason)
            return;
        live_.state = state;
        live_.reason = reason;
        save_locked();
    }
    state_changed_.notify_all();
    if (listener_)
        listener_(event, detail);
}

void RunningDomain::on_event(const QmpEvent &event)
{
    bool started = false, user_pause = false, stopped_for_us = false, migrating = false, migration_saved = false;
    {
        const std::lock_guard lock(mutex_);
        started = started_;
        migrating = migration_owns_vcpus_;
        user_pause = pause_requested_;
        // a job an earlier process saved and nobody re-derived yet: its QEMU
        // may still stop for the migration (never a user or unknown pause)
        const auto saved = live_.extra.find("migration");
        migration_saved = saved != live_.extra.end() && !saved->second.empty();
        // after a guest shutdown or a panic QEMU pauses; that is not a user pause
        stopped_for_us = live_.state == VIRTKIT_DOMAIN_SHUTDOWN || live_.state == VIRTKIT_DOMAIN_CRASHED ||
                         live_.fake_reboot || destroying_;
    }
    if (started) {
        if ((event.name == "STOP" || event.name == "RESUME") && migrating) {
            // the migration job sets the state from the same event
        } else if (event.name == "STOP" && !stopped_for_us && migration_saved && !user_pause) {
            set_state(VIRTKIT_DOMAIN_PAUSED, libvirt_migration::paused_migration, VIRTKIT_EVENT_SUSPENDED,
                      libvirt_migration::suspended_migrated);
        } else if (event.name == "STOP" && !stopped_for_us) {
            set_state(VIRTKIT_DOMAIN_PAUSED, user_pause ? libvirt::paused_user : libvirt::paused_unknown,
                      VIRTKIT_EVENT_SUSPENDED, libvirt::suspended_paused);
        } else if (event.name == "RESUME") {
            set_state(VIRTKIT_DOMAIN_RUNNING, libvirt::running_unpaused, VIRTKIT_EVENT_RESUMED,
                      libvirt::resumed_unpaused);
        } else if (event.name == "SHUTDOWN") {
            on_guest_shutdown(event.data->optValue<bool>("guest", true),
                              event.data->optValue<std::string>("reason", ""));
        } else if (event.name == "GUEST_PANICKED") {
            on_guest_panicked();
        }
    }
    std::vector<QmpListener> listeners;
    {
        const std::lock_guard lock(listeners_mutex_);
        listeners = qmp_listeners_;
    }
    for (const QmpListener &listener : listeners)
        listener(event);
}

void RunningDomain::on_guest_shutdown(bool by_guest, const std::string &cause)
{
    bool reboot = false;
    {
        const std::lock_guard lock(mutex_);
        if (destroying_ || (cause == "guest-panic" && panicked_))
            return;  // our own quit, or the panic handler decides
        ++shutdowns_seen_;
        reboot = live_.fake_reboot && by_guest;
        if (reboot) {
            live_.fake_reboot = false;
            save_locked();
        } else {
            powered_off_ = true;
        }
    }
    if (reboot) {
        run_later([this] {
            monitor_->execute("system_reset", 5s);
            monitor_->execute("cont", 5s);
        });
        return;
    }
    set_state(VIRTKIT_DOMAIN_SHUTDOWN, libvirt::shutdown_user, VIRTKIT_EVENT_SHUTDOWN,
              by_guest ? libvirt::shutdown_event_guest : libvirt::shutdown_event_host);
    // -no-reboot turns a guest reset into this SHUTDOWN when on_reboot is destroy
    apply_lifecycle_action(cause == "guest-reset" ? on_reboot_ : on_poweroff_);
}

void RunningDomain::on_guest_panicked()
{
    {
        const std::lock_guard lock(mutex_);
        panicked_ = true;
    }
    set_state(VIRTKIT_DOMAIN_CRASHED, libvirt::crashed_panicked, VIRTKIT_EVENT_CRASHED,
              libvirt::crashed_event_panicked);
    apply_lifecycle_action(on_crash_);
}

void RunningDomain::apply_lifecycle_action(const std::string &action)
{
    if (action == "destroy") {
        watch_->signal(SIGTERM);  // QEMU exits; the monitor's end reports why
    } else if (action == "restart") {
        {
            const std::lock_guard lock(mutex_);
            powered_off_ = panicked_ = false;
        }
        run_later([this] {
            monitor_->execute("system_reset", 5s);
            monitor_->execute("cont", 5s);
        });
        set_state(VIRTKIT_DOMAIN_RUNNING, libvirt::running_booted, VIRTKIT_EVENT_STARTED, libvirt::started_booted);
    }
    // preserve: QEMU stays as it is (paused after a shutdown, crashed after a panic)
}

void RunningDomain::on_monitor_closed()
{
    bool started = false, destroying = false, powered_off = false, panicked = false;
    std::int32_t destroy_reason = libvirt::shutoff_destroyed, destroy_detail = libvirt::stopped_destroyed;
    {
        const std::lock_guard lock(mutex_);
        started = started_;
        destroying = destroying_;
        destroy_reason = destroy_reason_;
        destroy_detail = destroy_detail_;
        powered_off = powered_off_;
        panicked = panicked_;
    }
    if (!started)
        return;  // a failed start cleans up itself
    if (destroying)
        finish(destroy_reason, VIRTKIT_EVENT_STOPPED, destroy_detail, 3s);
    else if (panicked)
        finish(libvirt::shutoff_crashed, VIRTKIT_EVENT_STOPPED, libvirt::stopped_crashed, 3s);
    else if (powered_off)
        finish(libvirt::shutoff_shutdown, VIRTKIT_EVENT_STOPPED, libvirt::stopped_shutdown, 3s);
    else
        finish(libvirt::shutoff_crashed, VIRTKIT_EVENT_STOPPED, libvirt::stopped_failed, 3s);
}

void RunningDomain::end_process(std::chrono::milliseconds grace)
{
    if (!watch_->wait_for_exit(grace)) {
        watch_->signal(SIGTERM);
        if (!watch_->wait_for_exit(1s)) {
            watch_->signal(SIGKILL);
            watch_->wait_for_exit(5s);
        }
    }
    if (child_)
        child_->has_exited();  // reaps
    else
        reap_if_child(live_.pid);  // a QEMU of an earlier connection of this process
}

void RunningDomain::finish(std::int32_t reason, std::int32_t event, std::int32_t detail,
                           std::chrono::milliseconds grace)
{
    {
        std::unique_lock lock(mutex_);
        if (finishing_) {  // another thread is at it: wait for its result
            state_changed_.wait(lock, [this] { return finished_; });
            return;
        }
        finishing_ = true;
    }
    end_process(grace);
    files_.clean_after_stop(reason);
    { const FileLock released = std::move(owner_); }  // another process may start it now
    {
        const std::lock_guard lock(mutex_);
        live_.state = VIRTKIT_DOMAIN_SHUTOFF;
        live_.reason = reason;
    }
    if (listener_)
        listener_(event, detail);
    {
        const std::lock_guard lock(mutex_);
        finished_ = true;  // after the event: whoever waits for the end sees it announced
    }
    state_changed_.notify_all();
}

void RunningDomain::run_later(std::function<void()> task)
{
    {
        const std::lock_guard lock(actor_mutex_);
        if (actor_stop_)
            return;
        tasks_.push_back(std::move(task));
    }
    actor_wake_.notify_all();
}

void RunningDomain::actor_loop()
{
    for (;;) {
        std::function<void()> task;
        {
            std::unique_lock lock(actor_mutex_);
            actor_wake_.wait(lock, [this] { return actor_stop_ || !tasks_.empty(); });
            if (actor_stop_)
                return;
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        try {
            task();
        } catch (const Error &) {
            // the monitor went away meanwhile: its end is handled on its own
        }
    }
}

void RunningDomain::suspend()
{
    bool outgoing = false;
    {
        const std::lock_guard lock(mutex_);
        if (live_.state != VIRTKIT_DOMAIN_RUNNING)
            throw Error(VIRTKIT_ERR_OPERATION_INVALID, "the domain is not running");
        outgoing = migration_owns_vcpus_ && migration_outgoing_;
        pause_requested_ = !outgoing;
    }
    monitor_->execute("stop", 5s);
    // QEMU answers before or after its STOP event; the state is set either way.
    // During an outgoing migration (migrate --timeout) libvirt reports the
    // pause as the migration's, as the job does for the same STOP.
    if (outgoing)
        set_state(VIRTKIT_DOMAIN_PAUSED, libvirt_migration::paused_migration, VIRTKIT_EVENT_SUSPENDED,
                  libvirt_migration::suspended_migrated);
    else
        set_state(VIRTKIT_DOMAIN_PAUSED, libvirt::paused_user, VIRTKIT_EVENT_SUSPENDED, libvirt::suspended_paused);
}

void RunningDomain::resume()
{
    {
        const std::lock_guard lock(mutex_);
        if (live_.state != VIRTKIT_DOMAIN_PAUSED)
            throw Error(VIRTKIT_ERR_OPERATION_INVALID, "the domain is not paused");
        pause_requested_ = false;
    }
    monitor_->execute("cont", 5s);
    set_state(VIRTKIT_DOMAIN_RUNNING, libvirt::running_unpaused, VIRTKIT_EVENT_RESUMED, libvirt::resumed_unpaused);
}

void RunningDomain::destroy() { destroy_as(libvirt::shutoff_destroyed, libvirt::stopped_destroyed); }

void RunningDomain::destroy_migrated() { destroy_as(libvirt::shutoff_migrated, libvirt::stopped_migrated); }

void RunningDomain::set_migration_owns_vcpu_state(bool owns, bool outgoing)
{
    const std::lock_guard lock(mutex_);
    migration_owns_vcpus_ = owns;
    migration_outgoing_ = owns && outgoing;
}

void RunningDomain::set_migration_state(std::int32_t state, std::int32_t reason, std::int32_t event,
                                        std::int32_t detail)
{
    set_state(state, reason, event, detail);
}

void RunningDomain::destroy_as(std::int32_t shutoff_reason, std::int32_t stopped_detail)
{
    {
        const std::lock_guard lock(mutex_);
        if (finished_)
            return;
        destroying_ = true;
        destroy_reason_ = shutoff_reason;
        destroy_detail_ = stopped_detail;
        live_.phase = "stopping";  // a manager killed now: the next one finishes the job
        save_locked();
    }
    try {
        monitor_->execute("quit", 1s);
    } catch (const Error &) {
        // a dead or wedged monitor: the signals in finish() still work
    }
    finish(shutoff_reason, VIRTKIT_EVENT_STOPPED, stopped_detail, 3s);
}

void RunningDomain::shutdown(std::uint32_t flags, std::chrono::milliseconds timeout)
{
    check_mode(flags, "shutdown");
    int shutdowns_before = 0;
    {
        const std::lock_guard lock(mutex_);
        if (finished_)
            throw Error(VIRTKIT_ERR_OPERATION_INVALID, "the domain is not running");
        shutdowns_before = shutdowns_seen_;
    }
    monitor_->execute("system_powerdown", 5s);
    std::unique_lock lock(mutex_);
    const bool done = state_changed_.wait_for(lock, timeout, [&] {
        return finished_ || (shutdowns_seen_ > shutdowns_before && on_poweroff_ != "destroy");
    });
    if (!done)
        throw Error(VIRTKIT_ERR_TIMEOUT,
                    "the guest did not power off within " + std::to_string(timeout.count() / 1000) +
                        " s of the ACPI power button (a guest without an OS, or one that ignores ACPI, never "
                        "does); it is still running -- use destroy to stop it");
}

void RunningDomain::reboot(std::uint32_t flags)
{
    check_mode(flags, "reboot");
    {
        const std::lock_guard lock(mutex_);
        if (finished_)
            throw Error(VIRTKIT_ERR_OPERATION_INVALID, "the domain is not running");
        live_.fake_reboot = on_reboot_ != "destroy";  // on_reboot=destroy: a reboot is a shutdown
        save_locked();
    }
    monitor_->execute("system_powerdown", 5s);
}

std::string RunningDomain::monitor_command(const std::string &command, bool hmp)
{
    if (!is_active())
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "the domain is not running");
    if (hmp) {
        Poco::JSON::Object::Ptr arguments = new Poco::JSON::Object;
        arguments->set("command-line", command);
        return monitor_->execute("human-monitor-command", arguments, 30s).toString();
    }
    Poco::JSON::Object::Ptr message;
    try {
        Poco::JSON::Parser parser;
        message = parser.parse(command).extract<Poco::JSON::Object::Ptr>();
    } catch (const std::exception &) {
        throw Error(VIRTKIT_ERR_INVALID_ARG, "the monitor command is not a JSON object: " + command);
    }
    return to_text(monitor_->execute_raw(message, 30s));
}

std::int32_t RunningDomain::state() const
{
    const std::lock_guard lock(mutex_);
    return live_.state;
}

std::int32_t RunningDomain::reason() const
{
    const std::lock_guard lock(mutex_);
    return live_.reason;
}

bool RunningDomain::is_active() const
{
    const std::lock_guard lock(mutex_);
    return live_.state != VIRTKIT_DOMAIN_SHUTOFF;
}

std::int32_t RunningDomain::id() const
{
    const std::lock_guard lock(mutex_);
    return live_.id;
}

pid_t RunningDomain::pid() const
{
    const std::lock_guard lock(mutex_);
    return live_.pid;
}

std::string RunningDomain::live_xml() const
{
    const std::lock_guard lock(mutex_);
    return live_.xml;
}

QmpClient &RunningDomain::monitor()
{
    if (!monitor_)
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "the domain has no monitor");
    return *monitor_;
}

void RunningDomain::add_qmp_listener(QmpListener listener)
{
    const std::lock_guard lock(listeners_mutex_);
    qmp_listeners_.push_back(std::move(listener));
}

void RunningDomain::set_extra(const std::string &key, const std::string &value)
{
    const std::lock_guard lock(mutex_);
    live_.extra[key] = value;
    save_locked();
}

std::optional<std::string> RunningDomain::extra(const std::string &key) const
{
    const std::lock_guard lock(mutex_);
    const auto found = live_.extra.find(key);
    return found == live_.extra.end() ? std::nullopt : std::optional<std::string>(found->second);
}

}  // namespace virtkit::qemu
