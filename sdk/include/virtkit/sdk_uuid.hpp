// virtkit/sdk_uuid.hpp — header-only UUID helpers for drivers: the canonical
// form the ABI passes around (lower-case 8-4-4-4-12, 36 characters) and new
// random UUIDs for definitions that come without one.
// Needs only <virtkit/error.hpp>; works with or without <virtkit/sdk.hpp>.
#pragma once

#include <array>
#include <charconv>
#include <cstdint>
#include <exception>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include <virtkit/error.hpp>

namespace virtkit::sdk {

namespace detail {
inline std::string formatUuid(const std::array<unsigned char, 16> &bytes)
{
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out += '-';
        out += kHex[bytes[i] >> 4];
        out += kHex[bytes[i] & 0xf];
    }
    return out;
}
}  // namespace detail

// libvirt's leniency: 32 hex digits in either case, '-' allowed between any
// of them, surrounding blanks ignored.  The canonical form, or nullopt.
inline std::optional<std::string> canonicalUuid(std::string_view text)
{
    constexpr std::string_view blanks = " \t\n\r\f\v";
    const std::size_t first = text.find_first_not_of(blanks);
    if (first == std::string_view::npos)
        return std::nullopt;
    text = text.substr(first, text.find_last_not_of(blanks) - first + 1);

    std::array<unsigned char, 16> bytes{};
    std::size_t digits = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '-' && digits > 0 && i + 1 < text.size())
            continue;
        unsigned value = 0;
        if (digits == 32 || std::from_chars(&text[i], &text[i] + 1, value, 16).ec != std::errc())
            return std::nullopt;
        bytes[digits / 2] = static_cast<unsigned char>(bytes[digits / 2] | (digits % 2 ? value : value << 4));
        ++digits;
    }
    if (digits != 32)
        return std::nullopt;
    return detail::formatUuid(bytes);
}

// A random (version 4, RFC 4122) UUID in canonical form.  Throws
// Error(VIRTKIT_ERR_SYSTEM) when the system has no randomness to give.
inline std::string randomUuid()
{
    std::array<unsigned char, 16> bytes{};
    try {
        std::random_device device;
        for (std::size_t i = 0; i < bytes.size(); i += 4) {
            const auto word = static_cast<std::uint32_t>(device());
            for (std::size_t k = 0; k < 4; ++k)
                bytes[i + k] = static_cast<unsigned char>(word >> (8 * k));
        }
    } catch (const std::exception &e) {
        throw Error(VIRTKIT_ERR_SYSTEM, std::string("cannot read random bytes for a new UUID: ") + e.what());
    }
    bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
    bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
    return detail::formatUuid(bytes);
}

}  // namespace virtkit::sdk
