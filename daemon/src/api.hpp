// The REST surface of virtkitd, API 1.0, as a pure function of a request:
//   GET    /1.0                                      -> daemon and API version
//   GET    /1.0/connections/{uri}                     -> {"uri","driver","daemon_uri"}
//   GET    .../capabilities | hostname | version
//   GET    .../domains?flags=N                        POST .../domains {"xml", "start"?}
//   GET    .../domains/by-name/{n} | by-uuid/{u} | by-id/{i}
//   GET    .../domains/{uuid}/xml?flags=N | info | autostart | job?flags=N | migrate-max-speed?flags=N
//   PUT    .../domains/{uuid}/autostart {"autostart"} | migrate-max-speed {"bandwidth","flags"}
//   DELETE .../domains/{uuid}
//   POST   .../domains/{uuid}/{start|shutdown|reboot|destroy|suspend|resume|abort-job|monitor|
//                              migrate-begin|migrate-perform|migrate-confirm|migrate-start-postcopy|migrate}
//   POST   .../migrate-prepare | migrate-finish | xml-from-native | xml-to-native | domain-capabilities
//   GET    .../events?domain=&kind=&type=           (WebSocket; see event_stream.hpp)
// {uri} is the driver URI percent-encoded as one path segment.  Authorisation
// (read-only) and argument checks happen here, before any driver call.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <virtkit/event_bus.hpp>

#include "driver_pool.hpp"

namespace virtkit::daemon {

struct ApiRequest {
    std::string method;
    std::string path;  // without the query
    std::vector<std::pair<std::string, std::string>> query;
    std::string body;
    bool readOnly = false;  // the read-only socket, or the client asked for it
};

struct ApiReply {
    int status = 200;
    std::string body;
};

struct EventsTarget {
    std::shared_ptr<Connection> connection;
    std::string clientUri;
    EventFilter filter;
};

class Api {
public:
    explicit Api(DriverPool &pool) : pool_(pool) {}

    // Never throws: every failure is an error reply.
    ApiReply handle(const ApiRequest &request);
    // GET .../events: the connection and filter, or an Error to send back.
    static bool isEventsRequest(const ApiRequest &request);
    EventsTarget eventsTarget(const ApiRequest &request);

private:
    ApiReply dispatch(const ApiRequest &request);

    DriverPool &pool_;
};

// Splits "/1.0/connections/x/domains" into decoded segments; checks the API
// version (Error NO_SUPPORT naming both versions when it differs).
std::vector<std::string> apiSegments(const std::string &path);

}  // namespace virtkit::daemon
