// URI grammar and auth.conf lookup: no server needed.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <sys/wait.h>
#include <unistd.h>

#include <virtkit/error.hpp>

#include "connect/credentials.hpp"
#include "connect/esx_uri.hpp"

using namespace virtkit::esx::vsphere;

TEST_CASE("esx URIs are read as libvirt reads them", "[esx][uri]")
{
    const EsxUri esx = parseEsxUri("esx://root@esx1.example.org:8443/?no_verify=1&auto_answer=1");
    CHECK(esx.scheme == "esx");
    CHECK(esx.user == "root");
    CHECK(esx.host == "esx1.example.org");
    CHECK(esx.effectivePort() == 8443);
    CHECK(esx.https);
    CHECK(esx.noVerify);
    CHECK(esx.autoAnswer);

    const EsxUri gsx = parseEsxUri("gsx://server/");
    CHECK_FALSE(gsx.https);
    CHECK(gsx.effectivePort() == 80);
    CHECK(parseEsxUri("esx://h/?transport=http").effectivePort() == 80);
    CHECK(parseEsxUri("gsx://h/?transport=https").https);

    const EsxUri vpx = parseEsxUri("vpx://vc.example.org/DC1/Cluster%201/esx1");
    CHECK(vpx.datacenter == "DC1");
    CHECK(vpx.cluster == "Cluster 1");
    CHECK(vpx.hostSystem == "esx1");
    const EsxUri standalone = parseEsxUri("vpx://vc/DC1/esx2");
    CHECK(standalone.cluster.empty());
    CHECK(standalone.hostSystem == "esx2");
}

TEST_CASE("bad esx URIs are refused naming the part", "[esx][uri]")
{
    CHECK_THROWS_WITH(parseEsxUri("esx:///"), Catch::Contains("a host is required"));
    CHECK_THROWS_WITH(parseEsxUri("esx://h:99999/"), Catch::Contains("port"));
    CHECK_THROWS_WITH(parseEsxUri("esx://h/?no_verify=yes"), Catch::Contains("no_verify"));
    CHECK_THROWS_WITH(parseEsxUri("esx://h/?transport=ftp"), Catch::Contains("transport"));
    CHECK_THROWS_WITH(parseEsxUri("esx://h/?colour=red"), Catch::Contains("unknown query parameter 'colour'"));
    CHECK_THROWS_WITH(parseEsxUri("esx://h/some/path"), Catch::Contains("takes no path"));
    CHECK_THROWS_WITH(parseEsxUri("vpx://vc/onlydc"), Catch::Contains("/DATACENTER/HOST"));
    CHECK_THROWS_WITH(parseEsxUri("esx://root:pw@h/"), Catch::Contains("password in the URI"));
}

TEST_CASE("auth.conf picks credentials by scheme and host", "[esx][auth]")
{
    const std::string file = "# lab hosts\n"
                             "[credentials-lab]\nusername=root\npassword=s3cret\n\n"
                             "[credentials-vc]\nusername=administrator@vsphere.local\npassword=pw2\n"
                             "[auth-esx-esx1]\ncredentials=lab\n"
                             "[auth-vpx-vc1]\ncredentials=vc\n";
    const auto esx = credentialsFromAuthFile(file, "esx", "esx1", "", "auth.conf");
    REQUIRE(esx);
    CHECK(esx->user == "root");
    CHECK(esx->password == "s3cret");
    const auto vc = credentialsFromAuthFile(file, "vpx", "vc1", "", "auth.conf");
    REQUIRE(vc);
    CHECK(vc->user == "administrator@vsphere.local");
    CHECK_FALSE(credentialsFromAuthFile(file, "esx", "other", "", "auth.conf"));
    CHECK_FALSE(credentialsFromAuthFile(file, "vpx", "esx1", "", "auth.conf"));
    // the URI's user wins; the file's entry for another user is not used
    CHECK(credentialsFromAuthFile(file, "esx", "esx1", "root", "auth.conf"));
    CHECK_FALSE(credentialsFromAuthFile(file, "esx", "esx1", "admin", "auth.conf"));
}

TEST_CASE("a malformed auth.conf is an error naming the line", "[esx][auth]")
{
    CHECK_THROWS_WITH(credentialsFromAuthFile("[auth-esx-h\ncredentials=x\n", "esx", "h", "", "a.conf"),
                      Catch::Contains("a.conf:1"));
    CHECK_THROWS_WITH(credentialsFromAuthFile("[auth-esx-h]\ncredentials=missing\n", "esx", "h", "", "a.conf"),
                      Catch::Contains("credentials-missing"));
    CHECK_THROWS_WITH(credentialsFromAuthFile("username=x\n", "esx", "h", "", "a.conf"),
                      Catch::Contains("inside a [section]"));
}

TEST_CASE("with no auth file and no terminal the password lookup is an AUTH error", "[esx][auth]")
{
    // In a child without a controlling terminal (setsid) and without files.
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::setsid();
        ::setenv("HOME", "/nonexistent", 1);
        ::unsetenv("VIRTKIT_AUTH_FILE");
        try {
            findCredentials("esx", "esx1", "root");
        } catch (const virtkit::Error &e) {
            const std::string message = e.what();
            ::_exit(e.code() == VIRTKIT_ERR_AUTH && message.find("no terminal") != std::string::npos ? 0 : 2);
        }
        ::_exit(1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
