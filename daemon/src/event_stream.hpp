// GET .../events as a WebSocket: one text frame per event (the JSON of
// remote::encodeEvent), filtered on the daemon by ?domain=&kind=&type=.
// Each client has a bounded queue; a client that does not keep up is dropped
// with a logged reason, and never slows the bus or the other clients.
#pragma once

#include <atomic>
#include <cstddef>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "api.hpp"

namespace virtkit::daemon {

// Runs on the client's connection thread until the client leaves, falls
// behind by more than queueLimit events, or `stopping` becomes true.
void streamEvents(Api &api, const ApiRequest &req, Poco::Net::HTTPServerRequest &request,
                  Poco::Net::HTTPServerResponse &response, std::size_t queueLimit, const std::atomic<bool> &stopping);

}  // namespace virtkit::daemon
