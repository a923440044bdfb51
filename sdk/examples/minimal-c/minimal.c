/*
 * minimal:/// — a virtkit driver in plain C against the raw plugin ABI.
 * In-memory domains that can be defined, started, destroyed and undefined.
 * Everything else (capabilities, suspend, shutdown, ...) is left NULL in the
 * operations table, and the core reports it as "not supported".
 */
#include <virtkit/plugin.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DOMAINS 64

struct domain {
    int used;
    virtkit_domain_ident ident;
    int32_t state;  /* virtkit_domain_state */
    int32_t reason; /* libvirt's reason for that state */
    char *xml;
};

/* The driver's state.  A C plugin has no object to hang it on: init and the
 * operations are plain functions, so it lives here, guarded by `lock`. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct domain domains[MAX_DOMAINS];
static int32_t next_id = 1;
static unsigned uuid_counter;
static virtkit_host_services host; /* copied at init, zero beyond the host's size */

/* The connection handle; every connection sees the same domains. */
struct virtkit_conn {
    int open;
};

static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}

/* Text of the first <tag>...</tag>; the core has validated the document. */
static int element_text(const char *xml, const char *tag, char *out, size_t outlen)
{
    char open[32], close[32];
    const char *begin, *end;
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    begin = strstr(xml, open);
    if (!begin)
        return 0;
    begin += strlen(open);
    end = strstr(begin, close);
    if (!end || (size_t)(end - begin) >= outlen)
        return 0;
    memcpy(out, begin, (size_t)(end - begin));
    out[end - begin] = '\0';
    return 1;
}

static void emit(virtkit_conn *conn, const struct domain *d, int32_t type, int32_t detail)
{
    virtkit_event event;
    memset(&event, 0, sizeof event);
    event.struct_size = sizeof event;
    event.kind = VIRTKIT_EVENT_LIFECYCLE;
    event.conn = conn;
    event.domain_name = d->ident.name;
    event.domain_uuid = d->ident.uuid;
    event.type = type;
    event.detail = detail;
    if (host.emit_event)
        host.emit_event(host.ctx, &event); /* copies and returns at once: safe under our lock */
}

/* Copy an ident into the host's struct, never past the host's struct_size. */
static void write_ident(virtkit_domain_ident *out, const virtkit_domain_ident *in)
{
    size_t n = out->struct_size < sizeof *in ? out->struct_size : sizeof *in;
    uint32_t size = out->struct_size;
    memcpy(out, in, n);
    out->struct_size = size;
}

static struct domain *find_uuid(const char *uuid)
{
    int i;
    for (i = 0; i < MAX_DOMAINS; i++)
        if (domains[i].used && strcmp(domains[i].ident.uuid, uuid) == 0)
            return &domains[i];
    return NULL;
}

static struct domain *find_name(const char *name)
{
    int i;
    for (i = 0; i < MAX_DOMAINS; i++)
        if (domains[i].used && strcmp(domains[i].ident.name, name) == 0)
            return &domains[i];
    return NULL;
}

static int32_t no_domain(virtkit_error *err, const char *what, const char *value)
{
    char message[VIRTKIT_ERROR_MESSAGE_MAX];
    snprintf(message, sizeof message, "no domain with %s '%s'", what, value);
    return virtkit_set_error(err, VIRTKIT_ERR_NO_DOMAIN, message);
}

static void free_string(char *s) { free(s); }
static void free_domain_list(virtkit_domain_ident *list, size_t count) { (void)count; free(list); }

static int32_t connect_open(const char *uri, uint32_t flags, virtkit_conn **out, virtkit_error *err)
{
    (void)flags;
    if (strcmp(uri, "minimal:///") != 0)
        return virtkit_set_error(err, VIRTKIT_ERR_NO_CONNECT, "the minimal driver serves only minimal:///");
    *out = calloc(1, sizeof **out);
    if (!*out)
        return virtkit_set_error(err, VIRTKIT_ERR_SYSTEM, "out of memory opening minimal:///");
    (*out)->open = 1;
    return VIRTKIT_OK;
}

static int32_t connect_close(virtkit_conn *conn, virtkit_error *err)
{
    (void)err;
    free(conn);
    return VIRTKIT_OK;
}

static int32_t lookup_by_name(virtkit_conn *conn, const char *name, virtkit_domain_ident *out, virtkit_error *err)
{
    int32_t rc = VIRTKIT_OK;
    struct domain *d;
    (void)conn;
    pthread_mutex_lock(&lock);
    d = find_name(name);
    if (d)
        write_ident(out, &d->ident);
    else
        rc = no_domain(err, "name", name);
    pthread_mutex_unlock(&lock);
    return rc;
}

static int32_t lookup_by_uuid(virtkit_conn *conn, const char *uuid, virtkit_domain_ident *out, virtkit_error *err)
{
    int32_t rc = VIRTKIT_OK;
    struct domain *d;
    (void)conn;
    pthread_mutex_lock(&lock);
    d = find_uuid(uuid);
    if (d)
        write_ident(out, &d->ident);
    else
        rc = no_domain(err, "UUID", uuid);
    pthread_mutex_unlock(&lock);
    return rc;
}

static int32_t lookup_by_id(virtkit_conn *conn, int32_t id, virtkit_domain_ident *out, virtkit_error *err)
{
    char text[16];
    int i;
    (void)conn;
    pthread_mutex_lock(&lock);
    for (i = 0; i < MAX_DOMAINS; i++)
        if (id >= 0 && domains[i].used && domains[i].ident.id == id) {
            write_ident(out, &domains[i].ident);
            pthread_mutex_unlock(&lock);
            return VIRTKIT_OK;
        }
    pthread_mutex_unlock(&lock);
    snprintf(text, sizeof text, "%d", (int)id);
    return no_domain(err, "ID", text);
}

static int32_t list(virtkit_conn *conn, uint32_t flags, virtkit_domain_ident **out, size_t *count,
                    virtkit_error *err)
{
    int want_active = flags == 0 || (flags & VIRTKIT_LIST_ACTIVE);
    int want_inactive = flags == 0 || (flags & VIRTKIT_LIST_INACTIVE);
    size_t n = 0;
    int i;
    (void)conn;
    *out = calloc(MAX_DOMAINS, sizeof **out);
    if (!*out)
        return virtkit_set_error(err, VIRTKIT_ERR_SYSTEM, "out of memory listing domains");
    pthread_mutex_lock(&lock);
    for (i = 0; i < MAX_DOMAINS; i++)
        if (domains[i].used && (domains[i].ident.id >= 0 ? want_active : want_inactive))
            (*out)[n++] = domains[i].ident;
    pthread_mutex_unlock(&lock);
    *count = n;
    return VIRTKIT_OK;
}

static void make_uuid(char *out)
{
    unsigned bytes[4] = {0, 0, 0, 0};
    FILE *random = fopen("/dev/urandom", "rb");
    if (random) {
        if (fread(bytes, sizeof bytes, 1, random) != 1)
            bytes[0] = 0;
        fclose(random);
    }
    bytes[3] = uuid_counter++;
    snprintf(out, VIRTKIT_UUID_STRING_LEN, "%08x-%04x-4%03x-8%03x-%04x%08x", bytes[0], bytes[1] & 0xffff,
             (bytes[1] >> 16) & 0xfff, bytes[2] & 0xfff, (bytes[2] >> 16) & 0xffff, bytes[3]);
}

static int32_t define_xml(virtkit_conn *conn, const char *xml, uint32_t flags, virtkit_domain_ident *out,
                          virtkit_error *err)
{
    virtkit_domain_ident ident;
    struct domain *slot = NULL;
    int i;
    (void)flags;
    memset(&ident, 0, sizeof ident);
    ident.struct_size = sizeof ident;
    ident.id = -1;
    if (!element_text(xml, "name", ident.name, sizeof ident.name))
        return virtkit_set_error(err, VIRTKIT_ERR_XML, "domain XML has no usable <name>");
    if (!element_text(xml, "uuid", ident.uuid, sizeof ident.uuid))
        make_uuid(ident.uuid);

    pthread_mutex_lock(&lock);
    if (find_name(ident.name) || find_uuid(ident.uuid)) {
        pthread_mutex_unlock(&lock);
        return virtkit_set_error(err, VIRTKIT_ERR_DOMAIN_EXISTS, "a domain with that name or UUID already exists");
    }
    for (i = 0; i < MAX_DOMAINS && !slot; i++)
        if (!domains[i].used)
            slot = &domains[i];
    if (!slot || !(slot->xml = copy_string(xml))) {
        pthread_mutex_unlock(&lock);
        return virtkit_set_error(err, VIRTKIT_ERR_OPERATION_FAILED, "the minimal driver holds at most 64 domains");
    }
    slot->used = 1;
    slot->ident = ident;
    slot->state = VIRTKIT_DOMAIN_SHUTOFF;
    slot->reason = 0;
    write_ident(out, &ident);
    emit(conn, slot, VIRTKIT_EVENT_DEFINED, 0); /* DEFINED_ADDED */
    pthread_mutex_unlock(&lock);
    return VIRTKIT_OK;
}

static int32_t undefine(virtkit_conn *conn, const char *uuid, uint32_t flags, virtkit_error *err)
{
    struct domain *d;
    (void)flags;
    pthread_mutex_lock(&lock);
    d = find_uuid(uuid);
    if (!d) {
        pthread_mutex_unlock(&lock);
        return no_domain(err, "UUID", uuid);
    }
    if (d->state != VIRTKIT_DOMAIN_SHUTOFF) {
        pthread_mutex_unlock(&lock);
        return virtkit_set_error(err, VIRTKIT_ERR_OPERATION_INVALID, "domain is running; destroy it first");
    }
    emit(conn, d, VIRTKIT_EVENT_UNDEFINED, 0); /* UNDEFINED_REMOVED */
    free(d->xml);
    memset(d, 0, sizeof *d);
    pthread_mutex_unlock(&lock);
    return VIRTKIT_OK;
}

/* Start (to_running = 1) or destroy (0); anything else is an invalid state. */
static int32_t change_state(virtkit_conn *conn, const char *uuid, int to_running, virtkit_error *err)
{
    struct domain *d;
    pthread_mutex_lock(&lock);
    d = find_uuid(uuid);
    if (!d) {
        pthread_mutex_unlock(&lock);
        return no_domain(err, "UUID", uuid);
    }
    if ((d->state == VIRTKIT_DOMAIN_RUNNING) == to_running) {
        pthread_mutex_unlock(&lock);
        return virtkit_set_error(err, VIRTKIT_ERR_OPERATION_INVALID,
                                 to_running ? "domain is already running" : "domain is not running");
    }
    d->state = to_running ? VIRTKIT_DOMAIN_RUNNING : VIRTKIT_DOMAIN_SHUTOFF;
    d->reason = to_running ? 1 : 2;              /* RUNNING_BOOTED, SHUTOFF_DESTROYED */
    d->ident.id = to_running ? next_id++ : -1;
    emit(conn, d, to_running ? VIRTKIT_EVENT_STARTED : VIRTKIT_EVENT_STOPPED,
         to_running ? 0 : 1);                    /* STARTED_BOOTED, STOPPED_DESTROYED */
    pthread_mutex_unlock(&lock);
    return VIRTKIT_OK;
}

static int32_t start(virtkit_conn *conn, const char *uuid, uint32_t flags, virtkit_error *err)
{
    (void)flags;
    return change_state(conn, uuid, 1, err);
}

static int32_t destroy(virtkit_conn *conn, const char *uuid, uint32_t flags, virtkit_error *err)
{
    (void)flags;
    return change_state(conn, uuid, 0, err);
}

static int32_t get_xml(virtkit_conn *conn, const char *uuid, uint32_t flags, char **xml_out, virtkit_error *err)
{
    struct domain *d;
    (void)conn;
    (void)flags;
    pthread_mutex_lock(&lock);
    d = find_uuid(uuid);
    *xml_out = d ? copy_string(d->xml) : NULL;
    pthread_mutex_unlock(&lock);
    if (!d)
        return no_domain(err, "UUID", uuid);
    return *xml_out ? VIRTKIT_OK : virtkit_set_error(err, VIRTKIT_ERR_SYSTEM, "out of memory copying XML");
}

static int32_t get_info(virtkit_conn *conn, const char *uuid, virtkit_domain_info *out, virtkit_error *err)
{
    virtkit_domain_info info;
    struct domain *d;
    uint32_t size = out->struct_size;
    (void)conn;
    memset(&info, 0, sizeof info);
    pthread_mutex_lock(&lock);
    d = find_uuid(uuid);
    if (d) {
        info.state = d->state;
        info.reason = d->reason;
        info.persistent = 1;
        info.nr_vcpus = 1;
    }
    pthread_mutex_unlock(&lock);
    if (!d)
        return no_domain(err, "UUID", uuid);
    memcpy(out, &info, size < sizeof info ? size : sizeof info);
    out->struct_size = size;
    return VIRTKIT_OK;
}

static int32_t init(const virtkit_host_services *services, const virtkit_driver_ops **ops, virtkit_error *err)
{
    /* Fill only the slots we implement; the rest stay NULL = unsupported. */
    static virtkit_driver_ops table;
    if (services->abi_major != VIRTKIT_PLUGIN_ABI_MAJOR)
        return virtkit_set_error(err, VIRTKIT_ERR_ABI, "the minimal driver needs plugin ABI major 1");
    memset(&host, 0, sizeof host);
    memcpy(&host, services, services->struct_size < sizeof host ? services->struct_size : sizeof host);

    table.struct_size = sizeof table;
    table.free_string = free_string;
    table.free_domain_list = free_domain_list;
    table.connect_open = connect_open;
    table.connect_close = connect_close;
    table.domain_lookup_by_name = lookup_by_name;
    table.domain_lookup_by_uuid = lookup_by_uuid;
    table.domain_lookup_by_id = lookup_by_id;
    table.domain_list = list;
    table.domain_define_xml = define_xml;
    table.domain_undefine = undefine;
    table.domain_start = start;
    table.domain_destroy = destroy;
    table.domain_get_xml = get_xml;
    table.domain_get_info = get_info;
    *ops = &table;
    if (host.log)
        host.log(host.ctx, VIRTKIT_LOG_INFO, "minimal driver ready");
    return VIRTKIT_OK;
}

static const virtkit_plugin_descriptor descriptor = {
    VIRTKIT_PLUGIN_MAGIC, sizeof(virtkit_plugin_descriptor), VIRTKIT_PLUGIN_ABI_MAJOR, VIRTKIT_PLUGIN_ABI_MINOR,
    "minimal", "1.0.0", init, NULL,
};

VIRTKIT_PLUGIN_EXPORT const virtkit_plugin_descriptor *virtkit_plugin_entry(void)
{
    return &descriptor;
}
