// Everything a peer can send is hostile: each malformed request gets an error
// or a timeout, the daemon's memory stays bounded and it keeps serving others.
#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

#include "harness.hpp"

using namespace std::chrono_literals;
using virtkit::test::Daemon;
using virtkit::test::RawClient;
using virtkit::test::TempDir;
using virtkit::test::httpBody;
using virtkit::test::httpStatus;

namespace {

const std::string kDomains = "/1.0/connections/test%3A%2F%2F%2Fdefault/domains";

std::string post(const std::string &path, const std::string &body)
{
    return "POST " + path + " HTTP/1.1\r\nHost: virtkitd\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string get(const std::string &path) { return "GET " + path + " HTTP/1.1\r\nHost: virtkitd\r\n\r\n"; }

// The daemon still answers a well-formed request on a fresh connection.
bool stillServing(const Daemon &d)
{
    RawClient c(d.socket());
    c.send(get(kDomains));
    const std::string r = c.readResponse(5s);
    return httpStatus(r) == 200 && httpBody(r).find("\"name\":\"test\"") != std::string::npos;
}

long rssKiB(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stol(line.substr(6));
    return -1;
}

}  // namespace

TEST_CASE("malformed requests get an error in the one JSON shape", "[daemon][hostile]")
{
    TempDir root;
    Daemon daemon(root.str());

    SECTION("bad JSON")
    {
        RawClient c(daemon.socket());
        c.send(post(kDomains, "{\"xml\": <domain"));
        const std::string r = c.readResponse(5s);
        CHECK(httpStatus(r) == 400);
        CHECK(httpBody(r).find("\"code_name\":\"INVALID_ARG\"") != std::string::npos);
        CHECK(httpBody(r).find("malformed JSON") != std::string::npos);
    }
    SECTION("JSON of the wrong shape")
    {
        RawClient c(daemon.socket());
        c.send(post(kDomains, "[1,2,3]"));
        CHECK(httpStatus(c.readResponse(5s)) == 400);
        RawClient d(daemon.socket());
        d.send(post(kDomains, "{\"xml\": 42}"));
        const std::string r = d.readResponse(5s);
        CHECK(httpStatus(r) == 400);
        CHECK(httpBody(r).find("'xml'") != std::string::npos);
    }
    SECTION("truncated body")
    {
        RawClient c(daemon.socket());
        c.send("POST " + kDomains + " HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"xml\":\"<do");
        c.shutdownWrite();
        const std::string r = c.readResponse(5s);
        CHECK(httpStatus(r) == 400);
        CHECK(httpBody(r).find("truncated") != std::string::npos);
    }
    SECTION("wrong API version")
    {
        RawClient c(daemon.socket());
        c.send(get("/2.0/connections/test%3A%2F%2F%2Fdefault/domains"));
        const std::string r = c.readResponse(5s);
        CHECK(httpStatus(r) == 404);
        CHECK(httpBody(r).find("\"code_name\":\"NO_SUPPORT\"") != std::string::npos);
        CHECK(httpBody(r).find("speaks 1.0") != std::string::npos);
    }
    SECTION("unknown path and wrong method")
    {
        RawClient c(daemon.socket());
        c.send(get("/1.0/connections/test%3A%2F%2F%2Fdefault/nothing-here"));
        CHECK(httpStatus(c.readResponse(5s)) == 404);
        RawClient d(daemon.socket());
        d.send("DELETE " + kDomains + " HTTP/1.1\r\nHost: x\r\n\r\n");
        CHECK(httpStatus(d.readResponse(5s)) == 405);
    }
    SECTION("a bad percent escape and a non-numeric flag")
    {
        RawClient c(daemon.socket());
        c.send(get("/1.0/connections/test%3/domains"));
        CHECK(httpStatus(c.readResponse(5s)) == 400);
        RawClient d(daemon.socket());
        d.send(get(kDomains + "?flags=lots"));
        CHECK(httpStatus(d.readResponse(5s)) == 400);
    }
    SECTION("garbage instead of HTTP")
    {
        RawClient c(daemon.socket());
        c.send(std::string("\x16\x03\x01\x00\xff garbage\r\n\r\n", 19));
        const std::string r = c.readAll(5s);
        CHECK((r.empty() || httpStatus(r) == 400));
    }
    CHECK(daemon.running());
    CHECK(stillServing(daemon));
}

TEST_CASE("a 100 MiB body is refused without being held in memory", "[daemon][hostile]")
{
    TempDir root;
    Daemon daemon(root.str());
    const long before = rssKiB(daemon.pid());

    SECTION("announced by Content-Length: refused unread")
    {
        RawClient c(daemon.socket());
        c.send("POST " + kDomains + " HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n");
        const std::string r = c.readResponse(5s);
        CHECK(httpStatus(r) == 413);
        CHECK(httpBody(r).find("limit") != std::string::npos);
    }
    SECTION("streamed chunked: cut off at the limit")
    {
        RawClient c(daemon.socket());
        c.send("POST " + kDomains + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        const std::string chunk = "100000\r\n" + std::string(0x100000, 'a') + "\r\n";  // 1 MiB
        int sent = 0;
        try {
            for (; sent < 100; ++sent)
                c.send(chunk);
        } catch (const std::exception &) {
            // the daemon stopped reading and closed: expected
        }
        CHECK(sent < 100);
        const std::string r = c.readResponse(5s);
        CHECK((r.empty() || httpStatus(r) == 413));
    }
    CHECK(daemon.running());
    CHECK(rssKiB(daemon.pid()) - before < 32 * 1024);
    CHECK(stillServing(daemon));
}

TEST_CASE("a slowloris client is cut off and others are served meanwhile", "[daemon][hostile]")
{
    TempDir root;
    Daemon daemon(root.str(), {}, "daemon:\n  request_timeout: 2\n");
    RawClient slow(daemon.socket());
    const std::string request = get(kDomains);
    const auto start = std::chrono::steady_clock::now();
    bool cut = false;
    for (std::size_t i = 0; i < request.size() && !cut; ++i) {
        try {
            slow.send(request.substr(i, 1));  // one byte a second
        } catch (const std::exception &) {
            cut = true;
            break;
        }
        if (i == 1)
            CHECK(stillServing(daemon));  // served while the slow one trickles
        cut = slow.closedByPeer(1s);
    }
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(cut);
    CHECK(took < 6s);
    CHECK(daemon.waitLog("slow or stalled client", 2s));
    CHECK(stillServing(daemon));
}
