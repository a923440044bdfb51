#include <catch2/catch.hpp>

#include <virtkit/error.hpp>
#include <virtkit/uri.hpp>

#include <string>
#include <vector>

using virtkit::Uri;

namespace {

struct GoodUri {
    std::string text;
    std::string driver, transport, user, host;
    int port;
    std::string path;
};

// The message of the Error that parsing `text` throws, checking its code.
std::string parseError(const std::string &text) {
    try {
        Uri::parse(text);
    } catch (const virtkit::Error &e) {
        CHECK(e.code() == VIRTKIT_ERR_INVALID_ARG);
        return e.what();
    }
    FAIL("'" << text << "' was accepted");
    return {};
}

}  // namespace

TEST_CASE("the URIs libvirt users write are split into their parts", "[uri]") {
    const std::vector<GoodUri> table = {
        {"qemu:///system", "qemu", "", "", "", 0, "/system"},
        {"qemu:///session", "qemu", "", "", "", 0, "/session"},
        {"qemu:///embed?root=/tmp/x", "qemu", "", "", "", 0, "/embed"},
        {"qemu+ssh://user@host:2222/system?keyfile=k", "qemu", "ssh", "user", "host", 2222, "/system"},
        {"qemu+tls://host/system", "qemu", "tls", "", "host", 0, "/system"},
        {"test:///default", "test", "", "", "", 0, "/default"},
        {"test:///abs/path/node.xml", "test", "", "", "", 0, "/abs/path/node.xml"},
        {"esx://host/?no_verify=1", "esx", "", "", "host", 0, "/"},
        {"vpx://vcenter/dc/cluster/host", "vpx", "", "", "vcenter", 0, "/dc/cluster/host"},
        {"lxc:///", "lxc", "", "", "", 0, "/"},
        {"qemu+tcp://[::1]:16509/system", "qemu", "tcp", "", "::1", 16509, "/system"},
        {"qemu+unix:///system?socket=/run/x.sock", "qemu", "unix", "", "", 0, "/system"},
        {"xen://", "xen", "", "", "", 0, ""},
        {"esx://host.example.com", "esx", "", "", "host.example.com", 0, ""},
    };
    for (const auto &want : table) {
        INFO(want.text);
        const Uri uri = Uri::parse(want.text);
        CHECK(uri.driver() == want.driver);
        CHECK(uri.transport() == want.transport);
        CHECK(uri.scheme() == (want.transport.empty() ? want.driver : want.driver + "+" + want.transport));
        CHECK(uri.user() == want.user);
        CHECK(uri.host() == want.host);
        CHECK(uri.port() == want.port);
        CHECK(uri.path() == want.path);
        CHECK(uri.str() == want.text);  // these are all already canonical
    }
}

TEST_CASE("query parameters are kept in order and percent-decoded", "[uri]") {
    const Uri uri = Uri::parse("qemu+ssh://root@node1/system?keyfile=%2Fhome%2Fme%2Fid%20rsa&no_verify=1&flag");
    REQUIRE(uri.query().size() == 3);
    CHECK(uri.query()[0] == std::pair<std::string, std::string>("keyfile", "/home/me/id rsa"));
    CHECK(uri.query()[1] == std::pair<std::string, std::string>("no_verify", "1"));
    CHECK(uri.query()[2] == std::pair<std::string, std::string>("flag", ""));
    CHECK(uri.param("keyfile") == "/home/me/id rsa");
    CHECK(uri.param("flag") == "");
    CHECK_FALSE(uri.param("socket").has_value());
    CHECK(Uri::parse("qemu:///embed?root=/tmp/x").param("root") == "/tmp/x");
}

TEST_CASE("a repeated query parameter takes its last value", "[uri]") {
    CHECK(Uri::parse("test:///default?mode=a&mode=b").param("mode") == "b");
}

TEST_CASE("str() gives canonical text that parses back to the same URI", "[uri]") {
    const Uri uri = Uri::parse("QEMU+SSH://me@Host:22/system?keyfile=%2Fa%20b&x=%26%3D");
    CHECK(uri.scheme() == "qemu+ssh");
    CHECK(uri.param("x") == "&=");
    const std::string canonical = uri.str();
    CHECK(canonical == "qemu+ssh://me@Host:22/system?keyfile=/a%20b&x=%26%3D");
    const Uri again = Uri::parse(canonical);
    CHECK(again.str() == canonical);
    CHECK(again.query() == uri.query());
    CHECK(Uri::parse("qemu+tcp://[::1]:16509/system").str() == "qemu+tcp://[::1]:16509/system");
}

TEST_CASE("only URIs without host and transport are local", "[uri]") {
    CHECK(Uri::parse("qemu:///system").isLocal());
    CHECK(Uri::parse("qemu+unix:///system").isLocal() == false);
    CHECK(Uri::parse("qemu://host/system").isLocal() == false);
}

TEST_CASE("bad URIs are refused with a message naming the wrong part", "[uri]") {
    const std::vector<std::pair<std::string, std::string>> table = {
        {"", "invalid URI '': the URI is empty"},
        {"qemu", "missing '://'"},
        {"qemu:/system", "missing '://'"},
        {":///system", "scheme (driver name) before '://' is empty"},
        {"qe_mu!:///system", "driver 'qe_mu!' contains the invalid character '!'"},
        {"1qemu:///system", "driver '1qemu' must start with a letter"},
        {"+ssh://host/system", "driver is empty"},
        {"qemu+://host/system", "transport after '+' is empty"},
        {"qemu+ssh+tls://host/system", "more than one '+'"},
        {"qemu+s$h://host/system", "transport 's$h' contains the invalid character '$'"},
        {"qemu://host:99999/system", "invalid URI 'qemu://host:99999/system': port '99999' is out of range (1-65535)"},
        {"qemu://host:0/system", "port '0' is out of range (1-65535)"},
        {"qemu://host:22x/system", "port '22x' is not a number"},
        {"qemu://host:/system", "port is empty after ':'"},
        {"qemu://:22/system", "port '22' is given without a host"},
        {"qemu+ssh://user@/system", "user name 'user' is given without a host"},
        {"qemu+ssh://@host/system", "user name before '@' is empty"},
        {"qemu+tcp://[::1:16509/system", "IPv6 address '[::1:16509' has no closing ']'"},
        {"qemu+tcp://[]/system", "IPv6 address '[]' is empty"},
        {"qemu+tcp://[::1]x/system", "unexpected 'x' after IPv6 address"},
        {"qemu+tcp://[fe80::g]/system", "contains the invalid character 'g'"},
        {"qemu:///system?keyfile=%zz", "query value has an invalid percent escape '%zz'"},
        {"qemu:///system?keyfile=%4", "query value has an incomplete percent escape '%4'"},
        {"qemu:///sys%g0tem", "path has an invalid percent escape '%g0'"},
        {"qemu:///system?keyfile=a%00b", "query value has '%00', a NUL byte"},
        {"qemu:///system?=1", "query parameter '=1' has an empty name"},
        {"qemu:///sys tem", "contains a space at offset 11"},
        {"qemu:///system\n", "contains a control character at offset 14"},
        {"qemu:///sy\x7fstem", "contains a control character at offset 10"},
        {"qemu:///syst\xc3\xa9m", "contains a non-ASCII byte at offset 12"},
        {"qemu:///sys<tem", "path '/sys<tem' contains the character '<'"},
        {"qemu://ho^st/system", "host 'ho^st' contains the character '^'"},
        {"qemu:///system#frag", "fragment '#frag' is not allowed"},
    };
    for (const auto &[text, expected] : table) {
        INFO("URI: " << text);
        const std::string message = parseError(text);
        CHECK_THAT(message, Catch::Contains(expected));
        CHECK_THAT(message, Catch::StartsWith("invalid URI '"));
    }
}

TEST_CASE("a control character is shown escaped in the error, not raw", "[uri]") {
    const std::string message = parseError(std::string("qemu:///a\nb"));
    CHECK_THAT(message, Catch::Contains("qemu:///a\\x0ab"));
    CHECK(message.find('\n') == std::string::npos);
}
