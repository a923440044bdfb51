// PluginConnection: the C++ face of one plugin connection.  The core, not
// the plugin, turns an empty slot into "not supported", refuses writes on a
// read-only connection and validates XML before the plugin sees it.
#include "plugin_connection.hpp"

#include <cstring>
#include <mutex>
#include <utility>

#include <virtkit/context.hpp>
#include <virtkit/domain_xml.hpp>
#include <virtkit/error.hpp>
#include <virtkit/log.hpp>

namespace virtkit {
namespace {

virtkit_error emptyError()
{
    virtkit_error err{};
    err.struct_size = sizeof err;
    return err;
}

virtkit_domain_ident emptyIdent()
{
    virtkit_domain_ident ident{};
    ident.struct_size = sizeof ident;
    ident.id = -1;
    return ident;
}

DomainRef toRef(const virtkit_domain_ident &ident)
{
    DomainRef ref;
    ref.name.assign(ident.name, strnlen(ident.name, sizeof ident.name));
    ref.uuid.assign(ident.uuid, strnlen(ident.uuid, sizeof ident.uuid));
    ref.id = ident.id;
    return ref;
}

Error unsupported(const char *op, const std::string &driver)
{
    return Error(VIRTKIT_ERR_NO_SUPPORT,
                 std::string("operation '") + op + "' is not supported by driver '" + driver + "'");
}

Error pluginError(const char *op, const std::string &driver, int32_t rc, virtkit_error &err)
{
    err.message[VIRTKIT_ERROR_MESSAGE_MAX - 1] = '\0';
    int code = err.code != VIRTKIT_OK ? err.code : rc;
    if (code < VIRTKIT_ERR_INTERNAL || code > VIRTKIT_ERR_ABI)
        code = VIRTKIT_ERR_INTERNAL;
    if (err.message[0])
        return Error(code, err.message);
    return Error(code, "driver '" + driver + "' failed operation '" + op + "' without saying why (code " +
                           std::to_string(rc) + ")");
}

// Plugin-allocated results go back through the plugin's own free slots.
struct PluginString {
    void (*release)(char *);
    char *text = nullptr;
    ~PluginString()
    {
        if (text && release)
            release(text);
    }
};

struct PluginDomainList {
    void (*release)(virtkit_domain_ident *, size_t);
    virtkit_domain_ident *items = nullptr;
    size_t count = 0;
    ~PluginDomainList()
    {
        if (items && release)
            release(items, count);
    }
};

}  // namespace

std::shared_ptr<Connection> PluginConnection::open(Context &ctx, LoadedPlugin &plugin, const std::string &uriText,
                                                   std::string canonicalUri, bool readOnly)
{
    const std::string &driver = plugin.manifest->id;
    if (!plugin.ops.connect_open)
        throw unsupported("connect.open", driver);
    virtkit_conn *handle = nullptr;
    virtkit_error err = emptyError();
    const int32_t rc = plugin.ops.connect_open(uriText.c_str(), 0, &handle, &err);
    if (rc != VIRTKIT_OK)
        throw pluginError("connect.open", driver, rc, err);
    if (!handle)
        throw Error(VIRTKIT_ERR_INTERNAL, "driver '" + driver + "' opened '" + uriText +
                                              "' but returned no connection handle");
    return std::make_shared<PluginConnection>(ctx, plugin, std::move(canonicalUri), readOnly, handle);
}

PluginConnection::PluginConnection(Context &ctx, LoadedPlugin &plugin, std::string uri, bool readOnly,
                                   virtkit_conn *handle)
    : ctx_(ctx), plugin_(plugin), uri_(std::move(uri)), readOnly_(readOnly), handle_(handle)
{
    ctx_.registry().attachConnection(plugin_, handle_, uri_);
}

PluginConnection::~PluginConnection()
{
    try {
        close();
    } catch (const std::exception &e) {
        log::get("core")->warn("closing {}: {}", uri_, e.what());
    }
}

void PluginConnection::close()
{
    const std::unique_lock lock(mutex_);
    if (!handle_)
        return;
    virtkit_conn *const handle = std::exchange(handle_, nullptr);
    int32_t rc = VIRTKIT_OK;
    virtkit_error err = emptyError();
    if (plugin_.ops.connect_close)
        rc = plugin_.ops.connect_close(handle, &err);
    ctx_.registry().detachConnection(plugin_, handle);
    if (rc != VIRTKIT_OK)
        throw pluginError("connect.close", driverName(), rc, err);
}

template <typename Fn, typename... Args>
void PluginConnection::call(const char *op, Access access, Fn *slot, Args... args)
{
    const std::shared_lock lock(mutex_);
    if (!handle_)
        throw Error(VIRTKIT_ERR_NO_CONNECT, "connection '" + uri_ + "' is closed");
    if (access == Access::Write && readOnly_)
        throw Error(VIRTKIT_ERR_AUTH, std::string("operation forbidden: read only access prevents '") + op +
                                          "' on connection '" + uri_ + "'");
    if (!slot)
        throw unsupported(op, driverName());
    virtkit_error err = emptyError();
    const int32_t rc = slot(handle_, args..., &err);
    if (rc != VIRTKIT_OK)
        throw pluginError(op, driverName(), rc, err);
}

template <typename Fn, typename... Args>
std::string PluginConnection::callForString(const char *op, Fn *slot, Args... args)
{
    PluginString out{plugin_.ops.free_string};
    call(op, Access::Read, slot, args..., &out.text);
    if (!out.text)
        throw Error(VIRTKIT_ERR_INTERNAL, "driver '" + driverName() + "' returned no text from '" + op + "'");
    return out.text;
}

std::string PluginConnection::capabilities()
{
    return callForString("connect.get_capabilities", plugin_.ops.connect_get_capabilities);
}

std::string PluginConnection::hostname()
{
    return callForString("connect.get_hostname", plugin_.ops.connect_get_hostname);
}

uint64_t PluginConnection::hypervisorVersion()
{
    uint64_t version = 0;
    call("connect.get_version", Access::Read, plugin_.ops.connect_get_version, &version);
    return version;
}

std::vector<DomainRef> PluginConnection::listDomains(uint32_t flags)
{
    PluginDomainList list{plugin_.ops.free_domain_list};
    call("domain.list", Access::Read, plugin_.ops.domain_list, flags, &list.items, &list.count);
    std::vector<DomainRef> refs;
    if (!list.items || list.count == 0)
        return refs;
    // Step by the plugin's element size, so a later minor may grow the struct.
    const size_t stride = list.items[0].struct_size;
    if (stride < sizeof(virtkit_domain_ident))
        throw Error(VIRTKIT_ERR_ABI, "driver '" + plugin_.manifest->id + "' returned a domain list with element size " +
                                         std::to_string(stride) + ", smaller than ABI 1.0's " +
                                         std::to_string(sizeof(virtkit_domain_ident)));
    const auto *bytes = reinterpret_cast<const unsigned char *>(list.items);
    refs.reserve(list.count);
    for (size_t i = 0; i < list.count; ++i) {
        virtkit_domain_ident ident;
        std::memcpy(&ident, bytes + i * stride, sizeof ident);
        refs.push_back(toRef(ident));
    }
    return refs;
}

DomainRef PluginConnection::lookupByName(const std::string &name)
{
    virtkit_domain_ident ident = emptyIdent();
    call("domain.lookup_by_name", Access::Read, plugin_.ops.domain_lookup_by_name, name.c_str(), &ident);
    return toRef(ident);
}

DomainRef PluginConnection::lookupByUuid(const std::string &uuid)
{
    virtkit_domain_ident ident = emptyIdent();
    call("domain.lookup_by_uuid", Access::Read, plugin_.ops.domain_lookup_by_uuid, uuid.c_str(), &ident);
    return toRef(ident);
}

DomainRef PluginConnection::lookupById(int id)
{
    virtkit_domain_ident ident = emptyIdent();
    call("domain.lookup_by_id", Access::Read, plugin_.ops.domain_lookup_by_id, static_cast<int32_t>(id), &ident);
    return toRef(ident);
}

DomainRef PluginConnection::defineOrCreate(const char *op, const std::string &xml,
                                           int32_t (*slot)(virtkit_conn *, const char *, uint32_t,
                                                           virtkit_domain_ident *, virtkit_error *))
{
    // Cheap refusals first, so a bad XML is not reported for a call that
    // could never have worked anyway.
    if (readOnly_)
        throw Error(VIRTKIT_ERR_AUTH, std::string("operation forbidden: read only access prevents '") + op +
                                          "' on connection '" + uri_ + "'");
    if (!slot)
        throw unsupported(op, driverName());
    DomainXml doc = DomainXml::parse(xml);
    doc.ensureUuid();
    const std::string text = doc.str();
    virtkit_domain_ident ident = emptyIdent();
    call(op, Access::Write, slot, text.c_str(), uint32_t{0}, &ident);
    return toRef(ident);
}

DomainRef PluginConnection::defineXml(const std::string &xml)
{
    return defineOrCreate("domain.define_xml", xml, plugin_.ops.domain_define_xml);
}

DomainRef PluginConnection::createXml(const std::string &xml)
{
    return defineOrCreate("domain.create_xml", xml, plugin_.ops.domain_create_xml);
}

void PluginConnection::domainStart(const std::string &uuid)
{
    call("domain.start", Access::Write, plugin_.ops.domain_start, uuid.c_str(), uint32_t{0});
}

void PluginConnection::domainShutdown(const std::string &uuid, uint32_t flags)
{
    call("domain.shutdown", Access::Write, plugin_.ops.domain_shutdown, uuid.c_str(), flags);
}

void PluginConnection::domainReboot(const std::string &uuid, uint32_t flags)
{
    call("domain.reboot", Access::Write, plugin_.ops.domain_reboot, uuid.c_str(), flags);
}

void PluginConnection::domainDestroy(const std::string &uuid, uint32_t flags)
{
    call("domain.destroy", Access::Write, plugin_.ops.domain_destroy, uuid.c_str(), flags);
}

void PluginConnection::domainSuspend(const std::string &uuid)
{
    call("domain.suspend", Access::Write, plugin_.ops.domain_suspend, uuid.c_str());
}

void PluginConnection::domainResume(const std::string &uuid)
{
    call("domain.resume", Access::Write, plugin_.ops.domain_resume, uuid.c_str());
}

void PluginConnection::domainUndefine(const std::string &uuid)
{
    call("domain.undefine", Access::Write, plugin_.ops.domain_undefine, uuid.c_str(), uint32_t{0});
}

std::string PluginConnection::domainXml(const std::string &uuid, uint32_t flags)
{
    return callForString("domain.get_xml", plugin_.ops.domain_get_xml, uuid.c_str(), flags);
}

DomainInfo PluginConnection::domainInfo(const std::string &uuid)
{
    virtkit_domain_info raw{};
    raw.struct_size = sizeof raw;
    call("domain.get_info", Access::Read, plugin_.ops.domain_get_info, uuid.c_str(), &raw);
    DomainInfo info;
    info.state = raw.state;
    info.reason = raw.reason;
    info.persistent = raw.persistent != 0;
    info.maxMemKiB = raw.max_mem_kib;
    info.memoryKiB = raw.memory_kib;
    info.vcpus = raw.nr_vcpus;
    info.cpuTimeNs = raw.cpu_time_ns;
    return info;
}

bool PluginConnection::domainAutostart(const std::string &uuid)
{
    int32_t on = 0;
    call("domain.get_autostart", Access::Read, plugin_.ops.domain_get_autostart, uuid.c_str(), &on);
    return on != 0;
}

void PluginConnection::domainSetAutostart(const std::string &uuid, bool on)
{
    call("domain.set_autostart", Access::Write, plugin_.ops.domain_set_autostart, uuid.c_str(),
         static_cast<int32_t>(on ? 1 : 0));
}

std::string PluginConnection::domainXmlFromNative(const std::string &format, const std::string &native)
{
    return callForString("domain.xml_from_native", plugin_.ops.domain_xml_from_native, format.c_str(),
                         native.c_str());
}

std::string PluginConnection::domainXmlToNative(const std::string &format, const std::string &xml)
{
    return callForString("domain.xml_to_native", plugin_.ops.domain_xml_to_native, format.c_str(), xml.c_str());
}

namespace {
// NULL for an empty string: the ABI's "use the default" / "no cookie".
const char *orNull(const std::string &s)
{
    return s.empty() ? nullptr : s.c_str();
}
}  // namespace

std::string PluginConnection::monitorCommand(const std::string &uuid, const std::string &command, uint32_t flags)
{
    // Raw monitor access can change anything: a write, as libvirt treats it.
    PluginString out{plugin_.ops.free_string};
    call("domain.monitor_command", Access::Write, plugin_.ops.domain_monitor_command, uuid.c_str(),
         command.c_str(), flags, &out.text);
    return out.text ? out.text : "";
}

std::string PluginConnection::domainCapabilities(const std::string &emulator, const std::string &arch,
                                                 const std::string &machine, const std::string &virttype)
{
    return callForString("connect.get_domain_capabilities", plugin_.ops.connect_get_domain_capabilities,
                         orNull(emulator), orNull(arch), orNull(machine), orNull(virttype), uint32_t{0});
}

std::string PluginConnection::jobStats(const std::string &uuid, uint32_t flags)
{
    return callForString("domain.get_job_stats", plugin_.ops.domain_get_job_stats, uuid.c_str(), flags);
}

void PluginConnection::abortJob(const std::string &uuid, uint32_t flags)
{
    call("domain.abort_job", Access::Write, plugin_.ops.domain_abort_job, uuid.c_str(), flags);
}

MigrationStep PluginConnection::migrateBegin(const std::string &uuid, const std::string &params, uint32_t flags)
{
    PluginString xml{plugin_.ops.free_string}, cookie{plugin_.ops.free_string};
    call("domain.migrate_begin", Access::Write, plugin_.ops.domain_migrate_begin, uuid.c_str(), params.c_str(),
         flags, &xml.text, &cookie.text);
    MigrationStep step;
    if (!xml.text)
        throw Error(VIRTKIT_ERR_INTERNAL, "driver '" + driverName() + "' returned no XML from 'domain.migrate_begin'");
    step.xml = xml.text;
    step.cookie = cookie.text ? cookie.text : "";
    return step;
}

MigrationStep PluginConnection::migratePrepare(const std::string &params, const std::string &cookie, uint32_t flags)
{
    PluginString uri{plugin_.ops.free_string}, cookieOut{plugin_.ops.free_string};
    call("domain.migrate_prepare", Access::Write, plugin_.ops.domain_migrate_prepare, params.c_str(),
         orNull(cookie), flags, &uri.text, &cookieOut.text);
    MigrationStep step;
    step.uri = uri.text ? uri.text : "";
    step.cookie = cookieOut.text ? cookieOut.text : "";
    return step;
}

MigrationStep PluginConnection::migratePerform(const std::string &uuid, const std::string &params,
                                               const std::string &cookie, uint32_t flags)
{
    PluginString cookieOut{plugin_.ops.free_string};
    call("domain.migrate_perform", Access::Write, plugin_.ops.domain_migrate_perform, uuid.c_str(), params.c_str(),
         orNull(cookie), flags, &cookieOut.text);
    MigrationStep step;
    step.cookie = cookieOut.text ? cookieOut.text : "";
    return step;
}

MigrationStep PluginConnection::migrateFinish(const std::string &params, const std::string &cookie, uint32_t flags,
                                              bool cancelled)
{
    PluginString cookieOut{plugin_.ops.free_string};
    virtkit_domain_ident ident = emptyIdent();
    call("domain.migrate_finish", Access::Write, plugin_.ops.domain_migrate_finish, params.c_str(), orNull(cookie),
         flags, static_cast<int32_t>(cancelled ? 1 : 0), &ident, &cookieOut.text);
    MigrationStep step;
    step.domain = toRef(ident);
    step.cookie = cookieOut.text ? cookieOut.text : "";
    return step;
}

void PluginConnection::migrateConfirm(const std::string &uuid, const std::string &params, const std::string &cookie,
                                      uint32_t flags, bool cancelled)
{
    call("domain.migrate_confirm", Access::Write, plugin_.ops.domain_migrate_confirm, uuid.c_str(), params.c_str(),
         orNull(cookie), flags, static_cast<int32_t>(cancelled ? 1 : 0));
}

void PluginConnection::migrateStartPostcopy(const std::string &uuid, uint32_t flags)
{
    call("domain.migrate_start_postcopy", Access::Write, plugin_.ops.domain_migrate_start_postcopy, uuid.c_str(),
         flags);
}

void PluginConnection::migrateSetMaxSpeed(const std::string &uuid, uint64_t bandwidth, uint32_t flags)
{
    call("domain.migrate_set_max_speed", Access::Write, plugin_.ops.domain_migrate_set_max_speed, uuid.c_str(),
         bandwidth, flags);
}

uint64_t PluginConnection::migrateGetMaxSpeed(const std::string &uuid, uint32_t flags)
{
    uint64_t out = 0;
    call("domain.migrate_get_max_speed", Access::Read, plugin_.ops.domain_migrate_get_max_speed, uuid.c_str(), flags,
         &out);
    return out;
}

EventBus::Subscription PluginConnection::subscribe(EventFilter filter, EventBus::Handler handler)
{
    filter.connection = uri_;
    return ctx_.bus().subscribe(std::move(filter), std::move(handler));
}

}  // namespace virtkit
