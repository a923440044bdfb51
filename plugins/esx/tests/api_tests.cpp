// The plugin through the core's C++ API (virtkit::Connection, as a library
// user holds it) against vcsim: lifecycle, events on the bus, define/dumpxml.
#include <catch2/catch.hpp>

#include <chrono>
#include <mutex>
#include <thread>

#include <virtkit/connection.hpp>
#include <virtkit/context.hpp>
#include <virtkit/error.hpp>

#include "vcsim_process.hpp"

using namespace virtkit::esx::testing;

namespace {

virtkit::Context &context()
{
    static virtkit::Context ctx(virtkit::Config(), {std::string(VIRTKIT_BUILD_DIR) + "/lib/virtkit/plugins"});
    return ctx;
}

}  // namespace

TEST_CASE("virtkit::Connection drives an ESX host: lifecycle, events, define", "[esx][vcsim][cxx-api]")
{
    ESX_REQUIRE_VCSIM();
    const Vcsim sim;
    const AuthFile auth("127.0.0.1", "root", "secret");
    const auto conn = virtkit::Connection::open(context(), sim.uri());
    CHECK(conn->driverName() == "esx");

    std::mutex mutex;
    std::vector<virtkit::Event> events;
    const auto subscription = conn->subscribe({}, [&](const virtkit::Event &e) {
        const std::lock_guard lock(mutex);
        events.push_back(e);
    });
    auto sawEvent = [&](const std::string &name, int32_t type) {
        for (int i = 0; i < 100; ++i) {
            {
                const std::lock_guard lock(mutex);
                for (const auto &e : events)
                    if (e.domainName == name && e.type == type)
                        return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    };

    CHECK(conn->listDomains().size() == 2);
    virtkit::Domain vm = conn->domain("ha-host_VM1");
    vm.start();
    CHECK(vm.info().state == VIRTKIT_DOMAIN_RUNNING);
    CHECK(sawEvent("ha-host_VM1", VIRTKIT_EVENT_STARTED));
    vm.destroy();
    CHECK(vm.info().state == VIRTKIT_DOMAIN_SHUTOFF);
    CHECK(sawEvent("ha-host_VM1", VIRTKIT_EVENT_STOPPED));

    const virtkit::DomainRef made = conn->defineXml(
        "<domain type='vmware'><name>api-vm</name><memory unit='MiB'>512</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64'>hvm</type></os></domain>");
    CHECK(sawEvent("api-vm", VIRTKIT_EVENT_DEFINED));
    const std::string xml = conn->domain(made).xml();
    CHECK_THAT(xml, Catch::Contains("<name>api-vm</name>") && Catch::Contains("<memory unit='KiB'>524288</memory>"));
    conn->domain(made).undefine();
    CHECK(sawEvent("api-vm", VIRTKIT_EVENT_UNDEFINED));
    try {
        conn->domain("api-vm");
        FAIL("an undefined VM was still found");
    } catch (const virtkit::Error &e) {
        CHECK(e.code() == VIRTKIT_ERR_NO_DOMAIN);
    }
}
