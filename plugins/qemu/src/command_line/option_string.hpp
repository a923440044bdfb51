// Building QEMU option values so that nothing taken from XML can add an
// option of its own.
//
//  - KeyValueOption: "-chardev socket,id=x,path=..." style.  QEMU splits on
//    ',' and a literal comma is written ",,", so every value has its commas
//    doubled; keys and the leading driver are ours and checked to be plain.
//  - JsonOption: "-device {...}" / "-blockdev {...}" style (what libvirt
//    uses with QEMU >= 6): the JSON serializer quotes every value.
// Both refuse newlines, carriage returns and NULs in values: QEMU's parsers
// and its error messages are line based, and no domain needs them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <Poco/JSON/Object.h>

namespace virtkit::qemu {

// Throws Error(VIRTKIT_ERR_XML) if `value` holds '\n', '\r' or '\0'.
void check_option_value(std::string_view value, std::string_view what);
// "a,b" -> "a,,b", after check_option_value.
std::string escape_option_value(std::string_view value, std::string_view what);

class KeyValueOption {
public:
    // `head` is a driver or positional first value; it is escaped too.
    KeyValueOption() = default;
    explicit KeyValueOption(std::string_view head);
    KeyValueOption &add(std::string_view key, std::string_view value);
    KeyValueOption &add(std::string_view key, std::uint64_t value);
    KeyValueOption &add_flag(std::string_view key, bool on);  // key=on / key=off
    const std::string &str() const { return text_; }
    bool empty() const { return text_.empty(); }

private:
    std::string text_;
};

class JsonOption {
public:
    explicit JsonOption(std::string_view driver_key, std::string_view driver);
    JsonOption &add(const std::string &key, std::string_view value);
    JsonOption &add(const std::string &key, std::int64_t value);
    JsonOption &add_bool(const std::string &key, bool value);
    JsonOption &add(const std::string &key, const Poco::JSON::Object::Ptr &value);
    std::string str() const;

private:
    Poco::JSON::Object::Ptr object_;
};

}  // namespace virtkit::qemu
