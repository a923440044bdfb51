#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <virtkit/plugin.h>

namespace virtkit {

class Connection;

struct DomainInfo {
    int state = VIRTKIT_DOMAIN_NOSTATE;  // virtkit_domain_state
    int reason = 0;
    bool persistent = false;
    uint64_t maxMemKiB = 0;
    uint64_t memoryKiB = 0;
    unsigned vcpus = 0;
    uint64_t cpuTimeNs = 0;
};

// virsh's names: "running", "paused", "shut off", ...
const char *domainStateName(int state);
// libvirt's reason names per state: (RUNNING, 1) -> "booted", (SHUTOFF, 2) -> "destroyed".
const char *domainStateReasonName(int state, int reason);

// A handle on one domain of one connection; cheap to copy.
class Domain {
public:
    Domain(std::shared_ptr<Connection> conn, std::string name, std::string uuid, int id);

    const std::string &name() const { return name_; }
    const std::string &uuid() const { return uuid_; }
    int id() const { return id_; }  // -1 when not running (as of the last call)
    Connection &connection() const { return *conn_; }

    void start();
    void shutdown(uint32_t flags = 0);  // VIRTKIT_SHUTDOWN_*
    void reboot(uint32_t flags = 0);
    void destroy(uint32_t flags = 0);  // VIRTKIT_DESTROY_GRACEFUL
    void suspend();
    void resume();
    void undefine();
    std::string xml(uint32_t flags = 0) const;
    DomainInfo info() const;
    std::string osType() const;  // <os><type> of the current XML, as virsh's dominfo shows it
    bool autostart() const;
    void setAutostart(bool on);
    void refresh();  // re-read id (and name) from the driver

private:
    void refreshAfterChange();  // best effort: the call itself succeeded

    std::shared_ptr<Connection> conn_;
    std::string name_, uuid_;
    int id_;
};

}  // namespace virtkit
