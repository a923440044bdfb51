#include "vsphere/vsphere_session.hpp"

#include <algorithm>
#include <cctype>
#include <thread>

namespace virtkit::esx::vsphere {

namespace {

constexpr const char *vim = " xmlns=\"urn:vim25\"";

std::string element(const std::string &tag, const std::string &value)
{
    return "<" + tag + ">" + escapeXml(value) + "</" + tag + ">";
}

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// <specSet> for `type` objects reached through a ContainerView.
std::string viewSpec(const Moref &view, const std::string &type, const std::vector<std::string> &paths)
{
    std::string spec = "<specSet><propSet>" + element("type", type);
    for (const auto &p : paths)
        spec += element("pathSet", p);
    spec += "</propSet><objectSet>" + view.xml("obj") +
            "<skip>true</skip><selectSet xsi:type=\"TraversalSpec\"><type>ContainerView</type>"
            "<path>view</path><skip>false</skip></selectSet></objectSet></specSet>";
    return spec;
}

std::string objectSpec(const Moref &obj, const std::vector<std::string> &paths)
{
    std::string spec = "<specSet><propSet>" + element("type", obj.type);
    for (const auto &p : paths)
        spec += element("pathSet", p);
    return spec + "</propSet><objectSet>" + obj.xml("obj") + "<skip>false</skip></objectSet></specSet>";
}

}  // namespace

const std::vector<std::string> &vmSummaryPaths()
{
    static const std::vector<std::string> paths = {"name", "config.uuid", "runtime.powerState",
                                                   "config.hardware.memoryMB", "config.hardware.numCPU",
                                                   "runtime.host"};
    return paths;
}

VmRecord vmRecord(const ObjectProperties &props)
{
    VmRecord vm;
    vm.ref = props.obj;
    vm.name = props.string("name");
    vm.uuid = lower(props.string("config.uuid"));
    vm.powerState = props.string("runtime.powerState");
    vm.host = props.ref("runtime.host");
    vm.memoryMB = static_cast<uint64_t>(std::max<int64_t>(0, props.integer("config.hardware.memoryMB").value_or(0)));
    vm.numCpu = static_cast<uint32_t>(std::max<int64_t>(0, props.integer("config.hardware.numCPU").value_or(0)));
    return vm;
}

std::string datastoreOf(const std::string &datastorePath)
{
    if (datastorePath.size() < 3 || datastorePath.front() != '[')
        return {};
    const auto close = datastorePath.find(']');
    return close == std::string::npos ? std::string() : datastorePath.substr(1, close - 1);
}

VsphereSession::VsphereSession(const EsxUri &uri, Credentials credentials, std::chrono::milliseconds timeout)
    : client_(SoapEndpoint{uri.https, uri.host, uri.effectivePort(), !uri.noVerify, timeout}),
      credentials_(std::move(credentials)), autoAnswer_(uri.autoAnswer), timeout_(timeout)
{
    const auto answer = client_.call(
        "<RetrieveServiceContent xmlns=\"urn:vim25\"><_this type=\"ServiceInstance\">ServiceInstance</_this>"
        "</RetrieveServiceContent>");
    const xmlNode *content = child(answer.result, "returnval");
    propertyCollector_ = Moref::from(child(content, "propertyCollector"));
    rootFolder_ = Moref::from(child(content, "rootFolder"));
    viewManager_ = Moref::from(child(content, "viewManager"));
    sessionManager_ = Moref::from(child(content, "sessionManager"));
    searchIndex_ = Moref::from(child(content, "searchIndex"));
    const xmlNode *about = child(content, "about");
    productName_ = text(child(about, "fullName"));
    apiVersion_ = text(child(about, "apiVersion"));
    const std::string apiType = text(child(about, "apiType"));
    if (propertyCollector_.empty() || sessionManager_.empty() || viewManager_.empty())
        throw Error(VIRTKIT_ERR_NO_CONNECT, client_.url() + " is not a vSphere API endpoint (no service content)");
    // libvirt refuses an esx:// URI that reaches a vCenter and the reverse.
    if (uri.scheme == "vpx" && apiType != "VirtualCenter")
        throw Error(VIRTKIT_ERR_INVALID_ARG, client_.url() + " is " + (productName_.empty() ? apiType : productName_) +
                                                 ", not a vCenter; use esx:// for it");
    if (uri.scheme != "vpx" && apiType == "VirtualCenter")
        throw Error(VIRTKIT_ERR_INVALID_ARG, client_.url() + " is a vCenter (" + productName_ +
                                                 "); use vpx://HOST/DATACENTER[/CLUSTER]/HOST");
    login();
    findHost(uri);
    createVmView();
}

VsphereSession::~VsphereSession()
{
    try {
        const std::lock_guard lock(mutex_);
        if (!vmView_.empty())
            client_.call("<DestroyView" + std::string(vim) + ">" + vmView_.xml("_this") + "</DestroyView>");
        client_.call("<Logout" + std::string(vim) + ">" + sessionManager_.xml("_this") + "</Logout>");
    } catch (const std::exception &) {
        // the server may be gone; the session then expires on its own
    }
}

void VsphereSession::login()
{
    client_.setCookie({});
    try {
        const auto answer = client_.call("<Login" + std::string(vim) + ">" + sessionManager_.xml("_this") +
                                         element("userName", credentials_.user) +
                                         element("password", credentials_.password) + "</Login>");
        sessionKey_ = text(child(child(answer.result, "returnval"), "key"));
    } catch (const SoapFault &fault) {
        if (fault.type() == "InvalidLogin")
            throw Error(VIRTKIT_ERR_AUTH, "login to " + client_.url() + " as '" + credentials_.user +
                                              "' failed: wrong user name or password");
        throw;
    }
    if (client_.cookie().empty())
        throw Error(VIRTKIT_ERR_AUTH, "login to " + client_.url() + " set no session cookie");
}

bool VsphereSession::sessionAlive()
{
    const auto answer = client_.call("<RetrievePropertiesEx" + std::string(vim) + ">" + propertyCollector_.xml("_this") +
                                     objectSpec(sessionManager_, {"currentSession"}) +
                                     "<options/></RetrievePropertiesEx>");
    return descendant(answer.result, "key") != nullptr;
}

SoapClient::Answer VsphereSession::invoke(const std::function<std::string()> &body)
{
    const std::lock_guard lock(mutex_);
    try {
        auto answer = client_.call(body());
        // Some servers answer property reads of an expired session with
        // missingSet entries instead of a fault.
        const xmlNode *missing = descendant(answer.result, "missingSet");
        if (!missing || xsiType(child(child(missing, "fault"), "fault")) != "NotAuthenticated")
            return answer;
    } catch (const SoapFault &fault) {
        // An expired session loses its views, so a vanished object may mean that.
        if (fault.type() != "NotAuthenticated" && (fault.type() != "ManagedObjectNotFound" || sessionAlive()))
            throw;
    }
    // Session expired or was terminated: log in again; session-scoped objects
    // (the VM view) died with it.
    login();
    createVmView();
    return client_.call(body());
}

void VsphereSession::findHost(const EsxUri &uri)
{
    if (uri.scheme == "vpx") {
        const std::string path = uri.datacenter + "/host/" + (uri.cluster.empty() ? uri.hostSystem : uri.cluster) + "/" +
                                 uri.hostSystem;
        const auto answer = client_.call("<FindByInventoryPath" + std::string(vim) + ">" + searchIndex_.xml("_this") +
                                         element("inventoryPath", path) + "</FindByInventoryPath>");
        host_ = Moref::from(child(answer.result, "returnval"));
        if (host_.empty() || host_.type != "HostSystem")
            throw Error(VIRTKIT_ERR_NO_CONNECT, "vCenter " + client_.url() + " has no host at inventory path '" +
                                                    path + "' (URI path /" + uri.datacenter +
                                                    (uri.cluster.empty() ? "" : "/" + uri.cluster) + "/" +
                                                    uri.hostSystem + ")");
        hostName_ = uri.hostSystem;
        const auto datacenter = client_.call("<FindByInventoryPath" + std::string(vim) + ">" +
                                             searchIndex_.xml("_this") + element("inventoryPath", uri.datacenter) +
                                             "</FindByInventoryPath>");
        viewRoot_ = Moref::from(child(datacenter.result, "returnval"));
        if (viewRoot_.type != "Datacenter")
            throw Error(VIRTKIT_ERR_NO_CONNECT, "vCenter " + client_.url() + " has no datacenter '" + uri.datacenter + "'");
        return;
    }
    // An ESX host has exactly one HostSystem; find it through a short-lived view.
    const auto view = client_.call("<CreateContainerView" + std::string(vim) + ">" + viewManager_.xml("_this") +
                                   rootFolder_.xml("container") +
                                   "<type>HostSystem</type><recursive>true</recursive></CreateContainerView>");
    const Moref hostView = Moref::from(child(view.result, "returnval"));
    const Retrieved hosts = retrieveLocked([&] { return viewSpec(hostView, "HostSystem", {"name"}); });
    client_.call("<DestroyView" + std::string(vim) + ">" + hostView.xml("_this") + "</DestroyView>");
    if (hosts.objects.size() != 1)
        throw Error(VIRTKIT_ERR_NO_CONNECT, client_.url() + " shows " + std::to_string(hosts.objects.size()) +
                                                " host systems; an ESX host shows exactly one");
    host_ = hosts.objects.front().obj;
    viewRoot_ = rootFolder_;
    hostName_ = hosts.objects.front().string("name");
}

void VsphereSession::createVmView()
{
    const auto view = client_.call("<CreateContainerView" + std::string(vim) + ">" + viewManager_.xml("_this") +
                                   viewRoot_.xml("container") +
                                   "<type>VirtualMachine</type><recursive>true</recursive></CreateContainerView>");
    vmView_ = Moref::from(child(view.result, "returnval"));
}

Retrieved VsphereSession::retrieveLocked(const std::function<std::string()> &specSet)
{
    Retrieved result;
    auto answer = invoke([&] {
        return "<RetrievePropertiesEx" + std::string(vim) + ">" + propertyCollector_.xml("_this") + specSet() +
               "<options><maxObjects>1000</maxObjects></options></RetrievePropertiesEx>";
    });
    for (;;) {
        const xmlNode *returnval = child(answer.result, "returnval");
        for (const xmlNode *object : children(returnval, "objects"))
            result.objects.push_back(readObjectContent(object));
        const std::string token = text(child(returnval, "token"));
        result.trees.push_back(std::move(answer.tree));
        if (token.empty())
            return result;
        answer = invoke([&] {
            return "<ContinueRetrievePropertiesEx" + std::string(vim) + ">" + propertyCollector_.xml("_this") +
                   element("token", token) + "</ContinueRetrievePropertiesEx>";
        });
    }
}

Retrieved VsphereSession::retrieve(const Moref &obj, const std::vector<std::string> &paths)
{
    const std::lock_guard lock(mutex_);
    try {
        return retrieveLocked([&] { return objectSpec(obj, paths); });
    } catch (const SoapFault &fault) {
        if (fault.type() == "ManagedObjectNotFound")
            throw Error(VIRTKIT_ERR_NO_DOMAIN, obj.type + " " + obj.value + " no longer exists");
        throw;
    }
}

std::vector<VmRecord> VsphereSession::listVms()
{
    const std::lock_guard lock(mutex_);
    // The body is rebuilt on re-login, when vmView_ has changed.
    const Retrieved vms = retrieveLocked([&] { return viewSpec(vmView_, "VirtualMachine", vmSummaryPaths()); });
    std::vector<VmRecord> result;
    for (const auto &object : vms.objects)
        if (VmRecord vm = vmRecord(object); vm.host == host_)
            result.push_back(std::move(vm));
    snapshot_ = result;
    snapshotTime_ = std::chrono::steady_clock::now();
    snapshotValid_ = true;
    return result;
}

const std::vector<VmRecord> &VsphereSession::recentVms()
{
    if (!snapshotValid_ || std::chrono::steady_clock::now() - snapshotTime_ > std::chrono::seconds(1))
        listVms();
    return snapshot_;
}

void VsphereSession::forgetVms()
{
    const std::lock_guard lock(mutex_);
    snapshotValid_ = false;
}

VmRecord VsphereSession::vmByUuid(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    const std::string wanted = lower(uuid);
    for (int attempt = 0; attempt < 2; ++attempt, snapshotValid_ = false)
        for (const auto &vm : recentVms())
            if (vm.uuid == wanted)
                return vm;
    throw Error(VIRTKIT_ERR_NO_DOMAIN, "no domain with UUID " + uuid + " on " + hostName_);
}

VmRecord VsphereSession::vmByName(const std::string &name)
{
    const std::lock_guard lock(mutex_);
    for (int attempt = 0; attempt < 2; ++attempt, snapshotValid_ = false)
        for (const auto &vm : recentVms())
            if (vm.name == name)
                return vm;
    throw Error(VIRTKIT_ERR_NO_DOMAIN, "no domain named '" + name + "' on " + hostName_);
}

void VsphereSession::call(const std::string &method, const Moref &target, const std::string &args)
{
    forgetVms();
    invoke([&] { return "<" + method + vim + ">" + target.xml("_this") + args + "</" + method + ">"; });
}

void VsphereSession::answerPendingQuestion(const Moref &vm, const std::string &method)
{
    const Retrieved got = retrieve(vm, {"runtime.question"});
    const xmlNode *question = got.objects.empty() ? nullptr : got.objects.front().node("runtime.question");
    if (!question)
        return;
    const std::string id = text(child(question, "id"));
    const std::string textOf = text(child(question, "text"));
    const xmlNode *choice = child(question, "choice");
    const std::string defaultIndex = text(child(choice, "defaultIndex"));
    const auto infos = children(choice, "choiceInfo");
    if (!autoAnswer_ || defaultIndex.empty() || infos.empty())
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, method + " is blocked by a pending question on the VM: '" + textOf +
                                                      "'" + (autoAnswer_ ? " (it has no default answer)"
                                                                         : "; add ?auto_answer=1 to the URI to "
                                                                           "give the default answer automatically"));
    const std::size_t index = std::min<std::size_t>(std::stoul(defaultIndex), infos.size() - 1);
    const std::string key = text(child(infos[index], "key"));
    call("AnswerVM", vm, element("questionId", id) + element("answerChoice", key));
}

Moref VsphereSession::runTask(const std::string &method, const Moref &target, const std::string &args)
{
    struct Forget {  // the task changed something, whatever its outcome
        VsphereSession &session;
        ~Forget() { session.forgetVms(); }
    } forget{*this};
    forgetVms();
    const auto started =
        invoke([&] { return "<" + method + vim + ">" + target.xml("_this") + args + "</" + method + ">"; });
    const Moref task = Moref::from(child(started.result, "returnval"));
    if (task.empty())
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, method + " returned no task");
    // Tasks on a real host take from milliseconds to minutes; poll with backoff.
    auto pause = std::chrono::milliseconds(20);
    const auto deadline = std::chrono::steady_clock::now() + std::max(timeout_ * 10, std::chrono::milliseconds(600000));
    for (int round = 0;; ++round) {
        const Retrieved info = retrieve(task, {"info.state", "info.error", "info.result"});
        if (info.objects.empty())
            throw Error(VIRTKIT_ERR_OPERATION_FAILED, "task " + task.value + " of " + method + " vanished");
        const ObjectProperties &props = info.objects.front();
        const std::string state = props.string("info.state");
        if (state == "success")
            return Moref::from(props.node("info.result"));
        if (state == "error") {
            const xmlNode *error = props.node("info.error");
            const std::string type = xsiType(child(error, "fault"));
            std::string message = text(child(error, "localizedMessage"));
            if (message.empty())
                message = type.empty() ? "no reason given" : type;
            throw SoapFault(type, method + " failed: " + (type.empty() || message == type ? "" : type + ": ") + message);
        }
        if (std::chrono::steady_clock::now() > deadline)
            throw Error(VIRTKIT_ERR_TIMEOUT, method + " (task " + task.value + ") did not finish in time");
        if (round == 3 && target.type == "VirtualMachine")
            answerPendingQuestion(target, method);
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(500));
    }
}

Placement VsphereSession::placement()
{
    Placement place;
    const Retrieved host = retrieve(host_, {"parent", "datastore"});
    const ObjectProperties &h = host.objects.at(0);
    for (const Moref &ds : h.refs("datastore")) {
        const Retrieved name = retrieve(ds, {"name"});
        if (!name.objects.empty())
            place.datastores.push_back(name.objects.front().string("name"));
    }
    const Retrieved compute = retrieve(h.ref("parent"), {"resourcePool", "parent"});
    place.resourcePool = compute.objects.at(0).ref("resourcePool");
    // compute resource -> host folder (maybe nested) -> datacenter
    Moref up = compute.objects.at(0).ref("parent");
    for (int depth = 0; depth < 32 && !up.empty() && up.type != "Datacenter"; ++depth)
        up = retrieve(up, {"parent"}).objects.at(0).ref("parent");
    if (up.type != "Datacenter")
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, "cannot find the datacenter of host " + hostName_);
    place.vmFolder = retrieve(up, {"vmFolder"}).objects.at(0).ref("vmFolder");
    return place;
}

std::string VsphereSession::sessionKey()
{
    const std::lock_guard lock(mutex_);
    return sessionKey_;
}

std::string VsphereSession::cookie()
{
    const std::lock_guard lock(mutex_);
    return client_.cookie();
}

SoapEndpoint VsphereSession::endpoint() const { return client_.endpoint(); }

uint64_t VsphereSession::requests()
{
    const std::lock_guard lock(mutex_);
    return client_.requests();
}

}  // namespace virtkit::esx::vsphere
