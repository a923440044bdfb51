#include "json.hpp"

#include <cstdio>

namespace virtkit::cli {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid
// (overlong forms, surrogates and code points past U+10FFFF included).
std::size_t utf8SequenceLength(std::string_view s, std::size_t i)
{
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = byte(i);
    std::size_t len;
    uint32_t cp;
    if (b0 < 0x80)
        return 1;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
        cp = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        cp = b0 & 0x0F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        cp = b0 & 0x07;
    } else {
        return 0;
    }
    if (i + len > s.size())
        return 0;
    for (std::size_t k = 1; k < len; k++) {
        if ((byte(i + k) & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (byte(i + k) & 0x3F);
    }
    const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    return (overlong || surrogate || cp > 0x10FFFF) ? 0 : len;
}

}  // namespace

std::string jsonString(std::string_view text)
{
    std::string out = "\"";
    out.reserve(text.size() + 2);
    for (std::size_t i = 0; i < text.size();) {
        const char c = text[i];
        const std::size_t len = utf8SequenceLength(text, i);
        if (len == 0) {
            out += "\\ufffd";
            i++;
            continue;
        }
        if (len > 1) {
            out.append(text.substr(i, len));
            i += len;
            continue;
        }
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
                out += buf;
            } else {
                out += c;
            }
        }
        i++;
    }
    out += '"';
    return out;
}

void JsonObject::key(std::string_view k)
{
    if (!body_.empty())
        body_ += ',';
    body_ += jsonString(k);
    body_ += ':';
}

JsonObject &JsonObject::add(std::string_view k, std::string_view value)
{
    key(k);
    body_ += jsonString(value);
    return *this;
}

JsonObject &JsonObject::add(std::string_view k, int64_t value)
{
    key(k);
    body_ += std::to_string(value);
    return *this;
}

JsonObject &JsonObject::add(std::string_view k, uint64_t value)
{
    key(k);
    body_ += std::to_string(value);
    return *this;
}

JsonObject &JsonObject::add(std::string_view k, bool value)
{
    key(k);
    body_ += value ? "true" : "false";
    return *this;
}

JsonObject &JsonObject::addNull(std::string_view k)
{
    key(k);
    body_ += "null";
    return *this;
}

JsonObject &JsonObject::addRaw(std::string_view k, std::string_view json)
{
    key(k);
    body_ += json;
    return *this;
}

std::string jsonArray(const std::vector<std::string> &items)
{
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); i++) {
        if (i)
            out += ',';
        out += items[i];
    }
    return out + "]";
}

std::string jsonStringArray(const std::vector<std::string> &strings)
{
    std::vector<std::string> items;
    items.reserve(strings.size());
    for (const auto &s : strings)
        items.push_back(jsonString(s));
    return jsonArray(items);
}

}  // namespace virtkit::cli
