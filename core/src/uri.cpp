// libvirt connection URIs, parsed strictly:
//   driver[+transport]://[user@][host][:port]/[path][?query]
// Every rejection names the part that is wrong, quoting the whole URI.
#include <virtkit/error.hpp>
#include <virtkit/uri.hpp>

#include <cctype>
#include <string_view>

namespace virtkit {

namespace {

using QueryList = std::vector<std::pair<std::string, std::string>>;

bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isHex(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
// RFC 3986 "unreserved" and "sub-delims" (minus the query separators '&'
// and '=' and the '+' that some parsers read as a space).
bool isUnreserved(char c) { return isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~'; }
bool isSubDelim(char c) { return std::string_view("!$'()*,;").find(c) != std::string_view::npos; }

// The URI as it appears in messages: control bytes shown as \xNN so a
// message never carries a raw newline or escape sequence.
std::string printable(const std::string &text) {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (const unsigned char c : text) {
        if (c < 0x20 || c == 0x7f) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

class UriParser {
public:
    explicit UriParser(const std::string &text) : text_(text) {}

    [[noreturn]] void fail(const std::string &what) const {
        throw Error(VIRTKIT_ERR_INVALID_ARG, "invalid URI '" + printable(text_) + "': " + what);
    }

    // Decodes %XX escapes; `allowed` says which raw characters the part may hold.
    template <typename Allowed>
    std::string decode(std::string_view raw, const char *part, Allowed allowed) const {
        std::string out;
        for (std::size_t i = 0; i < raw.size(); ++i) {
            const char c = raw[i];
            if (c == '%') {
                if (i + 2 >= raw.size())
                    fail(std::string(part) + " has an incomplete percent escape '" +
                         std::string(raw.substr(i)) + "'");
                if (!isHex(raw[i + 1]) || !isHex(raw[i + 2]))
                    fail(std::string(part) + " has an invalid percent escape '" +
                         std::string(raw.substr(i, 3)) + "'");
                const char decoded = static_cast<char>(std::stoi(std::string(raw.substr(i + 1, 2)), nullptr, 16));
                if (decoded == '\0')
                    fail(std::string(part) + " has '%00', a NUL byte, which no URI part may hold");
                out += decoded;
                i += 2;
            } else if (!allowed(c)) {
                fail(std::string(part) + " '" + printable(std::string(raw)) +
                     "' contains the character '" + printable(std::string(1, c)) +
                     "', which must be percent-encoded");
            } else {
                out += c;
            }
        }
        return out;
    }

    void checkBytes() const {
        if (text_.empty())
            throw Error(VIRTKIT_ERR_INVALID_ARG, "invalid URI '': the URI is empty");
        for (std::size_t i = 0; i < text_.size(); ++i) {
            const auto c = static_cast<unsigned char>(text_[i]);
            if (c == ' ')
                fail("contains a space at offset " + std::to_string(i) + " (write it as %20)");
            if (c < 0x20 || c == 0x7f)
                fail("contains a control character at offset " + std::to_string(i));
            if (c >= 0x80)
                fail("contains a non-ASCII byte at offset " + std::to_string(i) +
                     " (percent-encode it)");
        }
    }

    std::string checkSchemeWord(const std::string &word, const char *part) const {
        if (word.empty())
            fail(std::string(part) + " is empty");
        if (!isAlpha(word[0]))
            fail(std::string(part) + " '" + word + "' must start with a letter");
        std::string lower;
        for (const char c : word) {
            if (!isAlpha(c) && !isDigit(c) && c != '-' && c != '.' && c != '_')
                fail(std::string(part) + " '" + word + "' contains the invalid character '" + c + "'");
            lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        return lower;
    }

    int parsePort(const std::string &digits) const {
        if (digits.empty())
            fail("port is empty after ':'");
        for (const char c : digits)
            if (!isDigit(c))
                fail("port '" + digits + "' is not a number");
        if (digits.size() > 5 || std::stoi(digits) < 1 || std::stoi(digits) > 65535)
            fail("port '" + digits + "' is out of range (1-65535)");
        return std::stoi(digits);
    }

    // host, with IPv6 literals in brackets; returns the host without brackets.
    std::string parseHost(std::string_view hostPort, std::string &portText, bool &hasPort) const {
        std::string_view rest;
        std::string host;
        if (!hostPort.empty() && hostPort[0] == '[') {
            const auto close = hostPort.find(']');
            if (close == std::string_view::npos)
                fail("IPv6 address '" + std::string(hostPort) + "' has no closing ']'");
            const auto inner = hostPort.substr(1, close - 1);
            if (inner.empty())
                fail("IPv6 address '[]' is empty");
            for (const char c : inner)
                if (!isHex(c) && c != ':' && c != '.')
                    fail("IPv6 address '[" + std::string(inner) + "]' contains the invalid character '" +
                         c + "'");
            if (inner.find(':') == std::string_view::npos)
                fail("IPv6 address '[" + std::string(inner) + "]' has no ':'");
            host = std::string(inner);
            rest = hostPort.substr(close + 1);
            if (!rest.empty() && rest[0] != ':')
                fail("unexpected '" + std::string(rest) + "' after IPv6 address '[" + host + "]'");
        } else {
            const auto colon = hostPort.find(':');
            host = decode(hostPort.substr(0, colon), "host",
                          [](char c) { return isUnreserved(c) || isSubDelim(c); });
            if (host.find(']') != std::string::npos || host.find('[') != std::string::npos)
                fail("host '" + host + "' contains a bracket outside an IPv6 address");
            rest = colon == std::string_view::npos ? std::string_view() : hostPort.substr(colon);
        }
        hasPort = !rest.empty();
        if (hasPort)
            portText = std::string(rest.substr(1));
        return host;
    }

    QueryList parseQuery(std::string_view query) const {
        QueryList params;
        const auto allowed = [](char c) {
            return isUnreserved(c) || isSubDelim(c) || c == ':' || c == '@' || c == '/' || c == '?' ||
                   c == '+';
        };
        std::size_t start = 0;
        while (start <= query.size()) {
            auto end = query.find('&', start);
            if (end == std::string_view::npos)
                end = query.size();
            const auto item = query.substr(start, end - start);
            start = end + 1;
            if (item.empty())
                continue;  // "a=1&&b=2": empty sections are skipped, as libvirt does
            const auto eq = item.find('=');
            if (eq == 0)
                fail("query parameter '" + std::string(item) + "' has an empty name");
            std::string name = decode(item.substr(0, eq), "query parameter name", allowed);
            std::string value = eq == std::string_view::npos
                                    ? std::string()
                                    : decode(item.substr(eq + 1), "query value", [&](char c) {
                                          return allowed(c) || c == '=';
                                      });
            params.emplace_back(std::move(name), std::move(value));
        }
        return params;
    }

private:
    const std::string &text_;
};

// Percent-encodes everything but the characters that are safe in `part`.
template <typename Safe>
std::string encode(const std::string &text, Safe safe) {
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : text) {
        if (safe(c)) {
            out += c;
        } else {
            const auto byte = static_cast<unsigned char>(c);
            out += '%';
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        }
    }
    return out;
}

}  // namespace

Uri Uri::parse(const std::string &text) {
    const UriParser parser(text);
    parser.checkBytes();

    const auto sep = text.find("://");
    if (sep == std::string::npos)
        parser.fail("missing '://' after the driver name (expected e.g. 'qemu:///system')");
    Uri uri;
    const std::string scheme = text.substr(0, sep);
    if (scheme.empty())
        parser.fail("scheme (driver name) before '://' is empty");
    const auto plus = scheme.find('+');
    uri.driver_ = parser.checkSchemeWord(scheme.substr(0, plus), "driver");
    if (plus != std::string::npos) {
        const std::string transport = scheme.substr(plus + 1);
        if (transport.empty())
            parser.fail("transport after '+' is empty");
        if (transport.find('+') != std::string::npos)
            parser.fail("scheme '" + scheme + "' has more than one '+' (expected driver+transport)");
        uri.transport_ = parser.checkSchemeWord(transport, "transport");
    }
    uri.scheme_ = uri.transport_.empty() ? uri.driver_ : uri.driver_ + "+" + uri.transport_;

    // Authority: up to the first '/', '?' or end.
    const std::string_view rest = std::string_view(text).substr(sep + 3);
    const auto authorityEnd = rest.find_first_of("/?#");
    const auto authority = rest.substr(0, authorityEnd);
    auto hostPort = authority;
    const auto at = authority.rfind('@');
    if (at != std::string_view::npos) {
        uri.user_ = parser.decode(authority.substr(0, at), "user name",
                                  [](char c) { return isUnreserved(c) || isSubDelim(c); });
        if (uri.user_.empty())
            parser.fail("user name before '@' is empty");
        hostPort = authority.substr(at + 1);
    }
    std::string portText;
    bool hasPort = false;
    uri.host_ = parser.parseHost(hostPort, portText, hasPort);
    if (hasPort)
        uri.port_ = parser.parsePort(portText);
    if (uri.host_.empty() && !uri.user_.empty())
        parser.fail("user name '" + uri.user_ + "' is given without a host");
    if (uri.host_.empty() && hasPort)
        parser.fail("port '" + portText + "' is given without a host");

    // Path and query.
    std::string_view tail = authorityEnd == std::string_view::npos ? std::string_view() : rest.substr(authorityEnd);
    if (const auto hash = tail.find('#'); hash != std::string_view::npos)
        parser.fail("fragment '" + std::string(tail.substr(hash)) + "' is not allowed in a connection URI");
    const auto question = tail.find('?');
    uri.path_ = parser.decode(tail.substr(0, question), "path", [](char c) {
        return isUnreserved(c) || isSubDelim(c) || c == ':' || c == '@' || c == '/' || c == '&' ||
               c == '=' || c == '+';
    });
    if (question != std::string_view::npos)
        uri.query_ = parser.parseQuery(tail.substr(question + 1));
    return uri;
}

std::optional<std::string> Uri::param(const std::string &name) const {
    // The last occurrence wins, as in libvirt's drivers.
    for (auto it = query_.rbegin(); it != query_.rend(); ++it)
        if (it->first == name)
            return it->second;
    return std::nullopt;
}

std::string Uri::str() const {
    std::string out = scheme_ + "://";
    if (!user_.empty())
        out += encode(user_, [](char c) { return isUnreserved(c) || isSubDelim(c); }) + "@";
    out += host_.find(':') != std::string::npos ? "[" + host_ + "]"
                                                : encode(host_, [](char c) { return isUnreserved(c); });
    if (port_ != 0)
        out += ":" + std::to_string(port_);
    out += encode(path_, [](char c) { return isUnreserved(c) || c == '/' || c == ':' || c == '@' || c == ','; });
    const auto safeInQuery = [](char c) { return isUnreserved(c) || c == '/' || c == ':' || c == '@' || c == ','; };
    for (std::size_t i = 0; i < query_.size(); ++i) {
        out += i == 0 ? "?" : "&";
        out += encode(query_[i].first, safeInQuery) + "=" + encode(query_[i].second, safeInQuery);
    }
    return out;
}

}  // namespace virtkit
