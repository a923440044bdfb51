// Loggers live in spdlog's registry; this file keeps the level spec and
// applies it.  The spec is the one piece of process-wide mutable state here,
// guarded by a mutex (creation and configure() must not interleave).
#include <virtkit/log.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <string_view>

#include <spdlog/sinks/stdout_color_sinks.h>

#include <virtkit/error.hpp>

namespace virtkit::log {
namespace {

struct LevelSpec {
    spdlog::level::level_enum fallback = spdlog::level::warn;  // "*"
    std::map<std::string, spdlog::level::level_enum, std::less<>> byName;

    spdlog::level::level_enum levelFor(std::string_view name) const {
        const auto it = byName.find(name);
        return it == byName.end() ? fallback : it->second;
    }
};

struct State {
    std::mutex mutex;
    LevelSpec spec;
};

State &state() {
    static State instance;
    return instance;
}

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = s.find_last_not_of(" \t");
    return s.substr(first, last - first + 1);
}

std::optional<spdlog::level::level_enum> parseLevel(std::string_view word) {
    static const std::map<std::string_view, spdlog::level::level_enum> levels = {
        {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
        {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
        {"error", spdlog::level::err},   {"off", spdlog::level::off},
    };
    const auto it = levels.find(word);
    return it == levels.end() ? std::nullopt : std::optional(it->second);
}

[[noreturn]] void malformed(const std::string &spec, std::string_view item, const std::string &why) {
    throw Error(VIRTKIT_ERR_CONFIG, "log spec '" + spec + "': item '" + std::string(item) + "' " + why +
                                        " (expected e.g. \"qemu=debug,*=warn\"; levels: trace, debug, "
                                        "info, warn, error, off)");
}

// "qemu=debug,*=warn"; a bare level ("debug") means "*=debug".
LevelSpec parseSpec(const std::string &spec) {
    LevelSpec parsed;
    if (trim(spec).empty()) {
        return parsed;  // an empty spec means "all defaults"
    }
    std::string_view rest = spec;
    for (bool more = true; more;) {
        const auto comma = rest.find(',');
        const std::string_view item = trim(rest.substr(0, comma));
        more = comma != std::string_view::npos;
        rest = more ? rest.substr(comma + 1) : std::string_view{};
        if (item.empty()) {
            malformed(spec, item, "is empty");
        }
        const auto equals = item.find('=');
        const std::string_view name = equals == std::string_view::npos ? "*" : trim(item.substr(0, equals));
        const std::string_view word = equals == std::string_view::npos ? item : trim(item.substr(equals + 1));
        if (name.empty()) {
            malformed(spec, item, "has no logger name before '='");
        }
        const auto level = parseLevel(word);
        if (!level) {
            malformed(spec, item, "has unknown level '" + std::string(word) + "'");
        }
        if (name == "*") {
            parsed.fallback = *level;
        } else {
            parsed.byName[std::string(name)] = *level;
        }
    }
    return parsed;
}

std::shared_ptr<spdlog::logger> createLogger(const std::string &name, const LevelSpec &spec) {
    auto logger = spdlog::stderr_color_mt(name);
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ [%n] %v");
    logger->set_level(spec.levelFor(name));
    return logger;
}

}  // namespace

void validateSpec(const std::string &spec) {
    parseSpec(spec);
}

void configure(const std::string &spec) {
    LevelSpec parsed = parseSpec(spec);  // throws before anything changes
    State &s = state();
    const std::lock_guard lock(s.mutex);
    s.spec = std::move(parsed);
    spdlog::apply_all([&](const std::shared_ptr<spdlog::logger> &logger) {
        logger->set_level(s.spec.levelFor(logger->name()));
    });
}

std::shared_ptr<spdlog::logger> get(const std::string &name) {
    if (auto existing = spdlog::get(name)) {
        return existing;
    }
    State &s = state();
    const std::lock_guard lock(s.mutex);
    if (auto existing = spdlog::get(name)) {  // another thread created it meanwhile
        return existing;
    }
    return createLogger(name, s.spec);
}

}  // namespace virtkit::log
