// Routing of API 1.0 requests to the shared driver Connection.  Order of
// checks, so nothing hostile reaches a plugin: path and version, method,
// read-only refusal, argument parsing, and only then the driver call.
#include "api.hpp"

#include <charconv>
#include <functional>

#include <virtkit/error.hpp>
#include <virtkit/log.hpp>
#include <virtkit/migration.hpp>
#include <virtkit/remote_protocol.hpp>

namespace virtkit::daemon {
namespace {

using namespace virtkit::remote;
using Segments = std::vector<std::string>;

// An API-level failure that is not a driver's: its own HTTP status.
struct RouteError {
    int status;
    Error error;
};

[[noreturn]] void noRoute(const ApiRequest &req)
{
    throw RouteError{404, Error(VIRTKIT_ERR_NO_SUPPORT, "no API path " + req.method + " " + req.path)};
}

[[noreturn]] void wrongMethod(const ApiRequest &req, const char *allowed)
{
    throw RouteError{405, Error(VIRTKIT_ERR_INVALID_ARG, "method " + req.method + " is not allowed on " + req.path +
                                                             " (allowed: " + allowed + ")")};
}

uint32_t parseUnsigned(const std::string &text, const std::string &what)
{
    uint32_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
        throw Error(VIRTKIT_ERR_INVALID_ARG, what + " must be an unsigned integer, not '" + text + "'");
    return value;
}

uint32_t flagsParam(const ApiRequest &req)
{
    uint32_t flags = 0;
    for (const auto &[name, value] : req.query) {
        if (name != "flags")
            throw Error(VIRTKIT_ERR_INVALID_ARG, "unknown query parameter '" + name + "'");
        flags = parseUnsigned(value, "flags");
    }
    return flags;
}

uint32_t flagsMember(const std::string &body)
{
    const long long flags = integerMemberOr(body, "flags", 0);
    if (flags < 0 || flags > 0xffffffffLL)
        throw Error(VIRTKIT_ERR_INVALID_ARG, "JSON member 'flags' is out of range");
    return static_cast<uint32_t>(flags);
}

bool boolMemberOr(const std::string &body, const std::string &name, bool otherwise)
{
    try {
        return boolMember(body, name);
    } catch (const Error &) {
        if (stringMemberOr(body, name, "") == "1")  // the client's encodeObject form
            return true;
        return integerMemberOr(body, name, otherwise ? 1 : 0) != 0 || otherwise;
    }
}

std::string emptyObject() { return "{}"; }

// migrate --p2p: the orchestrator runs here, in the source's daemon.
MigrateParams migrateParamsFrom(const std::string &body)
{
    MigrateParams p;
    const auto opt = [&body](const char *name) -> std::optional<std::string> {
        const std::string v = stringMemberOr(body, name, "\x01");
        return v == "\x01" ? std::nullopt : std::optional<std::string>(v);
    };
    const auto optNumber = [&body](const char *name) -> std::optional<uint64_t> {
        const long long v = integerMemberOr(body, name, -1);
        return v < 0 ? std::nullopt : std::optional<uint64_t>(static_cast<uint64_t>(v));
    };
    p.uri = opt("uri");
    p.destName = opt("dest_name");
    p.destXml = opt("dest_xml");
    p.persistentXml = opt("persistent_xml");
    p.listenAddress = opt("listen_address");
    p.bandwidth = optNumber("bandwidth");
    p.postcopyBandwidth = optNumber("bandwidth.postcopy");
    p.postcopyAfterPrecopy = boolMemberOr(body, "postcopy_after_precopy", false);
    p.timeoutPostcopy = boolMemberOr(body, "timeout_postcopy", false);
    const long long timeout = integerMemberOr(body, "timeout", 0);
    if (timeout < 0 || timeout > 86400 * 7)
        throw Error(VIRTKIT_ERR_INVALID_ARG, "JSON member 'timeout' is out of range");
    p.timeoutSeconds = static_cast<unsigned>(timeout);
    return p;
}

// .../domains/{uuid}/{action} POST
std::string domainAction(Connection &c, const std::string &uuid, const std::string &action, const std::string &body,
                         const ApiRequest &req)
{
    const uint32_t flags = flagsMember(body);
    if (action == "start") {
        c.domainStart(uuid);
    } else if (action == "shutdown") {
        c.domainShutdown(uuid, flags);
    } else if (action == "reboot") {
        c.domainReboot(uuid, flags);
    } else if (action == "destroy") {
        c.domainDestroy(uuid, flags);
    } else if (action == "suspend") {
        c.domainSuspend(uuid);
    } else if (action == "resume") {
        c.domainResume(uuid);
    } else if (action == "abort-job") {
        c.abortJob(uuid, flags);
    } else if (action == "monitor") {
        return JsonBody().add("reply", c.monitorCommand(uuid, stringMember(body, "command"), flags)).str();
    } else if (action == "migrate-begin") {
        return encodeStep(c.migrateBegin(uuid, stringMember(body, "params"), flags));
    } else if (action == "migrate-perform") {
        return encodeStep(c.migratePerform(uuid, stringMember(body, "params"), stringMember(body, "cookie"), flags));
    } else if (action == "migrate-confirm") {
        c.migrateConfirm(uuid, stringMember(body, "params"), stringMember(body, "cookie"), flags,
                         boolMember(body, "cancelled"));
    } else if (action == "migrate-start-postcopy") {
        c.migrateStartPostcopy(uuid, flags);
    } else {
        noRoute(req);
    }
    return emptyObject();
}

}  // namespace

std::vector<std::string> apiSegments(const std::string &path)
{
    Segments out;
    std::size_t start = 1;
    if (path.empty() || path[0] != '/')
        throw RouteError{400, Error(VIRTKIT_ERR_INVALID_ARG, "request path must start with '/'")};
    while (start <= path.size()) {
        const std::size_t slash = path.find('/', start);
        const std::string raw = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (!raw.empty() || slash != std::string::npos)
            out.push_back(decodeSegment(raw));
        if (slash == std::string::npos)
            break;
        start = slash + 1;
    }
    while (!out.empty() && out.back().empty())
        out.pop_back();  // a trailing slash is the same resource
    if (out.empty() || out[0] != kApiVersion)
        throw RouteError{404, Error(VIRTKIT_ERR_NO_SUPPORT,
                                    "unsupported API version '" + (out.empty() ? std::string() : out[0]) +
                                        "' in " + path + " (this daemon speaks " + kApiVersion + ")")};
    return out;
}

bool Api::isEventsRequest(const ApiRequest &req)
{
    try {
        const Segments s = apiSegments(req.path);
        return s.size() == 4 && s[1] == "connections" && s[3] == "events";
    } catch (...) {
        return false;
    }
}

EventsTarget Api::eventsTarget(const ApiRequest &req)
{
    const Segments s = apiSegments(req.path);
    if (req.method != "GET")
        throw Error(VIRTKIT_ERR_INVALID_ARG, "events need GET with a WebSocket upgrade");
    EventsTarget target;
    target.filter = decodeFilterQuery(req.query);  // before the driver is touched
    target.clientUri = s[2];
    target.connection = pool_.get(s[2]);
    return target;
}

ApiReply Api::handle(const ApiRequest &req)
{
    try {
        return dispatch(req);
    } catch (const RouteError &e) {
        return {e.status, encodeError(e.error.code(), e.error.what())};
    } catch (const Error &e) {
        return {httpStatusFor(e.code()), encodeError(e.code(), e.what())};
    } catch (const std::exception &e) {
        log::get("daemon")->error("{} {}: unexpected: {}", req.method, req.path, e.what());
        return {500, encodeError(VIRTKIT_ERR_INTERNAL, std::string("internal error: ") + e.what())};
    }
}

ApiReply Api::dispatch(const ApiRequest &req)
{
    const Segments s = apiSegments(req.path);
    const std::string &m = req.method;
    if (s.size() == 1) {
        if (m != "GET")
            wrongMethod(req, "GET");
        return {200, JsonBody().add("api_version", kApiVersion).add("server", "virtkitd")
                         .add("version", VIRTKIT_DAEMON_VERSION).str()};
    }
    if (s[1] != "connections" || s.size() < 3)
        noRoute(req);
    const std::string &clientUri = s[2];
    const Segments rest(s.begin() + 3, s.end());

    // Decide the route and whether it mutates before touching the driver.
    bool mutating = false;
    std::function<std::string(Connection &)> run;
    const auto is = [&](std::initializer_list<const char *> parts) {
        if (rest.size() != parts.size())
            return false;
        std::size_t i = 0;
        for (const char *p : parts) {
            if (*p != '*' && rest[i] != p)
                return false;
            ++i;
        }
        return true;
    };
    const auto only = [&](const char *method) {
        if (m != method)
            wrongMethod(req, method);
    };
    const std::string &body = req.body;

    if (rest.empty()) {
        only("GET");
        run = [&](Connection &c) {
            return JsonBody().add("uri", clientUri).add("driver", c.driverName()).add("daemon_uri", c.uri()).str();
        };
    } else if (is({"capabilities"})) {
        only("GET");
        run = [](Connection &c) { return JsonBody().add("xml", c.capabilities()).str(); };
    } else if (is({"hostname"})) {
        only("GET");
        run = [](Connection &c) { return JsonBody().add("hostname", c.hostname()).str(); };
    } else if (is({"version"})) {
        only("GET");
        run = [](Connection &c) {
            return JsonBody().add("version", static_cast<unsigned long long>(c.hypervisorVersion())).str();
        };
    } else if (is({"domains"})) {
        if (m == "GET") {
            const uint32_t flags = flagsParam(req);
            run = [flags](Connection &c) { return encodeRefs(c.listDomains(flags)); };
        } else if (m == "POST") {
            mutating = true;
            const std::string xml = stringMember(body, "xml");
            const bool start = boolMemberOr(body, "start", false);
            run = [xml, start](Connection &c) { return encodeRef(start ? c.createXml(xml) : c.defineXml(xml)); };
        } else {
            wrongMethod(req, "GET, POST");
        }
    } else if (is({"domains", "by-name", "*"})) {
        only("GET");
        run = [&](Connection &c) { return encodeRef(c.lookupByName(rest[2])); };
    } else if (is({"domains", "by-uuid", "*"})) {
        only("GET");
        run = [&](Connection &c) { return encodeRef(c.lookupByUuid(rest[2])); };
    } else if (is({"domains", "by-id", "*"})) {
        only("GET");
        const int id = static_cast<int>(parseUnsigned(rest[2], "domain id"));
        run = [id](Connection &c) { return encodeRef(c.lookupById(id)); };
    } else if (is({"domains", "*"})) {
        only("DELETE");
        mutating = true;
        run = [&](Connection &c) {
            c.domainUndefine(rest[1]);
            return emptyObject();
        };
    } else if (is({"domains", "*", "xml"})) {
        only("GET");
        const uint32_t flags = flagsParam(req);
        run = [&, flags](Connection &c) { return JsonBody().add("xml", c.domainXml(rest[1], flags)).str(); };
    } else if (is({"domains", "*", "info"})) {
        only("GET");
        run = [&](Connection &c) { return encodeInfo(c.domainInfo(rest[1])); };
    } else if (is({"domains", "*", "job"})) {
        only("GET");
        const uint32_t flags = flagsParam(req);
        run = [&, flags](Connection &c) { return JsonBody().add("stats", c.jobStats(rest[1], flags)).str(); };
    } else if (is({"domains", "*", "autostart"})) {
        if (m == "GET") {
            run = [&](Connection &c) { return JsonBody().add("autostart", c.domainAutostart(rest[1])).str(); };
        } else if (m == "PUT") {
            mutating = true;
            const bool on = boolMember(body, "autostart");
            run = [&, on](Connection &c) {
                c.domainSetAutostart(rest[1], on);
                return emptyObject();
            };
        } else {
            wrongMethod(req, "GET, PUT");
        }
    } else if (is({"domains", "*", "migrate-max-speed"})) {
        if (m == "GET") {
            const uint32_t flags = flagsParam(req);
            run = [&, flags](Connection &c) {
                return JsonBody()
                    .add("bandwidth", static_cast<unsigned long long>(c.migrateGetMaxSpeed(rest[1], flags)))
                    .str();
            };
        } else if (m == "PUT") {
            mutating = true;
            const long long bw = integerMember(body, "bandwidth");
            if (bw < 0)
                throw Error(VIRTKIT_ERR_INVALID_ARG, "bandwidth must not be negative");
            const uint32_t flags = flagsMember(body);
            run = [&, bw, flags](Connection &c) {
                c.migrateSetMaxSpeed(rest[1], static_cast<uint64_t>(bw), flags);
                return emptyObject();
            };
        } else {
            wrongMethod(req, "GET, PUT");
        }
    } else if (is({"domains", "*", "migrate"})) {
        only("POST");
        mutating = true;
        const std::string dest = stringMember(body, "dest_uri");
        const uint32_t flags = flagsMember(body);
        const MigrateParams params = migrateParamsFrom(body);
        validateMigration(params, flags | VIRTKIT_MIGRATE_PEER2PEER);
        run = [&, dest, flags, params](Connection &c) {
            return encodeMigrationResult(migratePeerToPeer(pool_.context(), c, rest[1], dest, params, flags));
        };
    } else if (is({"domains", "*", "*"})) {
        only("POST");
        mutating = true;
        flagsMember(body);  // the body must be a JSON object before any driver call
        run = [&](Connection &c) { return domainAction(c, rest[1], rest[2], body, req); };
    } else if (is({"migrate-prepare"})) {
        only("POST");
        mutating = true;
        const std::string params = stringMember(body, "params"), cookie = stringMemberOr(body, "cookie", "");
        const uint32_t flags = flagsMember(body);
        run = [params, cookie, flags](Connection &c) { return encodeStep(c.migratePrepare(params, cookie, flags)); };
    } else if (is({"migrate-finish"})) {
        only("POST");
        mutating = true;
        const std::string params = stringMember(body, "params"), cookie = stringMemberOr(body, "cookie", "");
        const uint32_t flags = flagsMember(body);
        const bool cancelled = boolMember(body, "cancelled");
        run = [params, cookie, flags, cancelled](Connection &c) {
            return encodeStep(c.migrateFinish(params, cookie, flags, cancelled));
        };
    } else if (is({"xml-from-native"})) {
        only("POST");
        const std::string format = stringMember(body, "format"), native = stringMember(body, "native");
        run = [format, native](Connection &c) {
            return JsonBody().add("xml", c.domainXmlFromNative(format, native)).str();
        };
    } else if (is({"xml-to-native"})) {
        only("POST");
        const std::string format = stringMember(body, "format"), xml = stringMember(body, "xml");
        run = [format, xml](Connection &c) { return JsonBody().add("native", c.domainXmlToNative(format, xml)).str(); };
    } else if (is({"domain-capabilities"})) {
        only("POST");
        const std::string emulator = stringMemberOr(body, "emulator", ""), arch = stringMemberOr(body, "arch", ""),
                          machine = stringMemberOr(body, "machine", ""),
                          virttype = stringMemberOr(body, "virttype", "");
        run = [=](Connection &c) {
            return JsonBody().add("xml", c.domainCapabilities(emulator, arch, machine, virttype)).str();
        };
    } else if (is({"events"})) {
        throw RouteError{400, Error(VIRTKIT_ERR_INVALID_ARG, "events need a WebSocket upgrade (GET with "
                                                             "'Connection: Upgrade' and 'Upgrade: websocket')")};
    } else {
        noRoute(req);
    }

    if (mutating && req.readOnly)
        throw Error(VIRTKIT_ERR_AUTH, "operation forbidden: read only access prevents " + m + " " + req.path);
    const auto conn = pool_.get(clientUri);
    return {200, run(*conn)};
}

}  // namespace virtkit::daemon
