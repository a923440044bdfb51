// Opening test URIs.  test:///default shares one state among all its
// connections in the process (libvirt does the same, so events caused on one
// connection are seen on the others); the state lives from the first open to
// the last close.  test:///ABSOLUTE/PATH.xml gets a state of its own.
#pragma once

#include <memory>
#include <string>

#include <virtkit/plugin.h>

#include "driver_state.hpp"

// The opaque handle of plugin.h, defined here (it must live in the global namespace).
struct virtkit_conn {
    std::string uri;
    std::shared_ptr<virtkit::testdriver::DriverState> state;
};

namespace virtkit::testdriver {

// Throws PluginError (VIRTKIT_ERR_NO_CONNECT, VIRTKIT_ERR_XML) naming the URI.
std::unique_ptr<virtkit_conn> openConnection(const std::string &uri, const virtkit_host_services &host);
void closeConnection(std::unique_ptr<virtkit_conn> conn);

}  // namespace virtkit::testdriver
