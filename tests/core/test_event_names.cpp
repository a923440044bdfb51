// Lifecycle names must read exactly as libvirt's (virDomainEventType and its
// detail enums), since users and scripts compare them with virsh output.
#include <catch2/catch.hpp>

#include <virtkit/event.hpp>

using namespace virtkit;

TEST_CASE("lifecycle event types are named as libvirt names them", "[bus]") {
    CHECK(std::string(lifecycleEventName(VIRTKIT_EVENT_DEFINED)) == "defined");
    CHECK(std::string(lifecycleEventName(VIRTKIT_EVENT_STARTED)) == "started");
    CHECK(std::string(lifecycleEventName(VIRTKIT_EVENT_STOPPED)) == "stopped");
    CHECK(std::string(lifecycleEventName(VIRTKIT_EVENT_PMSUSPENDED)) == "pmsuspended");
    CHECK(std::string(lifecycleEventName(VIRTKIT_EVENT_CRASHED)) == "crashed");
}

TEST_CASE("lifecycle details use libvirt's detail values", "[bus]") {
    // Values from libvirt's virDomainEvent*DetailType enums.
    CHECK(std::string(lifecycleDetailName(VIRTKIT_EVENT_STARTED, 0)) == "booted");
    CHECK(std::string(lifecycleDetailName(VIRTKIT_EVENT_STARTED, 3)) == "from snapshot");
    CHECK(std::string(lifecycleDetailName(VIRTKIT_EVENT_STARTED, 5)) == "recreated");
    CHECK(std::string(lifecycleDetailName(VIRTKIT_EVENT_STOPPED, 1)) == "destroyed");
    CHECK(std::string(lifecycleDetailName(VIRTKIT_EVENT_STOPPED, 2)) == "crashed");
    CHECK(std::string(lifecycleDetailName(VIRTKIT_EVENT_STOPPED, 6)) == "from snapshot");
    CHECK(std::string(lifecycleDetailName(VIRTKIT_EVENT_SUSPENDED, 2)) == "ioerror");
    CHECK(std::string(lifecycleDetailName(VIRTKIT_EVENT_SUSPENDED, 6)) == "api error");
    CHECK(std::string(lifecycleDetailName(VIRTKIT_EVENT_SUSPENDED, 8)) == "postcopy failed");
    CHECK(std::string(lifecycleDetailName(VIRTKIT_EVENT_RESUMED, 4)) == "postcopy failed");
    CHECK(std::string(lifecycleDetailName(VIRTKIT_EVENT_SHUTDOWN, 1)) == "guest");
    CHECK(std::string(lifecycleDetailName(VIRTKIT_EVENT_SHUTDOWN, 2)) == "host");
    CHECK(std::string(lifecycleDetailName(VIRTKIT_EVENT_PMSUSPENDED, 1)) == "disk");
    CHECK(std::string(lifecycleDetailName(VIRTKIT_EVENT_CRASHED, 1)) == "crashloaded");
    CHECK(std::string(lifecycleDetailName(VIRTKIT_EVENT_UNDEFINED, 0)) == "removed");
    CHECK(std::string(lifecycleDetailName(VIRTKIT_EVENT_DEFINED, 2)) == "renamed");
}

TEST_CASE("values outside libvirt's ranges are named unknown, never crash", "[bus]") {
    CHECK(std::string(lifecycleEventName(-1)) == "unknown");
    CHECK(std::string(lifecycleEventName(9)) == "unknown");
    CHECK(std::string(lifecycleDetailName(VIRTKIT_EVENT_STARTED, 6)) == "unknown");
    CHECK(std::string(lifecycleDetailName(VIRTKIT_EVENT_CRASHED, -1)) == "unknown");
    CHECK(std::string(lifecycleDetailName(42, 0)) == "unknown");
}

TEST_CASE("every lifecycle event name parses back to its value", "[bus]") {
    for (int32_t type = VIRTKIT_EVENT_DEFINED; type <= VIRTKIT_EVENT_CRASHED; ++type) {
        CHECK(lifecycleEventFromName(lifecycleEventName(type)) == type);
    }
    CHECK(lifecycleEventFromName("Started") == VIRTKIT_EVENT_STARTED);  // as virsh prints it
    CHECK(lifecycleEventFromName("rebooted") == -1);
    CHECK(lifecycleEventFromName("") == -1);
    CHECK(lifecycleEventFromName("unknown") == -1);
}
