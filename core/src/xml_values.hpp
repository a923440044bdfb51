// Value syntaxes of libvirt's XML: UUIDs and scaled integers ("4 GiB").
// Internal to libvirtkit-core (not installed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace virtkit::xml {

// libvirt's virUUIDParse: 32 hex digits, '-' allowed between digit pairs,
// surrounding whitespace ignored.  Returns the canonical lowercase dashed
// form (8-4-4-4-12), or nothing when `text` is not a UUID.
std::optional<std::string> canonicalUuid(const std::string &text);

// A random version-4 UUID in canonical form (std::random_device, which
// reads the kernel's random source).
std::string randomUuid();

// libvirt's unit rules (virScaleInteger): b/byte/bytes = 1; k, m, g, t, p, e
// alone or with "iB" are powers of 1024, with "B" powers of 1000; letters
// are case-insensitive.  Returns the multiplier, or nothing for an unknown
// unit.
std::optional<uint64_t> unitScale(const std::string &unit);

// A plain non-negative decimal integer (surrounding whitespace allowed), or
// nothing on any other text or on overflow.
std::optional<uint64_t> parseUnsigned(const std::string &text);

}  // namespace virtkit::xml
