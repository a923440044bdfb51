// Logging with spdlog: one logger per component/plugin name, levels from a
// spec such as "qemu=debug,*=warn" (VIRTKIT_LOG, then the config file).
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace virtkit::log {

// Apply a level spec; throws Error(VIRTKIT_ERR_CONFIG) on a malformed one.
// Logs go to stderr.
void configure(const std::string &spec);
// Check a spec without applying it (e.g. one read from a config file).
void validateSpec(const std::string &spec);
// The named logger, created on first use with the level the spec gives it.
std::shared_ptr<spdlog::logger> get(const std::string &name);

}  // namespace virtkit::log
