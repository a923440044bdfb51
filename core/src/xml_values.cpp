#include "xml_values.hpp"

#include <array>
#include <cctype>
#include <limits>
#include <random>

namespace virtkit::xml {

namespace {

int hexValue(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool isSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string formatUuid(const std::array<uint8_t, 16> &bytes) {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out += '-';
        out += hex[bytes[i] >> 4];
        out += hex[bytes[i] & 0xf];
    }
    return out;
}

std::string lower(std::string text) {
    for (char &c : text)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

}  // namespace

std::optional<std::string> canonicalUuid(const std::string &text) {
    std::array<uint8_t, 16> bytes{};
    std::size_t pos = 0;
    while (pos < text.size() && isSpace(text[pos]))
        ++pos;
    for (std::size_t i = 0; i < bytes.size();) {
        if (pos >= text.size())
            return std::nullopt;
        if (text[pos] == '-') {
            ++pos;
            continue;
        }
        if (pos + 1 >= text.size() || hexValue(text[pos]) < 0 || hexValue(text[pos + 1]) < 0)
            return std::nullopt;
        bytes[i++] = static_cast<uint8_t>(hexValue(text[pos]) * 16 + hexValue(text[pos + 1]));
        pos += 2;
    }
    for (; pos < text.size(); ++pos)
        if (!isSpace(text[pos]))
            return std::nullopt;
    return formatUuid(bytes);
}

std::string randomUuid() {
    std::random_device source;
    std::array<uint8_t, 16> bytes{};
    for (std::size_t i = 0; i < bytes.size(); i += 4) {
        const uint32_t word = source();
        for (std::size_t j = 0; j < 4; ++j)
            bytes[i + j] = static_cast<uint8_t>(word >> (8 * j));
    }
    bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
    bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
    return formatUuid(bytes);
}

std::optional<uint64_t> unitScale(const std::string &unit) {
    const std::string u = lower(unit);
    if (u == "b" || u == "byte" || u == "bytes")
        return 1;
    if (u.empty() || (u.size() > 1 && u.substr(1) != "ib" && u.substr(1) != "b"))
        return std::nullopt;
    static const std::string prefixes = "kmgtpe";
    const auto power = prefixes.find(u[0]);
    if (power == std::string::npos)
        return std::nullopt;
    const uint64_t base = u.substr(1) == "b" ? 1000 : 1024;
    uint64_t scale = 1;
    for (std::size_t i = 0; i <= power; ++i)
        scale *= base;
    return scale;
}

std::optional<uint64_t> parseUnsigned(const std::string &text) {
    std::size_t begin = 0;
    std::size_t end = text.size();
    while (begin < end && isSpace(text[begin]))
        ++begin;
    while (end > begin && isSpace(text[end - 1]))
        --end;
    if (begin == end)
        return std::nullopt;
    uint64_t value = 0;
    constexpr uint64_t max = std::numeric_limits<uint64_t>::max();
    for (std::size_t i = begin; i < end; ++i) {
        const char c = text[i];
        if (c < '0' || c > '9')
            return std::nullopt;
        const auto digit = static_cast<uint64_t>(c - '0');
        if (value > (max - digit) / 10)
            return std::nullopt;
        value = value * 10 + digit;
    }
    return value;
}

}  // namespace virtkit::xml
