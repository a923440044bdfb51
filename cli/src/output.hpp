// Output shapes several commands share.
#pragma once

#include <string>

#include "command.hpp"
#include "session.hpp"

namespace virtkit::cli {

// A document (XML, native config) ending in exactly one newline.
void printDocument(Session &session, std::string text);
// One value: a bare line, or {"<key>": "<text>"} with --json.
void printValue(Session &session, const ParsedCommand &cmd, const char *key, const std::string &text);

}  // namespace virtkit::cli
