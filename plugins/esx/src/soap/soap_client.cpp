#include "soap/soap_client.hpp"

#include <map>

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPCookie.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Timespan.h>
#include <Poco/Exception.h>

namespace virtkit::esx::vsphere {

namespace {

constexpr const char *envelopeHead =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\""
    " xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
    "<soapenv:Body>";
constexpr const char *envelopeTail = "</soapenv:Body></soapenv:Envelope>";

// One OpenSSL client context per verification mode, for the process.
Poco::Net::Context::Ptr tlsContext(bool verify)
{
    struct Init {
        Init() { Poco::Net::initializeSSL(); }
    };
    static Init init;
    static const Poco::Net::Context::Ptr verifying = [] {
        Poco::Net::Context::Params params;
        params.verificationMode = Poco::Net::Context::VERIFY_RELAXED;
        params.loadDefaultCAs = true;
        return Poco::Net::Context::Ptr(new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params));
    }();
    static const Poco::Net::Context::Ptr trusting = [] {
        Poco::Net::Context::Params params;
        params.verificationMode = Poco::Net::Context::VERIFY_NONE;
        return Poco::Net::Context::Ptr(new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params));
    }();
    return verify ? verifying : trusting;
}

}  // namespace

int faultCode(const std::string &type)
{
    static const std::map<std::string, int> codes = {
        {"InvalidLogin", VIRTKIT_ERR_AUTH},
        {"NotAuthenticated", VIRTKIT_ERR_AUTH},
        {"NoPermission", VIRTKIT_ERR_AUTH},
        {"ManagedObjectNotFound", VIRTKIT_ERR_NO_DOMAIN},
        {"InvalidPowerState", VIRTKIT_ERR_OPERATION_INVALID},
        {"InvalidState", VIRTKIT_ERR_OPERATION_INVALID},
        {"ToolsUnavailable", VIRTKIT_ERR_OPERATION_INVALID},
        {"DuplicateName", VIRTKIT_ERR_DOMAIN_EXISTS},
        {"AlreadyExists", VIRTKIT_ERR_DOMAIN_EXISTS},
        {"InvalidArgument", VIRTKIT_ERR_INVALID_ARG},
        {"InvalidRequest", VIRTKIT_ERR_INVALID_ARG},
        {"NotSupported", VIRTKIT_ERR_NO_SUPPORT},
        {"NotImplemented", VIRTKIT_ERR_NO_SUPPORT},
        {"MethodNotFound", VIRTKIT_ERR_NO_SUPPORT},
        {"RequestCanceled", VIRTKIT_ERR_OPERATION_FAILED},
    };
    const auto it = codes.find(type);
    return it == codes.end() ? VIRTKIT_ERR_OPERATION_FAILED : it->second;
}

SoapFault::SoapFault(const std::string &type, const std::string &message)
    : Error(faultCode(type), message), type_(type)
{
}

SoapClient::SoapClient(SoapEndpoint endpoint) : endpoint_(std::move(endpoint)) {}
SoapClient::~SoapClient() = default;

std::string SoapClient::url() const
{
    return std::string(endpoint_.https ? "https://" : "http://") + endpoint_.host + ":" +
           std::to_string(endpoint_.port) + "/sdk";
}

void SoapClient::connect()
{
    if (endpoint_.https)
        session_ = std::make_unique<Poco::Net::HTTPSClientSession>(endpoint_.host, endpoint_.port,
                                                                   tlsContext(endpoint_.verifyCertificate));
    else
        session_ = std::make_unique<Poco::Net::HTTPClientSession>(endpoint_.host, endpoint_.port);
    const Poco::Timespan timeout(std::chrono::duration_cast<std::chrono::microseconds>(endpoint_.timeout).count());
    session_->setTimeout(timeout, timeout, timeout);
    session_->setKeepAlive(true);
}

std::string SoapClient::post(const std::string &envelope)
{
    if (!session_)
        connect();
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, "/sdk", Poco::Net::HTTPMessage::HTTP_1_1);
    request.setContentType("text/xml; charset=utf-8");
    request.set("SOAPAction", "urn:vim25/6.5");
    request.setContentLength(static_cast<std::streamsize>(envelope.size()));
    request.setKeepAlive(true);
    if (!cookie_.empty()) {
        Poco::Net::NameValueCollection cookies;
        cookies.add("vmware_soap_session", cookie_);
        request.setCookies(cookies);
    }
    ++requests_;
    session_->sendRequest(request) << envelope;

    Poco::Net::HTTPResponse response;
    std::istream &in = session_->receiveResponse(response);
    std::vector<Poco::Net::HTTPCookie> cookies;
    response.getCookies(cookies);
    for (const auto &c : cookies)
        if (c.getName() == "vmware_soap_session")
            cookie_ = c.getValue();

    const auto status = response.getStatus();
    // SOAP faults come back as 500 with an envelope; anything else non-2xx is not SOAP.
    if (status != Poco::Net::HTTPResponse::HTTP_OK && status != Poco::Net::HTTPResponse::HTTP_INTERNAL_SERVER_ERROR)
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, url() + " answered HTTP " + std::to_string(static_cast<int>(status)) +
                                                      " " + response.getReason());
    if (response.hasContentLength() &&
        static_cast<std::size_t>(response.getContentLength64()) > endpoint_.maxResponseBytes)
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, url() + " sent a " + std::to_string(response.getContentLength64()) +
                                                      "-byte answer, more than the " +
                                                      std::to_string(endpoint_.maxResponseBytes) + "-byte limit");
    std::string body;
    char buffer[65536];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        body.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (body.size() > endpoint_.maxResponseBytes)
            throw Error(VIRTKIT_ERR_OPERATION_FAILED, url() + " sent an answer longer than the " +
                                                          std::to_string(endpoint_.maxResponseBytes) + "-byte limit");
    }
    if (in.bad())
        throw Error(VIRTKIT_ERR_NO_CONNECT, url() + " closed the connection in the middle of an answer");
    return body;
}

SoapClient::Answer SoapClient::call(const std::string &body)
{
    const std::string envelope = envelopeHead + body + envelopeTail;
    std::string answer;
    try {
        answer = post(envelope);
    } catch (const Error &) {
        session_.reset();  // the stream is in an unknown place: start over next time
        throw;
    } catch (const Poco::TimeoutException &) {
        session_.reset();
        throw Error(VIRTKIT_ERR_TIMEOUT, url() + " did not answer within " +
                                             std::to_string(endpoint_.timeout.count()) + " ms");
    } catch (const Poco::Net::SSLException &e) {
        session_.reset();
        const std::string reason = e.displayText();
        if (reason.find("certificate") == std::string::npos)
            throw Error(VIRTKIT_ERR_NO_CONNECT, "cannot talk to " + url() + ": " + reason);
        throw Error(VIRTKIT_ERR_NO_CONNECT, "TLS with " + url() + " failed: " + reason +
                                                " (the server certificate could not be verified; add ?no_verify=1 "
                                                "to the URI to skip verification)");
    } catch (const Poco::Exception &e) {
        session_.reset();
        throw Error(VIRTKIT_ERR_NO_CONNECT, "cannot talk to " + url() + ": " + e.displayText());
    }

    XmlTree tree = XmlTree::parse(answer, "the SOAP answer from " + url());
    const xmlNode *envelopeNode = tree.root();
    const xmlNode *bodyNode = child(envelopeNode, "Body");
    if (!isNamed(envelopeNode, "Envelope") || !bodyNode)
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, "the answer from " + url() + " is not a SOAP envelope");
    const xmlNode *result = firstElement(bodyNode);
    if (!result)
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, "the SOAP answer from " + url() + " has an empty body");
    if (isNamed(result, "Fault")) {
        // <detail><XyzFault xsi:type="Xyz">…</XyzFault></detail>
        const xmlNode *detail = firstElement(child(result, "detail"));
        std::string type = xsiType(detail);
        if (type.empty() && detail) {
            type = reinterpret_cast<const char *>(detail->name);
            if (type.size() > 5 && type.compare(type.size() - 5, 5, "Fault") == 0)
                type.resize(type.size() - 5);
        }
        const std::string message = text(child(result, "faultstring"));
        throw SoapFault(type.empty() ? "SOAP fault" : type,
                        (type.empty() ? "SOAP fault" : type) + (message.empty() ? "" : ": " + message));
    }
    return {std::move(tree), result};
}

}  // namespace virtkit::esx::vsphere
