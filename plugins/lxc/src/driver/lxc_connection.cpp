#include "driver/lxc_connection.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <virtkit/error.hpp>

#include "driver/libvirt_states.hpp"
#include "runtime/container_launch.hpp"
#include "xml/xml_document.hpp"

namespace virtkit::lxc {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

int pidfd_of(const ProcessIdentity &process)
{
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, process.pid, 0));
    if (fd >= 0 && !process.alive()) {  // the pid was reused between the check and the open
        ::close(fd);
        return -1;
    }
    return fd;
}

// Short, stable and unique per (state root, uuid): cgroup leaves and veth
// names must not collide between two embedded roots on one host.
std::string short_hash(const std::string &text)
{
    std::uint32_t h = 2166136261u;  // FNV-1a
    for (const unsigned char c : text)
        h = (h ^ c) * 16777619u;
    char out[9];
    std::snprintf(out, sizeof out, "%08x", h);
    return out;
}

}  // namespace

std::string LxcConnection::supervisor_path()
{
    if (const char *path = std::getenv("VIRTKIT_LXC_SUPERVISOR"); path && *path)
        return path;
    Dl_info info{};
    if (::dladdr(reinterpret_cast<void *>(&LxcConnection::supervisor_path), &info) && info.dli_fname)
        return (fs::path(info.dli_fname).parent_path() / "virtkit-lxc-supervisor").string();
    throw Error(VIRTKIT_ERR_INTERNAL, "cannot find virtkit-lxc-supervisor; set VIRTKIT_LXC_SUPERVISOR");
}

LxcConnection::LxcConnection(const std::string &uri, EventSink events)
    : paths_(StatePaths::from_uri(uri)), events_(std::move(events))
{
    paths_.create_directories();
    load_definitions();
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0)
        throw Error(VIRTKIT_ERR_SYSTEM, std::string("cannot create an eventfd: ") + std::strerror(errno));
    watcher_ = std::thread([this] { watch(); });
    autostart_once_per_boot();
}

void LxcConnection::autostart_once_per_boot()
{
    std::ifstream boot("/proc/sys/kernel/random/boot_id");
    std::string boot_id;
    boot >> boot_id;
    const fs::path marker = paths_.runtime / "autostarted";
    std::ifstream previous(marker);
    std::string done;
    previous >> done;
    if (boot_id.empty() || done == boot_id)
        return;
    write_atomically(marker, boot_id + "\n");
    std::vector<std::string> wanted;
    {
        const std::lock_guard lock(mutex_);
        for (const auto &[uuid, entry] : domains_)
            if (!entry.live && fs::exists(paths_.state / "autostart" / uuid))
                wanted.push_back(uuid);
    }
    for (const std::string &uuid : wanted) {
        try {
            start(uuid);
        } catch (const Error &) {
            // stays shut off, with the reason in its log; opening the connection must not fail for it
        }
    }
}

bool LxcConnection::autostart(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    find(uuid);
    return fs::exists(paths_.state / "autostart" / uuid);
}

void LxcConnection::set_autostart(const std::string &uuid, bool enabled)
{
    const std::lock_guard lock(mutex_);
    find(uuid);
    fs::create_directories(paths_.state / "autostart");
    if (enabled)
        write_atomically(paths_.state / "autostart" / uuid, "\n");
    else
        fs::remove(paths_.state / "autostart" / uuid);
}

LxcConnection::~LxcConnection()
{
    {
        const std::lock_guard lock(mutex_);
        closing_ = true;
    }
    wake_watcher();
    watcher_.join();
    for (auto &[uuid, entry] : domains_)
        if (entry.pidfd >= 0)
            ::close(entry.pidfd);
    ::close(wake_fd_);
}

fs::path LxcConnection::runtime_file(const std::string &uuid, const char *extension) const
{
    return paths_.runtime / "domains" / (uuid + extension);
}

void LxcConnection::load_definitions()
{
    for (const auto &file : fs::directory_iterator(paths_.state / "domains")) {
        if (file.path().extension() != ".xml")
            continue;
        std::ifstream in(file.path());
        const std::string text((std::istreambuf_iterator<char>(in)), {});
        try {
            Entry entry;
            entry.definition = ContainerDefinition::parse(text);
            const std::string uuid = entry.definition.uuid;
            reconnect(domains_[uuid] = std::move(entry));
        } catch (const Error &) {
            // a definition this build cannot honour stays on disk untouched
        }
    }
}

void LxcConnection::reconnect(Entry &entry)
{
    const std::string &uuid = entry.definition.uuid;
    const auto live = LiveState::load(runtime_file(uuid, ".state"));
    if (live && live->supervisor.alive() && live->init.alive()) {
        entry.pidfd = pidfd_of(live->supervisor);
        if (entry.pidfd >= 0) {
            entry.live = live;
            return;
        }
    }
    if (live) {
        // Died while nobody watched: whatever it left goes now.
        entry.live = live;
        if (live->supervisor.alive())
            ::kill(live->supervisor.pid, SIGKILL);
        finish(entry, libvirt::shutoff_crashed, libvirt::stopped_crashed, false);
        return;
    }
    if (fs::exists(runtime_file(uuid, ".exit")))
        finish_from_exit_record(entry);
}

void LxcConnection::emit(const Entry &entry, std::int32_t type, std::int32_t detail)
{
    if (events_)
        events_(entry.definition.name, entry.definition.uuid, type, detail);
}

void LxcConnection::finish(Entry &entry, std::int32_t reason, std::int32_t detail, bool emit_event)
{
    if (entry.live) {
        ContainerCgroup cgroup = entry.live->cgroup();
        remove_container_leftovers(cgroup, entry.live->host_veths);
    }
    if (entry.pidfd >= 0)
        ::close(entry.pidfd);
    entry.pidfd = -1;
    entry.live.reset();
    entry.stopping = false;
    entry.last_reason = reason;
    for (const char *extension : {".state", ".exit", ".xml"})
        fs::remove(runtime_file(entry.definition.uuid, extension));
    if (emit_event)
        emit(entry, VIRTKIT_EVENT_STOPPED, detail);
}

void LxcConnection::finish_from_exit_record(Entry &entry)
{
    const auto record = ExitRecord::load(runtime_file(entry.definition.uuid, ".exit"));
    // Init that exits on its own is a shutdown, as in libvirt; one killed by a
    // signal (or the OOM killer) crashed.
    if (record && record->exited && !record->oom)
        finish(entry, libvirt::shutoff_shutdown, libvirt::stopped_shutdown, true);
    else
        finish(entry, libvirt::shutoff_crashed, libvirt::stopped_crashed, true);
}

bool LxcConnection::wait_for_supervisor(Entry &entry, int timeout_ms)
{
    if (entry.pidfd < 0)
        return true;
    pollfd fd{entry.pidfd, POLLIN, 0};
    return ::poll(&fd, 1, timeout_ms) > 0;
}

void LxcConnection::wake_watcher()
{
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t ignored = ::write(wake_fd_, &one, sizeof one);
}

void LxcConnection::watch()
{
    for (;;) {
        std::vector<pollfd> fds{{wake_fd_, POLLIN, 0}};
        std::vector<std::string> uuids{""};
        {
            const std::lock_guard lock(mutex_);
            if (closing_)
                return;
            for (const auto &[uuid, entry] : domains_)
                if (entry.pidfd >= 0 && !entry.stopping) {
                    fds.push_back({entry.pidfd, POLLIN, 0});
                    uuids.push_back(uuid);
                }
        }
        if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR)
            return;
        std::uint64_t drained = 0;
        [[maybe_unused]] const ssize_t ignored = ::read(wake_fd_, &drained, sizeof drained);
        const std::lock_guard lock(mutex_);
        for (std::size_t i = 1; i < fds.size(); ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP)))
                continue;
            const auto found = domains_.find(uuids[i]);
            // Only a container nobody is stopping right now, with the same supervisor.
            if (found == domains_.end() || found->second.pidfd != fds[i].fd || found->second.stopping)
                continue;
            finish_from_exit_record(found->second);
        }
    }
}

std::uint64_t LxcConnection::hypervisor_version() const
{
    utsname u{};
    ::uname(&u);
    unsigned major = 0, minor = 0, micro = 0;
    std::sscanf(u.release, "%u.%u.%u", &major, &minor, &micro);
    return major * 1000000ull + minor * 1000ull + micro;
}

std::string LxcConnection::capabilities_xml() const
{
    return "<capabilities>\n  <host>\n    <cpu><arch>x86_64</arch></cpu>\n  </host>\n"
           "  <guest>\n    <os_type>exe</os_type>\n    <arch name='x86_64'>\n      <wordsize>64</wordsize>\n"
           "      <emulator>" + supervisor_path() + "</emulator>\n      <domain type='lxc'/>\n    </arch>\n"
           "    <features>\n      <privnet/>\n    </features>\n  </guest>\n</capabilities>\n";
}

LxcConnection::Entry &LxcConnection::find(const std::string &uuid)
{
    const auto found = domains_.find(uuid);
    if (found == domains_.end())
        throw Error(VIRTKIT_ERR_NO_DOMAIN, "no container with UUID '" + uuid + "'");
    return found->second;
}

DomainSummary LxcConnection::summary(const Entry &entry) const
{
    return {entry.definition.name, entry.definition.uuid, entry.live ? entry.live->supervisor.pid : -1};
}

DomainSummary LxcConnection::lookup_by_name(const std::string &name)
{
    const std::lock_guard lock(mutex_);
    for (const auto &[uuid, entry] : domains_)
        if (entry.definition.name == name)
            return summary(entry);
    throw Error(VIRTKIT_ERR_NO_DOMAIN, "no container named '" + name + "'");
}

DomainSummary LxcConnection::lookup_by_uuid(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    return summary(find(uuid));
}

DomainSummary LxcConnection::lookup_by_id(std::int32_t id)
{
    const std::lock_guard lock(mutex_);
    for (const auto &[uuid, entry] : domains_)
        if (entry.live && entry.live->supervisor.pid == id)
            return summary(entry);
    throw Error(VIRTKIT_ERR_NO_DOMAIN, "no running container with id " + std::to_string(id));
}

std::vector<DomainSummary> LxcConnection::list(std::uint32_t flags)
{
    const bool want_active = flags == 0 || (flags & VIRTKIT_LIST_ACTIVE);
    const bool want_inactive = flags == 0 || (flags & VIRTKIT_LIST_INACTIVE);
    const std::lock_guard lock(mutex_);
    std::vector<DomainSummary> result;
    for (const auto &[uuid, entry] : domains_)
        if (entry.live ? want_active : want_inactive)
            result.push_back(summary(entry));
    return result;
}

DomainSummary LxcConnection::define(const std::string &xml)
{
    ContainerDefinition definition = ContainerDefinition::parse(xml);
    const std::lock_guard lock(mutex_);
    for (const auto &[uuid, entry] : domains_)
        if (entry.definition.name == definition.name && uuid != definition.uuid)
            throw Error(VIRTKIT_ERR_DOMAIN_EXISTS, "container '" + definition.name + "' already exists with UUID " + uuid);
    const auto existing = domains_.find(definition.uuid);
    const bool update = existing != domains_.end();
    if (update && existing->second.definition.name != definition.name)
        throw Error(VIRTKIT_ERR_DOMAIN_EXISTS, "UUID " + definition.uuid + " belongs to container '" +
                                                   existing->second.definition.name + "'");
    write_atomically(paths_.state / "domains" / (definition.uuid + ".xml"), definition.xml);
    Entry &entry = domains_[definition.uuid];
    entry.definition = std::move(definition);  // a running container keeps its start-time copy in runtime/
    emit(entry, VIRTKIT_EVENT_DEFINED, update ? libvirt::defined_updated : libvirt::defined_added);
    return summary(entry);
}

void LxcConnection::undefine(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    Entry &entry = find(uuid);
    if (entry.live)
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "container '" + entry.definition.name + "' is running; destroy it first");
    fs::remove(paths_.state / "domains" / (uuid + ".xml"));
    fs::remove(paths_.state / "autostart" / uuid);
    const Entry gone = std::move(entry);
    domains_.erase(uuid);
    emit(gone, VIRTKIT_EVENT_UNDEFINED, libvirt::undefined_removed);
}

void LxcConnection::start(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    Entry &entry = find(uuid);
    if (entry.live)
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "container '" + entry.definition.name + "' is already running");
    const ContainerDefinition &def = entry.definition;
    const fs::path definition_file = runtime_file(uuid, ".xml");
    fs::remove(runtime_file(uuid, ".exit"));
    write_atomically(definition_file, def.xml);

    const std::string supervisor = supervisor_path();
    const std::string tag = short_hash(paths_.runtime.string() + "/" + uuid);
    std::vector<std::string> args = {supervisor,
                                     definition_file.string(),
                                     runtime_file(uuid, ".state").string(),
                                     runtime_file(uuid, ".exit").string(),
                                     def.name + "." + tag + ".virtkit-lxc",
                                     "vk" + tag,
                                     "3"};
    std::vector<char *> argv;
    for (auto &a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = (paths_.state / "log" / (def.name + ".log")).string();
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int status_pipe[2];
    if (log_fd < 0 || null_fd < 0 || ::pipe2(status_pipe, O_CLOEXEC) != 0) {
        const int saved = errno;
        for (const int fd : {log_fd, null_fd})
            if (fd >= 0)
                ::close(fd);
        throw Error(VIRTKIT_ERR_SYSTEM, "cannot prepare the supervisor (log " + log + "): " + std::strerror(saved));
    }
    const pid_t child = ::fork();
    if (child == 0) {  // only async-signal-safe calls until exec
        ::dup2(null_fd, 0);
        ::dup2(log_fd, 1);
        ::dup2(log_fd, 2);
        ::dup2(status_pipe[1], 3);  // dup2 clears close-on-exec on the copy
        ::syscall(SYS_close_range, 4u, ~0u, 0u);
        ::execv(argv[0], argv.data());
        static const char message[] = "error 12 cannot execute the lxc supervisor\n";
        [[maybe_unused]] const ssize_t ignored = ::write(3, message, sizeof message - 1);
        ::_exit(127);
    }
    ::close(status_pipe[1]);
    ::close(log_fd);
    ::close(null_fd);
    if (child < 0) {
        ::close(status_pipe[0]);
        fs::remove(definition_file);
        throw Error(VIRTKIT_ERR_SYSTEM, std::string("cannot fork: ") + std::strerror(errno));
    }
    while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    // The supervisor (now detached) answers once init runs or the start failed.
    std::string answer;
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        pollfd fd{status_pipe[0], POLLIN, 0};
        if (left <= 0 || ::poll(&fd, 1, static_cast<int>(left)) == 0) {
            answer = "error 11 the supervisor did not report within 30 s (see " + log + ")";
            break;
        }
        char buffer[1024];
        const ssize_t n = ::read(status_pipe[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        answer.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(status_pipe[0]);
    while (!answer.empty() && answer.back() == '\n')
        answer.pop_back();

    const auto live = LiveState::load(runtime_file(uuid, ".state"));
    if (answer.rfind("ok", 0) == 0 && !live) {  // started, and init has already ended
        emit(entry, VIRTKIT_EVENT_STARTED, libvirt::started_booted);
        finish_from_exit_record(entry);
        return;
    }
    if (answer.rfind("ok", 0) != 0 || !live) {
        if (live) {
            entry.live = live;
            finish(entry, libvirt::shutoff_failed, libvirt::stopped_failed, false);
        }
        fs::remove(definition_file);
        if (answer.rfind("error ", 0) == 0) {
            const auto space = answer.find(' ', 6);
            const int code = std::atoi(answer.substr(6, space - 6).c_str());
            throw Error(code > 0 ? code : VIRTKIT_ERR_OPERATION_FAILED, answer.substr(space + 1));
        }
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, "the lxc supervisor ended without starting the container (see " +
                                                      log + ")");
    }
    entry.live = live;
    entry.pidfd = pidfd_of(live->supervisor);
    if (entry.pidfd < 0) {  // it ran and ended already: report start, then the stop
        emit(entry, VIRTKIT_EVENT_STARTED, libvirt::started_booted);
        finish_from_exit_record(entry);
        return;
    }
    emit(entry, VIRTKIT_EVENT_STARTED, libvirt::started_booted);
    wake_watcher();
}

void LxcConnection::destroy(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    Entry &entry = find(uuid);
    if (!entry.live)
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "container '" + entry.definition.name + "' is not running");
    entry.stopping = true;
    wake_watcher();
    ContainerCgroup cgroup = entry.live->cgroup();
    if (entry.live->init.alive())
        ::kill(entry.live->init.pid, SIGKILL);  // PID 1 of its namespace: the kernel ends the rest
    cgroup.kill_and_remove();
    if (!wait_for_supervisor(entry, 5000) && entry.live->supervisor.alive())
        ::kill(entry.live->supervisor.pid, SIGKILL);
    wait_for_supervisor(entry, 2000);
    finish(entry, libvirt::shutoff_destroyed, libvirt::stopped_destroyed, true);
}

void LxcConnection::shutdown(const std::string &uuid, int timeout_ms)
{
    const std::lock_guard lock(mutex_);
    Entry &entry = find(uuid);
    if (!entry.live)
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "container '" + entry.definition.name + "' is not running");
    entry.stopping = true;
    wake_watcher();
    ContainerCgroup cgroup = entry.live->cgroup();
    if (cgroup.frozen())
        cgroup.thaw();  // a frozen init cannot act on SIGTERM
    if (entry.live->init.alive())
        ::kill(entry.live->init.pid, SIGTERM);
    if (!wait_for_supervisor(entry, timeout_ms)) {
        cgroup.kill_and_remove();
        if (!wait_for_supervisor(entry, 5000) && entry.live->supervisor.alive())
            ::kill(entry.live->supervisor.pid, SIGKILL);
        wait_for_supervisor(entry, 2000);
    }
    finish(entry, libvirt::shutoff_shutdown, libvirt::stopped_shutdown, true);
}

void LxcConnection::suspend(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    Entry &entry = find(uuid);
    if (!entry.live)
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "container '" + entry.definition.name + "' is not running");
    ContainerCgroup cgroup = entry.live->cgroup();
    if (cgroup.frozen())
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "container '" + entry.definition.name + "' is already paused");
    cgroup.freeze();
    emit(entry, VIRTKIT_EVENT_SUSPENDED, libvirt::suspended_paused);
}

void LxcConnection::resume(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    Entry &entry = find(uuid);
    if (!entry.live)
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "container '" + entry.definition.name + "' is not running");
    ContainerCgroup cgroup = entry.live->cgroup();
    if (!cgroup.frozen())
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "container '" + entry.definition.name + "' is not paused");
    cgroup.thaw();
    emit(entry, VIRTKIT_EVENT_RESUMED, libvirt::resumed_unpaused);
}

std::string LxcConnection::xml(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    const Entry &entry = find(uuid);
    if (!entry.live)
        return entry.definition.xml;
    // The live XML: the definition it was started from, plus what only the
    // running container has (its id, console pty, host veth names), as libvirt shows them.
    std::ifstream in(runtime_file(uuid, ".xml"));
    std::string text((std::istreambuf_iterator<char>(in)), {});
    if (text.empty())
        text = entry.definition.xml;
    XmlDocument document(text);
    xmlNode *domain = document.root();
    xml::set_attr(domain, "id", std::to_string(entry.live->supervisor.pid));
    xmlNode *devices = xml::child(domain, "devices");
    if (xmlNode *console = xml::child(devices, "console"); console && !entry.live->console.empty()) {
        xml::set_attr(console, "tty", entry.live->console);
        xmlNode *source = xml::child(console, "source");
        if (!source) {
            source = xmlNewNode(nullptr, reinterpret_cast<const xmlChar *>("source"));
            xmlNode *first = xml::child(console, "target");
            first ? xmlAddPrevSibling(first, source) : xmlAddChild(console, source);
        }
        xml::set_attr(source, "path", entry.live->console);
    }
    const auto interfaces = xml::children(devices, "interface");
    for (std::size_t i = 0; i < interfaces.size() && i < entry.live->host_veths.size(); ++i) {
        xmlNode *target = xml::child(interfaces[i], "target");
        if (!target)
            target = xml::append(interfaces[i], "target");
        xml::set_attr(target, "dev", entry.live->host_veths[i]);
    }
    return document.to_string();
}

DomainStatus LxcConnection::status(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    const Entry &entry = find(uuid);
    DomainStatus status;
    status.memory_kib = entry.definition.memory_kib;
    status.vcpus = entry.definition.vcpus;
    if (entry.live) {
        const ContainerCgroup cgroup = entry.live->cgroup();
        const bool paused = cgroup.frozen();
        status.cpu_time_ns = cgroup.cpu_time_ns();
        status.state = paused ? VIRTKIT_DOMAIN_PAUSED : VIRTKIT_DOMAIN_RUNNING;
        status.reason = paused ? libvirt::paused_user : libvirt::running_booted;
    } else {
        status.reason = entry.last_reason;
    }
    return status;
}

std::optional<LiveState> LxcConnection::live_state(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    return find(uuid).live;
}

}  // namespace virtkit::lxc
