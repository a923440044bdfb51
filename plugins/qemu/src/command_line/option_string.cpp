#include "command_line/option_string.hpp"

#include <sstream>

#include <Poco/JSON/Stringifier.h>

#include <virtkit/error.hpp>

namespace virtkit::qemu {
namespace {

void check_plain_key(std::string_view key)
{
    for (const char c : key)
        if (c == ',' || c == '=' || static_cast<unsigned char>(c) < 0x20)
            throw Error(VIRTKIT_ERR_INTERNAL, "option key '" + std::string(key) + "' is not a plain word");
}

}  // namespace

void check_option_value(std::string_view value, std::string_view what)
{
    for (const char c : value)
        if (c == '\n' || c == '\r' || c == '\0')
            throw Error(VIRTKIT_ERR_XML,
                        "the value of " + std::string(what) + " contains a line break or NUL, which QEMU cannot take");
}

std::string escape_option_value(std::string_view value, std::string_view what)
{
    check_option_value(value, what);
    std::string escaped;
    escaped.reserve(value.size());
    for (const char c : value) {
        escaped += c;
        if (c == ',')
            escaped += ',';
    }
    return escaped;
}

KeyValueOption::KeyValueOption(std::string_view head) : text_(escape_option_value(head, "an option")) {}

KeyValueOption &KeyValueOption::add(std::string_view key, std::string_view value)
{
    check_plain_key(key);
    if (!text_.empty())
        text_ += ',';
    text_.append(key).append("=").append(escape_option_value(value, key));
    return *this;
}

KeyValueOption &KeyValueOption::add(std::string_view key, std::uint64_t value)
{
    return add(key, std::to_string(value));
}

KeyValueOption &KeyValueOption::add_flag(std::string_view key, bool on) { return add(key, on ? "on" : "off"); }

JsonOption::JsonOption(std::string_view driver_key, std::string_view driver)
    : object_(new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER))
{
    add(std::string(driver_key), driver);
}

JsonOption &JsonOption::add(const std::string &key, std::string_view value)
{
    check_option_value(value, key);
    object_->set(key, std::string(value));
    return *this;
}

JsonOption &JsonOption::add(const std::string &key, std::int64_t value)
{
    object_->set(key, value);
    return *this;
}

JsonOption &JsonOption::add_bool(const std::string &key, bool value)
{
    object_->set(key, value);
    return *this;
}

JsonOption &JsonOption::add(const std::string &key, const Poco::JSON::Object::Ptr &value)
{
    object_->set(key, value);
    return *this;
}

std::string JsonOption::str() const
{
    std::ostringstream out;
    Poco::JSON::Stringifier::condense(object_, out);
    return out.str();
}

}  // namespace virtkit::qemu
