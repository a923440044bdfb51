// The wire format virtkitd and the remote Connection share: HTTP/1.1 + JSON
// under versioned paths (/1.0/...), one error shape
//   {"error": {"code": 4, "code_name": "NO_DOMAIN", "message": "..."}}
// and the JSON forms of the values a Connection returns.  Text in, text out:
// no JSON library type crosses this header.
#pragma once

#include <string>
#include <vector>

#include <virtkit/connection.hpp>
#include <virtkit/error.hpp>
#include <virtkit/event.hpp>
#include <virtkit/event_bus.hpp>
#include <virtkit/migration.hpp>

namespace virtkit::remote {

inline constexpr const char *kApiVersion = "1.0";
inline constexpr const char *kApiPrefix = "/1.0";
// Request bodies larger than this are refused unread (a domain XML is KiBs).
// A read-only request (the client asked for --readonly).
inline constexpr const char *kReadOnlyHeader = "X-Virtkit-Read-Only";
// A refused WebSocket upgrade carries its error JSON here too.
inline constexpr const char *kErrorHeader = "X-Virtkit-Error";
inline constexpr std::size_t kMaxBodyBytes = 4 * 1024 * 1024;

// "NO_DOMAIN" for VIRTKIT_ERR_NO_DOMAIN; "INTERNAL" for anything unknown.
const char *errorCodeName(int code);
// Inverse of errorCodeName; VIRTKIT_ERR_INTERNAL if unknown.
int errorCodeFromName(const std::string &name);
// The HTTP status a virtkit error travels with (404 for NO_DOMAIN, ...).
int httpStatusFor(int code);

std::string encodeError(int code, const std::string &message);
// Rebuilds the Error the daemon raised.  A body that is not our error shape
// (a proxy's page, garbage) becomes an Error naming the HTTP status.
Error decodeError(int httpStatus, const std::string &body);

// Percent-encodes every byte but [A-Za-z0-9-._~], so a URI or a name is one
// path segment; decodeSegment reverses it (throws INVALID_ARG on a bad escape).
std::string encodeSegment(const std::string &text);
std::string decodeSegment(const std::string &text);

std::string encodeRef(const DomainRef &ref);
DomainRef decodeRef(const std::string &json);
std::string encodeRefs(const std::vector<DomainRef> &refs);
std::vector<DomainRef> decodeRefs(const std::string &json);
std::string encodeInfo(const DomainInfo &info);
DomainInfo decodeInfo(const std::string &json);
std::string encodeEvent(const Event &event);
Event decodeEvent(const std::string &json);

// A JSON object of string members, for small bodies and replies.
std::string encodeObject(const std::vector<std::pair<std::string, std::string>> &strings);
// A JSON object built member by member: JsonBody().add("flags", 3).add("xml", text).str()
class JsonBody {
public:
    JsonBody &add(const std::string &name, const std::string &value);
    JsonBody &add(const std::string &name, const char *value) { return add(name, std::string(value)); }
    JsonBody &add(const std::string &name, long long value);
    JsonBody &add(const std::string &name, unsigned long long value);
    JsonBody &add(const std::string &name, uint32_t value) { return add(name, static_cast<long long>(value)); }
    JsonBody &add(const std::string &name, int value) { return add(name, static_cast<long long>(value)); }
    JsonBody &add(const std::string &name, bool value);
    JsonBody &addRaw(const std::string &name, const std::string &json);  // already JSON text
    std::string str() const { return "{" + members_ + "}"; }

private:
    std::string members_;
};
// A migration phase's answer: {"xml","uri","cookie","domain":{...}}.
std::string encodeStep(const MigrationStep &step);
MigrationStep decodeStep(const std::string &json);
// migrate --p2p's answer: {"domain":{...},"switched_to_postcopy","suspended_on_timeout","warnings":[...]}.
std::string encodeMigrationResult(const MigrationResult &result);
MigrationResult decodeMigrationResult(const std::string &json);
// Optional members: the value, or `otherwise` when absent (wrong type still throws).
std::string stringMemberOr(const std::string &json, const std::string &name, const std::string &otherwise);
long long integerMemberOr(const std::string &json, const std::string &name, long long otherwise);
// Reads one member of a JSON object; throws Error(INVALID_ARG) naming the member
// when the body is not an object or the member is missing or of another type.
std::string stringMember(const std::string &json, const std::string &name);
long long integerMember(const std::string &json, const std::string &name);
bool boolMember(const std::string &json, const std::string &name);

// Events filter as query parameters: domain=, kind=lifecycle|job|..., type=started|...
std::string encodeFilterQuery(const EventFilter &filter);
// Throws Error(INVALID_ARG) on an unknown parameter, kind or event type.
EventFilter decodeFilterQuery(const std::vector<std::pair<std::string, std::string>> &params);

}  // namespace virtkit::remote
