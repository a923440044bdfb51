#include "uuid.hpp"

#include <array>
#include <cctype>
#include <random>

namespace virtkit::testdriver {

namespace {

std::string formatUuid(const std::array<unsigned char, 16> &bytes)
{
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out += '-';
        out += kHex[bytes[i] >> 4];
        out += kHex[bytes[i] & 0xf];
    }
    return out;
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower >= 'a' && lower <= 'f')
        return lower - 'a' + 10;
    return -1;
}

}  // namespace

std::optional<std::string> canonicalUuid(std::string_view text)
{
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
        text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.remove_suffix(1);

    std::array<unsigned char, 16> bytes{};
    std::size_t digits = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '-' && digits > 0 && i + 1 < text.size())
            continue;
        const int value = hexValue(text[i]);
        if (value < 0 || digits == 32)
            return std::nullopt;
        bytes[digits / 2] = static_cast<unsigned char>(bytes[digits / 2] | (digits % 2 ? value : value << 4));
        ++digits;
    }
    if (digits != 32)
        return std::nullopt;
    return formatUuid(bytes);
}

std::string randomUuid()
{
    std::random_device device;
    std::array<unsigned char, 16> bytes{};
    for (auto &b : bytes)
        b = static_cast<unsigned char>(device());
    bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
    bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
    return formatUuid(bytes);
}

}  // namespace virtkit::testdriver
