// One HTTP(S) connection speaking SOAP 1.1 to a vSphere endpoint (/sdk).
// Holds the vmware_soap_session cookie, bounds every call by a timeout and
// every answer by a size cap, and turns SOAP faults into SoapFault.
// Not thread-safe: one caller at a time (VsphereSession serialises).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <virtkit/error.hpp>

#include "soap/xml_tree.hpp"

namespace Poco::Net {
class HTTPClientSession;
}

namespace virtkit::esx::vsphere {

struct SoapEndpoint {
    bool https = true;
    std::string host;
    uint16_t port = 443;
    bool verifyCertificate = true;
    std::chrono::milliseconds timeout{60000};
    std::size_t maxResponseBytes = 64u << 20;  // inventories of thousands of VMs fit
};

// A fault answered by the server: the vSphere fault type (e.g. "InvalidLogin",
// "NotAuthenticated") and its faultstring; code() is the mapped virtkit code.
class SoapFault : public Error {
public:
    SoapFault(const std::string &type, const std::string &message);
    const std::string &type() const { return type_; }

private:
    std::string type_;
};

// virtkit error code for a vSphere fault type.
int faultCode(const std::string &type);

class SoapClient {
public:
    explicit SoapClient(SoapEndpoint endpoint);
    ~SoapClient();
    SoapClient(const SoapClient &) = delete;
    SoapClient &operator=(const SoapClient &) = delete;

    // Sends `body` (one urn:vim25 request element) and returns the parsed
    // answer; `result` points at the element inside soapenv:Body.
    struct Answer {
        XmlTree tree;
        const xmlNode *result;
    };
    Answer call(const std::string &body);

    const std::string &cookie() const { return cookie_; }
    void setCookie(std::string cookie) { cookie_ = std::move(cookie); }
    uint64_t requests() const { return requests_; }
    const SoapEndpoint &endpoint() const { return endpoint_; }
    // Where this client talks to, for messages: "https://host:port/sdk".
    std::string url() const;

private:
    std::string post(const std::string &envelope);
    void connect();

    SoapEndpoint endpoint_;
    std::unique_ptr<Poco::Net::HTTPClientSession> session_;
    std::string cookie_;
    uint64_t requests_ = 0;
};

}  // namespace virtkit::esx::vsphere
