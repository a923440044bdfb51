// Domain XML in a canonical form for comparing: attributes sorted,
// indentation-only text dropped, everything else kept exactly.
#pragma once

#include <string>

namespace virtkit::esx::testing {

// Throws std::runtime_error when the text is not well-formed XML.
std::string canonicalXml(const std::string &xml);

}  // namespace virtkit::esx::testing
