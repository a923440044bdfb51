#include "driver/live_state.hpp"

#include <fstream>
#include <sstream>
#include <unistd.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <virtkit/error.hpp>

namespace virtkit::qemu {

void LiveState::save(const std::filesystem::path &file) const
{
    Poco::JSON::Object out;
    out.set("uuid", uuid);
    out.set("name", name);
    out.set("pid", static_cast<Poco::Int64>(pid));
    out.set("start_ticks", static_cast<Poco::UInt64>(start_ticks));
    out.set("monitor", monitor);
    out.set("log", log);
    out.set("started_at", static_cast<Poco::Int64>(started_at));
    out.set("id", id);
    out.set("state", state);
    out.set("reason", reason);
    out.set("phase", phase);
    out.set("fake_reboot", fake_reboot);
    out.set("xml", xml);
    Poco::JSON::Object extras;
    for (const auto &[key, value] : extra)
        extras.set(key, value);
    out.set("extra", extras);
    std::ostringstream text;
    out.stringify(text);

    const auto temporary = file.string() + ".tmp." + std::to_string(::getpid());
    {
        std::ofstream stream(temporary, std::ios::trunc);
        stream << text.str();
        if (!stream.flush())
            throw Error(VIRTKIT_ERR_SYSTEM, "cannot write " + temporary);
    }
    std::error_code ec;
    std::filesystem::rename(temporary, file, ec);
    if (ec)
        throw Error(VIRTKIT_ERR_SYSTEM, "cannot replace " + file.string() + ": " + ec.message());
}

std::optional<LiveState> LiveState::load(const std::filesystem::path &file)
{
    std::ifstream in(file);
    if (!in)
        return std::nullopt;
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    try {
        Poco::JSON::Parser parser;
        const auto object = parser.parse(text).extract<Poco::JSON::Object::Ptr>();
        LiveState s;
        s.uuid = object->getValue<std::string>("uuid");
        s.name = object->getValue<std::string>("name");
        s.pid = static_cast<pid_t>(object->getValue<Poco::Int64>("pid"));
        s.start_ticks = object->getValue<Poco::UInt64>("start_ticks");
        s.monitor = object->getValue<std::string>("monitor");
        s.log = object->getValue<std::string>("log");
        s.started_at = object->getValue<Poco::Int64>("started_at");
        s.id = object->getValue<std::int32_t>("id");
        s.state = object->getValue<std::int32_t>("state");
        s.reason = object->getValue<std::int32_t>("reason");
        s.phase = object->getValue<std::string>("phase");
        s.fake_reboot = object->getValue<bool>("fake_reboot");
        s.xml = object->getValue<std::string>("xml");
        if (const auto extras = object->getObject("extra"))
            for (const auto &[key, value] : *extras)
                s.extra[key] = value.toString();
        return s;
    } catch (const std::exception &) {
        return std::nullopt;
    }
}

}  // namespace virtkit::qemu
