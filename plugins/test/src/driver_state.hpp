// The in-memory hypervisor behind one or more test connections: domains,
// the next domain id, node info, and the connections to tell about events.
// One mutex guards the domains; a second one orders event emission.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <virtkit/plugin.h>

#include "domain_definition.hpp"
#include "domain_record.hpp"
#include "node_description.hpp"

namespace virtkit::testdriver {

struct DomainIdent {
    std::string name;
    std::string uuid;
    int32_t id = -1;
};

class DriverState {
public:
    DriverState(const virtkit_host_services &host, NodeDescription node);
    DriverState(const DriverState &) = delete;
    DriverState &operator=(const DriverState &) = delete;

    // Connections that receive this state's events.
    void attach(virtkit_conn *conn);
    void detach(virtkit_conn *conn);

    const NodeInfo &nodeInfo() const { return node_; }

    DomainIdent lookupByName(const std::string &name);
    DomainIdent lookupByUuid(const std::string &uuid);
    DomainIdent lookupById(int32_t id);
    std::vector<DomainIdent> list(uint32_t flags);

    DomainIdent define(DomainDefinition def);
    DomainIdent create(DomainDefinition def);
    void undefine(const std::string &uuid);
    void start(const std::string &uuid);
    void shutdown(const std::string &uuid);
    void reboot(const std::string &uuid);
    void destroy(const std::string &uuid);
    void suspend(const std::string &uuid);
    void resume(const std::string &uuid);

    std::string xml(const std::string &uuid, bool inactive);
    virtkit_domain_info info(const std::string &uuid);
    bool autostart(const std::string &uuid);
    void setAutostart(const std::string &uuid, bool on);

private:
    using Domains = std::map<std::string, DomainRecord>;  // by canonical uuid

    struct PendingEvent {
        std::string name, uuid;
        int32_t type, detail;
    };
    using Events = std::vector<PendingEvent>;

    Domains::iterator find(const std::string &uuid);  // caller holds mutex_
    Domains::iterator findRunning(const std::string &uuid);  // and it must be running
    DomainIdent identOf(const DomainRecord &domain) const;
    void checkNoClash(const DomainDefinition &def, Domains::iterator sameUuid) const;
    // Shut off with `reason`, queue `stopped`, drop a transient domain.
    void stop(Domains::iterator it, int32_t reason, int32_t stoppedDetail, Events &events);
    // Hands the event lock over from the state lock, so events leave in the
    // order the transitions happened while the state lock is already free.
    void publish(std::unique_lock<std::mutex> &stateLock, const Events &events);

    const virtkit_host_services &host_;
    const NodeInfo node_;

    std::mutex mutex_;
    Domains domains_;
    int32_t nextId_ = 1;

    std::mutex eventMutex_;
    std::vector<virtkit_conn *> conns_;
};

}  // namespace virtkit::testdriver
