#include "driver/esx_connection.hpp"

#include <cstdlib>

#include "driver/domain_xml.hpp"
#include "vmx.hpp"

namespace virtkit::esx::vsphere {

namespace {

int32_t runningId(const VmRecord &vm)
{
    if (vm.powerState == "poweredOff")
        return -1;
    // ESX morefs are numbers ("12"), vCenter's "vm-12"
    const auto digits = vm.ref.value.find_last_not_of("0123456789");
    const std::string number = digits == std::string::npos ? vm.ref.value : vm.ref.value.substr(digits + 1);
    if (number.empty() || number.size() > 9)
        return -1;
    return static_cast<int32_t>(std::stol(number));
}

DomainSummary summary(const VmRecord &vm) { return {vm.name, vm.uuid, runningId(vm)}; }

std::chrono::milliseconds callTimeout()
{
    // VIRTKIT_ESX_TIMEOUT_MS: tests shorten it to see a dead server quickly.
    if (const char *env = std::getenv("VIRTKIT_ESX_TIMEOUT_MS"); env && *env) {
        char *end = nullptr;
        const long ms = std::strtol(env, &end, 10);
        if (end && *end == '\0' && ms > 0)
            return std::chrono::milliseconds(ms);
    }
    return std::chrono::milliseconds(60000);
}

void requireVmxFormat(const std::string &format)
{
    if (format != "vmware-vmx")
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "unsupported native format '" + format + "' (the esx driver knows vmware-vmx)");
}

}  // namespace

std::unique_ptr<VsphereSession> openSession(const std::string &uriText)
{
    const EsxUri uri = parseEsxUri(uriText);
    return std::make_unique<VsphereSession>(uri, findCredentials(uri.scheme, uri.host, uri.user), callTimeout());
}

EsxConnection::EsxConnection(const std::string &uri, EmitLifecycle emit, Warn warn)
    : session_(openSession(uri)), warn_(std::move(warn))
{
    const EsxUri parsed = parseEsxUri(uri);
    datacenterPath_ = parsed.datacenter;
    if (emit)
        watcher_ = std::make_unique<UpdateWatcher>(
            *session_, [emit](const VmRecord &vm, virtkit_lifecycle_event type, int32_t detail) {
                emit({vm.name, vm.uuid, -1}, type, detail);
            });
    if (watcher_ && !watcher_->waitUntilWatching(std::chrono::seconds(10)) && warn_)
        warn_("lifecycle events from " + session_->hostName() + " are not flowing yet; changes made now may go "
              "unreported");
}

EsxConnection::~EsxConnection()
{
    watcher_.reset();  // before the session it uses
    session_.reset();
}

std::string EsxConnection::hostname() const { return session_->hostName(); }

uint64_t EsxConnection::hypervisorVersion() const
{
    // apiVersion "6.5" or "7.0.3" -> 6005000 / 7000003
    uint64_t parts[3] = {0, 0, 0};
    std::size_t index = 0;
    for (const char c : session_->apiVersion()) {
        if (c == '.') {
            if (++index == 3)
                break;
        } else if (c >= '0' && c <= '9') {
            parts[index] = parts[index] * 10 + static_cast<uint64_t>(c - '0');
        }
    }
    return parts[0] * 1000000 + parts[1] * 1000 + parts[2];
}

std::vector<DomainSummary> EsxConnection::list(uint32_t flags)
{
    if (flags == 0)
        flags = VIRTKIT_LIST_ACTIVE | VIRTKIT_LIST_INACTIVE;
    std::vector<DomainSummary> result;
    for (const VmRecord &vm : session_->listVms()) {
        const bool active = vm.powerState != "poweredOff";
        if ((active && (flags & VIRTKIT_LIST_ACTIVE)) || (!active && (flags & VIRTKIT_LIST_INACTIVE)))
            result.push_back(summary(vm));
    }
    return result;
}

DomainSummary EsxConnection::lookupByName(const std::string &name) { return summary(session_->vmByName(name)); }
DomainSummary EsxConnection::lookupByUuid(const std::string &uuid) { return summary(session_->vmByUuid(uuid)); }

DomainSummary EsxConnection::lookupById(int32_t id)
{
    for (const VmRecord &vm : session_->listVms())
        if (id >= 0 && runningId(vm) == id)
            return summary(vm);
    throw Error(VIRTKIT_ERR_NO_DOMAIN, "no running domain with ID " + std::to_string(id));
}

DomainSummary EsxConnection::define(const std::string &xml)
{
    const DomainSpec spec = parseDomainSpec(xml);
    for (const VmRecord &vm : session_->listVms()) {
        if (vm.name == spec.name)
            throw Error(VIRTKIT_ERR_DOMAIN_EXISTS, "domain '" + spec.name +
                                                       "' already exists; editing an existing ESX VM is not "
                                                       "supported, undefine it first");
        if (!spec.uuid.empty() && vm.uuid == spec.uuid)
            throw Error(VIRTKIT_ERR_DOMAIN_EXISTS, "UUID " + spec.uuid + " is already used by domain '" + vm.name + "'");
    }
    const Placement place = session_->placement();
    if (place.datastores.empty())
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, "host " + session_->hostName() + " has no datastore for a new VM");
    const Moref created = session_->runTask("CreateVM_Task", place.vmFolder,
                                            configSpecXml(spec, place.datastores.front()) +
                                                place.resourcePool.xml("pool") + session_->hostSystem().xml("host"));
    const Retrieved props = session_->retrieve(created, vmSummaryPaths());
    if (props.objects.empty())
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, "CreateVM_Task succeeded but VM " + created.value + " is not there");
    return summary(vmRecord(props.objects.front()));
}

void EsxConnection::undefine(const std::string &uuid)
{
    // UnregisterVM, as libvirt does: the VM leaves the inventory, its files stay.
    session_->call("UnregisterVM", session_->vmByUuid(uuid).ref);
}

void EsxConnection::start(const std::string &uuid)
{
    session_->runTask("PowerOnVM_Task", session_->vmByUuid(uuid).ref);
}

void EsxConnection::shutdown(const std::string &uuid)
{
    session_->call("ShutdownGuest", session_->vmByUuid(uuid).ref);
}

void EsxConnection::reboot(const std::string &uuid)
{
    session_->call("RebootGuest", session_->vmByUuid(uuid).ref);
}

void EsxConnection::destroy(const std::string &uuid)
{
    session_->runTask("PowerOffVM_Task", session_->vmByUuid(uuid).ref);
}

void EsxConnection::suspend(const std::string &uuid)
{
    const VmRecord vm = session_->vmByUuid(uuid);
    if (vm.powerState != "poweredOn")
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "domain '" + vm.name + "' is not running (it is " + vm.powerState + ")");
    session_->runTask("SuspendVM_Task", vm.ref);
}

void EsxConnection::resume(const std::string &uuid)
{
    // A suspended VM resumes by powering on; refuse a powered-off one, which
    // PowerOnVM_Task would boot instead.
    const VmRecord vm = session_->vmByUuid(uuid);
    if (vm.powerState != "suspended")
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "domain '" + vm.name + "' is not suspended (it is " + vm.powerState + ")");
    session_->runTask("PowerOnVM_Task", vm.ref);
}

std::string EsxConnection::xml(const std::string &uuid)
{
    const Retrieved props = session_->retrieve(session_->vmByUuid(uuid).ref, vmConfigPaths());
    if (props.objects.empty())
        throw Error(VIRTKIT_ERR_NO_DOMAIN, "domain " + uuid + " vanished");
    return domainXmlFromConfig(props.objects.front());
}

bool EsxConnection::autostart(const std::string &uuid)
{
    // As libvirt reads it: the host's autostart is enabled and the VM's entry says powerOn.
    const VmRecord vm = session_->vmByUuid(uuid);
    const Retrieved host = session_->retrieve(session_->hostSystem(), {"configManager.autoStartManager"});
    const Moref manager = host.objects.empty() ? Moref{} : host.objects.front().ref("configManager.autoStartManager");
    if (manager.empty())
        return false;
    Retrieved config;
    try {
        config = session_->retrieve(manager, {"config"});
    } catch (const Error &e) {
        if (e.code() != VIRTKIT_ERR_NO_DOMAIN)
            throw;
        return false;  // no autostart manager (vcsim has none): nothing starts automatically
    }
    const xmlNode *node = config.objects.empty() ? nullptr : config.objects.front().node("config");
    if (text(child(child(node, "defaults"), "enabled")) != "true")
        return false;
    for (const xmlNode *power : children(node, "powerInfo"))
        if (Moref::from(child(power, "key")) == vm.ref)
            return text(child(power, "startAction")) == "powerOn";
    return false;
}

DomainStatus EsxConnection::status(const std::string &uuid)
{
    const VmRecord vm = session_->vmByUuid(uuid);
    DomainStatus status;
    // libvirt's ESX mapping: suspended shows as paused
    status.state = vm.powerState == "poweredOn"   ? VIRTKIT_DOMAIN_RUNNING
                   : vm.powerState == "suspended" ? VIRTKIT_DOMAIN_PAUSED
                   : vm.powerState == "poweredOff" ? VIRTKIT_DOMAIN_SHUTOFF
                                                   : VIRTKIT_DOMAIN_NOSTATE;
    status.memoryKiB = vm.memoryMB * 1024;
    status.vcpus = vm.numCpu;
    return status;
}

std::string EsxConnection::xmlFromNative(const std::string &format, const std::string &native)
{
    requireVmxFormat(format);
    VmxContext context;
    context.datacenterPath = datacenterPath_;
    context.warn = warn_;
    return vmxToDomainXml(native, context);
}

std::string EsxConnection::xmlToNative(const std::string &format, const std::string &xml)
{
    requireVmxFormat(format);
    VmxContext context;
    context.datacenterPath = datacenterPath_;
    context.warn = warn_;
    // The newest virtual hardware the connected host runs, as libvirt picks it.
    const uint64_t version = hypervisorVersion() / 1000;  // major * 1000 + minor
    static const std::pair<uint64_t, int> hardware[] = {{8000, 20}, {7000, 17}, {6007, 14}, {6005, 13}, {6000, 11},
                                                        {5005, 10}, {5001, 9},  {5000, 8},  {4000, 7}};
    for (const auto &[atLeast, hw] : hardware)
        if (version >= atLeast) {
            context.virtualHwVersion = hw;
            break;
        }
    return domainXmlToVmx(xml, context);
}

uint64_t EsxConnection::requests() { return session_->requests() + (watcher_ ? watcher_->requests() : 0); }

}  // namespace virtkit::esx::vsphere
