#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace virtkit::testdriver {

// libvirt's leniency: 32 hex digits, '-' allowed between any of them,
// surrounding blanks ignored.  Returns the canonical lowercase 8-4-4-4-12 form.
std::optional<std::string> canonicalUuid(std::string_view text);

// A random (version 4) UUID in canonical form.
std::string randomUuid();

}  // namespace virtkit::testdriver
