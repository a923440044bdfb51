// The test plugin's C face: the descriptor, init, and the operations table.
// Each operation checks its arguments, runs through `guarded`, and leaves the
// work to DriverState.  domain_xml_from_native/to_native stay NULL: not supported.
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include <libxml/parser.h>
#include <virtkit/plugin.h>

#include "boundary.hpp"
#include "capabilities.hpp"
#include "connection.hpp"
#include "domain_definition.hpp"

namespace virtkit::testdriver {

namespace {

// libvirt's flag values accepted per operation.
constexpr uint32_t kDefineValidate = 1u << 0;
constexpr uint32_t kUndefineFlags = 0x1fu;  // managed save, snapshots, nvram...: nothing to clean up in memory
constexpr uint32_t kCreateValidate = 1u << 4;
constexpr uint32_t kRebootMethods = 0x1fu;
constexpr uint32_t kDestroyGraceful = 1u << 0;
constexpr uint32_t kXmlInactive = 1u << 1;
constexpr uint32_t kXmlFlags = 0xfu;  // secure, inactive, update-cpu, migratable
constexpr uint64_t kHypervisorVersion = 2;  // libvirt's test driver reports 0.0.2

// The host's services, copied at init (min of both sizes, rest zero).
virtkit_host_services g_host{};

DriverState &stateOf(virtkit_conn *conn)
{
    return *required(conn, "connection")->state;
}

const char *uuidArg(const char *uuid)
{
    return required(uuid, "domain uuid");
}

void fillIdent(const DomainIdent &ident, virtkit_domain_ident *out)
{
    virtkit_domain_ident full{};
    full.struct_size = sizeof full;
    full.id = ident.id;
    std::snprintf(full.name, sizeof full.name, "%s", ident.name.c_str());
    std::snprintf(full.uuid, sizeof full.uuid, "%s", ident.uuid.c_str());
    copyOut(full, out, "domain ident");
}

void freeString(char *s)
{
    std::free(s);
}

void freeDomainList(virtkit_domain_ident *list, size_t)
{
    std::free(list);
}

int32_t connectOpen(const char *uri, uint32_t, virtkit_conn **out, virtkit_error *err)
{
    // Open flags (such as read-only) change nothing for an in-memory driver.
    return guarded(err, [&] { *required(out, "connection out-pointer") = openConnection(required(uri, "uri"), g_host).release(); });
}

int32_t connectClose(virtkit_conn *conn, virtkit_error *err)
{
    return guarded(err, [&] { closeConnection(std::unique_ptr<virtkit_conn>(required(conn, "connection"))); });
}

int32_t connectGetCapabilities(virtkit_conn *conn, char **xml, virtkit_error *err)
{
    return guarded(err, [&] { *required(xml, "xml out-pointer") = hostString(capabilitiesXml(stateOf(conn).nodeInfo())); });
}

int32_t connectGetHostname(virtkit_conn *conn, char **out, virtkit_error *err)
{
    return guarded(err, [&] {
        stateOf(conn);
        char name[HOST_NAME_MAX + 1] = {};
        if (gethostname(name, sizeof name - 1) != 0)
            throw PluginError(VIRTKIT_ERR_SYSTEM, std::string("gethostname failed: ") + std::strerror(errno));
        *required(out, "hostname out-pointer") = hostString(name);
    });
}

int32_t connectGetVersion(virtkit_conn *conn, uint64_t *out, virtkit_error *err)
{
    return guarded(err, [&] {
        stateOf(conn);
        *required(out, "version out-pointer") = kHypervisorVersion;
    });
}

int32_t lookupByName(virtkit_conn *conn, const char *name, virtkit_domain_ident *out, virtkit_error *err)
{
    return guarded(err, [&] { fillIdent(stateOf(conn).lookupByName(required(name, "domain name")), out); });
}

int32_t lookupByUuid(virtkit_conn *conn, const char *uuid, virtkit_domain_ident *out, virtkit_error *err)
{
    return guarded(err, [&] { fillIdent(stateOf(conn).lookupByUuid(uuidArg(uuid)), out); });
}

int32_t lookupById(virtkit_conn *conn, int32_t id, virtkit_domain_ident *out, virtkit_error *err)
{
    return guarded(err, [&] { fillIdent(stateOf(conn).lookupById(id), out); });
}

int32_t domainList(virtkit_conn *conn, uint32_t flags, virtkit_domain_ident **out, size_t *count, virtkit_error *err)
{
    return guarded(err, [&] {
        checkFlags(flags, VIRTKIT_LIST_ACTIVE | VIRTKIT_LIST_INACTIVE, "domain.list");
        required(out, "list out-pointer");
        required(count, "count out-pointer");
        const auto idents = stateOf(conn).list(flags);
        auto *list = static_cast<virtkit_domain_ident *>(std::calloc(idents.size() + 1, sizeof(virtkit_domain_ident)));
        if (!list)
            throw std::bad_alloc();
        for (std::size_t i = 0; i < idents.size(); ++i) {
            list[i].struct_size = sizeof(virtkit_domain_ident);
            fillIdent(idents[i], &list[i]);
        }
        *out = list;
        *count = idents.size();
    });
}

int32_t defineXml(virtkit_conn *conn, const char *xml, uint32_t flags, virtkit_domain_ident *out, virtkit_error *err)
{
    return guarded(err, [&] {
        checkFlags(flags, kDefineValidate, "domain.define");
        DriverState &state = stateOf(conn);
        fillIdent(state.define(parseDomainDefinition(required(xml, "domain XML"))), out);
    });
}

int32_t undefine(virtkit_conn *conn, const char *uuid, uint32_t flags, virtkit_error *err)
{
    return guarded(err, [&] {
        checkFlags(flags, kUndefineFlags, "domain.undefine");
        stateOf(conn).undefine(uuidArg(uuid));
    });
}

int32_t createXml(virtkit_conn *conn, const char *xml, uint32_t flags, virtkit_domain_ident *out, virtkit_error *err)
{
    return guarded(err, [&] {
        checkFlags(flags, kCreateValidate, "domain.create");
        DriverState &state = stateOf(conn);
        fillIdent(state.create(parseDomainDefinition(required(xml, "domain XML"))), out);
    });
}

int32_t start(virtkit_conn *conn, const char *uuid, uint32_t flags, virtkit_error *err)
{
    return guarded(err, [&] {
        checkFlags(flags, 0, "domain.start");
        stateOf(conn).start(uuidArg(uuid));
    });
}

int32_t shutdown(virtkit_conn *conn, const char *uuid, uint32_t flags, virtkit_error *err)
{
    return guarded(err, [&] {
        checkFlags(flags, 0, "domain.shutdown");
        stateOf(conn).shutdown(uuidArg(uuid));
    });
}

int32_t reboot(virtkit_conn *conn, const char *uuid, uint32_t flags, virtkit_error *err)
{
    return guarded(err, [&] {
        checkFlags(flags, kRebootMethods, "domain.reboot");
        stateOf(conn).reboot(uuidArg(uuid));
    });
}

int32_t destroy(virtkit_conn *conn, const char *uuid, uint32_t flags, virtkit_error *err)
{
    return guarded(err, [&] {
        checkFlags(flags, kDestroyGraceful, "domain.destroy");
        stateOf(conn).destroy(uuidArg(uuid));
    });
}

int32_t suspend(virtkit_conn *conn, const char *uuid, virtkit_error *err)
{
    return guarded(err, [&] { stateOf(conn).suspend(uuidArg(uuid)); });
}

int32_t resume(virtkit_conn *conn, const char *uuid, virtkit_error *err)
{
    return guarded(err, [&] { stateOf(conn).resume(uuidArg(uuid)); });
}

int32_t getXml(virtkit_conn *conn, const char *uuid, uint32_t flags, char **xml, virtkit_error *err)
{
    return guarded(err, [&] {
        checkFlags(flags, kXmlFlags, "domain.get_xml");
        required(xml, "xml out-pointer");
        *xml = hostString(stateOf(conn).xml(uuidArg(uuid), (flags & kXmlInactive) != 0));
    });
}

int32_t getInfo(virtkit_conn *conn, const char *uuid, virtkit_domain_info *out, virtkit_error *err)
{
    return guarded(err, [&] { copyOut(stateOf(conn).info(uuidArg(uuid)), out, "domain info"); });
}

int32_t getAutostart(virtkit_conn *conn, const char *uuid, int32_t *out, virtkit_error *err)
{
    return guarded(err, [&] {
        required(out, "autostart out-pointer");
        *out = stateOf(conn).autostart(uuidArg(uuid)) ? 1 : 0;
    });
}

int32_t setAutostart(virtkit_conn *conn, const char *uuid, int32_t autostart, virtkit_error *err)
{
    return guarded(err, [&] { stateOf(conn).setAutostart(uuidArg(uuid), autostart != 0); });
}

virtkit_driver_ops makeOps()
{
    virtkit_driver_ops ops{};
    ops.struct_size = sizeof ops;
    ops.free_string = freeString;
    ops.free_domain_list = freeDomainList;
    ops.connect_open = connectOpen;
    ops.connect_close = connectClose;
    ops.connect_get_capabilities = connectGetCapabilities;
    ops.connect_get_hostname = connectGetHostname;
    ops.connect_get_version = connectGetVersion;
    ops.domain_lookup_by_name = lookupByName;
    ops.domain_lookup_by_uuid = lookupByUuid;
    ops.domain_lookup_by_id = lookupById;
    ops.domain_list = domainList;
    ops.domain_define_xml = defineXml;
    ops.domain_undefine = undefine;
    ops.domain_create_xml = createXml;
    ops.domain_start = start;
    ops.domain_shutdown = shutdown;
    ops.domain_reboot = reboot;
    ops.domain_destroy = destroy;
    ops.domain_suspend = suspend;
    ops.domain_resume = resume;
    ops.domain_get_xml = getXml;
    ops.domain_get_info = getInfo;
    ops.domain_get_autostart = getAutostart;
    ops.domain_set_autostart = setAutostart;
    return ops;
}

const virtkit_driver_ops kOps = makeOps();

int32_t init(const virtkit_host_services *host, const virtkit_driver_ops **ops, virtkit_error *err)
{
    return guarded(err, [&] {
        required(host, "host services");
        required(ops, "ops out-pointer");
        if (host->abi_major != VIRTKIT_PLUGIN_ABI_MAJOR)
            throw PluginError(VIRTKIT_ERR_ABI, "the test plugin speaks plugin ABI " +
                                                   std::to_string(VIRTKIT_PLUGIN_ABI_MAJOR) + "." +
                                                   std::to_string(VIRTKIT_PLUGIN_ABI_MINOR) + " but the host offers " +
                                                   std::to_string(host->abi_major) + "." +
                                                   std::to_string(host->abi_minor) + "; rebuild the plugin for the host");
        virtkit_host_services copy{};
        std::memcpy(&copy, host, std::min<std::size_t>(host->struct_size, sizeof copy));
        copy.struct_size = sizeof copy;
        g_host = copy;
        xmlInitParser();
        *ops = &kOps;
    });
}

const virtkit_plugin_descriptor kDescriptor = {
    VIRTKIT_PLUGIN_MAGIC, sizeof(virtkit_plugin_descriptor), VIRTKIT_PLUGIN_ABI_MAJOR, VIRTKIT_PLUGIN_ABI_MINOR,
    "test", VIRTKIT_TEST_PLUGIN_VERSION, init, nullptr,
};

}  // namespace

}  // namespace virtkit::testdriver

extern "C" VIRTKIT_PLUGIN_EXPORT const virtkit_plugin_descriptor *virtkit_plugin_entry(void)
{
    return &virtkit::testdriver::kDescriptor;
}
