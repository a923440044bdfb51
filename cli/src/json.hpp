// Minimal JSON output for --json: objects and arrays built as text, with
// strings escaped per RFC 8259 (invalid UTF-8 becomes U+FFFD, so the output
// always parses).  Output only; the CLI never reads JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace virtkit::cli {

// "text" quoted and escaped.
std::string jsonString(std::string_view text);

class JsonObject {
public:
    JsonObject &add(std::string_view key, std::string_view value);
    JsonObject &add(std::string_view key, const char *value) { return add(key, std::string_view(value)); }
    JsonObject &add(std::string_view key, int64_t value);
    JsonObject &add(std::string_view key, uint64_t value);
    JsonObject &add(std::string_view key, int value) { return add(key, static_cast<int64_t>(value)); }
    JsonObject &add(std::string_view key, unsigned value) { return add(key, static_cast<uint64_t>(value)); }
    JsonObject &add(std::string_view key, bool value);
    JsonObject &addNull(std::string_view key);
    // `json` must already be valid JSON (a nested object or array).
    JsonObject &addRaw(std::string_view key, std::string_view json);
    std::string str() const { return "{" + body_ + "}"; }

private:
    void key(std::string_view k);
    std::string body_;
};

// An array of already-serialised JSON values.
std::string jsonArray(const std::vector<std::string> &items);
std::string jsonStringArray(const std::vector<std::string> &strings);

}  // namespace virtkit::cli
