#include "driver/qemu_connection.hpp"

#include <fstream>
#include <unistd.h>

#include <virtkit/error.hpp>

#include "capabilities/kvm.hpp"
#include "command_line/domain_document.hpp"
#include "driver/libvirt_states.hpp"

namespace virtkit::qemu {
namespace {

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

}  // namespace

QemuConnection::QemuConnection(const std::string &uri, EventSink events)
    : paths_(StatePaths::from_uri(uri)), events_(std::move(events)), kvm_usable_(probe_kvm().usable),
      capabilities_(StatePaths::from_uri(uri).cache)
{
    paths_.create_directories();
    load_definitions();
}

QemuConnection::~QemuConnection() = default;

void QemuConnection::load_definitions()
{
    for (const auto &file : std::filesystem::directory_iterator(paths_.state / "domains")) {
        if (file.path().extension() != ".xml")
            continue;
        std::ifstream in(file.path());
        const std::string text((std::istreambuf_iterator<char>(in)), {});
        try {
            DomainDefinition definition = DomainDefinition::parse(text, kvm_usable_);
            const std::string uuid = definition.uuid;
            domains_[uuid] = Entry{std::move(definition), nullptr, -1, 0};
        } catch (const Error &) {
            // a definition this build cannot honour stays on disk untouched
        }
    }
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

QemuConnection::Entry &QemuConnection::find(const std::string &uuid)
{
    const auto found = domains_.find(uuid);
    if (found == domains_.end())
        throw Error(VIRTKIT_ERR_NO_DOMAIN, "no domain with UUID '" + uuid + "'");
    return found->second;
}

bool QemuConnection::active(const Entry &entry) const { return entry.running && entry.running->is_active(); }

DomainSummary QemuConnection::summary(const Entry &entry) const
{
    return {entry.definition.name, entry.definition.uuid, active(entry) ? entry.id : -1};
}

DomainSummary QemuConnection::lookup_by_name(const std::string &name)
{
    const std::lock_guard lock(mutex_);
    for (const auto &[uuid, entry] : domains_)
        if (entry.definition.name == name)
            return summary(entry);
    throw Error(VIRTKIT_ERR_NO_DOMAIN, "no domain named '" + name + "'");
}

DomainSummary QemuConnection::lookup_by_uuid(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    return summary(find(uuid));
}

DomainSummary QemuConnection::lookup_by_id(std::int32_t id)
{
    const std::lock_guard lock(mutex_);
    for (const auto &[uuid, entry] : domains_)
        if (active(entry) && entry.id == id)
            return summary(entry);
    throw Error(VIRTKIT_ERR_NO_DOMAIN, "no running domain with id " + std::to_string(id));
}

std::vector<DomainSummary> QemuConnection::list(std::uint32_t flags)
{
    const bool want_active = flags == 0 || (flags & VIRTKIT_LIST_ACTIVE);
    const bool want_inactive = flags == 0 || (flags & VIRTKIT_LIST_INACTIVE);
    const std::lock_guard lock(mutex_);
    std::vector<DomainSummary> result;
    for (const auto &[uuid, entry] : domains_)
        if (active(entry) ? want_active : want_inactive)
            result.push_back(summary(entry));
    return result;
}

DomainSummary QemuConnection::define(const std::string &xml)
{
    DomainDefinition definition = DomainDefinition::parse(xml, kvm_usable_);
    const std::lock_guard lock(mutex_);
    for (const auto &[uuid, entry] : domains_)
        if (entry.definition.name == definition.name && uuid != definition.uuid)
            throw Error(VIRTKIT_ERR_DOMAIN_EXISTS, "domain '" + definition.name + "' already exists with UUID " + uuid);
    const auto existing = domains_.find(definition.uuid);
    const bool update = existing != domains_.end();
    if (update && existing->second.definition.name != definition.name)
        throw Error(VIRTKIT_ERR_DOMAIN_EXISTS, "UUID " + definition.uuid + " belongs to domain '" +
                                                   existing->second.definition.name + "'");
    write_atomically(paths_.state / "domains" / (definition.uuid + ".xml"), definition.xml);
    Entry &entry = domains_[definition.uuid];
    entry.definition = std::move(definition);
    const DomainSummary result = summary(entry);
    if (events_)
        events_(result.name, result.uuid, VIRTKIT_EVENT_DEFINED, update ? libvirt::defined_updated : libvirt::defined_added);
    return result;
}

void QemuConnection::undefine(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    Entry &entry = find(uuid);
    if (active(entry))
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "domain '" + entry.definition.name + "' is running; destroy it first");
    std::filesystem::remove(paths_.state / "domains" / (uuid + ".xml"));
    const std::string name = entry.definition.name;
    domains_.erase(uuid);
    if (events_)
        events_(name, uuid, VIRTKIT_EVENT_UNDEFINED, libvirt::undefined_removed);
}

void QemuConnection::start(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    Entry &entry = find(uuid);
    if (active(entry))
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "domain '" + entry.definition.name + "' is already running");
    const std::string name = entry.definition.name;
    auto listener = [this, name, uuid](std::int32_t type, std::int32_t detail) {
        if (events_)
            events_(name, uuid, type, detail);
    };
    const auto caps = capabilities_.get(emulator());
    const DomainDocument document(entry.definition.xml);
    const xmlNode *type = xml::child(xml::child(document.root(), "os"), "type");
    const std::string machine = type ? xml::attr_or(type, "machine", "pc") : "pc";
    if (!caps->machine(machine))
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "machine type '" + machine + "' is not offered by " + caps->binary);
    entry.running.reset();  // reaps a previous, stopped QEMU
    entry.running = std::make_unique<RunningDomain>(entry.definition, paths_, kvm_usable_, listener);
    entry.id = next_id_++;
}

void QemuConnection::destroy(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    Entry &entry = find(uuid);
    if (!active(entry))
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "domain '" + entry.definition.name + "' is not running");
    entry.running->destroy();
}

void QemuConnection::suspend(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    Entry &entry = find(uuid);
    if (!active(entry))
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "domain '" + entry.definition.name + "' is not running");
    entry.running->suspend();
}

void QemuConnection::resume(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    Entry &entry = find(uuid);
    if (!active(entry))
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "domain '" + entry.definition.name + "' is not running");
    entry.running->resume();
}

std::string QemuConnection::xml(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    return find(uuid).definition.xml;
}

DomainStatus QemuConnection::status(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    const Entry &entry = find(uuid);
    DomainStatus status;
    status.memory_kib = entry.definition.memory_kib;
    status.vcpus = entry.definition.vcpus;
    if (entry.running) {
        status.state = entry.running->state();
        status.reason = entry.running->reason();
    }
    return status;
}

}  // namespace virtkit::qemu
