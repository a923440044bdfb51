// The URIs this plugin owns, read the way libvirt's ESX driver reads them:
//   esx://[user@]host[:port]/[?query]     an ESX(i) host
//   gsx://[user@]host[:port]/[?query]     a VMware GSX/Server host (same API, http default)
//   vpx://[user@]vcenter[:port]/datacenter[/cluster]/host[?query]
// query: no_verify=0|1, transport=http|https, auto_answer=0|1.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace virtkit::esx::vsphere {

struct EsxUri {
    std::string scheme;  // esx, gsx or vpx
    std::string user;    // may be empty: then the auth file or a prompt decides
    std::string host;
    uint16_t port = 0;   // 0: the transport's default
    bool https = true;
    bool noVerify = false;
    bool autoAnswer = false;
    // vpx only: datacenter, optional cluster, host
    std::string datacenter;
    std::string cluster;
    std::string hostSystem;

    uint16_t effectivePort() const { return port ? port : (https ? 443 : 80); }
};

// Throws virtkit::Error(INVALID_ARG) naming the part that is wrong.
EsxUri parseEsxUri(const std::string &uri);

}  // namespace virtkit::esx::vsphere
