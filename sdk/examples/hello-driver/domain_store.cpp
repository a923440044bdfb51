#include "domain_store.hpp"

#include <cstdlib>

#include <virtkit/sdk_uuid.hpp>

namespace hello {
namespace {

using virtkit::sdk::Error;

// The core has validated the document; the driver only reads what it needs.
// A real driver would use an XML parser; this example keeps to plain text.
std::string elementText(const std::string &xml, const std::string &tag)
{
    const std::string open = "<" + tag + ">";
    const auto begin = xml.find(open);
    if (begin == std::string::npos)
        return {};
    const auto end = xml.find("</" + tag + ">", begin);
    return end == std::string::npos ? std::string() : xml.substr(begin + open.size(), end - begin - open.size());
}

// The value of `attribute` in the first <tag ...> start tag.
std::string attributeOf(const std::string &xml, const std::string &tag, const std::string &attribute)
{
    const auto start = xml.find("<" + tag);
    const auto close = xml.find('>', start);
    const auto at = xml.find(" " + attribute + "=", start);
    if (start == std::string::npos || at == std::string::npos || at > close)
        return {};
    const auto valueAt = at + attribute.size() + 3;
    const auto end = xml.find(xml[valueAt - 1], valueAt);
    return end == std::string::npos ? std::string() : xml.substr(valueAt, end - valueAt);
}

uint64_t memoryKiB(const std::string &xml)
{
    const std::string unit = attributeOf(xml, "memory", "unit");
    const uint64_t value = std::strtoull(elementText(xml, "memory").c_str(), nullptr, 10);
    if (unit == "MiB" || unit == "M")
        return value * 1024;
    if (unit == "GiB" || unit == "G")
        return value * 1024 * 1024;
    return value;  // KiB, libvirt's default unit
}

const char *stateName(int32_t state)
{
    switch (state) {
    case VIRTKIT_DOMAIN_SHUTOFF: return "shut off";
    case VIRTKIT_DOMAIN_PAUSED: return "paused";
    default: return "running";
    }
}

}  // namespace

DomainIdent DomainStore::define(const std::string &xml, const Announce &announce)
{
    const std::string type = attributeOf(xml, "domain", "type");
    if (type != "hello")
        throw Error(VIRTKIT_ERR_XML,
                    "domain type '" + type + "' is not served by the hello driver; use <domain type='hello'>");
    Domain d;
    d.ident.name = elementText(xml, "name");
    d.ident.uuid = elementText(xml, "uuid");
    if (d.ident.uuid.empty())
        d.ident.uuid = virtkit::sdk::randomUuid();
    d.xml = xml;
    d.info.state = VIRTKIT_DOMAIN_SHUTOFF;
    d.info.memoryKiB = d.info.maxMemKiB = memoryKiB(xml);
    d.info.vcpus = 1;

    const std::lock_guard lock(mutex_);
    for (const auto &[uuid, other] : domains_)
        if (other.ident.name == d.ident.name && uuid != d.ident.uuid)
            throw Error(VIRTKIT_ERR_DOMAIN_EXISTS,
                        "domain '" + d.ident.name + "' already exists with UUID " + uuid);
    const auto existing = domains_.find(d.ident.uuid);
    if (existing != domains_.end() && existing->second.ident.name != d.ident.name)
        throw Error(VIRTKIT_ERR_DOMAIN_EXISTS, "UUID " + d.ident.uuid + " is already used by domain '" +
                                                   existing->second.ident.name + "'");
    const bool update = existing != domains_.end();
    if (update) {  // a new definition keeps the running state
        d.ident.id = existing->second.ident.id;
        d.info.state = existing->second.info.state;
        d.info.reason = existing->second.info.reason;
    }
    domains_[d.ident.uuid] = d;
    announce(d.ident, VIRTKIT_EVENT_DEFINED, update ? 1 : 0);  // DEFINED_UPDATED : DEFINED_ADDED
    return d.ident;
}

void DomainStore::undefine(const std::string &uuid, const Announce &announce)
{
    const std::lock_guard lock(mutex_);
    const Domain &d = find(uuid);
    if (d.info.state != VIRTKIT_DOMAIN_SHUTOFF)
        throw Error(VIRTKIT_ERR_OPERATION_INVALID,
                    "domain '" + d.ident.name + "' is running; stop it before undefining it");
    const DomainIdent gone = d.ident;
    domains_.erase(uuid);
    announce(gone, VIRTKIT_EVENT_UNDEFINED, 0);  // UNDEFINED_REMOVED
}

void DomainStore::apply(const std::string &uuid, const Transition &step, const Announce &announce)
{
    const std::lock_guard lock(mutex_);
    Domain &d = find(uuid);
    bool allowed = false;
    for (const int32_t state : step.from)
        allowed = allowed || d.info.state == state;
    if (!allowed)
        throw Error(VIRTKIT_ERR_OPERATION_INVALID,
                    std::string("cannot ") + step.verb + " domain '" + d.ident.name + "': it is " +
                        stateName(d.info.state));
    const bool wasOff = d.info.state == VIRTKIT_DOMAIN_SHUTOFF;
    d.info.state = step.to;
    d.info.reason = step.reason;
    if (step.to == VIRTKIT_DOMAIN_SHUTOFF)
        d.ident.id = -1;
    else if (wasOff)
        d.ident.id = nextId_++;
    announce(d.ident, step.event, step.detail);
}

DomainIdent DomainStore::byName(const std::string &name) const
{
    const std::lock_guard lock(mutex_);
    for (const auto &[uuid, d] : domains_)
        if (d.ident.name == name)
            return d.ident;
    throw Error(VIRTKIT_ERR_NO_DOMAIN, "no domain named '" + name + "'");
}

DomainIdent DomainStore::byUuid(const std::string &uuid) const
{
    const std::lock_guard lock(mutex_);
    return find(uuid).ident;
}

DomainIdent DomainStore::byId(int32_t id) const
{
    const std::lock_guard lock(mutex_);
    for (const auto &[uuid, d] : domains_)
        if (id >= 0 && d.ident.id == id)
            return d.ident;
    throw Error(VIRTKIT_ERR_NO_DOMAIN, "no running domain with ID " + std::to_string(id));
}

std::vector<DomainIdent> DomainStore::list(uint32_t flags) const
{
    const bool active = flags == 0 || (flags & VIRTKIT_LIST_ACTIVE);
    const bool inactive = flags == 0 || (flags & VIRTKIT_LIST_INACTIVE);
    const std::lock_guard lock(mutex_);
    std::vector<DomainIdent> out;
    for (const auto &[uuid, d] : domains_)
        if (d.ident.id >= 0 ? active : inactive)
            out.push_back(d.ident);
    return out;
}

std::string DomainStore::xml(const std::string &uuid) const
{
    const std::lock_guard lock(mutex_);
    return find(uuid).xml;
}

DomainInfo DomainStore::info(const std::string &uuid) const
{
    const std::lock_guard lock(mutex_);
    return find(uuid).info;
}

bool DomainStore::autostart(const std::string &uuid) const
{
    const std::lock_guard lock(mutex_);
    return find(uuid).autostart;
}

void DomainStore::setAutostart(const std::string &uuid, bool on)
{
    const std::lock_guard lock(mutex_);
    find(uuid).autostart = on;
}

DomainStore::Domain &DomainStore::find(const std::string &uuid)
{
    const auto it = domains_.find(uuid);
    if (it == domains_.end())
        throw Error(VIRTKIT_ERR_NO_DOMAIN, "no domain with UUID " + uuid);
    return it->second;
}

const DomainStore::Domain &DomainStore::find(const std::string &uuid) const
{
    return const_cast<DomainStore *>(this)->find(uuid);
}

}  // namespace hello
