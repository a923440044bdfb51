// JSON forms of virtkit values on the wire (Poco::JSON).  Decoders treat the
// text as hostile: wrong types and missing members become INVALID_ARG errors.
#include <virtkit/remote_protocol.hpp>

#include <array>
#include <charconv>
#include <optional>
#include <chrono>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

namespace virtkit::remote {
namespace {

using Poco::JSON::Object;

// Indexed by virtkit_error_code.
constexpr std::array<const char *, 15> kCodeNames = {
    "OK",        "INTERNAL",     "INVALID_ARG", "NO_SUPPORT", "NO_DOMAIN",
    "OPERATION_INVALID", "OPERATION_FAILED", "XML", "DOMAIN_EXISTS", "NO_CONNECT",
    "CONFIG",    "TIMEOUT",      "SYSTEM",      "AUTH",       "ABI",
};

constexpr std::array<const char *, 4> kKindNames = {"lifecycle", "job", "migration", "device"};

std::string text(const Object &object)
{
    std::ostringstream out;
    object.stringify(out);
    return out.str();
}

Object::Ptr parseObject(const std::string &json)
{
    try {
        Poco::JSON::Parser parser;
        const auto value = parser.parse(json);
        if (const auto object = value.extract<Object::Ptr>(); object)
            return object;
    } catch (const Poco::Exception &e) {
        throw Error(VIRTKIT_ERR_INVALID_ARG, "malformed JSON: " + e.message());
    } catch (const std::exception &) {
        // extract<> of a non-object: reported below
    }
    throw Error(VIRTKIT_ERR_INVALID_ARG, "malformed JSON: expected an object");
}

[[noreturn]] void badMember(const std::string &name, const char *expected)
{
    throw Error(VIRTKIT_ERR_INVALID_ARG, "JSON member '" + name + "' is missing or not " + expected);
}

std::string getString(const Object &o, const std::string &name)
{
    const auto v = o.get(name);
    if (!v.isString())
        badMember(name, "a string");
    return v.extract<std::string>();
}

long long getInteger(const Object &o, const std::string &name)
{
    const auto v = o.get(name);
    if (!v.isInteger())
        badMember(name, "an integer");
    try {
        return v.convert<long long>();
    } catch (const Poco::Exception &) {
        badMember(name, "an integer in range");
    }
}

uint64_t getUnsigned(const Object &o, const std::string &name)
{
    const auto v = o.get(name);
    if (!v.isInteger())
        badMember(name, "an unsigned integer");
    try {
        return v.convert<uint64_t>();
    } catch (const Poco::Exception &) {
        badMember(name, "an unsigned integer in range");
    }
}

bool getBool(const Object &o, const std::string &name)
{
    const auto v = o.get(name);
    if (!v.isBoolean())
        badMember(name, "a boolean");
    return v.extract<bool>();
}

Object refObject(const DomainRef &ref)
{
    Object o;
    o.set("name", ref.name);
    o.set("uuid", ref.uuid);
    o.set("id", ref.id);
    return o;
}

DomainRef refFrom(const Object &o)
{
    DomainRef ref;
    ref.name = getString(o, "name");
    ref.uuid = getString(o, "uuid");
    ref.id = static_cast<int>(getInteger(o, "id"));
    return ref;
}

bool isUnreservedByte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

}  // namespace

const char *errorCodeName(int code)
{
    if (code < 0 || code >= static_cast<int>(kCodeNames.size()))
        return "INTERNAL";
    return kCodeNames[static_cast<std::size_t>(code)];
}

int errorCodeFromName(const std::string &name)
{
    for (std::size_t i = 1; i < kCodeNames.size(); ++i)
        if (name == kCodeNames[i])
            return static_cast<int>(i);
    return VIRTKIT_ERR_INTERNAL;
}

int httpStatusFor(int code)
{
    switch (code) {
    case VIRTKIT_ERR_INVALID_ARG:
    case VIRTKIT_ERR_XML:
        return 400;
    case VIRTKIT_ERR_AUTH:
        return 403;
    case VIRTKIT_ERR_NO_DOMAIN:
        return 404;
    case VIRTKIT_ERR_DOMAIN_EXISTS:
    case VIRTKIT_ERR_OPERATION_INVALID:
        return 409;
    case VIRTKIT_ERR_NO_SUPPORT:
        return 501;
    case VIRTKIT_ERR_NO_CONNECT:
        return 502;
    case VIRTKIT_ERR_TIMEOUT:
        return 504;
    default:
        return 500;
    }
}

std::string encodeError(int code, const std::string &message)
{
    Object inner;
    inner.set("code", code);
    inner.set("code_name", std::string(errorCodeName(code)));
    inner.set("message", message);
    Object outer;
    outer.set("error", inner);
    return text(outer);
}

Error decodeError(int httpStatus, const std::string &body)
{
    try {
        const auto outer = parseObject(body);
        const auto inner = outer->getObject("error");
        if (inner) {
            // The name is authoritative: numbers may be renumbered across versions, names are not.
            int code = inner->has("code_name") ? errorCodeFromName(getString(*inner, "code_name"))
                                               : static_cast<int>(getInteger(*inner, "code"));
            if (code <= 0 || code >= static_cast<int>(kCodeNames.size()))
                code = VIRTKIT_ERR_INTERNAL;
            return Error(code, getString(*inner, "message"));
        }
    } catch (const Error &) {
        // not our shape: fall through
    }
    std::string excerpt = body.substr(0, 200);
    for (char &c : excerpt)
        if (static_cast<unsigned char>(c) < 0x20)
            c = ' ';
    return Error(VIRTKIT_ERR_INTERNAL, "daemon replied HTTP " + std::to_string(httpStatus) +
                                           " without a virtkit error" + (excerpt.empty() ? "" : ": " + excerpt));
}

std::string encodeSegment(const std::string &raw)
{
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : raw) {
        if (isUnreservedByte(c)) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0xf];
        }
    }
    return out;
}

std::string decodeSegment(const std::string &encoded)
{
    std::string out;
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        if (encoded[i] != '%') {
            out += encoded[i];
            continue;
        }
        const int hi = i + 2 < encoded.size() ? hexValue(encoded[i + 1]) : -1;
        const int lo = hi >= 0 ? hexValue(encoded[i + 2]) : -1;
        if (lo < 0)
            throw Error(VIRTKIT_ERR_INVALID_ARG, "bad percent escape in path segment");
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

std::string encodeRef(const DomainRef &ref) { return text(refObject(ref)); }

DomainRef decodeRef(const std::string &json) { return refFrom(*parseObject(json)); }

std::string encodeRefs(const std::vector<DomainRef> &refs)
{
    // By hand: Poco's Object-in-Array stringify costs tens of ms for a thousand domains.
    std::string out = "{\"domains\":[";
    out.reserve(refs.size() * 80 + 16);
    for (std::size_t i = 0; i < refs.size(); ++i) {
        out += i ? ",{" : "{";
        out += JsonBody().add("name", refs[i].name).add("uuid", refs[i].uuid).add("id", refs[i].id).str().substr(1);
    }
    return out + "]}";
}

namespace {

// The fast path for a domain list (Poco's parser takes ~20 ms for a thousand
// domains): exactly the shape encodeRefs writes, any key order and spacing.
// Anything else returns nullopt and the strict parser decides.
class RefListScanner {
public:
    explicit RefListScanner(const std::string &text) : t_(text) {}

    std::optional<std::vector<DomainRef>> scan()
    {
        std::vector<DomainRef> refs;
        if (!lit('{') || !key("domains") || !lit('['))
            return std::nullopt;
        if (!lit(']')) {
            do {
                DomainRef ref;
                if (!object(ref))
                    return std::nullopt;
                refs.push_back(std::move(ref));
            } while (lit(','));
            if (!lit(']'))
                return std::nullopt;
        }
        if (!lit('}'))
            return std::nullopt;
        skip();
        return i_ == t_.size() ? std::optional(std::move(refs)) : std::nullopt;
    }

private:
    void skip()
    {
        while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\n' || t_[i_] == '\r' || t_[i_] == '\t'))
            ++i_;
    }
    bool lit(char c)
    {
        skip();
        if (i_ < t_.size() && t_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    bool key(const char *name)
    {
        std::string k;
        return string(k) && k == name && lit(':');
    }
    // Plain strings only: an escape sends the whole list to the strict parser.
    bool string(std::string &out)
    {
        if (!lit('"'))
            return false;
        const std::size_t start = i_;
        while (i_ < t_.size() && t_[i_] != '"') {
            if (t_[i_] == '\\' || static_cast<unsigned char>(t_[i_]) < 0x20)
                return false;
            ++i_;
        }
        if (i_ >= t_.size())
            return false;
        out.assign(t_, start, i_ - start);
        ++i_;
        return true;
    }
    bool integer(int &out)
    {
        skip();
        const char *begin = t_.data() + i_, *end = t_.data() + t_.size();
        const auto [next, ec] = std::from_chars(begin, end, out);
        if (ec != std::errc() || next == begin)
            return false;
        i_ += static_cast<std::size_t>(next - begin);
        return true;
    }
    bool object(DomainRef &ref)
    {
        if (!lit('{'))
            return false;
        int seen = 0;
        do {
            std::string k;
            if (!string(k) || !lit(':'))
                return false;
            if (k == "name" && !(seen & 1) && string(ref.name))
                seen |= 1;
            else if (k == "uuid" && !(seen & 2) && string(ref.uuid))
                seen |= 2;
            else if (k == "id" && !(seen & 4) && integer(ref.id))
                seen |= 4;
            else
                return false;
        } while (lit(','));
        return seen == 7 && lit('}');
    }

    const std::string &t_;
    std::size_t i_ = 0;
};

}  // namespace

std::vector<DomainRef> decodeRefs(const std::string &json)
{
    if (auto fast = RefListScanner(json).scan())
        return std::move(*fast);
    const auto o = parseObject(json);
    const auto list = o->getArray("domains");
    if (!list)
        badMember("domains", "a list");
    std::vector<DomainRef> refs;
    refs.reserve(list->size());
    for (std::size_t i = 0; i < list->size(); ++i) {
        const auto item = list->getObject(static_cast<unsigned>(i));
        if (!item)
            badMember("domains[]", "an object");
        refs.push_back(refFrom(*item));
    }
    return refs;
}

std::string encodeInfo(const DomainInfo &info)
{
    Object o;
    o.set("state", info.state);
    o.set("reason", info.reason);
    o.set("persistent", info.persistent);
    o.set("max_mem_kib", info.maxMemKiB);
    o.set("memory_kib", info.memoryKiB);
    o.set("vcpus", info.vcpus);
    o.set("cpu_time_ns", info.cpuTimeNs);
    return text(o);
}

DomainInfo decodeInfo(const std::string &json)
{
    const auto o = parseObject(json);
    DomainInfo info;
    info.state = static_cast<int>(getInteger(*o, "state"));
    info.reason = static_cast<int>(getInteger(*o, "reason"));
    info.persistent = getBool(*o, "persistent");
    info.maxMemKiB = getUnsigned(*o, "max_mem_kib");
    info.memoryKiB = getUnsigned(*o, "memory_kib");
    info.vcpus = static_cast<unsigned>(getUnsigned(*o, "vcpus"));
    info.cpuTimeNs = getUnsigned(*o, "cpu_time_ns");
    return info;
}

std::string encodeEvent(const Event &e)
{
    Object o;
    o.set("kind", static_cast<int>(e.kind));
    o.set("connection", e.connection);
    o.set("domain_name", e.domainName);
    o.set("domain_uuid", e.domainUuid);
    o.set("type", e.type);
    o.set("detail", e.detail);
    o.set("payload", e.payloadJson);
    o.set("seq", e.seq);
    o.set("time_us", static_cast<long long>(
                         std::chrono::duration_cast<std::chrono::microseconds>(e.time.time_since_epoch()).count()));
    return text(o);
}

Event decodeEvent(const std::string &json)
{
    const auto o = parseObject(json);
    Event e;
    e.kind = static_cast<EventKind>(getInteger(*o, "kind"));
    e.connection = getString(*o, "connection");
    e.domainName = getString(*o, "domain_name");
    e.domainUuid = getString(*o, "domain_uuid");
    e.type = static_cast<int32_t>(getInteger(*o, "type"));
    e.detail = static_cast<int32_t>(getInteger(*o, "detail"));
    e.payloadJson = getString(*o, "payload");
    e.time = std::chrono::system_clock::time_point(std::chrono::microseconds(getInteger(*o, "time_us")));
    return e;  // seq: the local bus assigns its own
}

std::string encodeObject(const std::vector<std::pair<std::string, std::string>> &strings)
{
    Object o;
    for (const auto &[name, value] : strings)
        o.set(name, value);
    return text(o);
}

std::string stringMember(const std::string &json, const std::string &name) { return getString(*parseObject(json), name); }
long long integerMember(const std::string &json, const std::string &name) { return getInteger(*parseObject(json), name); }
bool boolMember(const std::string &json, const std::string &name) { return getBool(*parseObject(json), name); }

namespace {
std::string quoted(const std::string &value)
{
    std::ostringstream out;
    Poco::JSON::Stringifier::formatString(value, out);
    return out.str();
}
}  // namespace

JsonBody &JsonBody::addRaw(const std::string &name, const std::string &json)
{
    members_ += (members_.empty() ? "" : ",") + quoted(name) + ":" + json;
    return *this;
}
JsonBody &JsonBody::add(const std::string &name, const std::string &value) { return addRaw(name, quoted(value)); }
JsonBody &JsonBody::add(const std::string &name, long long value) { return addRaw(name, std::to_string(value)); }
JsonBody &JsonBody::add(const std::string &name, unsigned long long value) { return addRaw(name, std::to_string(value)); }
JsonBody &JsonBody::add(const std::string &name, bool value) { return addRaw(name, value ? "true" : "false"); }

std::string encodeStep(const MigrationStep &step)
{
    return JsonBody().add("xml", step.xml).add("uri", step.uri).add("cookie", step.cookie)
        .addRaw("domain", encodeRef(step.domain)).str();
}

MigrationStep decodeStep(const std::string &json)
{
    const auto o = parseObject(json);
    MigrationStep step;
    step.xml = getString(*o, "xml");
    step.uri = getString(*o, "uri");
    step.cookie = getString(*o, "cookie");
    const auto domain = o->getObject("domain");
    if (!domain)
        badMember("domain", "an object");
    step.domain = refFrom(*domain);
    return step;
}

std::string encodeMigrationResult(const MigrationResult &r)
{
    Poco::JSON::Array warnings;
    for (const auto &w : r.warnings)
        warnings.add(w);
    Object o;
    o.set("domain", refObject(r.domain));
    o.set("switched_to_postcopy", r.switchedToPostcopy);
    o.set("suspended_on_timeout", r.suspendedOnTimeout);
    o.set("warnings", warnings);
    return text(o);
}

MigrationResult decodeMigrationResult(const std::string &json)
{
    const auto o = parseObject(json);
    MigrationResult r;
    const auto domain = o->getObject("domain");
    if (!domain)
        badMember("domain", "an object");
    r.domain = refFrom(*domain);
    r.switchedToPostcopy = getBool(*o, "switched_to_postcopy");
    r.suspendedOnTimeout = getBool(*o, "suspended_on_timeout");
    const auto warnings = o->getArray("warnings");
    if (!warnings)
        badMember("warnings", "a list");
    for (std::size_t i = 0; i < warnings->size(); ++i)
        r.warnings.push_back(warnings->getElement<std::string>(static_cast<unsigned>(i)));
    return r;
}

std::string stringMemberOr(const std::string &json, const std::string &name, const std::string &otherwise)
{
    const auto o = parseObject(json);
    return o->has(name) ? getString(*o, name) : otherwise;
}

long long integerMemberOr(const std::string &json, const std::string &name, long long otherwise)
{
    const auto o = parseObject(json);
    return o->has(name) ? getInteger(*o, name) : otherwise;
}

std::string encodeFilterQuery(const EventFilter &filter)
{
    std::string out;
    const auto add = [&out](const std::string &name, const std::string &value) {
        out += (out.empty() ? "?" : "&") + name + "=" + encodeSegment(value);
    };
    if (!filter.domain.empty())
        add("domain", filter.domain);
    if (filter.kind) {
        const auto k = static_cast<std::size_t>(*filter.kind);
        add("kind", k < kKindNames.size() ? kKindNames[k] : "plugin");
    }
    if (filter.type)
        add("type", std::to_string(*filter.type));
    return out;
}

EventFilter decodeFilterQuery(const std::vector<std::pair<std::string, std::string>> &params)
{
    EventFilter filter;
    for (const auto &[name, value] : params) {
        if (name == "domain") {
            filter.domain = value;
        } else if (name == "kind") {
            std::size_t k = 0;
            while (k < kKindNames.size() && value != kKindNames[k])
                ++k;
            if (k == kKindNames.size())
                throw Error(VIRTKIT_ERR_INVALID_ARG, "unknown event kind '" + value +
                                                         "' (lifecycle, job, migration or device)");
            filter.kind = static_cast<EventKind>(k);
        } else if (name == "type") {
            int32_t type = -1;
            try {
                std::size_t used = 0;
                type = static_cast<int32_t>(std::stoi(value, &used));
                if (used != value.size())
                    type = -1;
            } catch (const std::exception &) {
                type = lifecycleEventFromName(value);
            }
            if (type < 0)
                throw Error(VIRTKIT_ERR_INVALID_ARG, "unknown event type '" + value + "'");
            filter.type = type;
        } else {
            throw Error(VIRTKIT_ERR_INVALID_ARG, "unknown event filter parameter '" + name + "'");
        }
    }
    return filter;
}

}  // namespace virtkit::remote
