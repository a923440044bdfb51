// One esx://, gsx:// or vpx:// connection: the driver operations on top of a
// VsphereSession, plus the event watcher.  Throws virtkit::Error.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <virtkit/plugin.h>

#include "driver/update_watcher.hpp"
#include "vsphere/vsphere_session.hpp"

namespace virtkit::esx::vsphere {

struct DomainSummary {
    std::string name;
    std::string uuid;
    int32_t id = -1;  // the VM's moref number while it runs, as libvirt's ESX driver does
};

struct DomainStatus {
    int32_t state = VIRTKIT_DOMAIN_NOSTATE;
    int32_t reason = 0;
    uint64_t memoryKiB = 0;
    uint32_t vcpus = 0;
};

class EsxConnection {
public:
    using EmitLifecycle = std::function<void(const DomainSummary &, virtkit_lifecycle_event, int32_t detail)>;
    using Warn = std::function<void(const std::string &)>;

    // Resolves credentials, logs in, starts the event watcher (unless emit is empty).
    EsxConnection(const std::string &uri, EmitLifecycle emit, Warn warn);
    ~EsxConnection();

    std::string hostname() const;
    uint64_t hypervisorVersion() const;

    std::vector<DomainSummary> list(uint32_t flags);
    DomainSummary lookupByName(const std::string &name);
    DomainSummary lookupByUuid(const std::string &uuid);
    DomainSummary lookupById(int32_t id);

    DomainSummary define(const std::string &xml);
    void undefine(const std::string &uuid);
    void start(const std::string &uuid);
    void shutdown(const std::string &uuid);
    void reboot(const std::string &uuid);
    void destroy(const std::string &uuid);
    void suspend(const std::string &uuid);
    void resume(const std::string &uuid);
    std::string xml(const std::string &uuid);
    DomainStatus status(const std::string &uuid);
    bool autostart(const std::string &uuid);

    std::string xmlFromNative(const std::string &format, const std::string &native);
    std::string xmlToNative(const std::string &format, const std::string &xml);

    // SOAP requests made so far (session and event watcher).
    uint64_t requests();

private:
    std::unique_ptr<VsphereSession> session_;
    std::unique_ptr<UpdateWatcher> watcher_;
    Warn warn_;
    std::string datacenterPath_;
};

// Builds an EsxConnection's session on its own, for tests that need the raw API.
std::unique_ptr<VsphereSession> openSession(const std::string &uri);

}  // namespace virtkit::esx::vsphere
