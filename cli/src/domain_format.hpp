// How domains read on screen, shared by the commands that show them.
#pragma once

#include <string>

#include <virtkit/domain.hpp>

#include "json.hpp"

namespace virtkit::cli {

// "1", or "-" for a domain that is not running (virsh).
std::string idText(int id);
// "running", or "running (booted)" with the reason.
std::string stateText(int state, int reason, bool withReason);
// The id as JSON: a number, or null when not running.
void addIdJson(JsonObject &obj, int id);

}  // namespace virtkit::cli
