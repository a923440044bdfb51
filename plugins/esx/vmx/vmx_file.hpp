// The VMX text format: one `key = "value"` per line, keys case-insensitive,
// '#' comments.  VmxFile remembers which entries a reader looked at, so the
// converter can warn about every entry it did not map.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace virtkit::esx::vmx {

class VmxFile {
public:
    // Refuses with VIRTKIT_ERR_CONFIG (naming the line) anything that is not
    // well-formed VMX: binary data, NUL bytes, invalid UTF-8, unterminated
    // quotes, more than max_bytes.
    static VmxFile parse(std::string_view text);
    static constexpr std::size_t max_bytes = 1024 * 1024;
    static constexpr std::size_t max_entries = 20000;

    // Case-insensitive lookup; marks the entry as used.
    std::optional<std::string> get(std::string_view key);
    // Marks every entry whose key starts with prefix (case-insensitive) as used.
    void consumePrefix(std::string_view prefix);
    // Keys (original spelling, file order) nobody looked at.
    std::vector<std::string> unusedKeys() const;

    // Appends (or replaces) an entry.  Refuses values a VMX line cannot hold
    // ('"', line breaks, control characters) with VIRTKIT_ERR_NO_SUPPORT.
    void set(const std::string &key, const std::string &value);
    std::string format() const;

private:
    struct Entry {
        std::string key;
        std::string value;
        bool used = false;
    };
    std::vector<Entry> entries_;
    std::unordered_map<std::string, std::size_t> index_;  // lowercased key -> entry
};

std::string lowercase(std::string_view text);
bool equalsIgnoringCase(std::string_view a, std::string_view b);
bool endsWithIgnoringCase(std::string_view text, std::string_view suffix);

// VMware's hex escapes: `|22` (annotation) and `%25` (displayName).
// unescapeHex returns std::nullopt for a broken sequence ("|2", "|zz").
std::optional<std::string> unescapeHex(std::string_view text, char escape);
// True when text is valid UTF-8 without control characters other than
// tab, line feed and carriage return -- i.e. when XML can hold it.
bool isXmlText(std::string_view text);
// Escapes the escape character itself, '"', and every control character.
std::string escapeHex(std::string_view text, char escape);

}  // namespace virtkit::esx::vmx
