// HttpConnection: the Connection interface as HTTP calls to virtkitd.
// Read-only connections refuse writes here already (no round trip), and the
// daemon refuses them again, since a client is never trusted to.
#include "http_connection.hpp"

#include <atomic>
#include <thread>

#include <Poco/Buffer.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>

#include <virtkit/context.hpp>
#include <virtkit/error.hpp>
#include <virtkit/log.hpp>
#include <virtkit/remote_protocol.hpp>

namespace virtkit::remote {
namespace {

// Events frames are small JSON objects; anything bigger is a broken peer.
constexpr int kMaxEventFrame = 1024 * 1024;
const Poco::Timespan kStopPoll(0, 200 * 1000);

// One server-filtered event stream.  The reader thread feeds the local bus,
// which gives the caller's handler its usual asynchronous, bounded delivery.
struct StreamState {
    std::unique_ptr<Poco::Net::WebSocket> socket;
    std::atomic<bool> stop{false};
};

void readEvents(const std::shared_ptr<StreamState> &state, EventBus &bus, const std::string &tag)
{
    Poco::Buffer<char> buffer(0);
    while (!state->stop) {
        try {
            if (state->socket->available() <= 0 && !state->socket->poll(kStopPoll, Poco::Net::Socket::SELECT_READ))
                continue;
            int flags = 0;
            buffer.resize(0);
            const int n = state->socket->receiveFrame(buffer, flags);
            const int opcode = flags & Poco::Net::WebSocket::FRAME_OP_BITMASK;
            if (n <= 0 || opcode == Poco::Net::WebSocket::FRAME_OP_CLOSE)
                break;
            if (opcode != Poco::Net::WebSocket::FRAME_OP_TEXT)
                continue;
            Event event = decodeEvent(std::string(buffer.begin(), buffer.size()));
            event.connection = tag;
            bus.publish(std::move(event));
        } catch (const std::exception &e) {
            if (!state->stop)
                log::get("remote")->warn("event stream ended: {}", e.what());
            break;
        }
    }
}

// Owned by the bus handler: when the subscription goes, so does the stream.
struct StreamGuard {
    std::shared_ptr<StreamState> state;
    std::thread reader;
    ~StreamGuard()
    {
        state->stop = true;
        if (reader.get_id() == std::this_thread::get_id())
            reader.detach();  // the last reference went inside our own publish
        else if (reader.joinable())
            reader.join();
        try {
            state->socket->close();
        } catch (const Poco::Exception &) {
        }
    }
};

std::string flagsQuery(uint32_t flags) { return flags ? "?flags=" + std::to_string(flags) : ""; }

}  // namespace

std::shared_ptr<Connection> HttpConnection::open(Context &ctx, const std::string &clientUri, Endpoint endpoint)
{
    auto conn = std::make_shared<HttpConnection>(ctx, clientUri, std::move(endpoint));
    const std::string reply = conn->call("GET", "");
    conn->driver_ = stringMember(reply, "driver");
    return conn;
}

HttpConnection::HttpConnection(Context &ctx, std::string uri, Endpoint endpoint)
    : ctx_(ctx), uri_(std::move(uri)),
      base_(std::string(kApiPrefix) + "/connections/" + encodeSegment(endpoint.driverUri)),
      channel_(std::move(endpoint))
{
}

HttpConnection::~HttpConnection() = default;

void HttpConnection::close() { closed_ = true; }  // the daemon keeps its driver connection for others

std::string HttpConnection::call(const std::string &method, const std::string &subPath, const std::string &body)
{
    if (closed_)
        throw Error(VIRTKIT_ERR_NO_CONNECT, "connection '" + uri_ + "' is closed");
    const Channel::Reply reply = channel_.request(method, base_ + subPath, body, method == "GET");
    if (reply.status >= 200 && reply.status < 300)
        return reply.body;
    throw decodeError(reply.status, reply.body);
}

std::string HttpConnection::domainPath(const std::string &uuid, const std::string &rest) const
{
    return "/domains/" + encodeSegment(uuid) + rest;
}

void HttpConnection::requireWritable(const char *op) const
{
    if (readOnly())
        throw Error(VIRTKIT_ERR_AUTH, std::string("operation forbidden: read only access prevents '") + op +
                                          "' on connection '" + uri_ + "'");
}

void HttpConnection::domainAction(const char *op, const std::string &uuid, const std::string &action,
                                    uint32_t flags)
{
    requireWritable(op);
    call("POST", domainPath(uuid, "/" + action), JsonBody().add("flags", flags).str());
}

std::string HttpConnection::capabilities() { return stringMember(call("GET", "/capabilities"), "xml"); }
std::string HttpConnection::hostname() { return stringMember(call("GET", "/hostname"), "hostname"); }

uint64_t HttpConnection::hypervisorVersion()
{
    return static_cast<uint64_t>(integerMember(call("GET", "/version"), "version"));
}

std::vector<DomainRef> HttpConnection::listDomains(uint32_t flags)
{
    return decodeRefs(call("GET", "/domains" + flagsQuery(flags)));
}

DomainRef HttpConnection::lookupByName(const std::string &name)
{
    return decodeRef(call("GET", "/domains/by-name/" + encodeSegment(name)));
}

DomainRef HttpConnection::lookupByUuid(const std::string &uuid)
{
    return decodeRef(call("GET", "/domains/by-uuid/" + encodeSegment(uuid)));
}

DomainRef HttpConnection::lookupById(int id)
{
    return decodeRef(call("GET", "/domains/by-id/" + std::to_string(id)));
}

DomainRef HttpConnection::defineXml(const std::string &xml)
{
    requireWritable("domain.define_xml");
    return decodeRef(call("POST", "/domains", encodeObject({{"xml", xml}})));
}

DomainRef HttpConnection::createXml(const std::string &xml)
{
    requireWritable("domain.create_xml");
    return decodeRef(call("POST", "/domains", encodeObject({{"xml", xml}, {"start", "1"}})));
}

void HttpConnection::domainStart(const std::string &uuid) { domainAction("domain.start", uuid, "start"); }
void HttpConnection::domainShutdown(const std::string &uuid, uint32_t flags)
{
    domainAction("domain.shutdown", uuid, "shutdown", flags);
}
void HttpConnection::domainReboot(const std::string &uuid, uint32_t flags)
{
    domainAction("domain.reboot", uuid, "reboot", flags);
}
void HttpConnection::domainDestroy(const std::string &uuid, uint32_t flags)
{
    domainAction("domain.destroy", uuid, "destroy", flags);
}
void HttpConnection::domainSuspend(const std::string &uuid) { domainAction("domain.suspend", uuid, "suspend"); }
void HttpConnection::domainResume(const std::string &uuid) { domainAction("domain.resume", uuid, "resume"); }

void HttpConnection::domainUndefine(const std::string &uuid)
{
    requireWritable("domain.undefine");
    call("DELETE", domainPath(uuid));
}

std::string HttpConnection::domainXml(const std::string &uuid, uint32_t flags)
{
    return stringMember(call("GET", domainPath(uuid, "/xml") + flagsQuery(flags)), "xml");
}

DomainInfo HttpConnection::domainInfo(const std::string &uuid) { return decodeInfo(call("GET", domainPath(uuid, "/info"))); }

bool HttpConnection::domainAutostart(const std::string &uuid)
{
    return boolMember(call("GET", domainPath(uuid, "/autostart")), "autostart");
}

void HttpConnection::domainSetAutostart(const std::string &uuid, bool on)
{
    requireWritable("domain.set_autostart");
    call("PUT", domainPath(uuid, "/autostart"), on ? R"({"autostart":true})" : R"({"autostart":false})");
}

std::string HttpConnection::domainXmlFromNative(const std::string &format, const std::string &native)
{
    return stringMember(call("POST", "/xml-from-native", encodeObject({{"format", format}, {"native", native}})),
                        "xml");
}

std::string HttpConnection::domainXmlToNative(const std::string &format, const std::string &xml)
{
    return stringMember(call("POST", "/xml-to-native", encodeObject({{"format", format}, {"xml", xml}})), "native");
}

std::string HttpConnection::monitorCommand(const std::string &uuid, const std::string &command, uint32_t flags)
{
    requireWritable("domain.monitor_command");  // raw monitor access can change anything
    return stringMember(call("POST", domainPath(uuid, "/monitor"),
                             JsonBody().add("command", command).add("flags", flags).str()),
                        "reply");
}

std::string HttpConnection::domainCapabilities(const std::string &emulator, const std::string &arch,
                                                 const std::string &machine, const std::string &virttype)
{
    return stringMember(call("POST", "/domain-capabilities",
                             JsonBody().add("emulator", emulator).add("arch", arch).add("machine", machine)
                                 .add("virttype", virttype).str()),
                        "xml");
}

std::string HttpConnection::jobStats(const std::string &uuid, uint32_t flags)
{
    return stringMember(call("GET", domainPath(uuid, "/job") + flagsQuery(flags)), "stats");
}

void HttpConnection::abortJob(const std::string &uuid, uint32_t flags)
{
    domainAction("domain.abort_job", uuid, "abort-job", flags);
}

MigrationStep HttpConnection::migrateBegin(const std::string &uuid, const std::string &params, uint32_t flags)
{
    requireWritable("domain.migrate_begin");
    return decodeStep(call("POST", domainPath(uuid, "/migrate-begin"),
                           JsonBody().add("params", params).add("flags", flags).str()));
}

MigrationStep HttpConnection::migratePrepare(const std::string &params, const std::string &cookie, uint32_t flags)
{
    requireWritable("domain.migrate_prepare");
    return decodeStep(call("POST", "/migrate-prepare",
                           JsonBody().add("params", params).add("cookie", cookie).add("flags", flags).str()));
}

MigrationStep HttpConnection::migratePerform(const std::string &uuid, const std::string &params,
                                               const std::string &cookie, uint32_t flags)
{
    requireWritable("domain.migrate_perform");
    return decodeStep(call("POST", domainPath(uuid, "/migrate-perform"),
                           JsonBody().add("params", params).add("cookie", cookie).add("flags", flags).str()));
}

MigrationStep HttpConnection::migrateFinish(const std::string &params, const std::string &cookie, uint32_t flags,
                                              bool cancelled)
{
    requireWritable("domain.migrate_finish");
    return decodeStep(call("POST", "/migrate-finish",
                           JsonBody().add("params", params).add("cookie", cookie).add("flags", flags)
                               .add("cancelled", cancelled).str()));
}

void HttpConnection::migrateConfirm(const std::string &uuid, const std::string &params, const std::string &cookie,
                                      uint32_t flags, bool cancelled)
{
    requireWritable("domain.migrate_confirm");
    call("POST", domainPath(uuid, "/migrate-confirm"),
         JsonBody().add("params", params).add("cookie", cookie).add("flags", flags).add("cancelled", cancelled).str());
}

void HttpConnection::migrateStartPostcopy(const std::string &uuid, uint32_t flags)
{
    domainAction("domain.migrate_start_postcopy", uuid, "migrate-start-postcopy", flags);
}

void HttpConnection::migrateSetMaxSpeed(const std::string &uuid, uint64_t bandwidth, uint32_t flags)
{
    requireWritable("domain.migrate_set_max_speed");
    call("PUT", domainPath(uuid, "/migrate-max-speed"),
         JsonBody().add("bandwidth", static_cast<unsigned long long>(bandwidth)).add("flags", flags).str());
}

uint64_t HttpConnection::migrateGetMaxSpeed(const std::string &uuid, uint32_t flags)
{
    return static_cast<uint64_t>(
        integerMember(call("GET", domainPath(uuid, "/migrate-max-speed") + flagsQuery(flags)), "bandwidth"));
}

MigrationResult HttpConnection::migratePeerToPeer(const std::string &uuid, const std::string &destUri,
                                                    const MigrateParams &params, uint32_t flags)
{
    requireWritable("domain.migrate");
    JsonBody body;
    body.add("dest_uri", destUri).add("flags", flags);
    const auto text = [&body](const char *name, const std::optional<std::string> &v) {
        if (v)
            body.add(name, *v);
    };
    const auto number = [&body](const char *name, const std::optional<uint64_t> &v) {
        if (v)
            body.add(name, static_cast<unsigned long long>(*v));
    };
    text("uri", params.uri);
    text("dest_name", params.destName);
    text("dest_xml", params.destXml);
    text("persistent_xml", params.persistentXml);
    text("listen_address", params.listenAddress);
    number("bandwidth", params.bandwidth);
    number("bandwidth.postcopy", params.postcopyBandwidth);
    body.add("postcopy_after_precopy", params.postcopyAfterPrecopy)
        .add("timeout_postcopy", params.timeoutPostcopy)
        .add("timeout", static_cast<long long>(params.timeoutSeconds));
    return decodeMigrationResult(call("POST", domainPath(uuid, "/migrate"), body.str()));
}

EventBus::Subscription HttpConnection::subscribe(EventFilter filter, EventBus::Handler handler)
{
    if (closed_)
        throw Error(VIRTKIT_ERR_NO_CONNECT, "connection '" + uri_ + "' is closed");
    static std::atomic<uint64_t> streams{0};
    auto state = std::make_shared<StreamState>();
    state->socket = channel_.openWebSocket(base_ + "/events" + encodeFilterQuery(filter));
    state->socket->setReceiveTimeout(Poco::Timespan(5, 0));
    // Each stream publishes under its own tag, so two overlapping subscriptions
    // never see each other's copies; the handler sees the connection's URI.
    const std::string tag = uri_ + "#events-" + std::to_string(++streams);
    filter.connection = tag;
    auto guard = std::make_shared<StreamGuard>();
    guard->state = state;
    EventBus &bus = ctx_.bus();
    auto subscription = bus.subscribe(std::move(filter), [guard, handler = std::move(handler), uri = uri_](const Event &e) {
        Event copy = e;
        copy.connection = uri;
        handler(copy);
    });
    guard->reader = std::thread([state, &bus, tag] { readEvents(state, bus, tag); });
    return subscription;
}

}  // namespace virtkit::remote
