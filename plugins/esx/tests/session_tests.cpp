// The vSphere client against VMware's simulator: login, listing cost,
// tasks, faults, session expiry, TLS and a server that dies or stalls.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <thread>

#include <virtkit/error.hpp>

#include "driver/esx_connection.hpp"
#include "vcsim_process.hpp"

using namespace virtkit::esx::vsphere;
using namespace virtkit::esx::testing;

namespace {

int errorCode(const std::function<void()> &call)
{
    try {
        call();
    } catch (const virtkit::Error &e) {
        return e.code();
    }
    return VIRTKIT_OK;
}

std::string errorText(const std::function<void()> &call)
{
    try {
        call();
    } catch (const std::exception &e) {
        return e.what();
    }
    return "";
}

std::string ipUri(const Vcsim &sim, const std::string &scheme, const std::string &query)
{
    return scheme + "://127.0.0.1:" + std::to_string(sim.port()) + "/" + query;
}

}  // namespace

TEST_CASE("listing 500 VMs takes the same few requests as listing 2", "[esx][vcsim][session]")
{
    ESX_REQUIRE_VCSIM();
    const Vcsim sim(withModel("esx", 500));
    const AuthFile auth("127.0.0.1", "root", "secret");
    const auto session = openSession(sim.uri());
    const uint64_t before = session->requests();
    const auto vms = session->listVms();
    CHECK(vms.size() == 500);
    CHECK(session->requests() - before <= 2);
    for (const auto &vm : vms) {
        CHECK(vm.uuid.size() == 36);
        CHECK_FALSE(vm.name.empty());
    }
    // what the CLI does next: every VM's state, right after the listing
    for (const auto &vm : vms)
        CHECK(session->vmByUuid(vm.uuid).powerState == vm.powerState);
    CHECK(session->requests() - before <= 2);
    // a change through the session is seen at once, not a second later
    session->runTask("PowerOnVM_Task", vms.front().ref);
    CHECK(session->vmByUuid(vms.front().uuid).powerState == "poweredOn");
}

TEST_CASE("a wrong password is an AUTH error naming the user", "[esx][vcsim][session]")
{
    ESX_REQUIRE_VCSIM();
    const Vcsim sim;
    const AuthFile auth("127.0.0.1", "root", "not-the-password");
    const std::string message = errorText([&] { openSession(sim.uri()); });
    CHECK_THAT(message, Catch::Contains("'root'") && Catch::Contains("wrong user name or password"));
    CHECK(errorCode([&] { openSession(sim.uri()); }) == VIRTKIT_ERR_AUTH);
}

TEST_CASE("without an auth file or a terminal the password lookup fails clearly", "[esx][vcsim][session]")
{
    ESX_REQUIRE_VCSIM();
    const Vcsim sim;
    const std::string missing = "/nonexistent/virtkit-auth.conf";
    ::setenv("VIRTKIT_AUTH_FILE", missing.c_str(), 1);
    CHECK_THAT(errorText([&] { openSession(sim.uri()); }), Catch::Contains(missing));
    ::unsetenv("VIRTKIT_AUTH_FILE");
}

TEST_CASE("an expired session is logged in again transparently", "[esx][vcsim][session]")
{
    ESX_REQUIRE_VCSIM();
    const Vcsim sim;
    const AuthFile auth("127.0.0.1", "root", "secret");
    const auto session = openSession(sim.uri());
    const auto admin = openSession(sim.uri());
    const std::string oldKey = session->sessionKey();
    admin->call("TerminateSession", admin->sessionManager(), "<sessionId>" + oldKey + "</sessionId>");
    CHECK(session->listVms().size() == 2);  // NotAuthenticated, re-login, view re-created, retried
    CHECK(session->sessionKey() != oldKey);
}

TEST_CASE("a failing task surfaces its fault as the error", "[esx][vcsim][session]")
{
    ESX_REQUIRE_VCSIM();
    const Vcsim sim;
    const AuthFile auth("127.0.0.1", "root", "secret");
    const auto session = openSession(sim.uri());
    const VmRecord vm = session->listVms().at(0);
    REQUIRE(vm.powerState == "poweredOff");
    session->runTask("PowerOnVM_Task", vm.ref);
    CHECK(session->vmByUuid(vm.uuid).powerState == "poweredOn");
    // powering on a running VM: the task itself fails with InvalidPowerState
    try {
        session->runTask("PowerOnVM_Task", vm.ref);
        FAIL("the second power-on succeeded");
    } catch (const virtkit::Error &e) {
        CHECK(e.code() == VIRTKIT_ERR_OPERATION_INVALID);
        CHECK_THAT(e.what(), Catch::Contains("PowerOnVM_Task failed") && Catch::Contains("InvalidPowerState"));
    }
    // a SOAP fault on a non-task call is mapped too: UnregisterVM of a running VM
    CHECK(errorCode([&] { session->call("UnregisterVM", vm.ref); }) == VIRTKIT_ERR_OPERATION_INVALID);
}

TEST_CASE("an unregistered VM can be registered again from its .vmx path", "[esx][vcsim][session]")
{
    ESX_REQUIRE_VCSIM();
    const Vcsim sim;
    const AuthFile auth("127.0.0.1", "root", "secret");
    const auto session = openSession(sim.uri());
    const VmRecord vm = session->listVms().at(1);
    const Retrieved files = session->retrieve(vm.ref, {"config.files.vmPathName"});
    const std::string vmx = files.objects.at(0).string("config.files.vmPathName");
    REQUIRE(vmx.find(".vmx") != std::string::npos);
    session->call("UnregisterVM", vm.ref);
    CHECK(session->listVms().size() == 1);
    const Placement place = session->placement();
    const Moref registered = session->runTask("RegisterVM_Task", place.vmFolder,
                                              "<path>" + vmx + "</path><name>" + vm.name +
                                                  "</name><asTemplate>false</asTemplate>" +
                                                  place.resourcePool.xml("pool") + session->hostSystem().xml("host"));
    CHECK(registered.type == "VirtualMachine");
    CHECK(session->vmByName(vm.name).ref == registered);
    // registering the same file twice is refused by the server
    CHECK(errorCode([&] {
              session->runTask("RegisterVM_Task", place.vmFolder,
                               "<path>" + vmx + "</path><asTemplate>false</asTemplate>" +
                                   place.resourcePool.xml("pool"));
          }) == VIRTKIT_ERR_DOMAIN_EXISTS);
}

TEST_CASE("a certificate that does not verify is refused unless no_verify=1", "[esx][vcsim][session][tls]")
{
    ESX_REQUIRE_VCSIM();
    const Vcsim sim;  // TLS with a fresh self-signed certificate
    const AuthFile auth("127.0.0.1", "root", "secret");
    const std::string message = errorText([&] { openSession(ipUri(sim, "esx", "")); });
    CHECK_THAT(message, Catch::Contains("TLS") && Catch::Contains("no_verify=1"));
    CHECK(errorCode([&] { openSession(ipUri(sim, "esx", "")); }) == VIRTKIT_ERR_NO_CONNECT);
    CHECK(openSession(ipUri(sim, "esx", "?no_verify=1"))->listVms().size() == 2);
}

TEST_CASE("plain http works with transport=http", "[esx][vcsim][session]")
{
    ESX_REQUIRE_VCSIM();
    VcsimOptions options;
    options.tls = false;
    const Vcsim sim(options);
    const AuthFile auth("127.0.0.1", "root", "secret");
    CHECK(openSession(ipUri(sim, "esx", "?transport=http"))->listVms().size() == 2);
    // https against a plain-http server fails cleanly
    CHECK(errorCode([&] { openSession(ipUri(sim, "esx", "?no_verify=1")); }) == VIRTKIT_ERR_NO_CONNECT);
}

TEST_CASE("esx:// refuses a vCenter and vpx:// an ESX host", "[esx][vcsim][session]")
{
    ESX_REQUIRE_VCSIM();
    const Vcsim vc(withModel("vpx"));
    const AuthFile auth("127.0.0.1", "root", "secret");
    CHECK_THAT(errorText([&] { openSession(ipUri(vc, "esx", "?no_verify=1")); }), Catch::Contains("vpx://"));
    const Vcsim esx;
    CHECK_THAT(errorText([&] {
                   openSession("vpx://127.0.0.1:" + std::to_string(esx.port()) + "/DC0/DC0_C0/DC0_C0_H0?no_verify=1");
               }),
               Catch::Contains("not a vCenter"));
}

TEST_CASE("vpx:// reaches one host of a vCenter by its inventory path", "[esx][vcsim][session][vpx]")
{
    ESX_REQUIRE_VCSIM();
    const Vcsim vc(withModel("vpx", 2));
    const AuthFile auth("127.0.0.1", "root", "secret");
    const auto clustered = openSession("vpx://127.0.0.1:" + std::to_string(vc.port()) + "/DC0/DC0_C0/DC0_C0_H0?no_verify=1");
    CHECK(clustered->hostName() == "DC0_C0_H0");
    const auto standalone = openSession(vc.uri());
    CHECK(standalone->hostName() == "DC0_H0");
    // each host lists only its own VMs
    const auto vms = standalone->listVms();
    CHECK(vms.size() == 2);
    for (const auto &vm : vms) {
        const Retrieved host = standalone->retrieve(vm.ref, {"runtime.host"});
        CHECK(host.objects.at(0).ref("runtime.host") == standalone->hostSystem());
    }
    CHECK_THAT(errorText([&] { openSession("vpx://127.0.0.1:" + std::to_string(vc.port()) + "/DC0/nohost?no_verify=1"); }),
               Catch::Contains("DC0/host/nohost/nohost"));
}

TEST_CASE("a server that dies or stalls mid-call gives a clear error, not a hang", "[esx][vcsim][session]")
{
    ESX_REQUIRE_VCSIM();
    VcsimOptions options;
    options.delay = "PowerOnVM_Task=20000";
    Vcsim sim(options);
    const AuthFile auth("127.0.0.1", "root", "secret");
    ::setenv("VIRTKIT_ESX_TIMEOUT_MS", "1500", 1);
    const auto session = openSession(sim.uri());
    ::unsetenv("VIRTKIT_ESX_TIMEOUT_MS");
    const VmRecord vm = session->listVms().at(0);

    const auto started = std::chrono::steady_clock::now();
    CHECK(errorCode([&] { session->runTask("PowerOnVM_Task", vm.ref); }) == VIRTKIT_ERR_TIMEOUT);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));

    sim.kill();
    const std::string message = errorText([&] { session->listVms(); });
    CHECK_THAT(message, Catch::Contains("cannot talk to https://127.0.0.1:" + std::to_string(sim.port())));
}

TEST_CASE("the simulator killed while a call is in flight: a clear error at once", "[esx][vcsim][session]")
{
    ESX_REQUIRE_VCSIM();
    VcsimOptions options;
    options.delay = "PowerOnVM_Task=5000";
    Vcsim sim(options);
    const AuthFile auth("127.0.0.1", "root", "secret");
    const auto session = openSession(sim.uri());
    const VmRecord vm = session->listVms().at(0);
    std::thread killer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        sim.kill();
    });
    const auto started = std::chrono::steady_clock::now();
    int code = VIRTKIT_OK;
    std::string message;
    try {
        session->runTask("PowerOnVM_Task", vm.ref);
    } catch (const virtkit::Error &e) {
        code = e.code();
        message = e.what();
    }
    killer.join();
    CHECK(code == VIRTKIT_ERR_NO_CONNECT);
    CHECK_THAT(message, Catch::Contains("cannot talk to https://127.0.0.1"));
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(4));
}
