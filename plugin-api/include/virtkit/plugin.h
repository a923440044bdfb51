/*
 * virtkit plugin ABI — the only contract between the virtkit core and a
 * hypervisor driver plugin.  Pure C (C99 and C++17 compile it), no STL, no
 * exceptions, no C++ types.
 *
 * VERSIONING
 *   VIRTKIT_PLUGIN_ABI_MAJOR changes only when an existing struct member, slot
 *   or meaning changes; a plugin of another major is refused.  The MINOR grows
 *   when a slot is appended at the end of a table (marked "growth point").
 *   Every boundary struct starts with `struct_size`; the receiver copies
 *   min(struct_size, sizeof(its own struct)) into a zeroed struct, so a
 *   missing (newer) slot reads as NULL = "not supported".  Each slot is
 *   annotated with the ABI minor it appeared in.  docs/abi.md has the log.
 *
 * LOADING
 *   A plugin is a shared object exporting exactly one symbol,
 *   VIRTKIT_PLUGIN_ENTRY_SYMBOL, a function returning a pointer to a static
 *   const virtkit_plugin_descriptor.  The host checks magic, struct size,
 *   ABI major and id against the plugin's YAML manifest, then calls init()
 *   once with its services table; init() answers with the plugin's
 *   operations table.  Plugins are never unloaded; shutdown() is called once
 *   at process exit.
 *
 * OWNERSHIP
 *   - Strings passed *in* (const char *) are owned by the caller and valid
 *     only for the duration of the call; copy what you keep.
 *   - Strings and lists returned *out* through `char **` / list pointers are
 *     allocated by the plugin and released by the host through the plugin's
 *     own free_string / free_domain_list slots.  The host never calls free()
 *     on plugin memory, and vice versa.
 *   - virtkit_conn is opaque to the host: created by connect_open, released by
 *     connect_close, never used after that.
 *
 * ERRORS
 *   Every operation returns VIRTKIT_OK (0) or a virtkit_error_code.  On
 *   failure the plugin fills the caller-provided virtkit_error (code and a
 *   NUL-terminated UTF-8 sentence naming what was wrong).  A NULL slot means
 *   "not supported": the core reports it, the plugin needs no stub.
 *
 * THREADING
 *   The host may call operations on different connections concurrently, and
 *   on one connection from several threads; a plugin serialises what it must.
 *   Host services (log, emit_event, config_get) may be called from any plugin
 *   thread at any time between init and shutdown.  emit_event copies the
 *   event and returns at once; the host never calls back into the plugin from
 *   inside a service call.
 *
 * DOMAIN IDENTITY
 *   Domains cross the boundary as XML text (libvirt's domain XML) and are
 *   addressed by their canonical UUID string ("xxxxxxxx-xxxx-...", 36 chars).
 */
#ifndef VIRTKIT_PLUGIN_H
#define VIRTKIT_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VIRTKIT_PLUGIN_ABI_MAJOR 1
#define VIRTKIT_PLUGIN_ABI_MINOR 1
#define VIRTKIT_PLUGIN_MAGIC 0x564B5450u /* "VKTP" */
#define VIRTKIT_PLUGIN_ENTRY_SYMBOL "virtkit_plugin_entry"

#if defined(_WIN32)
#define VIRTKIT_PLUGIN_EXPORT __declspec(dllexport)
#else
#define VIRTKIT_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* ---- errors ------------------------------------------------------------ */

typedef enum virtkit_error_code {
    VIRTKIT_OK = 0,
    VIRTKIT_ERR_INTERNAL = 1,          /* bug or unexpected state */
    VIRTKIT_ERR_INVALID_ARG = 2,       /* bad argument or flags */
    VIRTKIT_ERR_NO_SUPPORT = 3,        /* operation/format not supported */
    VIRTKIT_ERR_NO_DOMAIN = 4,         /* no such domain */
    VIRTKIT_ERR_OPERATION_INVALID = 5, /* not valid in the domain's state */
    VIRTKIT_ERR_OPERATION_FAILED = 6,  /* tried, hypervisor said no */
    VIRTKIT_ERR_XML = 7,               /* malformed or unacceptable XML */
    VIRTKIT_ERR_DOMAIN_EXISTS = 8,     /* name or UUID already taken */
    VIRTKIT_ERR_NO_CONNECT = 9,        /* cannot open / lost connection */
    VIRTKIT_ERR_CONFIG = 10,           /* bad configuration */
    VIRTKIT_ERR_TIMEOUT = 11,
    VIRTKIT_ERR_SYSTEM = 12,           /* OS call failed (errno in message) */
    VIRTKIT_ERR_AUTH = 13,
    VIRTKIT_ERR_ABI = 14               /* plugin/host version mismatch */
} virtkit_error_code;

#define VIRTKIT_ERROR_MESSAGE_MAX 1024

typedef struct virtkit_error {
    uint32_t struct_size; /* set by the caller */
    int32_t code;         /* virtkit_error_code */
    char message[VIRTKIT_ERROR_MESSAGE_MAX];
} virtkit_error;

/* ---- domain values ----------------------------------------------------- */

/* libvirt's virDomainState values. */
typedef enum virtkit_domain_state {
    VIRTKIT_DOMAIN_NOSTATE = 0,
    VIRTKIT_DOMAIN_RUNNING = 1,
    VIRTKIT_DOMAIN_BLOCKED = 2,
    VIRTKIT_DOMAIN_PAUSED = 3,
    VIRTKIT_DOMAIN_SHUTDOWN = 4, /* being shut down */
    VIRTKIT_DOMAIN_SHUTOFF = 5,
    VIRTKIT_DOMAIN_CRASHED = 6,
    VIRTKIT_DOMAIN_PMSUSPENDED = 7
} virtkit_domain_state;

#define VIRTKIT_NAME_MAX 256 /* including NUL; longer names are refused */
#define VIRTKIT_UUID_STRING_LEN 37

typedef struct virtkit_domain_ident {
    uint32_t struct_size;
    int32_t id;   /* -1 when not running */
    char name[VIRTKIT_NAME_MAX];
    char uuid[VIRTKIT_UUID_STRING_LEN];
} virtkit_domain_ident;

typedef struct virtkit_domain_info {
    uint32_t struct_size;
    int32_t state;       /* virtkit_domain_state */
    int32_t reason;      /* libvirt's per-state reason enum value */
    int32_t persistent;  /* 1 if defined, 0 if transient */
    uint64_t max_mem_kib;
    uint64_t memory_kib;
    uint32_t nr_vcpus;
    uint64_t cpu_time_ns;
} virtkit_domain_info;

/* domain_list flags */
#define VIRTKIT_LIST_ACTIVE (1u << 0)
#define VIRTKIT_LIST_INACTIVE (1u << 1)

/* domain_shutdown / domain_reboot flags (ABI 1.1; libvirt's
 * VIR_DOMAIN_SHUTDOWN_* / VIR_DOMAIN_REBOOT_* values).  0 = the driver's default. */
#define VIRTKIT_SHUTDOWN_ACPI_POWER_BTN (1u << 0)
#define VIRTKIT_SHUTDOWN_GUEST_AGENT (1u << 1)
#define VIRTKIT_SHUTDOWN_INITCTL (1u << 2)
#define VIRTKIT_SHUTDOWN_SIGNAL (1u << 3)
#define VIRTKIT_SHUTDOWN_PARAVIRT (1u << 4)
/* domain_destroy flags (libvirt's VIR_DOMAIN_DESTROY_GRACEFUL) */
#define VIRTKIT_DESTROY_GRACEFUL (1u << 0)

/* domain_monitor_command flags (ABI 1.1) */
#define VIRTKIT_MONITOR_HMP (1u << 0) /* the command is human-monitor text */

/* domain_get_job_stats flags (ABI 1.1; libvirt's VIR_DOMAIN_JOB_STATS_COMPLETED) */
#define VIRTKIT_JOB_STATS_COMPLETED (1u << 0)

/* domain_abort_job flags (ABI 1.1; libvirt's VIR_DOMAIN_ABORT_JOB_POSTCOPY) */
#define VIRTKIT_ABORT_JOB_POSTCOPY (1u << 1) /* pause a post-copy migration */

/* domain_migrate_* flags (ABI 1.1): libvirt's VIR_MIGRATE_* values. */
#define VIRTKIT_MIGRATE_LIVE (1u << 0)
#define VIRTKIT_MIGRATE_PEER2PEER (1u << 1)
#define VIRTKIT_MIGRATE_TUNNELLED (1u << 2)
#define VIRTKIT_MIGRATE_PERSIST_DEST (1u << 3)
#define VIRTKIT_MIGRATE_UNDEFINE_SOURCE (1u << 4)
#define VIRTKIT_MIGRATE_PAUSED (1u << 5)
#define VIRTKIT_MIGRATE_NON_SHARED_DISK (1u << 6)
#define VIRTKIT_MIGRATE_NON_SHARED_INC (1u << 7)
#define VIRTKIT_MIGRATE_CHANGE_PROTECTION (1u << 8)
#define VIRTKIT_MIGRATE_UNSAFE (1u << 9)
#define VIRTKIT_MIGRATE_OFFLINE (1u << 10)
#define VIRTKIT_MIGRATE_COMPRESSED (1u << 11)
#define VIRTKIT_MIGRATE_ABORT_ON_ERROR (1u << 12)
#define VIRTKIT_MIGRATE_AUTO_CONVERGE (1u << 13)
#define VIRTKIT_MIGRATE_RDMA_PIN_ALL (1u << 14)
#define VIRTKIT_MIGRATE_POSTCOPY (1u << 15)
#define VIRTKIT_MIGRATE_TLS (1u << 16)
#define VIRTKIT_MIGRATE_PARALLEL (1u << 17)
#define VIRTKIT_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES (1u << 18)
#define VIRTKIT_MIGRATE_POSTCOPY_RESUME (1u << 19)
#define VIRTKIT_MIGRATE_ZEROCOPY (1u << 20)

/* domain_migrate_set/get_max_speed flags (ABI 1.1) */
#define VIRTKIT_MIGRATE_MAX_SPEED_POSTCOPY (1u << 0)

/* ---- events ------------------------------------------------------------ */

typedef enum virtkit_event_kind {
    VIRTKIT_EVENT_LIFECYCLE = 0,
    VIRTKIT_EVENT_JOB = 1,       /* ABI 1.0, payload_json carries the job */
    VIRTKIT_EVENT_MIGRATION = 2, /* ABI 1.0, payload_json carries the status */
    VIRTKIT_EVENT_DEVICE = 3
} virtkit_event_kind;

/* libvirt's virDomainEventType values; `detail` uses libvirt's
 * per-type detail enums (e.g. STARTED_BOOTED = 0, STOPPED_DESTROYED = 1). */
typedef enum virtkit_lifecycle_event {
    VIRTKIT_EVENT_DEFINED = 0,
    VIRTKIT_EVENT_UNDEFINED = 1,
    VIRTKIT_EVENT_STARTED = 2,
    VIRTKIT_EVENT_SUSPENDED = 3,
    VIRTKIT_EVENT_RESUMED = 4,
    VIRTKIT_EVENT_STOPPED = 5,
    VIRTKIT_EVENT_SHUTDOWN = 6,
    VIRTKIT_EVENT_PMSUSPENDED = 7,
    VIRTKIT_EVENT_CRASHED = 8
} virtkit_lifecycle_event;

struct virtkit_conn; /* opaque, plugin-owned */
typedef struct virtkit_conn virtkit_conn;

typedef struct virtkit_event {
    uint32_t struct_size;
    int32_t kind;               /* virtkit_event_kind */
    virtkit_conn *conn;         /* the connection it concerns, or NULL */
    const char *domain_name;    /* may be NULL for non-domain events */
    const char *domain_uuid;    /* may be NULL */
    int32_t type;               /* for LIFECYCLE: virtkit_lifecycle_event */
    int32_t detail;             /* libvirt detail/reason value */
    const char *payload_json;   /* optional extra data, JSON object, or NULL */
} virtkit_event;

/* ---- host services (host → plugin) ------------------------------------- */

typedef enum virtkit_log_level {
    VIRTKIT_LOG_TRACE = 0,
    VIRTKIT_LOG_DEBUG = 1,
    VIRTKIT_LOG_INFO = 2,
    VIRTKIT_LOG_WARN = 3,
    VIRTKIT_LOG_ERROR = 4
} virtkit_log_level;

typedef struct virtkit_host_services {
    uint32_t struct_size;
    uint32_t abi_major; /* the host's VIRTKIT_PLUGIN_ABI_MAJOR */
    uint32_t abi_minor; /* the host's VIRTKIT_PLUGIN_ABI_MINOR */
    void *ctx;          /* pass back as the first argument of every service */

    /* ABI 1.0: log a message under the plugin's own logger name. */
    void (*log)(void *ctx, int32_t level, const char *message);
    /* ABI 1.0: queue an event for the bus; copies everything, returns at once. */
    int32_t (*emit_event)(void *ctx, const virtkit_event *event);
    /* ABI 1.0: look up `key` (dotted path, e.g. "state_dir") in the plugin's
     * own config section.  Copies the scalar's text, NUL-terminated, into buf.
     * Returns 1 if found and it fit, 0 if absent, -1 if buf is too small. */
    int32_t (*config_get)(void *ctx, const char *key, char *buf, size_t buflen);

    /* ---- growth point: new services are appended here ---- */
} virtkit_host_services;

/* ---- operations (plugin → host) ---------------------------------------- */

typedef struct virtkit_driver_ops {
    uint32_t struct_size;

    /* ABI 1.0: memory release for everything returned through out-params. */
    void (*free_string)(char *s);
    void (*free_domain_list)(virtkit_domain_ident *list, size_t count);

    /* ABI 1.0: connection. `uri` is the full URI as the user gave it. */
    int32_t (*connect_open)(const char *uri, uint32_t flags, virtkit_conn **out, virtkit_error *err);
    int32_t (*connect_close)(virtkit_conn *conn, virtkit_error *err);
    int32_t (*connect_get_capabilities)(virtkit_conn *conn, char **xml_out, virtkit_error *err);
    int32_t (*connect_get_hostname)(virtkit_conn *conn, char **out, virtkit_error *err);
    /* hypervisor version as major*1000000 + minor*1000 + micro */
    int32_t (*connect_get_version)(virtkit_conn *conn, uint64_t *out, virtkit_error *err);

    /* ABI 1.0: lookup and listing. */
    int32_t (*domain_lookup_by_name)(virtkit_conn *conn, const char *name, virtkit_domain_ident *out,
                                     virtkit_error *err);
    int32_t (*domain_lookup_by_uuid)(virtkit_conn *conn, const char *uuid, virtkit_domain_ident *out,
                                     virtkit_error *err);
    int32_t (*domain_lookup_by_id)(virtkit_conn *conn, int32_t id, virtkit_domain_ident *out,
                                   virtkit_error *err);
    /* flags: VIRTKIT_LIST_ACTIVE | VIRTKIT_LIST_INACTIVE (0 means both).  Each
     * element's struct_size is the plugin's sizeof(virtkit_domain_ident): the
     * host steps through the array by it. */
    int32_t (*domain_list)(virtkit_conn *conn, uint32_t flags, virtkit_domain_ident **out,
                           size_t *count, virtkit_error *err);

    /* ABI 1.0: definition.  `xml` has passed the core's validation. */
    int32_t (*domain_define_xml)(virtkit_conn *conn, const char *xml, uint32_t flags,
                                 virtkit_domain_ident *out, virtkit_error *err);
    int32_t (*domain_undefine)(virtkit_conn *conn, const char *uuid, uint32_t flags, virtkit_error *err);
    /* transient: create and start in one step */
    int32_t (*domain_create_xml)(virtkit_conn *conn, const char *xml, uint32_t flags,
                                 virtkit_domain_ident *out, virtkit_error *err);

    /* ABI 1.0: lifecycle. */
    int32_t (*domain_start)(virtkit_conn *conn, const char *uuid, uint32_t flags, virtkit_error *err);
    int32_t (*domain_shutdown)(virtkit_conn *conn, const char *uuid, uint32_t flags, virtkit_error *err);
    int32_t (*domain_reboot)(virtkit_conn *conn, const char *uuid, uint32_t flags, virtkit_error *err);
    int32_t (*domain_destroy)(virtkit_conn *conn, const char *uuid, uint32_t flags, virtkit_error *err);
    int32_t (*domain_suspend)(virtkit_conn *conn, const char *uuid, virtkit_error *err);
    int32_t (*domain_resume)(virtkit_conn *conn, const char *uuid, virtkit_error *err);

    /* ABI 1.0: inspection. */
    int32_t (*domain_get_xml)(virtkit_conn *conn, const char *uuid, uint32_t flags, char **xml_out,
                              virtkit_error *err);
    int32_t (*domain_get_info)(virtkit_conn *conn, const char *uuid, virtkit_domain_info *out,
                               virtkit_error *err);
    int32_t (*domain_get_autostart)(virtkit_conn *conn, const char *uuid, int32_t *out, virtkit_error *err);
    int32_t (*domain_set_autostart)(virtkit_conn *conn, const char *uuid, int32_t autostart,
                                    virtkit_error *err);

    /* ABI 1.0: native config conversion, e.g. format "vmware-vmx". */
    int32_t (*domain_xml_from_native)(virtkit_conn *conn, const char *format, const char *native,
                                      char **xml_out, virtkit_error *err);
    int32_t (*domain_xml_to_native)(virtkit_conn *conn, const char *format, const char *xml,
                                    char **native_out, virtkit_error *err);

    /* ABI 1.1: hypervisor pass-through (virsh qemu-monitor-command); flags: VIRTKIT_MONITOR_HMP. */
    int32_t (*domain_monitor_command)(virtkit_conn *conn, const char *uuid, const char *command, uint32_t flags,
                                      char **reply_out, virtkit_error *err);
    /* ABI 1.1: libvirt's domain capabilities XML (virsh domcapabilities).  Each
     * of emulator, arch, machine and virttype may be NULL: the driver's default. */
    int32_t (*connect_get_domain_capabilities)(virtkit_conn *conn, const char *emulator, const char *arch,
                                               const char *machine, const char *virttype, uint32_t flags,
                                               char **xml_out, virtkit_error *err);

    /* ABI 1.1: jobs.  The current (or, with VIRTKIT_JOB_STATS_COMPLETED, the
     * last completed) job as a JSON object keyed by libvirt's VIR_DOMAIN_JOB_*
     * typed-parameter names ("type", "operation", "time_elapsed", "data_total",
     * "data_processed", "data_remaining", "memory_bps", "downtime", "errmsg",
     * ...) plus virtkit's "phase" and "status" strings. */
    int32_t (*domain_get_job_stats)(virtkit_conn *conn, const char *uuid, uint32_t flags, char **json_out,
                                    virtkit_error *err);
    /* flags: VIRTKIT_ABORT_JOB_POSTCOPY pauses a post-copy migration instead. */
    int32_t (*domain_abort_job)(virtkit_conn *conn, const char *uuid, uint32_t flags, virtkit_error *err);

    /* ABI 1.1: migration, libvirt's protocol v3 with parameters.  The core
     * drives the phases (Begin and Perform and Confirm on the source, Prepare
     * and Finish on the destination); no plugin talks to another host itself.
     * params_json: a JSON object keyed by libvirt's VIR_MIGRATE_PARAM_* names
     * ("uri", "dest_name", "dest_xml", "persistent_xml", "bandwidth",
     * "bandwidth.postcopy", "listen_address", ...).  flags: VIRTKIT_MIGRATE_*.
     * A cookie is opaque text from one phase (cookie_out) that the core hands
     * to the next phase (cookie_in); either may be NULL. */
    int32_t (*domain_migrate_begin)(virtkit_conn *conn, const char *uuid, const char *params_json, uint32_t flags,
                                    char **xml_out, char **cookie_out, virtkit_error *err);
    /* destination: the domain XML is params "dest_xml"; *uri_out is where the
     * source must send the stream. */
    int32_t (*domain_migrate_prepare)(virtkit_conn *conn, const char *params_json, const char *cookie_in,
                                      uint32_t flags, char **uri_out, char **cookie_out, virtkit_error *err);
    /* source: params "uri" is what prepare answered (or the user's migrateuri). */
    int32_t (*domain_migrate_perform)(virtkit_conn *conn, const char *uuid, const char *params_json,
                                      const char *cookie_in, uint32_t flags, char **cookie_out, virtkit_error *err);
    /* destination: params "dest_name" names the domain; cancelled = 1 when
     * perform failed, so the incoming domain is cleaned up. */
    int32_t (*domain_migrate_finish)(virtkit_conn *conn, const char *params_json, const char *cookie_in,
                                     uint32_t flags, int32_t cancelled, virtkit_domain_ident *out, char **cookie_out,
                                     virtkit_error *err);
    /* source: cancelled = 1 when finish failed: resume here unless post-copy began. */
    int32_t (*domain_migrate_confirm)(virtkit_conn *conn, const char *uuid, const char *params_json,
                                      const char *cookie_in, uint32_t flags, int32_t cancelled, virtkit_error *err);
    int32_t (*domain_migrate_start_postcopy)(virtkit_conn *conn, const char *uuid, uint32_t flags,
                                             virtkit_error *err);
    /* bandwidth in MiB/s; flags: VIRTKIT_MIGRATE_MAX_SPEED_POSTCOPY. */
    int32_t (*domain_migrate_set_max_speed)(virtkit_conn *conn, const char *uuid, uint64_t bandwidth,
                                            uint32_t flags, virtkit_error *err);
    int32_t (*domain_migrate_get_max_speed)(virtkit_conn *conn, const char *uuid, uint32_t flags, uint64_t *out,
                                            virtkit_error *err);

    /* ---- growth point: new slots (ABI 1.2+) are appended here ---- */
} virtkit_driver_ops;

/* ---- the descriptor ---------------------------------------------------- */

typedef struct virtkit_plugin_descriptor {
    uint32_t magic;       /* VIRTKIT_PLUGIN_MAGIC */
    uint32_t struct_size; /* sizeof(virtkit_plugin_descriptor) */
    uint32_t abi_major;   /* VIRTKIT_PLUGIN_ABI_MAJOR the plugin was built with */
    uint32_t abi_minor;   /* VIRTKIT_PLUGIN_ABI_MINOR the plugin was built with */
    const char *id;       /* must equal the manifest's id */
    const char *version;  /* the plugin's own version, e.g. "0.1.0" */

    /* Called once.  `host` stays valid until shutdown.  On success set *ops
     * to a table that stays valid until the process exits. */
    int32_t (*init)(const virtkit_host_services *host, const virtkit_driver_ops **ops, virtkit_error *err);
    /* Called once at process exit; may be NULL. */
    void (*shutdown)(void);
} virtkit_plugin_descriptor;

typedef const virtkit_plugin_descriptor *(*virtkit_plugin_entry_fn)(void);

/* A plugin defines exactly this function and exports nothing else:
 *   VIRTKIT_PLUGIN_EXPORT const virtkit_plugin_descriptor *virtkit_plugin_entry(void);
 */

/* Fill an error; returns code so `return virtkit_set_error(err, ...)` reads well. */
static inline int32_t virtkit_set_error(virtkit_error *err, int32_t code, const char *message)
{
    if (err) {
        size_t i = 0;
        err->code = code;
        if (message)
            for (; message[i] && i + 1 < VIRTKIT_ERROR_MESSAGE_MAX; i++)
                err->message[i] = message[i];
        err->message[i] = '\0';
    }
    return code;
}

#ifdef __cplusplus
}
#endif

#endif /* VIRTKIT_PLUGIN_H */
