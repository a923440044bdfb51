// The QMP client against a real qemu-system-x86_64.
#include <catch2/catch.hpp>

#include <csignal>
#include <future>
#include <sys/wait.h>

#include <virtkit/error.hpp>

#include "real_qemu.hpp"

using namespace std::chrono_literals;
using virtkit::qemu::QmpClient;
using virtkit::qemu::UnixStream;
using virtkit::qemu::testing::BareQemu;

TEST_CASE("real QEMU answers query-version and query-status over QMP", "[qemu][qemu-real]")
{
    BareQemu qemu;
    QmpClient client(UnixStream::connect(qemu.socket_path(), 5s), {});
    const auto version = client.execute("query-version", 5s).extract<Poco::JSON::Object::Ptr>();
    const auto qemu_part = version->getObject("qemu");
    REQUIRE(qemu_part);
    CHECK(qemu_part->getValue<int>("major") == client.qemu_version().major);
    CHECK(client.qemu_version().major >= 7);

    const auto status = client.execute("query-status", 5s).extract<Poco::JSON::Object::Ptr>();
    CHECK(status->getValue<std::string>("status") == "prelaunch");
    CHECK_FALSE(status->getValue<bool>("running"));

    CHECK_THROWS_AS(client.execute("no-such-command", 5s), virtkit::Error);
    CHECK(client.is_open());
}

TEST_CASE("a real QEMU that is killed ends its monitor with an error, not a hang", "[qemu][qemu-real]")
{
    BareQemu qemu;
    std::promise<std::string> closed;
    QmpClient::Options options;
    options.on_close = [&](const std::string &why) { closed.set_value(why); };
    QmpClient client(UnixStream::connect(qemu.socket_path(), 5s), options);
    qemu.process().kill_and_reap();
    auto reason = closed.get_future();
    REQUIRE(reason.wait_for(5s) == std::future_status::ready);
    CHECK_THAT(reason.get(), Catch::Contains("closed the connection"));
    CHECK_THROWS_AS(client.execute("query-status", 1s), virtkit::Error);
}

TEST_CASE("quit over QMP makes real QEMU exit and the child is reaped", "[qemu][qemu-real]")
{
    BareQemu qemu;
    QmpClient client(UnixStream::connect(qemu.socket_path(), 5s), {});
    client.execute("quit", 5s);
    CHECK(qemu.process().wait_for_exit(5s));
    REQUIRE(qemu.process().wait_status());
    CHECK(WIFEXITED(*qemu.process().wait_status()));
}
