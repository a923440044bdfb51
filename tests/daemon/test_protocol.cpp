// The wire format's codecs: every error code survives the round trip, names
// decide over numbers, and hostile JSON becomes INVALID_ARG, never a crash.
#include <catch2/catch.hpp>

#include <signal.h>

#include <fstream>

#include <virtkit/error.hpp>
#include <virtkit/remote_protocol.hpp>

#include "harness.hpp"

using namespace std::chrono_literals;
using namespace virtkit;
using namespace virtkit::remote;

TEST_CASE("every virtkit error code crosses the wire both ways", "[daemon][protocol]")
{
    for (int code = VIRTKIT_ERR_INTERNAL; code <= VIRTKIT_ERR_ABI; ++code) {
        const std::string message = "message for code " + std::to_string(code) + " with \"quotes\" and \\ and \n";
        const Error back = decodeError(httpStatusFor(code), encodeError(code, message));
        CHECK(back.code() == code);
        CHECK(std::string(back.what()) == message);
        CHECK(errorCodeFromName(errorCodeName(code)) == code);
    }
    // The name decides when a number disagrees (numbers may move between versions, names do not).
    CHECK(decodeError(404, R"({"error":{"code":99,"code_name":"NO_DOMAIN","message":"m"}})").code() ==
          VIRTKIT_ERR_NO_DOMAIN);
    const Error garbage = decodeError(502, "<html>Bad Gateway</html>");
    CHECK(garbage.code() == VIRTKIT_ERR_INTERNAL);
    CHECK(std::string(garbage.what()).find("HTTP 502") != std::string::npos);
}

TEST_CASE("path segments and values decode to exactly what was encoded", "[daemon][protocol]")
{
    for (const std::string &text : std::vector<std::string>{"qemu:///system", "test:///a b/c%d?e=f&g", "名前", std::string("nul\0in", 6)}) {
        const std::string enc = encodeSegment(text);
        CHECK(enc.find('/') == std::string::npos);
        CHECK(decodeSegment(enc) == text);
    }
    CHECK_THROWS_AS(decodeSegment("%zz"), Error);
    CHECK_THROWS_AS(decodeSegment("abc%4"), Error);
    const DomainRef ref{"vm \"one\"", "6695eb01-f6a4-8304-79aa-97f2502e193f", 7};
    const auto refs = decodeRefs(encodeRefs({ref, ref}));
    REQUIRE(refs.size() == 2);
    CHECK(refs[1].name == ref.name);
    CHECK(refs[1].id == 7);
    // Any key order and spacing; an escape or a missing member takes the strict parser's road.
    const auto spaced = decodeRefs(" { \"domains\" : [ {\"id\": -1 , \"uuid\":\"u\",\"name\":\"a\u00e9\"} ] } ");
    REQUIRE(spaced.size() == 1);
    CHECK(spaced[0].name == "a\xc3\xa9");
    CHECK(spaced[0].id == -1);
    CHECK(decodeRefs("{\"domains\":[]}").empty());
    CHECK_THROWS_AS(decodeRefs("{\"domains\":[{\"name\":\"a\",\"uuid\":\"u\"}]}"), Error);
    CHECK_THROWS_AS(decodeRefs("{\"domains\":[{\"name\":\"a\",\"uuid\":\"u\",\"id\":1}]} trailing"), Error);
}

TEST_CASE("hostile JSON is an INVALID_ARG error naming the member", "[daemon][protocol]")
{
    const auto code = [](auto call) {
        try {
            call();
        } catch (const Error &e) {
            return e.code();
        }
        return 0;
    };
    CHECK(code([] { decodeRef("{\"name\":1,\"uuid\":\"u\",\"id\":1}"); }) == VIRTKIT_ERR_INVALID_ARG);
    CHECK(code([] { decodeRefs("{\"domains\":[1,2]}"); }) == VIRTKIT_ERR_INVALID_ARG);
    CHECK(code([] { decodeInfo("{\"state\":\"running\"}"); }) == VIRTKIT_ERR_INVALID_ARG);
    CHECK(code([] { stringMember("[", "x"); }) == VIRTKIT_ERR_INVALID_ARG);
    CHECK(code([] { stringMember(std::string(100000, '['), "x"); }) == VIRTKIT_ERR_INVALID_ARG);
    CHECK(code([] { integerMember("{\"n\":1e400}", "n"); }) == VIRTKIT_ERR_INVALID_ARG);
    CHECK(code([] { decodeFilterQuery({{"kind", "weather"}}); }) == VIRTKIT_ERR_INVALID_ARG);
    CHECK(code([] { decodeFilterQuery({{"colour", "red"}}); }) == VIRTKIT_ERR_INVALID_ARG);
    CHECK(decodeFilterQuery({{"type", "started"}}).type == VIRTKIT_EVENT_STARTED);
}

TEST_CASE("SIGHUP reloads the limits, and a broken config keeps the old ones", "[daemon]")
{
    virtkit::test::TempDir root;
    virtkit::test::Daemon daemon(root.str(), {}, "daemon:\n  max_body_bytes: 100000\n");
    const auto postOfSize = [&](std::size_t n) {
        virtkit::test::RawClient c(daemon.socket());
        const std::string body = "{\"xml\":\"" + std::string(n, 'x') + "\"}";
        c.send("POST /1.0/connections/test%3A%2F%2F%2Fdefault/domains HTTP/1.1\r\nHost: x\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body);
        return virtkit::test::httpStatus(c.readResponse(5s));
    };
    CHECK(postOfSize(5000) == 400);  // read, parsed, refused as XML
    std::ofstream(root.str() + "/virtkitd.yaml") << "daemon:\n  max_body_bytes: 1000\n";
    ::kill(daemon.pid(), SIGHUP);
    REQUIRE(daemon.waitLog("configuration reloaded", 5s));
    CHECK(postOfSize(5000) == 413);
    std::ofstream(root.str() + "/virtkitd.yaml") << "daemon: [unclosed\n";
    ::kill(daemon.pid(), SIGHUP);
    REQUIRE(daemon.waitLog("configuration reload failed, keeping the old one", 5s));
    CHECK(postOfSize(5000) == 413);
    CHECK(daemon.running());
}
