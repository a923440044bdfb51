// libvirt's connection URI grammar:
//   driver[+transport]://[user@][host][:port]/[path][?query]
// e.g. qemu:///system, qemu+ssh://user@host:2222/system?keyfile=k,
// test:///default, esx://host/?no_verify=1, test:///abs/path/node.xml
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace virtkit {

class Uri {
public:
    // Throws virtkit::Error (VIRTKIT_ERR_INVALID_ARG) naming the wrong part.
    static Uri parse(const std::string &text);

    const std::string &scheme() const { return scheme_; }        // "qemu+ssh"
    const std::string &driver() const { return driver_; }        // "qemu"
    const std::string &transport() const { return transport_; }  // "ssh" or ""
    const std::string &user() const { return user_; }
    const std::string &host() const { return host_; }
    int port() const { return port_; }                            // 0 = none
    const std::string &path() const { return path_; }            // "/system"
    // Query parameters in order, percent-decoded.
    const std::vector<std::pair<std::string, std::string>> &query() const { return query_; }
    std::optional<std::string> param(const std::string &name) const;
    bool isLocal() const { return host_.empty() && transport_.empty(); }
    std::string str() const;  // canonical text form

private:
    std::string scheme_, driver_, transport_, user_, host_, path_;
    int port_ = 0;
    std::vector<std::pair<std::string, std::string>> query_;
};

}  // namespace virtkit
