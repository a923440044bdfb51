// The hello driver's whole "hypervisor": domains kept in memory, shared by
// every connection of the process, with libvirt's state machine.
#pragma once

#include <virtkit/sdk.hpp>

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace hello {

using virtkit::sdk::DomainIdent;
using virtkit::sdk::DomainInfo;

// Called with the store locked, so events leave in the order states change.
using Announce = std::function<void(const DomainIdent &, virtkit_lifecycle_event, int32_t detail)>;

// One lifecycle step: from which states, to which state and reason, what event.
struct Transition {
    const char *verb;                 // for errors: "start", "suspend", ...
    std::vector<int32_t> from;        // states it may start in
    int32_t to;
    int32_t reason;                   // libvirt's reason for `to`
    virtkit_lifecycle_event event;
    int32_t detail;                   // libvirt's event detail
};

class DomainStore {
public:
    DomainIdent define(const std::string &xml, const Announce &announce);
    void undefine(const std::string &uuid, const Announce &announce);
    void apply(const std::string &uuid, const Transition &step, const Announce &announce);

    DomainIdent byName(const std::string &name) const;
    DomainIdent byUuid(const std::string &uuid) const;
    DomainIdent byId(int32_t id) const;
    std::vector<DomainIdent> list(uint32_t flags) const;
    std::string xml(const std::string &uuid) const;
    DomainInfo info(const std::string &uuid) const;
    bool autostart(const std::string &uuid) const;
    void setAutostart(const std::string &uuid, bool on);

private:
    struct Domain {
        DomainIdent ident;
        std::string xml;
        DomainInfo info;
        bool autostart = false;
    };
    Domain &find(const std::string &uuid);
    const Domain &find(const std::string &uuid) const;

    mutable std::mutex mutex_;
    std::map<std::string, Domain> domains_;  // by UUID
    int32_t nextId_ = 1;
};

}  // namespace hello
