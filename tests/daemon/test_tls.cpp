// TLS with client certificates, made in the test by the openssl CLI: one CA
// signs the server and the good clients; strangers, expired and certificate-
// less clients are refused at the handshake, subjects off the allow-list at
// once after it, each with a log line.  Plain TCP: loopback and opt-in only.
#include <catch2/catch.hpp>

#include <regex>

#include <virtkit/connection.hpp>
#include <virtkit/context.hpp>
#include <virtkit/error.hpp>

#include "harness.hpp"

using namespace std::chrono_literals;
using namespace virtkit;
using virtkit::test::Daemon;
using virtkit::test::TempDir;
using virtkit::test::runProgram;

namespace {

void openssl(const std::vector<std::string> &args)
{
    std::vector<std::string> argv{"openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = runProgram(argv);
    if (r.exitCode != 0)
        throw std::runtime_error("openssl failed: " + r.err);
}

struct Pki {
    TempDir dir;
    std::string path(const std::string &name) const { return dir.str() + "/" + name; }

    void makeCa(const std::string &name)
    {
        openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path(name + ".key"), "-out",
                 path(name + ".pem"), "-subj", "/O=virtkit test/CN=" + name, "-days", "2"});
    }
    // Signs a key+cert named `name` with `ca`; days < 0 makes it already expired.
    void makeCert(const std::string &name, const std::string &ca, const std::string &subject, int days,
                  bool server = false)
    {
        openssl({"req", "-newkey", "rsa:2048", "-nodes", "-keyout", path(name + ".key"), "-out", path(name + ".csr"),
                 "-subj", subject});
        std::vector<std::string> sign{"x509", "-req", "-in", path(name + ".csr"), "-CA", path(ca + ".pem"), "-CAkey",
                                      path(ca + ".key"), "-CAcreateserial", "-out", path(name + ".pem"), "-days",
                                      std::to_string(days)};
        if (server) {
            dir.write("san.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
            sign.insert(sign.end(), {"-extfile", path("san.ext")});
        }
        openssl(sign);
    }
    // A client's ?pkipath= directory: cacert.pem [+ clientcert.pem, clientkey.pem].
    std::string clientDir(const std::string &ca, const std::string &cert) const
    {
        const std::string d = "client-" + ca + "-" + (cert.empty() ? "nocert" : cert);
        std::filesystem::create_directories(path(d));
        std::filesystem::copy_file(path(ca + ".pem"), path(d + "/cacert.pem"));
        if (!cert.empty()) {
            std::filesystem::copy_file(path(cert + ".pem"), path(d + "/clientcert.pem"));
            std::filesystem::copy_file(path(cert + ".key"), path(d + "/clientkey.pem"));
        }
        return path(d);
    }
};

int boundPort(const Daemon &d, const std::string &kind)
{
    std::smatch m;
    const std::string log = d.log();
    if (std::regex_search(log, m, std::regex("listening on " + kind + ":127\\.0\\.0\\.1:([0-9]+)")))
        return std::stoi(m[1]);
    return 0;
}

Context &context()
{
    static Context ctx(Config(), std::vector<std::string>{});
    return ctx;
}

int connectCode(const std::string &uri, std::string *message = nullptr)
{
    try {
        auto conn = Connection::open(context(), uri);
        conn->listDomains();
    } catch (const Error &e) {
        if (message)
            *message = e.what();
        return e.code();
    }
    return VIRTKIT_OK;
}

}  // namespace

TEST_CASE("TLS admits clients of the CA and refuses everyone else", "[daemon][tls]")
{
    Pki pki;
    pki.makeCa("ca");
    pki.makeCa("otherca");
    pki.makeCert("server", "ca", "/O=virtkit test/CN=127.0.0.1", 2, true);
    pki.makeCert("client1", "ca", "/O=virtkit test/CN=client1", 2);
    pki.makeCert("intruder", "ca", "/O=virtkit test/CN=intruder", 2);
    pki.makeCert("stranger", "otherca", "/O=virtkit test/CN=stranger", 2);
    pki.makeCert("expired", "ca", "/O=virtkit test/CN=expired", -1);

    TempDir root;
    std::filesystem::create_directories(root.path() / "pki");
    std::filesystem::copy_file(pki.path("ca.pem"), root.path() / "pki/cacert.pem");
    std::filesystem::copy_file(pki.path("server.pem"), root.path() / "pki/servercert.pem");
    std::filesystem::copy_file(pki.path("server.key"), root.path() / "pki/serverkey.pem");
    Daemon daemon(root.str(), {"--listen", "tls:127.0.0.1:0"},
                  "daemon:\n  tls_allowed_subjects: [client1, 'O=virtkit test,CN=expired']\n");
    const int port = boundPort(daemon, "tls");
    REQUIRE(port > 0);
    const auto uri = [&](const std::string &pkipath) {
        return "test+tls://127.0.0.1:" + std::to_string(port) + "/default?pkipath=" + pkipath;
    };

    SECTION("a client of the CA on the allow-list manages domains")
    {
        auto conn = Connection::open(context(), uri(pki.clientDir("ca", "client1")));
        CHECK(conn->lookupByName("test").name == "test");
        conn->domainSuspend(conn->lookupByName("test").uuid);
        CHECK(conn->domainInfo(conn->lookupByName("test").uuid).state == VIRTKIT_DOMAIN_PAUSED);
        CHECK(daemon.waitLog("accepted: subject 'O=virtkit test,CN=client1'", 2s));
    }
    SECTION("a certificate from another CA is refused at the handshake")
    {
        CHECK(connectCode(uri(pki.clientDir("ca", "stranger"))) == VIRTKIT_ERR_NO_CONNECT);
        CHECK(daemon.waitLog("refused at handshake", 2s));
    }
    SECTION("a client without a certificate is refused at the handshake")
    {
        CHECK(connectCode(uri(pki.clientDir("ca", ""))) == VIRTKIT_ERR_NO_CONNECT);
        CHECK(daemon.waitLog("refused at handshake", 2s));
    }
    SECTION("an expired certificate is refused even when its subject is allowed")
    {
        CHECK(connectCode(uri(pki.clientDir("ca", "expired"))) == VIRTKIT_ERR_NO_CONNECT);
        CHECK(daemon.waitLog("refused at handshake", 2s));
    }
    SECTION("a valid certificate whose subject is not allowed is refused, and the log names it")
    {
        CHECK(connectCode(uri(pki.clientDir("ca", "intruder"))) == VIRTKIT_ERR_NO_CONNECT);
        CHECK(daemon.waitLog("subject 'O=virtkit test,CN=intruder' is not in daemon.tls_allowed_subjects", 2s));
    }
    SECTION("a client that does not trust the server's CA refuses it")
    {
        std::string message;
        CHECK(connectCode(uri(pki.clientDir("otherca", "stranger")), &message) == VIRTKIT_ERR_NO_CONNECT);
        CHECK(message.find("tls:127.0.0.1:" + std::to_string(port)) != std::string::npos);
    }
    CHECK(daemon.running());
}

TEST_CASE("plain TCP is refused unless enabled, and then only on loopback", "[daemon][tcp]")
{
    TempDir root;
    const auto refused = runProgram({VIRTKITD_PATH, "--root", root.str(), "--listen", "tcp:127.0.0.1:0"});
    CHECK(refused.exitCode == 1);
    CHECK(refused.err.find("allow_tcp") != std::string::npos);
    const std::string config = root.write("tcp.yaml", "daemon:\n  allow_tcp: true\n");
    const auto wide = runProgram({VIRTKITD_PATH, "--root", root.str(), "--config", config, "--listen", "tcp:0.0.0.0:0"});
    CHECK(wide.exitCode == 1);
    CHECK(wide.err.find("loopback only") != std::string::npos);

    Daemon daemon(root.str(), {"--listen", "tcp:127.0.0.1:0"}, "daemon:\n  allow_tcp: true\n");
    const int port = boundPort(daemon, "tcp");
    REQUIRE(port > 0);
    auto conn = Connection::open(context(), "test+tcp://127.0.0.1:" + std::to_string(port) + "/default");
    CHECK(conn->lookupByName("test").name == "test");
}
