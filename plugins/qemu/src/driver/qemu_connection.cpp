#include "driver/qemu_connection.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <unistd.h>

#include <virtkit/error.hpp>

#include "capabilities/domain_capabilities.hpp"
#include "capabilities/kvm.hpp"
#include "command_line/domain_document.hpp"
#include "driver/file_lock.hpp"
#include "driver/libvirt_states.hpp"
#include "process/process_probe.hpp"

namespace virtkit::qemu {
namespace {

using namespace std::chrono_literals;

void write_atomically(const std::filesystem::path &file, const std::string &text)
{
    const auto temporary = file.string() + ".tmp." + std::to_string(::getpid());
    {
        std::ofstream out(temporary, std::ios::trunc);
        out << text;
        if (!out.flush())
            throw Error(VIRTKIT_ERR_SYSTEM, "cannot write " + temporary);
    }
    std::error_code ec;
    std::filesystem::rename(temporary, file, ec);
    if (ec)
        throw Error(VIRTKIT_ERR_SYSTEM, "cannot replace " + file.string() + ": " + ec.message());
}

// Root-lock holders are short (a define, a start): wait for them.
constexpr auto root_lock_wait = 60s;
// A domain lock whose writer is dead is only held by a child between fork and
// exec (the descriptor is close-on-exec): that ends within moments.
constexpr auto dead_holder_settle = 2s;

}  // namespace

QemuConnection::QemuConnection(const std::string &uri, EventSink events)
    : QemuConnection(uri, std::move(events), Settings{})
{
}

QemuConnection::QemuConnection(const std::string &uri, EventSink events, Settings settings)
    : paths_(StatePaths::from_uri(uri)), events_(std::move(events)), settings_(settings),
      kvm_usable_(probe_kvm().usable), capabilities_(StatePaths::from_uri(uri).cache)
{
    paths_.create_directories();
    const std::lock_guard lock(mutex_);
    scan_definitions();
    for (auto &[uuid, entry] : domains_)  // take over every QEMU nobody else manages
        refresh_runtime(entry);
    autostart_after_boot();
}

void QemuConnection::autostart_after_boot()
{
    // The marker is written when the autostarts are done, so seeing it without
    // the root lock is enough: every open but the first after a boot skips the lock.
    const auto marker = paths_.runtime / "autostarted";
    if (std::filesystem::exists(marker))
        return;
    const FileLock root = FileLock::acquire(root_lock_path(), root_lock_wait, "the state root");
    if (std::filesystem::exists(marker))
        return;
    try {
        for (auto &[uuid, entry] : domains_) {
            if (!std::filesystem::exists(paths_.state / "autostart" / uuid) || active(entry))
                continue;
            try {
                start_locked(entry, {});
            } catch (const Error &) {
                // libvirt logs and goes on; the domain stays shut off (reason failed)
            }
        }
    } catch (...) {
        write_atomically(marker, "");  // autostart runs once per boot, even when it failed
        throw;
    }
    write_atomically(marker, "");
}

bool QemuConnection::autostart(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    reload_definitions();
    find(uuid);
    return std::filesystem::exists(paths_.state / "autostart" / uuid);
}

void QemuConnection::set_autostart(const std::string &uuid, bool on)
{
    const std::lock_guard lock(mutex_);
    reload_definitions();
    find(uuid);
    const auto marker = paths_.state / "autostart" / uuid;
    if (on) {
        std::filesystem::create_directories(marker.parent_path());
        write_atomically(marker, "");
    } else {
        std::filesystem::remove(marker);
    }
}

QemuConnection::~QemuConnection() = default;  // detaches: the QEMUs keep running

std::string QemuConnection::root_lock_path() const { return (paths_.runtime / "lock").string(); }

void QemuConnection::reload_definitions()
{
    release_held_events();
    scan_definitions();
}

void QemuConnection::scan_definitions()
{
    const auto dir = paths_.state / "domains";
    std::error_code ec;
    const auto dir_time = std::filesystem::last_write_time(dir, ec);
    if (!ec && dir_time == definitions_time_ && !domains_.empty())
        return;
    definitions_time_ = dir_time;
    std::map<std::string, bool> seen;
    for (const auto &file : std::filesystem::directory_iterator(dir)) {
        if (file.path().extension() != ".xml")
            continue;
        const std::string uuid = file.path().stem().string();
        seen[uuid] = true;
        const auto time = std::filesystem::last_write_time(file.path(), ec);
        const auto existing = domains_.find(uuid);
        if (existing != domains_.end() && existing->second.file_time == time)
            continue;
        std::ifstream in(file.path());
        const std::string text((std::istreambuf_iterator<char>(in)), {});
        try {
            DomainDefinition definition = DomainDefinition::parse(text, kvm_usable_);
            Entry &entry = domains_[definition.uuid];
            entry.definition = std::move(definition);
            entry.file_time = time;
        } catch (const Error &) {
            // a definition this build cannot honour stays on disk untouched
        }
    }
    for (auto it = domains_.begin(); it != domains_.end();) {  // undefined by another process
        if (!seen.count(it->first) && !active(it->second))
            it = domains_.erase(it);
        else
            ++it;
    }
}

void QemuConnection::emit(const std::string &name, const std::string &uuid, std::int32_t type, std::int32_t detail)
{
    {
        const std::lock_guard lock(held_mutex_);
        if (holding_events_) {
            held_events_.emplace_back(name, uuid, type, detail);
            return;
        }
    }
    if (events_)
        events_(name, uuid, type, detail);
}

void QemuConnection::release_held_events()
{
    decltype(held_events_) held;
    {
        const std::lock_guard lock(held_mutex_);
        if (!holding_events_)
            return;
        holding_events_ = false;
        held.swap(held_events_);
    }
    if (events_)
        for (const auto &[name, uuid, type, detail] : held)
            events_(name, uuid, type, detail);
}

RunningDomain::Listener QemuConnection::listener_for(const DomainDefinition &definition)
{
    return [this, name = definition.name, uuid = definition.uuid](std::int32_t type, std::int32_t detail) {
        emit(name, uuid, type, detail);
    };
}

void QemuConnection::refresh_runtime(Entry &entry)
{
    if (entry.running && entry.running->is_active())
        return;
    const DomainRunFiles files = DomainRunFiles::of(paths_, entry.definition.uuid);
    if (!std::filesystem::exists(files.live())) {
        entry.foreign.reset();
        return;
    }
    if (auto owner = FileLock::try_acquire_settled(files.owner_lock().string(), dead_holder_settle)) {
        entry.foreign.reset();
        if (const auto live = LiveState::load(files.live()))
            entry.running = RunningDomain::take_over(*live, paths_, std::move(*owner), listener_for(entry.definition));
    } else {
        entry.foreign = LiveState::load(files.live());
    }
}

std::shared_ptr<RunningDomain> QemuConnection::managed(const std::string &uuid)
{
    Entry &entry = find(uuid);
    refresh_runtime(entry);
    if (entry.foreign && active(entry)) {
        const DomainRunFiles files = DomainRunFiles::of(paths_, uuid);
        FileLock owner =
            FileLock::acquire(files.owner_lock().string(), settings_.lock_wait, "domain '" + entry.definition.name + "'");
        entry.foreign.reset();
        if (const auto live = LiveState::load(files.live()))
            entry.running = RunningDomain::take_over(*live, paths_, std::move(owner), listener_for(entry.definition));
    }
    if (!entry.running || !entry.running->is_active())
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "domain '" + entry.definition.name + "' is not running");
    return entry.running;
}

std::shared_ptr<RunningDomain> QemuConnection::managed_domain(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    reload_definitions();
    return managed(uuid);
}

std::int32_t QemuConnection::allocate_id()
{
    // under the root lock; libvirt's ids only grow, so do ours, across processes.
    // Rewritten in place at a fixed width: the root lock already keeps other
    // writers out, and replacing it by rename cost an ext4 flush per start.
    const auto file = (paths_.runtime / "next-id").string();
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        throw Error(VIRTKIT_ERR_SYSTEM, "cannot open " + file + ": " + std::strerror(errno));
    char text[24] = {};
    const ssize_t got = ::pread(fd, text, sizeof text - 1, 0);
    std::int32_t id = got > 0 ? static_cast<std::int32_t>(std::atol(text)) : 1;
    if (id < 1)
        id = 1;
    const int size = std::snprintf(text, sizeof text, "%10d\n", id + 1);
    const bool written = ::pwrite(fd, text, static_cast<size_t>(size), 0) == size;
    ::close(fd);
    if (!written)
        throw Error(VIRTKIT_ERR_SYSTEM, "cannot write " + file);
    return id;
}

std::string QemuConnection::emulator() const { return "/usr/bin/qemu-system-x86_64"; }

std::uint64_t QemuConnection::hypervisor_version() { return capabilities_.get(emulator())->version.number(); }

std::string QemuConnection::capabilities_xml()
{
    const auto caps = capabilities_.get(emulator());
    std::string xml = "<capabilities>\n  <host>\n    <cpu><arch>x86_64</arch></cpu>\n  </host>\n"
                      "  <guest>\n    <os_type>hvm</os_type>\n    <arch name='x86_64'>\n"
                      "      <wordsize>64</wordsize>\n      <emulator>" + caps->binary + "</emulator>\n";
    for (const MachineType &m : caps->machines) {
        if (!m.alias.empty())
            xml += "      <machine canonical='" + m.name + "' maxCpus='" + std::to_string(m.max_cpus) + "'>" +
                   m.alias + "</machine>\n";
        xml += "      <machine maxCpus='" + std::to_string(m.max_cpus) + "'>" + m.name + "</machine>\n";
    }
    xml += "      <domain type='qemu'/>\n";
    if (kvm_usable_)
        xml += "      <domain type='kvm'/>\n";
    xml += "    </arch>\n  </guest>\n</capabilities>\n";
    return xml;
}

std::string QemuConnection::domain_capabilities_xml(const std::string &emulator_path, const std::string &arch,
                                                    const std::string &machine, const std::string &virttype)
{
    const std::string binary = emulator_path.empty() ? emulator() : emulator_path;
    return domain_capabilities(*capabilities_.get(binary), arch, machine, virttype, kvm_usable_);
}

QemuConnection::Entry &QemuConnection::find(const std::string &uuid)
{
    const auto found = domains_.find(uuid);
    if (found == domains_.end())
        throw Error(VIRTKIT_ERR_NO_DOMAIN, "no domain with UUID '" + uuid + "'");
    return found->second;
}

bool QemuConnection::active(const Entry &entry) const
{
    if (entry.running && entry.running->is_active())
        return true;
    return entry.foreign && entry.foreign->state != VIRTKIT_DOMAIN_SHUTOFF &&
           (entry.foreign->pid <= 0 || process_alive(entry.foreign->pid));
}

std::int32_t QemuConnection::id_of(const Entry &entry) const
{
    if (!active(entry))
        return -1;
    return entry.running && entry.running->is_active() ? entry.running->id() : entry.foreign->id;
}

DomainSummary QemuConnection::summary(const Entry &entry) const
{
    return {entry.definition.name, entry.definition.uuid, id_of(entry)};
}

DomainSummary QemuConnection::lookup_by_name(const std::string &name)
{
    const std::lock_guard lock(mutex_);
    reload_definitions();
    for (auto &[uuid, entry] : domains_)
        if (entry.definition.name == name) {
            refresh_runtime(entry);
            return summary(entry);
        }
    throw Error(VIRTKIT_ERR_NO_DOMAIN, "no domain named '" + name + "'");
}

DomainSummary QemuConnection::lookup_by_uuid(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    reload_definitions();
    Entry &entry = find(uuid);
    refresh_runtime(entry);
    return summary(entry);
}

DomainSummary QemuConnection::lookup_by_id(std::int32_t id)
{
    const std::lock_guard lock(mutex_);
    reload_definitions();
    for (auto &[uuid, entry] : domains_) {
        refresh_runtime(entry);
        if (active(entry) && id_of(entry) == id)
            return summary(entry);
    }
    throw Error(VIRTKIT_ERR_NO_DOMAIN, "no running domain with id " + std::to_string(id));
}

std::vector<DomainSummary> QemuConnection::list(std::uint32_t flags)
{
    const bool want_active = flags == 0 || (flags & VIRTKIT_LIST_ACTIVE);
    const bool want_inactive = flags == 0 || (flags & VIRTKIT_LIST_INACTIVE);
    const std::lock_guard lock(mutex_);
    reload_definitions();
    std::vector<DomainSummary> result;
    for (auto &[uuid, entry] : domains_) {
        refresh_runtime(entry);
        if (active(entry) ? want_active : want_inactive)
            result.push_back(summary(entry));
    }
    return result;
}

DomainSummary QemuConnection::define(const std::string &xml)
{
    DomainDefinition definition = DomainDefinition::parse(xml, kvm_usable_);
    const std::lock_guard lock(mutex_);
    const FileLock root = FileLock::acquire(root_lock_path(), root_lock_wait, "the state root");
    reload_definitions();
    for (const auto &[uuid, entry] : domains_)
        if (entry.definition.name == definition.name && uuid != definition.uuid)
            throw Error(VIRTKIT_ERR_DOMAIN_EXISTS, "domain '" + definition.name + "' already exists with UUID " + uuid);
    const auto existing = domains_.find(definition.uuid);
    const bool update = existing != domains_.end();
    if (update && existing->second.definition.name != definition.name)
        throw Error(VIRTKIT_ERR_DOMAIN_EXISTS, "UUID " + definition.uuid + " belongs to domain '" +
                                                   existing->second.definition.name + "'");
    const auto file = paths_.state / "domains" / (definition.uuid + ".xml");
    write_atomically(file, definition.xml);
    Entry &entry = domains_[definition.uuid];
    entry.definition = std::move(definition);
    entry.file_time = std::filesystem::last_write_time(file);
    const DomainSummary result = summary(entry);
    emit(result.name, result.uuid, VIRTKIT_EVENT_DEFINED, update ? libvirt::defined_updated : libvirt::defined_added);
    return result;
}

void QemuConnection::undefine(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    const FileLock root = FileLock::acquire(root_lock_path(), root_lock_wait, "the state root");
    reload_definitions();
    Entry &entry = find(uuid);
    refresh_runtime(entry);
    if (active(entry))
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "domain '" + entry.definition.name + "' is running; destroy it first");
    std::filesystem::remove(paths_.state / "domains" / (uuid + ".xml"));
    std::filesystem::remove(paths_.state / "autostart" / uuid);
    const std::string name = entry.definition.name;
    domains_.erase(uuid);
    emit(name, uuid, VIRTKIT_EVENT_UNDEFINED, libvirt::undefined_removed);
}

void QemuConnection::start(const std::string &uuid, const RunningDomain::StartOptions &options)
{
    const std::lock_guard lock(mutex_);
    const FileLock root = FileLock::acquire(root_lock_path(), root_lock_wait, "the state root");
    reload_definitions();
    start_locked(find(uuid), options);
}

void QemuConnection::start_locked(Entry &entry, const RunningDomain::StartOptions &options)
{
    const std::string &uuid = entry.definition.uuid;
    refresh_runtime(entry);
    if (active(entry))
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "domain '" + entry.definition.name + "' is already running");
    const auto caps = capabilities_.get(emulator());
    const DomainDocument document(entry.definition.xml);
    const xmlNode *type = xml::child(xml::child(document.root(), "os"), "type");
    const std::string machine = type ? xml::attr_or(type, "machine", "pc") : "pc";
    if (!caps->machine(machine))
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "machine type '" + machine + "' is not offered by " + caps->binary);
    const DomainRunFiles files = DomainRunFiles::of(paths_, uuid);
    std::filesystem::create_directories(files.dir);
    auto owner = FileLock::try_acquire_settled(files.owner_lock().string(), dead_holder_settle);
    if (!owner) {
        const auto holder = FileLock::holder(files.owner_lock().string());
        throw Error(VIRTKIT_ERR_OPERATION_INVALID,
                    "domain '" + entry.definition.name + "' is managed by another process" +
                        (holder ? " (pid " + std::to_string(*holder) + ")" : ""));
    }
    entry.running.reset();  // a previous, stopped QEMU
    entry.running = RunningDomain::start(entry.definition, paths_, kvm_usable_, allocate_id(), std::move(*owner),
                                         listener_for(entry.definition), options);
}

void QemuConnection::destroy(const std::string &uuid)
{
    std::shared_ptr<RunningDomain> domain;
    {
        const std::lock_guard lock(mutex_);
        reload_definitions();
        domain = managed(uuid);
    }
    domain->destroy();
}

void QemuConnection::shutdown(const std::string &uuid, std::uint32_t flags)
{
    std::shared_ptr<RunningDomain> domain;
    {
        const std::lock_guard lock(mutex_);
        reload_definitions();
        domain = managed(uuid);
    }
    domain->shutdown(flags, settings_.shutdown_timeout);  // may take long: not under our mutex
}

void QemuConnection::reboot(const std::string &uuid, std::uint32_t flags)
{
    std::shared_ptr<RunningDomain> domain;
    {
        const std::lock_guard lock(mutex_);
        reload_definitions();
        domain = managed(uuid);
    }
    domain->reboot(flags);
}

void QemuConnection::suspend(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    reload_definitions();
    managed(uuid)->suspend();
}

void QemuConnection::resume(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    reload_definitions();
    managed(uuid)->resume();
}

std::string QemuConnection::monitor_command(const std::string &uuid, const std::string &command, bool hmp)
{
    std::shared_ptr<RunningDomain> domain;
    {
        const std::lock_guard lock(mutex_);
        reload_definitions();
        domain = managed(uuid);
    }
    return domain->monitor_command(command, hmp);
}

std::string QemuConnection::xml(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    reload_definitions();
    Entry &entry = find(uuid);
    refresh_runtime(entry);
    if (entry.running && entry.running->is_active())
        return entry.running->live_xml();
    if (entry.foreign && active(entry))
        return entry.foreign->xml;
    return entry.definition.xml;
}

DomainStatus QemuConnection::status(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    reload_definitions();
    Entry &entry = find(uuid);
    refresh_runtime(entry);
    DomainStatus status;
    status.memory_kib = entry.definition.memory_kib;
    status.vcpus = entry.definition.vcpus;
    status.log_path = (paths_.state / "log" / (entry.definition.name + ".log")).string();
    if (entry.running && entry.running->is_active()) {
        status.state = entry.running->state();
        status.reason = entry.running->reason();
    } else if (entry.foreign && active(entry)) {
        status.state = entry.foreign->state;
        status.reason = entry.foreign->reason;
    } else if (entry.running) {
        status.reason = entry.running->reason();
    } else {
        status.reason = DomainRunFiles::of(paths_, uuid).last_stop_reason();
    }
    return status;
}

}  // namespace virtkit::qemu
