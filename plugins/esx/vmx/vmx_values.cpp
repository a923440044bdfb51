#include "vmx_values.hpp"

#include <charconv>
#include <cstdio>

namespace virtkit::esx::vmx {

namespace {

std::string hexByte(std::uint8_t byte)
{
    char buffer[3];
    std::snprintf(buffer, sizeof buffer, "%02x", byte);
    return buffer;
}

}  // namespace

int hexDigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::optional<Uuid> parseUuid(std::string_view text)
{
    Uuid uuid{};
    std::size_t count = 0;
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] == ' ' || text[i] == '-') {
            ++i;
            continue;
        }
        if (count == uuid.size() || i + 1 >= text.size())
            return std::nullopt;
        const int high = hexDigit(text[i]);
        const int low = hexDigit(text[i + 1]);
        if (high < 0 || low < 0)
            return std::nullopt;
        uuid[count++] = static_cast<std::uint8_t>(high * 16 + low);
        i += 2;
    }
    if (count != uuid.size())
        return std::nullopt;
    return uuid;
}

std::string formatUuid(const Uuid &uuid)
{
    std::string out;
    for (std::size_t i = 0; i < uuid.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out += '-';
        out += hexByte(uuid[i]);
    }
    return out;
}

std::string formatVmwareUuid(const Uuid &uuid)
{
    std::string out;
    for (std::size_t i = 0; i < uuid.size(); ++i) {
        if (i > 0)
            out += i == 8 ? '-' : ' ';
        out += hexByte(uuid[i]);
    }
    return out;
}

std::string diskName(std::string_view prefix, int index)
{
    std::string letters;
    for (int i = index; i >= 0; i = i / 26 - 1)
        letters.insert(letters.begin(), static_cast<char>('a' + i % 26));
    return std::string(prefix) + letters;
}

std::optional<int> diskIndex(std::string_view name, std::string_view prefix)
{
    if (name.substr(0, prefix.size()) != prefix || name.size() == prefix.size() || name.size() > prefix.size() + 3)
        return std::nullopt;
    int index = 0;
    for (char c : name.substr(prefix.size())) {
        if (c < 'a' || c > 'z')
            return std::nullopt;
        index = index * 26 + (c - 'a' + 1);
    }
    return index - 1;
}

std::optional<long long> parseInteger(std::string_view text)
{
    long long value = 0;
    const char *end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end)
        return std::nullopt;
    return value;
}

std::optional<std::set<int>> parseCpuSet(std::string_view text)
{
    std::set<int> cpus;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t comma = text.find(',', start);
        if (comma == std::string_view::npos)
            comma = text.size();
        std::string_view item = text.substr(start, comma - start);
        while (!item.empty() && item.front() == ' ')
            item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ')
            item.remove_suffix(1);
        const bool negate = !item.empty() && item.front() == '^';
        if (negate)
            item.remove_prefix(1);
        const std::size_t dash = item.find('-');
        const auto first = parseInteger(item.substr(0, dash));
        const auto last = dash == std::string_view::npos ? first : parseInteger(item.substr(dash + 1));
        if (!first || !last || *first < 0 || *last < *first || *last > max_cpu)
            return std::nullopt;
        for (long long cpu = *first; cpu <= *last; ++cpu) {
            if (negate)
                cpus.erase(static_cast<int>(cpu));
            else
                cpus.insert(static_cast<int>(cpu));
        }
        start = comma + 1;
    }
    return cpus;
}

std::string formatCpuSet(const std::set<int> &cpus)
{
    std::string out;
    for (auto it = cpus.begin(); it != cpus.end();) {
        const int first = *it;
        int last = first;
        while (++it != cpus.end() && *it == last + 1)
            last = *it;
        if (!out.empty())
            out += ',';
        out += std::to_string(first);
        if (last != first)
            out += '-' + std::to_string(last);
    }
    return out;
}

std::optional<std::string> normalizeMac(std::string_view text)
{
    if (text.size() != 17)
        return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (i % 3 == 2) {
            if (c != ':')
                return std::nullopt;
            out += c;
        } else {
            if (hexDigit(c) < 0)
                return std::nullopt;
            out += (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
        }
    }
    return out;
}

}  // namespace virtkit::esx::vmx
