#include "domain_format.hpp"

namespace virtkit::cli {

std::string idText(int id) { return id < 0 ? "-" : std::to_string(id); }

std::string stateText(int state, int reason, bool withReason)
{
    std::string text = domainStateName(state);
    if (withReason)
        text += std::string(" (") + domainStateReasonName(state, reason) + ")";
    return text;
}

void addIdJson(JsonObject &obj, int id)
{
    if (id < 0)
        obj.addNull("id");
    else
        obj.add("id", id);
}

}  // namespace virtkit::cli
