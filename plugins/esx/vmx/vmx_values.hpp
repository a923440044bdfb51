// What both directions share: value syntaxes (UUIDs, disk names, CPU sets,
// MACs), ESX's per-VM limits, and fail() for throwing virtkit::Error.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <virtkit/error.hpp>

namespace virtkit::esx::vmx {

[[noreturn]] inline void fail(int code, const std::string &message) { throw Error(code, message); }

// ESX 8 per-VM limits; both directions range-check against them.
constexpr long long max_memsize_mib = 24LL * 1024 * 1024;  // 24 TiB
constexpr long long max_vcpus = 768;
constexpr long long max_shares = 1000000;

using Uuid = std::array<std::uint8_t, 16>;

// 32 hex digits; spaces and dashes anywhere between byte pairs are ignored,
// so both "5011 5e16-..." (VMware) and the canonical form are accepted.
std::optional<Uuid> parseUuid(std::string_view text);
std::string formatUuid(const Uuid &uuid);         // 50115e16-9bdc-49d7-f171-53c4d7f91710
std::string formatVmwareUuid(const Uuid &uuid);   // 50 11 5e 16 9b dc 49 d7-f1 71 53 c4 d7 f9 17 10

// Disk target names: ("sd", 0) -> "sda", ("sd", 26) -> "sdaa".
std::string diskName(std::string_view prefix, int index);
std::optional<int> diskIndex(std::string_view name, std::string_view prefix);

// "0-2,5,^1" <-> {0,2,5}; refuses numbers above max_cpu.
constexpr int max_cpu = 16383;
std::optional<std::set<int>> parseCpuSet(std::string_view text);
std::string formatCpuSet(const std::set<int> &cpus);

// "00:0C:29:aa:bb:cc" -> "00:0c:29:aa:bb:cc"; std::nullopt when malformed.
std::optional<std::string> normalizeMac(std::string_view text);

// 0-15 for a hex digit, -1 otherwise.
int hexDigit(char c);

// Strict decimal parse of the whole string (leading '-' allowed).
std::optional<long long> parseInteger(std::string_view text);

}  // namespace virtkit::esx::vmx
