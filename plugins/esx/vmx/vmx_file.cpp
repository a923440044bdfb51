#include "vmx_file.hpp"
#include "vmx_values.hpp"

#include <cstdio>

#include <virtkit/error.hpp>

namespace virtkit::esx::vmx {

namespace {

[[noreturn]] void syntaxError(std::size_t line, const std::string &what)
{
    throw Error(VIRTKIT_ERR_CONFIG, "VMX line " + std::to_string(line) + ": " + what);
}

bool isKeyChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == ':' || c == '-';
}

// Length of the UTF-8 sequence starting at text[i], 0 if it is not one.
std::size_t utf8Length(std::string_view text, std::size_t i)
{
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char c = byte(i);
    std::size_t length = 0;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        length = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        length = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        length = 4;
    else
        return 0;
    if (i + length > text.size())
        return 0;
    for (std::size_t k = 1; k < length; ++k)
        if ((byte(i + k) & 0xC0) != 0x80)
            return 0;
    // Overlong forms and surrogates.
    if ((c == 0xE0 && byte(i + 1) < 0xA0) || (c == 0xED && byte(i + 1) > 0x9F) ||
        (c == 0xF0 && byte(i + 1) < 0x90) || (c == 0xF4 && byte(i + 1) > 0x8F))
        return 0;
    return length;
}

}  // namespace

std::string lowercase(std::string_view text)
{
    std::string out(text);
    for (char &c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) { return lowercase(a) == lowercase(b); }

bool endsWithIgnoringCase(std::string_view text, std::string_view suffix)
{
    return text.size() >= suffix.size() && equalsIgnoringCase(text.substr(text.size() - suffix.size()), suffix);
}

VmxFile VmxFile::parse(std::string_view text)
{
    if (text.size() > max_bytes)
        throw Error(VIRTKIT_ERR_CONFIG, "VMX text is larger than " + std::to_string(max_bytes) + " bytes");
    if (text.substr(0, 3) == "\xEF\xBB\xBF")
        text.remove_prefix(3);
    for (std::size_t i = 0, line = 1; i < text.size();) {
        if (text[i] == '\n')
            ++line;
        const std::size_t length = text[i] == '\0' ? 0 : utf8Length(text, i);
        if (length == 0)
            syntaxError(line, text[i] == '\0' ? "NUL byte (is this a binary file?)" : "invalid UTF-8");
        i += length;
    }

    VmxFile file;
    std::size_t lineNumber = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        ++lineNumber;
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view line = text.substr(start, end - start);
        start = end + 1;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);

        std::size_t i = 0;
        const auto skipBlanks = [&] {
            while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
                ++i;
        };
        skipBlanks();
        if (i == line.size() || line[i] == '#')
            continue;
        const std::size_t keyStart = i;
        while (i < line.size() && isKeyChar(line[i]))
            ++i;
        if (i == keyStart)
            syntaxError(lineNumber, "expected `key = \"value\"`");
        const std::string key(line.substr(keyStart, i - keyStart));
        if (key.size() > 256)
            syntaxError(lineNumber, "key is longer than 256 characters");
        skipBlanks();
        if (i == line.size() || line[i] != '=')
            syntaxError(lineNumber, "expected '=' after '" + key + "'");
        ++i;
        skipBlanks();
        std::string value;
        if (i < line.size() && line[i] == '"') {
            const std::size_t close = line.find('"', i + 1);
            if (close == std::string_view::npos)
                syntaxError(lineNumber, "value of '" + key + "' has no closing quote");
            value = line.substr(i + 1, close - i - 1);
            i = close + 1;
        } else {
            const std::size_t valueStart = i;
            while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '#' && line[i] != '"')
                ++i;
            value = line.substr(valueStart, i - valueStart);
        }
        for (char c : value)
            if (static_cast<unsigned char>(c) < 0x20 && c != '\t')
                syntaxError(lineNumber, "value of '" + key + "' contains a control character");
        skipBlanks();
        if (i < line.size() && line[i] != '#')
            syntaxError(lineNumber, "unexpected text after the value of '" + key + "'");

        if (file.entries_.size() >= max_entries)
            syntaxError(lineNumber, "more than " + std::to_string(max_entries) + " entries");
        // VMware itself lets the last duplicate win; so do we.
        const auto [it, inserted] = file.index_.emplace(lowercase(key), file.entries_.size());
        if (inserted)
            file.entries_.push_back({key, value});
        else
            file.entries_[it->second].value = value;
    }
    return file;
}

std::optional<std::string> VmxFile::get(std::string_view key)
{
    const auto it = index_.find(lowercase(key));
    if (it == index_.end())
        return std::nullopt;
    Entry &entry = entries_[it->second];
    entry.used = true;
    return entry.value;
}

void VmxFile::consumePrefix(std::string_view prefix)
{
    const std::string lowered = lowercase(prefix);
    for (Entry &entry : entries_)
        if (lowercase(entry.key).compare(0, lowered.size(), lowered) == 0)
            entry.used = true;
}

std::vector<std::string> VmxFile::unusedKeys() const
{
    std::vector<std::string> keys;
    for (const Entry &entry : entries_)
        if (!entry.used)
            keys.push_back(entry.key);
    return keys;
}

void VmxFile::set(const std::string &key, const std::string &value)
{
    for (char c : value)
        if (c == '"' || (static_cast<unsigned char>(c) < 0x20 && c != '\t'))
            throw Error(VIRTKIT_ERR_NO_SUPPORT,
                        "the value for VMX entry '" + key + "' contains a quote or control character, which VMX cannot hold");
    const auto [it, inserted] = index_.emplace(lowercase(key), entries_.size());
    if (inserted)
        entries_.push_back({key, value});
    else
        entries_[it->second].value = value;
}

std::string VmxFile::format() const
{
    std::string out;
    for (const Entry &entry : entries_)
        out += entry.key + " = \"" + entry.value + "\"\n";
    return out;
}

std::optional<std::string> unescapeHex(std::string_view text, char escape)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != escape) {
            out += text[i];
            continue;
        }
        if (i + 2 >= text.size())
            return std::nullopt;
        const int high = hexDigit(text[i + 1]);
        const int low = hexDigit(text[i + 2]);
        if (high < 0 || low < 0)
            return std::nullopt;
        out += static_cast<char>(high * 16 + low);
        i += 2;
    }
    return out;
}

bool isXmlText(std::string_view text)
{
    for (std::size_t i = 0; i < text.size();) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        const std::size_t length = utf8Length(text, i);
        if (length == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r'))
            return false;
        i += length;
    }
    return true;
}

std::string escapeHex(std::string_view text, char escape)
{
    std::string out;
    for (char c : text) {
        if (c == escape || c == '"' || static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%02X", static_cast<unsigned char>(c));
            out += escape;
            out += hex;
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace virtkit::esx::vmx
