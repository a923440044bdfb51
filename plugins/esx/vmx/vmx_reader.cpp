#include "vmx_reader.hpp"

#include "vmx_values.hpp"

namespace virtkit::esx::vmx {

bool VmxReader::boolean(const std::string &key, bool fallback)
{
    const auto value = file_.get(key);
    if (!value)
        return fallback;
    if (equalsIgnoringCase(*value, "true"))
        return true;
    if (equalsIgnoringCase(*value, "false"))
        return false;
    fail(VIRTKIT_ERR_CONFIG, "VMX entry '" + key + "' must be \"true\" or \"false\", not \"" + *value + "\"");
}

std::optional<long long> VmxReader::integer(const std::string &key, long long min, long long max, bool unlimited)
{
    const auto value = file_.get(key);
    if (!value)
        return std::nullopt;
    if (unlimited && equalsIgnoringCase(*value, "unlimited"))
        return -1;
    const auto number = parseInteger(*value);
    if (!number)
        fail(VIRTKIT_ERR_CONFIG, "VMX entry '" + key + "' must be an integer, not \"" + *value + "\"");
    if (*number < min || *number > max)
        fail(VIRTKIT_ERR_CONFIG, "VMX entry '" + key + "' is " + *value + "; it must be between " +
                                     std::to_string(min) + " and " + std::to_string(max));
    return number;
}

std::optional<std::string> VmxReader::mapFile(const std::string &fileName) const
{
    if (context_.parseFileName)
        return context_.parseFileName(fileName);
    return defaultParseFileName(fileName, context_);
}

void VmxReader::warn(const std::string &message) const
{
    if (context_.warn)
        context_.warn(message);
}

}  // namespace virtkit::esx::vmx
