// Internal part of <virtkit/sdk.hpp>: the C functions that sit in the
// operations table and forward to a driver's C++ classes.  Include sdk.hpp,
// not this file.
#pragma once

namespace virtkit::sdk::detail {

// Runs `body`; turns every exception into a filled virtkit_error.  Nothing
// here allocates on the error path, so even bad_alloc is reported.
template <class Body>
int32_t guard(virtkit_error *err, const char *operation, Body &&body) noexcept
{
    try {
        body();
        return VIRTKIT_OK;
    } catch (const Error &e) {
        return virtkit_set_error(err, e.code() != VIRTKIT_OK ? e.code() : VIRTKIT_ERR_INTERNAL, e.what());
    } catch (const std::bad_alloc &) {
        char message[128];
        std::snprintf(message, sizeof message, "driver ran out of memory in %s", operation);
        return virtkit_set_error(err, VIRTKIT_ERR_INTERNAL, message);
    } catch (const std::exception &e) {
        char message[VIRTKIT_ERROR_MESSAGE_MAX];
        std::snprintf(message, sizeof message, "driver failed unexpectedly in %s: %s", operation, e.what());
        return virtkit_set_error(err, VIRTKIT_ERR_INTERNAL, message);
    } catch (...) {
        char message[128];
        std::snprintf(message, sizeof message, "driver threw a non-standard exception in %s", operation);
        return virtkit_set_error(err, VIRTKIT_ERR_INTERNAL, message);
    }
}

// Copies `value` into a caller's struct, never past the caller's struct_size.
template <class T>
void writeOut(T *out, T value)
{
    const uint32_t callerSize = out->struct_size;
    value.struct_size = static_cast<uint32_t>(std::min<std::size_t>(callerSize, sizeof value));
    std::memcpy(out, &value, value.struct_size);
}

inline char *copyString(const std::string &s)
{
    char *copy = static_cast<char *>(std::malloc(s.size() + 1));
    if (!copy)
        throw std::bad_alloc();
    std::memcpy(copy, s.c_str(), s.size() + 1);
    return copy;
}

inline virtkit_domain_ident toC(const DomainIdent &d)
{
    if (d.name.size() >= VIRTKIT_NAME_MAX || d.uuid.size() != VIRTKIT_UUID_STRING_LEN - 1)
        throw Error(VIRTKIT_ERR_INTERNAL, "driver returned domain '" + d.name + "' with a name of " +
                                              std::to_string(d.name.size()) + " bytes or a UUID of " +
                                              std::to_string(d.uuid.size()) + " characters (need < " +
                                              std::to_string(VIRTKIT_NAME_MAX) + " and 36)");
    virtkit_domain_ident c{};
    c.struct_size = sizeof c;
    c.id = d.id;
    std::memcpy(c.name, d.name.c_str(), d.name.size() + 1);
    std::memcpy(c.uuid, d.uuid.c_str(), d.uuid.size() + 1);
    return c;
}

inline virtkit_domain_info toC(const DomainInfo &i)
{
    virtkit_domain_info c{};
    c.struct_size = sizeof c;
    c.state = i.state;
    c.reason = i.reason;
    c.persistent = i.persistent ? 1 : 0;
    c.max_mem_kib = i.maxMemKiB;
    c.memory_kib = i.memoryKiB;
    c.nr_vcpus = i.vcpus;
    c.cpu_time_ns = i.cpuTimeNs;
    return c;
}

inline void require(bool ok, const char *what)
{
    if (!ok)
        throw Error(VIRTKIT_ERR_INVALID_ARG, what);
}

template <class D>
struct Plugin {
    using C = typename decltype(std::declval<D &>().open(std::string(), uint32_t{0}))::element_type;
    static_assert(std::is_base_of_v<Driver, D>, "the plugin class must derive from virtkit::sdk::Driver");
    static_assert(std::is_constructible_v<D, Host>, "the driver class must be constructible from virtkit::sdk::Host");
    static_assert(std::is_base_of_v<Connection, C>,
                  "Driver::open must return std::unique_ptr<X> where X derives from virtkit::sdk::Connection");

    // The plugin's one piece of process-wide state: init/shutdown are plain C
    // functions without a context argument, so the driver object lives here.
    struct State {
        Host host;
        std::unique_ptr<D> driver;
    };
    // Deliberately never destroyed: the host calls shutdown() from its own
    // exit handlers, which may run after this library's static destructors;
    // a static State would be gone by then.  shutdown() frees the driver.
    static State &state()
    {
        static State *const s = new State();
        return *s;
    }

    static C &self(virtkit_conn *conn)
    {
        require(conn && conn->impl, "operation called without an open connection");
        return static_cast<C &>(*conn->impl);
    }
    static std::string arg(const char *s, const char *what)
    {
        require(s != nullptr, what);
        return s;
    }

    static virtkit_plugin_descriptor descriptor(const char *id, const char *version)
    {
        virtkit_plugin_descriptor d{};
        d.magic = VIRTKIT_PLUGIN_MAGIC;
        d.struct_size = sizeof d;
        d.abi_major = VIRTKIT_PLUGIN_ABI_MAJOR;
        d.abi_minor = VIRTKIT_PLUGIN_ABI_MINOR;
        d.id = id;
        d.version = version;
        d.init = &init;
        d.shutdown = &shutdown;
        return d;
    }

    static int32_t init(const virtkit_host_services *host, const virtkit_driver_ops **ops, virtkit_error *err)
    {
        return guard(err, "init", [&] {
            require(host && ops, "init needs the host services and an ops pointer");
            if (host->abi_major != VIRTKIT_PLUGIN_ABI_MAJOR)
                throw Error(VIRTKIT_ERR_ABI, "plugin built for ABI " + std::to_string(VIRTKIT_PLUGIN_ABI_MAJOR) +
                                                 "." + std::to_string(VIRTKIT_PLUGIN_ABI_MINOR) +
                                                 " cannot run on a host with ABI " +
                                                 std::to_string(host->abi_major) + "." +
                                                 std::to_string(host->abi_minor));
            State &s = state();
            s.host = Host(*host);
            s.driver = std::make_unique<D>(s.host);
            *ops = &table();
        });
    }

    static void shutdown() noexcept
    {
        try {
            state().driver.reset();
        } catch (...) {
            // shutdown has no error channel; the process is exiting anyway.
        }
    }

    static void freeString(char *s) { std::free(s); }
    static void freeList(virtkit_domain_ident *list, size_t) { std::free(list); }

    static int32_t connectOpen(const char *uri, uint32_t flags, virtkit_conn **out, virtkit_error *err)
    {
        return guard(err, "connect_open", [&] {
            require(uri && out, "connect_open needs a URI and an out pointer");
            State &s = state();
            if (!s.driver)
                throw Error(VIRTKIT_ERR_INTERNAL, "connect_open called before init succeeded");
            auto handle = std::make_unique<virtkit_conn>();
            handle->impl = s.driver->open(uri, flags);
            if (!handle->impl)
                throw Error(VIRTKIT_ERR_NO_CONNECT, std::string("driver opened no connection for ") + uri);
            handle->impl->host_ = s.host;
            handle->impl->handle_ = handle.get();
            *out = handle.release();
        });
    }

    static int32_t connectClose(virtkit_conn *conn, virtkit_error *err)
    {
        return guard(err, "connect_close", [&] {
            require(conn != nullptr, "connect_close needs a connection");
            std::unique_ptr<virtkit_conn> owned(conn);
        });
    }

    static int32_t capabilities(virtkit_conn *c, char **out, virtkit_error *err)
    {
        return guard(err, "connect_get_capabilities", [&] {
            require(out != nullptr, "connect_get_capabilities needs an out pointer");
            *out = copyString(self(c).capabilities());
        });
    }
    static int32_t hostname(virtkit_conn *c, char **out, virtkit_error *err)
    {
        return guard(err, "connect_get_hostname", [&] {
            require(out != nullptr, "connect_get_hostname needs an out pointer");
            *out = copyString(self(c).hostname());
        });
    }
    static int32_t version(virtkit_conn *c, uint64_t *out, virtkit_error *err)
    {
        return guard(err, "connect_get_version", [&] {
            require(out != nullptr, "connect_get_version needs an out pointer");
            *out = self(c).hypervisorVersion();
        });
    }

    static int32_t lookupByName(virtkit_conn *c, const char *name, virtkit_domain_ident *out, virtkit_error *err)
    {
        return guard(err, "domain_lookup_by_name", [&] {
            require(out != nullptr, "domain_lookup_by_name needs an out struct");
            writeOut(out, toC(self(c).lookupByName(arg(name, "domain_lookup_by_name needs a name"))));
        });
    }
    static int32_t lookupByUuid(virtkit_conn *c, const char *uuid, virtkit_domain_ident *out, virtkit_error *err)
    {
        return guard(err, "domain_lookup_by_uuid", [&] {
            require(out != nullptr, "domain_lookup_by_uuid needs an out struct");
            writeOut(out, toC(self(c).lookupByUuid(arg(uuid, "domain_lookup_by_uuid needs a UUID"))));
        });
    }
    static int32_t lookupById(virtkit_conn *c, int32_t id, virtkit_domain_ident *out, virtkit_error *err)
    {
        return guard(err, "domain_lookup_by_id", [&] {
            require(out != nullptr, "domain_lookup_by_id needs an out struct");
            writeOut(out, toC(self(c).lookupById(id)));
        });
    }
    static int32_t list(virtkit_conn *c, uint32_t flags, virtkit_domain_ident **out, size_t *count,
                        virtkit_error *err)
    {
        return guard(err, "domain_list", [&] {
            require(out && count, "domain_list needs out pointers");
            const std::vector<DomainIdent> domains = self(c).listDomains(flags);
            std::vector<virtkit_domain_ident> converted;
            converted.reserve(domains.size());
            for (const DomainIdent &d : domains)
                converted.push_back(toC(d));
            auto *array = static_cast<virtkit_domain_ident *>(
                std::calloc(std::max<std::size_t>(converted.size(), 1), sizeof(virtkit_domain_ident)));
            if (!array)
                throw std::bad_alloc();
            std::copy(converted.begin(), converted.end(), array);
            *out = array;
            *count = converted.size();
        });
    }

    static int32_t defineXml(virtkit_conn *c, const char *xml, uint32_t flags, virtkit_domain_ident *out,
                             virtkit_error *err)
    {
        return guard(err, "domain_define_xml", [&] {
            require(out != nullptr, "domain_define_xml needs an out struct");
            writeOut(out, toC(self(c).defineXml(arg(xml, "domain_define_xml needs XML"), flags)));
        });
    }
    static int32_t createXml(virtkit_conn *c, const char *xml, uint32_t flags, virtkit_domain_ident *out,
                             virtkit_error *err)
    {
        return guard(err, "domain_create_xml", [&] {
            require(out != nullptr, "domain_create_xml needs an out struct");
            writeOut(out, toC(self(c).createXml(arg(xml, "domain_create_xml needs XML"), flags)));
        });
    }

    // One thunk shape each for "uuid (+ flags) -> nothing" operations; the
    // call goes through the virtual, so it reaches the driver's override.
    template <void (Connection::*Op)(const std::string &, uint32_t), const char *Name>
    static int32_t uuidFlagsOp(virtkit_conn *c, const char *uuid, uint32_t flags, virtkit_error *err)
    {
        return guard(err, Name, [&] { (self(c).*Op)(arg(uuid, "a domain operation needs a UUID"), flags); });
    }
    template <void (Connection::*Op)(const std::string &), const char *Name>
    static int32_t uuidOp(virtkit_conn *c, const char *uuid, virtkit_error *err)
    {
        return guard(err, Name, [&] { (self(c).*Op)(arg(uuid, "a domain operation needs a UUID")); });
    }
    static constexpr char kUndefine[] = "domain_undefine";
    static constexpr char kStart[] = "domain_start";
    static constexpr char kShutdown[] = "domain_shutdown";
    static constexpr char kReboot[] = "domain_reboot";
    static constexpr char kDestroy[] = "domain_destroy";
    static constexpr char kSuspend[] = "domain_suspend";
    static constexpr char kResume[] = "domain_resume";

    static int32_t getXml(virtkit_conn *c, const char *uuid, uint32_t flags, char **out, virtkit_error *err)
    {
        return guard(err, "domain_get_xml", [&] {
            require(out != nullptr, "domain_get_xml needs an out pointer");
            *out = copyString(self(c).domainXml(arg(uuid, "domain_get_xml needs a UUID"), flags));
        });
    }
    static int32_t getInfo(virtkit_conn *c, const char *uuid, virtkit_domain_info *out, virtkit_error *err)
    {
        return guard(err, "domain_get_info", [&] {
            require(out != nullptr, "domain_get_info needs an out struct");
            writeOut(out, toC(self(c).domainInfo(arg(uuid, "domain_get_info needs a UUID"))));
        });
    }
    static int32_t getAutostart(virtkit_conn *c, const char *uuid, int32_t *out, virtkit_error *err)
    {
        return guard(err, "domain_get_autostart", [&] {
            require(out != nullptr, "domain_get_autostart needs an out pointer");
            *out = self(c).domainAutostart(arg(uuid, "domain_get_autostart needs a UUID")) ? 1 : 0;
        });
    }
    static int32_t setAutostart(virtkit_conn *c, const char *uuid, int32_t on, virtkit_error *err)
    {
        return guard(err, "domain_set_autostart", [&] {
            self(c).domainSetAutostart(arg(uuid, "domain_set_autostart needs a UUID"), on != 0);
        });
    }
    static int32_t fromNative(virtkit_conn *c, const char *format, const char *native, char **out,
                              virtkit_error *err)
    {
        return guard(err, "domain_xml_from_native", [&] {
            require(out != nullptr, "domain_xml_from_native needs an out pointer");
            *out = copyString(self(c).domainXmlFromNative(arg(format, "domain_xml_from_native needs a format"),
                                                          arg(native, "domain_xml_from_native needs input")));
        });
    }
    static int32_t toNative(virtkit_conn *c, const char *format, const char *xml, char **out, virtkit_error *err)
    {
        return guard(err, "domain_xml_to_native", [&] {
            require(out != nullptr, "domain_xml_to_native needs an out pointer");
            *out = copyString(self(c).domainXmlToNative(arg(format, "domain_xml_to_native needs a format"),
                                                        arg(xml, "domain_xml_to_native needs XML")));
        });
    }

    // ABI 1.1.  Optional text arguments arrive as NULL; the C++ side sees "".
    static std::string optional(const char *s) { return s ? std::string(s) : std::string(); }
    static void setOptional(char **out, const std::string &s)
    {
        if (out)
            *out = s.empty() ? nullptr : copyString(s);
    }
    static int32_t monitorCommand(virtkit_conn *c, const char *uuid, const char *command, uint32_t flags,
                                  char **out, virtkit_error *err)
    {
        return guard(err, "domain_monitor_command", [&] {
            require(out != nullptr, "domain_monitor_command needs an out pointer");
            *out = copyString(self(c).monitorCommand(arg(uuid, "domain_monitor_command needs a UUID"),
                                                     arg(command, "domain_monitor_command needs a command"), flags));
        });
    }
    static int32_t domainCapabilities(virtkit_conn *c, const char *emulator, const char *arch, const char *machine,
                                      const char *virttype, uint32_t, char **out, virtkit_error *err)
    {
        return guard(err, "connect_get_domain_capabilities", [&] {
            require(out != nullptr, "connect_get_domain_capabilities needs an out pointer");
            *out = copyString(self(c).domainCapabilities(optional(emulator), optional(arch), optional(machine),
                                                         optional(virttype)));
        });
    }
    static int32_t jobStats(virtkit_conn *c, const char *uuid, uint32_t flags, char **out, virtkit_error *err)
    {
        return guard(err, "domain_get_job_stats", [&] {
            require(out != nullptr, "domain_get_job_stats needs an out pointer");
            *out = copyString(self(c).jobStats(arg(uuid, "domain_get_job_stats needs a UUID"), flags));
        });
    }
    static constexpr char kAbortJob[] = "domain_abort_job";
    static constexpr char kStartPostcopy[] = "domain_migrate_start_postcopy";
    static int32_t migrateBegin(virtkit_conn *c, const char *uuid, const char *params, uint32_t flags, char **xml,
                                char **cookie, virtkit_error *err)
    {
        return guard(err, "domain_migrate_begin", [&] {
            require(xml != nullptr, "domain_migrate_begin needs an out pointer");
            const MigrationStep step = self(c).migrateBegin(arg(uuid, "domain_migrate_begin needs a UUID"),
                                                            optional(params), flags);
            *xml = copyString(step.xml);
            setOptional(cookie, step.cookie);
        });
    }
    static int32_t migratePrepare(virtkit_conn *c, const char *params, const char *cookieIn, uint32_t flags,
                                  char **uri, char **cookie, virtkit_error *err)
    {
        return guard(err, "domain_migrate_prepare", [&] {
            const MigrationStep step = self(c).migratePrepare(optional(params), optional(cookieIn), flags);
            setOptional(uri, step.uri);
            setOptional(cookie, step.cookie);
        });
    }
    static int32_t migratePerform(virtkit_conn *c, const char *uuid, const char *params, const char *cookieIn,
                                  uint32_t flags, char **cookie, virtkit_error *err)
    {
        return guard(err, "domain_migrate_perform", [&] {
            const MigrationStep step = self(c).migratePerform(arg(uuid, "domain_migrate_perform needs a UUID"),
                                                              optional(params), optional(cookieIn), flags);
            setOptional(cookie, step.cookie);
        });
    }
    static int32_t migrateFinish(virtkit_conn *c, const char *params, const char *cookieIn, uint32_t flags,
                                 int32_t cancelled, virtkit_domain_ident *out, char **cookie, virtkit_error *err)
    {
        return guard(err, "domain_migrate_finish", [&] {
            const MigrationStep step =
                self(c).migrateFinish(optional(params), optional(cookieIn), flags, cancelled != 0);
            if (out)
                writeOut(out, toC(step.domain));
            setOptional(cookie, step.cookie);
        });
    }
    static int32_t migrateConfirm(virtkit_conn *c, const char *uuid, const char *params, const char *cookieIn,
                                  uint32_t flags, int32_t cancelled, virtkit_error *err)
    {
        return guard(err, "domain_migrate_confirm", [&] {
            self(c).migrateConfirm(arg(uuid, "domain_migrate_confirm needs a UUID"), optional(params),
                                   optional(cookieIn), flags, cancelled != 0);
        });
    }
    static int32_t setMaxSpeed(virtkit_conn *c, const char *uuid, uint64_t bandwidth, uint32_t flags,
                               virtkit_error *err)
    {
        return guard(err, "domain_migrate_set_max_speed", [&] {
            self(c).migrateSetMaxSpeed(arg(uuid, "domain_migrate_set_max_speed needs a UUID"), bandwidth, flags);
        });
    }
    static int32_t getMaxSpeed(virtkit_conn *c, const char *uuid, uint32_t flags, uint64_t *out, virtkit_error *err)
    {
        return guard(err, "domain_migrate_get_max_speed", [&] {
            require(out != nullptr, "domain_migrate_get_max_speed needs an out pointer");
            *out = self(c).migrateGetMaxSpeed(arg(uuid, "domain_migrate_get_max_speed needs a UUID"), flags);
        });
    }

    // Only what C overrides gets a slot; the rest stays NULL = unsupported.
    static virtkit_driver_ops makeTable()
    {
        virtkit_driver_ops t{};
        t.struct_size = sizeof t;
        t.free_string = &freeString;
        t.free_domain_list = &freeList;
        t.connect_open = &connectOpen;
        t.connect_close = &connectClose;
#define VIRTKIT_SDK_SLOT(slot, member, thunk)      \
    if constexpr (VIRTKIT_SDK_OVERRIDES(C, member)) \
        t.slot = thunk;
        VIRTKIT_SDK_SLOT(connect_get_capabilities, capabilities, &capabilities)
        VIRTKIT_SDK_SLOT(connect_get_hostname, hostname, &hostname)
        VIRTKIT_SDK_SLOT(connect_get_version, hypervisorVersion, &version)
        VIRTKIT_SDK_SLOT(domain_lookup_by_name, lookupByName, &lookupByName)
        VIRTKIT_SDK_SLOT(domain_lookup_by_uuid, lookupByUuid, &lookupByUuid)
        VIRTKIT_SDK_SLOT(domain_lookup_by_id, lookupById, &lookupById)
        VIRTKIT_SDK_SLOT(domain_list, listDomains, &list)
        VIRTKIT_SDK_SLOT(domain_define_xml, defineXml, &defineXml)
        VIRTKIT_SDK_SLOT(domain_undefine, domainUndefine, (&uuidFlagsOp<&Connection::domainUndefine, kUndefine>))
        VIRTKIT_SDK_SLOT(domain_create_xml, createXml, &createXml)
        VIRTKIT_SDK_SLOT(domain_start, domainStart, (&uuidFlagsOp<&Connection::domainStart, kStart>))
        VIRTKIT_SDK_SLOT(domain_shutdown, domainShutdown, (&uuidFlagsOp<&Connection::domainShutdown, kShutdown>))
        VIRTKIT_SDK_SLOT(domain_reboot, domainReboot, (&uuidFlagsOp<&Connection::domainReboot, kReboot>))
        VIRTKIT_SDK_SLOT(domain_destroy, domainDestroy, (&uuidFlagsOp<&Connection::domainDestroy, kDestroy>))
        VIRTKIT_SDK_SLOT(domain_suspend, domainSuspend, (&uuidOp<&Connection::domainSuspend, kSuspend>))
        VIRTKIT_SDK_SLOT(domain_resume, domainResume, (&uuidOp<&Connection::domainResume, kResume>))
        VIRTKIT_SDK_SLOT(domain_get_xml, domainXml, &getXml)
        VIRTKIT_SDK_SLOT(domain_get_info, domainInfo, &getInfo)
        VIRTKIT_SDK_SLOT(domain_get_autostart, domainAutostart, &getAutostart)
        VIRTKIT_SDK_SLOT(domain_set_autostart, domainSetAutostart, &setAutostart)
        VIRTKIT_SDK_SLOT(domain_xml_from_native, domainXmlFromNative, &fromNative)
        VIRTKIT_SDK_SLOT(domain_xml_to_native, domainXmlToNative, &toNative)
        VIRTKIT_SDK_SLOT(domain_monitor_command, monitorCommand, &monitorCommand)
        VIRTKIT_SDK_SLOT(connect_get_domain_capabilities, domainCapabilities, &domainCapabilities)
        VIRTKIT_SDK_SLOT(domain_get_job_stats, jobStats, &jobStats)
        VIRTKIT_SDK_SLOT(domain_abort_job, abortJob, (&uuidFlagsOp<&Connection::abortJob, kAbortJob>))
        VIRTKIT_SDK_SLOT(domain_migrate_begin, migrateBegin, &migrateBegin)
        VIRTKIT_SDK_SLOT(domain_migrate_prepare, migratePrepare, &migratePrepare)
        VIRTKIT_SDK_SLOT(domain_migrate_perform, migratePerform, &migratePerform)
        VIRTKIT_SDK_SLOT(domain_migrate_finish, migrateFinish, &migrateFinish)
        VIRTKIT_SDK_SLOT(domain_migrate_confirm, migrateConfirm, &migrateConfirm)
        VIRTKIT_SDK_SLOT(domain_migrate_start_postcopy, migrateStartPostcopy,
                         (&uuidFlagsOp<&Connection::migrateStartPostcopy, kStartPostcopy>))
        VIRTKIT_SDK_SLOT(domain_migrate_set_max_speed, migrateSetMaxSpeed, &setMaxSpeed)
        VIRTKIT_SDK_SLOT(domain_migrate_get_max_speed, migrateGetMaxSpeed, &getMaxSpeed)
#undef VIRTKIT_SDK_SLOT
        return t;
    }
    static const virtkit_driver_ops &table()
    {
        static const virtkit_driver_ops ops = makeTable();
        return ops;
    }
};

}  // namespace virtkit::sdk::detail
