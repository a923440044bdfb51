// Connection::jobStats text -> JobStats, and the names virsh prints for a job.
#include <virtkit/migration.hpp>

#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Object.h>

#include <array>
#include <cstring>

#include <virtkit/error.hpp>

namespace virtkit {
namespace {

constexpr std::array<const char *, 6> kJobTypeNames = {"None", "Bounded", "Unbounded", "Completed", "Failed",
                                                       "Cancelled"};
constexpr std::array<const char *, 11> kJobOperationNames = {
    "Unknown", "Start", "Save", "Restore", "Incoming migration", "Outgoing migration",
    "Snapshot", "Snapshot revert", "Dump", "Backup", "Snapshot delete"};

[[noreturn]] void badKey(const std::string &key, const char *want)
{
    throw Error(VIRTKIT_ERR_INTERNAL, "job statistics: '" + key + "' is not " + want);
}

std::optional<uint64_t> number(const Poco::JSON::Object &obj, const std::string &key)
{
    if (!obj.has(key) || obj.isNull(key))
        return std::nullopt;
    const Poco::Dynamic::Var v = obj.get(key);
    if (!v.isNumeric() || v.isBoolean())
        badKey(key, "a number");
    try {
        if (v.isInteger() && v.isSigned() && v.convert<int64_t>() < 0)
            badKey(key, "a non-negative number");
        return v.isInteger() ? v.convert<uint64_t>() : static_cast<uint64_t>(v.convert<double>());
    } catch (const Poco::Exception &) {
        badKey(key, "a non-negative number");
    }
}

std::string text(const Poco::JSON::Object &obj, const std::string &key)
{
    if (!obj.has(key) || obj.isNull(key))
        return {};
    const Poco::Dynamic::Var v = obj.get(key);
    if (!v.isString())
        badKey(key, "a string");
    return v.toString();
}

// libvirt's enum value, or (leniently) the name virsh prints for it.
template <std::size_t N>
int enumValue(const Poco::JSON::Object &obj, const std::string &key, const std::array<const char *, N> &names)
{
    if (!obj.has(key) || obj.isNull(key))
        return 0;
    const Poco::Dynamic::Var v = obj.get(key);
    if (v.isString()) {
        const std::string s = v.toString();
        for (std::size_t i = 0; i < N; ++i)
            if (strcasecmp(s.c_str(), names[i]) == 0)
                return static_cast<int>(i);
        badKey(key, "a known value");
    }
    const auto n = number(obj, key);
    if (*n >= N)
        return 0;  // a newer libvirt value we cannot name: "unknown"
    return static_cast<int>(*n);
}

}  // namespace

JobStats JobStats::parse(const std::string &json)
{
    Poco::JSON::Object::Ptr obj;
    try {
        obj = Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception &e) {
        throw Error(VIRTKIT_ERR_INTERNAL, "job statistics are not a JSON object: " + e.displayText());
    } catch (const std::exception &e) {  // BadCastException derives from Poco::Exception; others from bad extract
        throw Error(VIRTKIT_ERR_INTERNAL, std::string("job statistics are not a JSON object: ") + e.what());
    }
    if (!obj)
        throw Error(VIRTKIT_ERR_INTERNAL, "job statistics are not a JSON object");
    const Poco::JSON::Object &o = *obj;
    JobStats s;
    s.type = static_cast<JobType>(enumValue(o, "type", kJobTypeNames));
    s.operation = static_cast<JobOperation>(enumValue(o, "operation", kJobOperationNames));
    s.phase = text(o, "phase");
    s.status = text(o, "status");
    s.timeElapsedMs = number(o, "time_elapsed");
    s.dataTotal = number(o, "data_total");
    s.dataProcessed = number(o, "data_processed");
    s.dataRemaining = number(o, "data_remaining");
    s.memoryTotal = number(o, "memory_total");
    s.memoryProcessed = number(o, "memory_processed");
    s.memoryRemaining = number(o, "memory_remaining");
    s.memoryBps = number(o, "memory_bps");
    s.memoryDirtyRate = number(o, "memory_dirty_rate");
    s.memoryPageSize = number(o, "memory_page_size");
    s.memoryIteration = number(o, "memory_iteration");
    s.postcopyRequests = number(o, "memory_postcopy_requests");
    s.memoryConstant = number(o, "memory_constant");
    s.memoryNormal = number(o, "memory_normal");
    s.memoryNormalBytes = number(o, "memory_normal_bytes");
    s.downtimeMs = number(o, "downtime");
    s.setupTimeMs = number(o, "setup_time");
    if (o.has("success") && !o.isNull("success")) {
        const Poco::Dynamic::Var v = o.get("success");
        if (!v.isBoolean())
            badKey("success", "a boolean");
        s.success = v.convert<bool>();
    }
    s.errmsg = text(o, "errmsg");
    return s;
}

bool JobStats::inPostcopy() const
{
    if (status == "postcopy" || status == "postcopy_paused" || status == "postcopy_recover")
        return true;
    const std::string suffix = "_resume";
    return phase == "postcopy_failed" ||
           (phase.size() > suffix.size() && phase.compare(phase.size() - suffix.size(), suffix.size(), suffix) == 0);
}

std::optional<int> JobStats::percent() const
{
    const auto ratio = [](const std::optional<uint64_t> &total,
                          const std::optional<uint64_t> &remaining) -> std::optional<int> {
        if (!total || !remaining || *total == 0)
            return std::nullopt;
        const uint64_t left = std::min(*remaining, *total);
        return static_cast<int>(100 - (left * 100) / *total);
    };
    if (const auto p = ratio(dataTotal, dataRemaining))
        return p;
    return ratio(memoryTotal, memoryRemaining);
}

const char *jobTypeName(JobType type)
{
    const auto i = static_cast<std::size_t>(type);
    return i < kJobTypeNames.size() ? kJobTypeNames[i] : "Unknown";
}

const char *jobOperationName(JobOperation op)
{
    const auto i = static_cast<std::size_t>(op);
    return i < kJobOperationNames.size() ? kJobOperationNames[i] : "Unknown";
}

}  // namespace virtkit
