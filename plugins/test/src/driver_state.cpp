#include "driver_state.hpp"

#include <algorithm>

#include <virtkit/sdk_uuid.hpp>

#include "plugin_error.hpp"

namespace virtkit::testdriver {

namespace {

std::string quoted(const std::string &name)
{
    return "'" + name + "'";
}

}  // namespace

DriverState::DriverState(const virtkit_host_services &host, NodeDescription node)
    : host_(host), node_(std::move(node.info))
{
    // libvirt's testParseDomains: start each domain, then force the described runstate (reason unknown).
    for (auto &described : node.domains) {
        DomainRecord record;
        record.def = std::move(described.def);
        record.persistent = !described.transient;
        if (described.runstate != VIRTKIT_DOMAIN_SHUTOFF)
            record.boot(nextId_++, kRunningBooted);
        record.setState(described.runstate, 0);
        const std::string uuid = record.def.uuid;
        domains_.emplace(uuid, std::move(record));
    }
}

void DriverState::attach(virtkit_conn *conn)
{
    const std::lock_guard lock(eventMutex_);
    conns_.push_back(conn);
}

void DriverState::detach(virtkit_conn *conn)
{
    const std::lock_guard lock(eventMutex_);
    conns_.erase(std::remove(conns_.begin(), conns_.end(), conn), conns_.end());
}

DriverState::Domains::iterator DriverState::find(const std::string &uuid)
{
    const auto canonical = sdk::canonicalUuid(uuid);
    if (!canonical)
        throw PluginError(VIRTKIT_ERR_INVALID_ARG, quoted(uuid) + " is not a valid UUID");
    const auto it = domains_.find(*canonical);
    if (it == domains_.end())
        throw PluginError(VIRTKIT_ERR_NO_DOMAIN, "no domain with matching uuid " + quoted(*canonical));
    return it;
}

DriverState::Domains::iterator DriverState::findRunning(const std::string &uuid)
{
    const auto it = find(uuid);
    if (!it->second.active())
        throw PluginError(VIRTKIT_ERR_OPERATION_INVALID, "domain " + quoted(it->second.def.name) + " is not running");
    return it;
}

DomainIdent DriverState::identOf(const DomainRecord &domain) const
{
    return DomainIdent{domain.def.name, domain.def.uuid, domain.id};
}

DomainIdent DriverState::lookupByName(const std::string &name)
{
    const std::lock_guard lock(mutex_);
    for (const auto &[uuid, domain] : domains_)
        if (domain.def.name == name)
            return identOf(domain);
    throw PluginError(VIRTKIT_ERR_NO_DOMAIN, "no domain with matching name " + quoted(name));
}

DomainIdent DriverState::lookupByUuid(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    return identOf(find(uuid)->second);
}

DomainIdent DriverState::lookupById(int32_t id)
{
    const std::lock_guard lock(mutex_);
    for (const auto &[uuid, domain] : domains_)
        if (domain.active() && domain.id == id)
            return identOf(domain);
    throw PluginError(VIRTKIT_ERR_NO_DOMAIN, "no domain with matching id " + std::to_string(id));
}

std::vector<DomainIdent> DriverState::list(uint32_t flags)
{
    const bool both = (flags & (VIRTKIT_LIST_ACTIVE | VIRTKIT_LIST_INACTIVE)) == 0;
    const std::lock_guard lock(mutex_);
    std::vector<DomainIdent> out;
    for (const auto &[uuid, domain] : domains_)
        if (both || (domain.active() ? flags & VIRTKIT_LIST_ACTIVE : flags & VIRTKIT_LIST_INACTIVE))
            out.push_back(identOf(domain));
    return out;
}

// libvirt's virDomainObjListAdd checks: a uuid keeps its name, a name keeps its uuid.
void DriverState::checkNoClash(const DomainDefinition &def, Domains::iterator sameUuid) const
{
    if (sameUuid != domains_.end() && sameUuid->second.def.name != def.name)
        throw PluginError(VIRTKIT_ERR_DOMAIN_EXISTS, "domain " + quoted(sameUuid->second.def.name) +
                                                         " is already defined with uuid " + def.uuid);
    for (const auto &[uuid, domain] : domains_)
        if (domain.def.name == def.name && uuid != def.uuid)
            throw PluginError(VIRTKIT_ERR_DOMAIN_EXISTS,
                              "domain " + quoted(def.name) + " already exists with uuid " + uuid);
}

DomainIdent DriverState::define(DomainDefinition def)
{
    std::unique_lock lock(mutex_);
    auto it = domains_.find(def.uuid);
    checkNoClash(def, it);
    int32_t detail = kDefinedAdded;
    if (it == domains_.end()) {
        const std::string key = def.uuid;
        DomainRecord record;
        record.def = std::move(def);
        it = domains_.emplace(key, std::move(record)).first;
    } else {
        DomainRecord &domain = it->second;
        detail = domain.persistent ? kDefinedUpdated : kDefinedAdded;
        if (domain.active())
            domain.nextDef = std::move(def);  // takes effect when it stops
        else
            domain.def = std::move(def);
        domain.persistent = true;
    }
    const DomainIdent ident = identOf(it->second);
    publish(lock, {{ident.name, ident.uuid, VIRTKIT_EVENT_DEFINED, detail}});
    return ident;
}

DomainIdent DriverState::create(DomainDefinition def)
{
    std::unique_lock lock(mutex_);
    auto it = domains_.find(def.uuid);
    checkNoClash(def, it);
    if (it == domains_.end()) {
        const std::string key = def.uuid;
        DomainRecord record;
        record.def = std::move(def);
        record.persistent = false;
        it = domains_.emplace(key, std::move(record)).first;
    } else {
        DomainRecord &domain = it->second;
        if (domain.active())
            throw PluginError(VIRTKIT_ERR_OPERATION_INVALID, "domain " + quoted(domain.def.name) + " is already active");
        // An inactive persistent domain runs the given definition and keeps its own for later.
        domain.nextDef = std::move(domain.def);
        domain.def = std::move(def);
    }
    it->second.boot(nextId_++, kRunningBooted);
    const DomainIdent ident = identOf(it->second);
    publish(lock, {{ident.name, ident.uuid, VIRTKIT_EVENT_STARTED, kStartedBooted}});
    return ident;
}

void DriverState::undefine(const std::string &uuid)
{
    std::unique_lock lock(mutex_);
    const auto it = find(uuid);
    DomainRecord &domain = it->second;
    if (!domain.persistent)
        throw PluginError(VIRTKIT_ERR_OPERATION_INVALID, "cannot undefine transient domain " + quoted(domain.def.name));
    const Events events{{domain.def.name, domain.def.uuid, VIRTKIT_EVENT_UNDEFINED, kUndefinedRemoved}};
    if (domain.active()) {
        // libvirt: a running domain stays up as a transient one.
        domain.persistent = false;
        domain.autostart = false;
        domain.nextDef.reset();
    } else {
        domains_.erase(it);
    }
    publish(lock, events);
}

void DriverState::start(const std::string &uuid)
{
    std::unique_lock lock(mutex_);
    DomainRecord &domain = find(uuid)->second;
    if (domain.active())
        throw PluginError(VIRTKIT_ERR_OPERATION_INVALID, "domain " + quoted(domain.def.name) + " is already running");
    domain.boot(nextId_++, kRunningBooted);
    publish(lock, {{domain.def.name, domain.def.uuid, VIRTKIT_EVENT_STARTED, kStartedBooted}});
}

void DriverState::stop(Domains::iterator it, int32_t reason, int32_t stoppedDetail, Events &events)
{
    DomainRecord &domain = it->second;
    domain.stop(reason);
    events.push_back({domain.def.name, domain.def.uuid, VIRTKIT_EVENT_STOPPED, stoppedDetail});
    if (!domain.persistent)
        domains_.erase(it);  // a transient domain vanishes when it stops
}

void DriverState::shutdown(const std::string &uuid)
{
    std::unique_lock lock(mutex_);
    const auto it = findRunning(uuid);
    DomainRecord &domain = it->second;
    Events events;
    if (domain.def.restartOnPoweroff) {
        domain.setState(VIRTKIT_DOMAIN_RUNNING, kRunningBooted);  // <on_poweroff>restart</on_poweroff>
    } else {
        events.push_back({domain.def.name, domain.def.uuid, VIRTKIT_EVENT_SHUTDOWN, kShutdownFinished});
        stop(it, kShutoffShutdown, kStoppedShutdown, events);
    }
    publish(lock, events);
}

void DriverState::reboot(const std::string &uuid)
{
    std::unique_lock lock(mutex_);
    const auto it = findRunning(uuid);
    DomainRecord &domain = it->second;
    Events events;
    if (domain.def.restartOnReboot)
        domain.setState(VIRTKIT_DOMAIN_RUNNING, kRunningBooted);  // libvirt's test driver: no event
    else
        stop(it, kShutoffShutdown, kStoppedShutdown, events);  // <on_reboot>destroy</on_reboot>
    publish(lock, events);
}

void DriverState::destroy(const std::string &uuid)
{
    std::unique_lock lock(mutex_);
    const auto it = findRunning(uuid);
    Events events;
    stop(it, kShutoffDestroyed, kStoppedDestroyed, events);
    publish(lock, events);
}

void DriverState::suspend(const std::string &uuid)
{
    std::unique_lock lock(mutex_);
    DomainRecord &domain = findRunning(uuid)->second;
    if (domain.state == VIRTKIT_DOMAIN_PAUSED)
        throw PluginError(VIRTKIT_ERR_OPERATION_INVALID, "domain " + quoted(domain.def.name) + " is already paused");
    domain.setState(VIRTKIT_DOMAIN_PAUSED, kPausedUser);
    publish(lock, {{domain.def.name, domain.def.uuid, VIRTKIT_EVENT_SUSPENDED, kSuspendedPaused}});
}

void DriverState::resume(const std::string &uuid)
{
    std::unique_lock lock(mutex_);
    DomainRecord &domain = find(uuid)->second;
    if (domain.state != VIRTKIT_DOMAIN_PAUSED)
        throw PluginError(VIRTKIT_ERR_OPERATION_INVALID, "domain " + quoted(domain.def.name) + " is not paused");
    domain.setState(VIRTKIT_DOMAIN_RUNNING, kRunningUnpaused);
    publish(lock, {{domain.def.name, domain.def.uuid, VIRTKIT_EVENT_RESUMED, kResumedUnpaused}});
}

std::string DriverState::xml(const std::string &uuid, bool inactive)
{
    std::string stored;
    int32_t id = -1;
    {
        const std::lock_guard lock(mutex_);
        const DomainRecord &domain = find(uuid)->second;
        stored = inactive ? domain.inactiveDef().xml : domain.def.xml;
        id = inactive ? -1 : domain.id;
    }
    return domainXmlWithId(stored, id);
}

virtkit_domain_info DriverState::info(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    const DomainRecord &domain = find(uuid)->second;
    virtkit_domain_info info{};
    info.struct_size = sizeof info;
    info.state = domain.state;
    info.reason = domain.reason;
    info.persistent = domain.persistent ? 1 : 0;
    info.max_mem_kib = domain.def.memoryKiB;
    info.memory_kib = domain.def.currentMemoryKiB;
    info.nr_vcpus = domain.def.vcpus;
    info.cpu_time_ns = domain.cpuTimeNs();
    return info;
}

bool DriverState::autostart(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    return find(uuid)->second.autostart;
}

void DriverState::setAutostart(const std::string &uuid, bool on)
{
    const std::lock_guard lock(mutex_);
    DomainRecord &domain = find(uuid)->second;
    if (!domain.persistent)
        throw PluginError(VIRTKIT_ERR_OPERATION_INVALID,
                          "cannot set autostart for transient domain " + quoted(domain.def.name));
    domain.autostart = on;
}

void DriverState::publish(std::unique_lock<std::mutex> &stateLock, const Events &events)
{
    const std::lock_guard eventLock(eventMutex_);
    stateLock.unlock();
    if (!host_.emit_event)
        return;
    for (const auto &pending : events) {
        for (virtkit_conn *conn : conns_) {
            virtkit_event event{};
            event.struct_size = sizeof event;
            event.kind = VIRTKIT_EVENT_LIFECYCLE;
            event.conn = conn;
            event.domain_name = pending.name.c_str();
            event.domain_uuid = pending.uuid.c_str();
            event.type = pending.type;
            event.detail = pending.detail;
            host_.emit_event(host_.ctx, &event);
        }
    }
}

}  // namespace virtkit::testdriver
