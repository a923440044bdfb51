// A logged-in vSphere API session (ESX host or vCenter) scoped to one host
// system: the service content, the host and its VMs (through one
// ContainerView, so listing costs one RetrievePropertiesEx per 1000 VMs), task calls polled to completion, and a re-login when the
// server says the session expired.  Calls are serialised by a mutex, so one
// session may be used from several threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "connect/credentials.hpp"
#include "connect/esx_uri.hpp"
#include "soap/soap_client.hpp"
#include "vsphere/property_set.hpp"

namespace virtkit::esx::vsphere {

struct VmRecord {
    Moref ref;
    std::string name;
    std::string uuid;        // config.uuid (BIOS UUID), lower case
    std::string powerState;  // poweredOn, poweredOff, suspended
    uint64_t memoryMB = 0;
    uint32_t numCpu = 0;
    Moref host;  // runtime.host
};

// Properties read for every VM when listing and in update events.
const std::vector<std::string> &vmSummaryPaths();
VmRecord vmRecord(const ObjectProperties &props);

// Answers of a property retrieval: the trees own what `objects` point into.
struct Retrieved {
    std::vector<XmlTree> trees;
    std::vector<ObjectProperties> objects;
};

struct Placement {  // where CreateVM_Task puts a new VM
    Moref vmFolder;
    Moref resourcePool;
    std::vector<std::string> datastores;  // names, first is the default
};

class VsphereSession {
public:
    VsphereSession(const EsxUri &uri, Credentials credentials, std::chrono::milliseconds timeout);
    ~VsphereSession();  // logs out, best effort
    VsphereSession(const VsphereSession &) = delete;
    VsphereSession &operator=(const VsphereSession &) = delete;

    std::vector<VmRecord> listVms();
    // by UUID; throws Error(NO_DOMAIN) when the host has no such VM.  These
    // answer from the last listing if it is under a second old and nothing
    // was changed through this session since (the CLI asks for every VM's
    // state right after listing them: 500 VMs must not cost 500 listings).
    VmRecord vmByUuid(const std::string &uuid);
    VmRecord vmByName(const std::string &name);

    // Properties of one object.
    Retrieved retrieve(const Moref &obj, const std::vector<std::string> &paths);

    // A method returning nothing or something we ignore: <METHOD><_this/>ARGS</METHOD>.
    void call(const std::string &method, const Moref &target, const std::string &args = "");
    // A *_Task method, waited for; returns the task's info.result node text
    // (a moref value for CreateVM/RegisterVM).  The task's error becomes the
    // thrown Error, naming the method.
    Moref runTask(const std::string &method, const Moref &target, const std::string &args = "");

    Placement placement();
    const Moref &hostSystem() const { return host_; }
    // Where VM views start: the root folder (ESX) or the datacenter (vCenter).
    // Not the host itself: a host-rooted view on vcsim misses VMs created
    // after it, so views cover the datacenter and runtime.host filters.
    const Moref &viewRoot() const { return viewRoot_; }
    const Moref &propertyCollector() const { return propertyCollector_; }
    const Moref &viewManager() const { return viewManager_; }
    const Moref &sessionManager() const { return sessionManager_; }
    const std::string &hostName() const { return hostName_; }
    const std::string &productName() const { return productName_; }
    const std::string &apiVersion() const { return apiVersion_; }
    std::string sessionKey();
    std::string cookie();
    SoapEndpoint endpoint() const;
    uint64_t requests();
    bool autoAnswer() const { return autoAnswer_; }

    // Sends body() and answers; on NotAuthenticated logs in again (once) and
    // sends body() anew, since session objects (views) were re-created.
    SoapClient::Answer invoke(const std::function<std::string()> &body);

private:
    void login();
    bool sessionAlive();
    void findHost(const EsxUri &uri);
    void createVmView();
    Retrieved retrieveLocked(const std::function<std::string()> &specSet);
    void answerPendingQuestion(const Moref &vm, const std::string &method);

    const std::vector<VmRecord> &recentVms();
    void forgetVms();

    std::recursive_mutex mutex_;
    std::vector<VmRecord> snapshot_;
    std::chrono::steady_clock::time_point snapshotTime_{};
    bool snapshotValid_ = false;
    SoapClient client_;
    Credentials credentials_;
    bool autoAnswer_ = false;
    std::string sessionKey_;
    Moref propertyCollector_, rootFolder_, viewManager_, sessionManager_, searchIndex_;
    Moref host_, viewRoot_, vmView_;
    std::string hostName_, productName_, apiVersion_;
    std::chrono::milliseconds timeout_;
};

// "[ds] path" <-> name of the datastore.
std::string datastoreOf(const std::string &datastorePath);

}  // namespace virtkit::esx::vsphere
