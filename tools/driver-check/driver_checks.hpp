// The conformance checks, in the order a domain lives: open, host queries,
// define, lookups, start/suspend/resume/shutdown/destroy with their events,
// undefine, bad inputs, close.  An operation the driver answers with
// VIRTKIT_ERR_NO_SUPPORT is "not claimed": its check and the checks that
// need it are skipped, not failed.
#pragma once

#include <chrono>
#include <string>

#include <virtkit/context.hpp>

#include "check_report.hpp"

namespace virtkit::check {

struct CheckOptions {
    std::string uri;
    std::chrono::milliseconds timeout{2000};  // for events and asynchronous state changes
    std::string domainType;                   // "" = from the capabilities, else "test"
};

Report runDriverChecks(Context &ctx, const CheckOptions &options);

}  // namespace virtkit::check
