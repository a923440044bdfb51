#include "command_line_support.hpp"

#include <Poco/JSON/Parser.h>

#include <virtkit/error.hpp>

namespace virtkit::qemu::testing {

std::string domain_xml(const std::string &devices, const std::string &extra, const std::string &type)
{
    return "<domain type='" + type + "'><name>guest1</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>"
           "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
           "<os><type arch='x86_64' machine='pc'>hvm</type></os>" +
           extra + "<devices>" + devices + "</devices></domain>";
}

std::vector<std::string> args_for(const std::string &xml, bool kvm_usable)
{
    CommandLineOptions options;
    options.monitor_socket = "/run/test/monitor.sock";
    options.kvm_usable = kvm_usable;
    return build_command_line(xml, options).args;
}

std::vector<std::string> values_of(const std::vector<std::string> &args, const std::string &flag)
{
    std::vector<std::string> values;
    for (std::size_t i = 0; i + 1 < args.size(); ++i)
        if (args[i] == flag)
            values.push_back(args[i + 1]);
    return values;
}

std::vector<Poco::JSON::Object::Ptr> json_values_of(const std::vector<std::string> &args, const std::string &flag)
{
    std::vector<Poco::JSON::Object::Ptr> values;
    for (const std::string &value : values_of(args, flag))
        if (!value.empty() && value.front() == '{') {
            Poco::JSON::Parser parser;
            values.push_back(parser.parse(value).extract<Poco::JSON::Object::Ptr>());
        }
    return values;
}

std::vector<std::string> device_drivers(const std::vector<std::string> &args)
{
    std::vector<std::string> drivers;
    for (const std::string &value : values_of(args, "-device")) {
        if (!value.empty() && value.front() == '{') {
            Poco::JSON::Parser parser;
            drivers.push_back(parser.parse(value).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("driver"));
        } else {
            drivers.push_back(value.substr(0, value.find(',')));
        }
    }
    return drivers;
}

Poco::JSON::Object::Ptr device(const std::vector<std::string> &args, const std::string &driver)
{
    for (const auto &object : json_values_of(args, "-device"))
        if (object->getValue<std::string>("driver") == driver)
            return object;
    return nullptr;
}

int error_code_for(const std::string &xml, bool kvm_usable)
{
    try {
        args_for(xml, kvm_usable);
    } catch (const virtkit::Error &e) {
        return e.code();
    }
    return VIRTKIT_OK;
}

std::string error_text_for(const std::string &xml, bool kvm_usable)
{
    try {
        args_for(xml, kvm_usable);
    } catch (const virtkit::Error &e) {
        return e.what();
    }
    return "";
}

}  // namespace virtkit::qemu::testing
