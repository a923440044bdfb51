// The process-wide pieces, built in dependency order: config, logging, bus,
// then the registry (which may publish plugin events while scanning).
#include <virtkit/context.hpp>

#include <cstdlib>

#include <virtkit/log.hpp>

namespace virtkit {
namespace {

std::string envOrEmpty(const char *name)
{
    const char *value = std::getenv(name);
    return value ? value : "";
}

// VIRTKIT_LOG wins over the config's log spec: applied last.
void applyLogging(const Config &config)
{
    if (const auto spec = config.logSpec(); spec && !spec->empty())
        log::configure(*spec);
    if (const std::string env = envOrEmpty("VIRTKIT_LOG"); !env.empty())
        log::configure(env);
    for (const auto &warning : config.warnings())
        log::get("core")->warn("{}", warning);
}

}  // namespace

Context::Context() : Context(Config::load()) {}

Context::Context(Config config) : config_(std::move(config)), registry_(bus_, config_)
{
    applyLogging(config_);
    registry_.scan(PluginRegistry::defaultSearchPath(config_));
}

Context::Context(Config config, std::vector<std::string> pluginDirs)
    : config_(std::move(config)), registry_(bus_, config_)
{
    applyLogging(config_);
    registry_.scan(pluginDirs);
}

Context::~Context() = default;

std::string Context::defaultUri() const
{
    if (const std::string env = envOrEmpty("VIRTKIT_DEFAULT_URI"); !env.empty())
        return env;
    if (const auto uri = config_.defaultUri(); uri && !uri->empty())
        return *uri;
    return "test:///default";
}

}  // namespace virtkit
