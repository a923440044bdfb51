// libvirtkit-remote's one exported symbol: the table the core's
// RemoteConnection::open asks for (core/src/remote/remote_connection.cpp).
#include "http_connection.hpp"

namespace {

std::shared_ptr<virtkit::Connection> openHttp(virtkit::Context &ctx, const std::string &clientUri,
                                              virtkit::remote::Endpoint endpoint)
{
    return virtkit::remote::HttpConnection::open(ctx, clientUri, std::move(endpoint));
}

constexpr virtkit::remote::RemoteDriver kDriver{VIRTKIT_VERSION, &openHttp};

}  // namespace

extern "C" __attribute__((visibility("default"))) const virtkit::remote::RemoteDriver *virtkit_remote_driver()
{
    return &kDriver;
}
