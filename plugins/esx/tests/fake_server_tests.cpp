// What vcsim cannot do on cue: answers that are malformed, enormous, carry a
// DTD with external entities, or never come.  A tiny HTTP server on loopback
// answers every request with one canned reply.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <virtkit/error.hpp>

#include "driver/esx_connection.hpp"
#include "vcsim_process.hpp"

using namespace virtkit::esx::vsphere;
using namespace virtkit::esx::testing;

namespace {

class FakeHttpServer {
public:
    // reply(fd) writes the whole answer; it may block until the peer goes.
    explicit FakeHttpServer(std::function<void(int)> reply) : reply_(std::move(reply))
    {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        REQUIRE(::bind(listener_, reinterpret_cast<sockaddr *>(&addr), len) == 0);
        REQUIRE(::listen(listener_, 8) == 0);
        REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr *>(&addr), &len) == 0);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~FakeHttpServer()
    {
        stop_ = true;
        thread_.join();
        ::close(listener_);
    }
    int port() const { return port_; }
    std::string uri() const { return "esx://127.0.0.1:" + std::to_string(port_) + "/?transport=http"; }

private:
    void serve()
    {
        while (!stop_) {
            pollfd pfd{listener_, POLLIN, 0};
            if (::poll(&pfd, 1, 100) <= 0)
                continue;
            const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0)
                continue;
            // read the request head and body (the client sends Content-Length)
            std::string request;
            char buf[4096];
            for (;;) {
                pollfd in{fd, POLLIN, 0};
                if (::poll(&in, 1, 2000) <= 0)
                    break;
                const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
                if (n <= 0)
                    break;
                request.append(buf, static_cast<std::size_t>(n));
                const auto head = request.find("\r\n\r\n");
                const auto length = request.find("Content-Length: ");
                if (head != std::string::npos && length != std::string::npos &&
                    request.size() >= head + 4 + std::stoul(request.substr(length + 16)))
                    break;
            }
            reply_(fd);
            ::close(fd);
        }
    }

    std::function<void(int)> reply_;
    int listener_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

bool sendAll(int fd, const std::string &data)
{
    std::size_t sent = 0;
    while (sent < data.size()) {
        const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

std::function<void(int)> answer(const std::string &body, const std::string &status = "200 OK")
{
    return [=](int fd) {
        sendAll(fd, "HTTP/1.1 " + status + "\r\nContent-Type: text/xml\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body);
    };
}

const std::string envelopeHead = "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\">"
                                 "<soapenv:Body>";

struct Failure {
    int code = VIRTKIT_OK;
    std::string message;
};

Failure openFails(const std::string &uri)
{
    const AuthFile auth("127.0.0.1", "root", "secret");
    try {
        openSession(uri);
    } catch (const virtkit::Error &e) {
        return {e.code(), e.what()};
    }
    return {};
}

}  // namespace

TEST_CASE("a malformed SOAP answer is a clear error", "[esx][fake]")
{
    const FakeHttpServer server(answer(envelopeHead + "<RetrieveServiceContentResponse><returnval>"));
    const Failure failure = openFails(server.uri());
    CHECK(failure.code == VIRTKIT_ERR_XML);
    CHECK_THAT(failure.message, Catch::Contains("not well-formed XML"));

    const FakeHttpServer notSoap(answer("<html><body>hello</body></html>"));
    CHECK_THAT(openFails(notSoap.uri()).message, Catch::Contains("is not a SOAP envelope"));

    const FakeHttpServer notFound(answer("no such page", "404 Not Found"));
    CHECK_THAT(openFails(notFound.uri()).message, Catch::Contains("answered HTTP 404"));
}

TEST_CASE("a 100 MiB answer is refused without reading it all into memory", "[esx][fake]")
{
    constexpr std::size_t hundredMiB = 100u << 20;
    SECTION("announced by Content-Length")
    {
        const FakeHttpServer server([](int fd) {
            sendAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(hundredMiB) + "\r\n\r\n");
            const std::string chunk(1 << 20, ' ');
            for (std::size_t i = 0; i < 100 && sendAll(fd, chunk); ++i) {
            }
        });
        const Failure failure = openFails(server.uri());
        CHECK_THAT(failure.message, Catch::Contains("104857600-byte answer") && Catch::Contains("limit"));
    }
    SECTION("streamed without a length")
    {
        const FakeHttpServer server([](int fd) {
            sendAll(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + envelopeHead);
            const std::string chunk(1 << 20, ' ');
            for (std::size_t i = 0; i < 100 && sendAll(fd, chunk); ++i) {
            }
        });
        const Failure failure = openFails(server.uri());
        CHECK_THAT(failure.message, Catch::Contains("longer than the") && Catch::Contains("limit"));
    }
}

TEST_CASE("XML with a DTD or external entities is refused, nothing is fetched", "[esx][fake]")
{
    const std::string secret = "/etc/hostname";
    const FakeHttpServer external(answer(
        "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY leak SYSTEM \"file://" + secret + "\">]>" + envelopeHead +
        "<RetrieveServiceContentResponse xmlns=\"urn:vim25\"><returnval><about><fullName>&leak;</fullName></about>"
        "</returnval></RetrieveServiceContentResponse></soapenv:Body></soapenv:Envelope>"));
    const Failure failure = openFails(external.uri());
    CHECK(failure.code == VIRTKIT_ERR_XML);
    CHECK_THAT(failure.message, Catch::Contains("DTD"));

    const FakeHttpServer laughs(answer(
        "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
        "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]>" +
        envelopeHead + "<x>&d;&d;&d;&d;</x></soapenv:Body></soapenv:Envelope>"));
    CHECK(openFails(laughs.uri()).code == VIRTKIT_ERR_XML);
}

TEST_CASE("a server that accepts but never answers times out", "[esx][fake]")
{
    const FakeHttpServer silent([](int) { std::this_thread::sleep_for(std::chrono::seconds(3)); });
    ::setenv("VIRTKIT_ESX_TIMEOUT_MS", "500", 1);
    const auto started = std::chrono::steady_clock::now();
    const Failure failure = openFails(silent.uri());
    ::unsetenv("VIRTKIT_ESX_TIMEOUT_MS");
    CHECK(failure.code == VIRTKIT_ERR_TIMEOUT);
    CHECK_THAT(failure.message, Catch::Contains("did not answer within 500 ms"));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(2500));
}

TEST_CASE("a SOAP fault is reported with its type and text", "[esx][fake]")
{
    const FakeHttpServer server(answer(
        envelopeHead +
            "<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>Permission to perform this operation "
            "was denied.</faultstring><detail><NoPermissionFault xmlns=\"urn:vim25\" "
            "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"NoPermission\"/></detail>"
            "</soapenv:Fault></soapenv:Body></soapenv:Envelope>",
        "500 Internal Server Error"));
    const Failure failure = openFails(server.uri());
    CHECK(failure.code == VIRTKIT_ERR_AUTH);
    CHECK_THAT(failure.message, Catch::Contains("NoPermission: Permission to perform this operation was denied."));
}
