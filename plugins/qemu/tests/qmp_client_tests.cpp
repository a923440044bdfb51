// The QMP client against a scripted fake monitor that speaks QEMU's wire
// format and misbehaves on cue.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include <virtkit/error.hpp>

#include "error_code.hpp"
#include "fake_qmp_monitor.hpp"
#include "qmp/qmp_client.hpp"

using namespace std::chrono_literals;
using virtkit::qemu::testing::error_code_of;
using virtkit::qemu::QmpClient;
using virtkit::qemu::QmpEvent;
using virtkit::qemu::UnixStream;
using virtkit::qemu::testing::FakeQmpMonitor;
using virtkit::qemu::testing::FakeQmpPeer;

namespace {

// Records what the client's callbacks saw, for the test thread to wait on.
class Recorder {
public:
    QmpClient::Options options(std::chrono::milliseconds handshake = 2000ms)
    {
        QmpClient::Options o;
        o.handshake_timeout = handshake;
        o.on_event = [this](const QmpEvent &e) {
            const std::lock_guard lock(mutex_);
            events_.push_back(e.name);
            last_data_ = e.data;
            changed_.notify_all();
        };
        o.on_close = [this](const std::string &why) {
            const std::lock_guard lock(mutex_);
            closes_.push_back(why);
            changed_.notify_all();
        };
        return o;
    }
    std::vector<std::string> events_after(std::size_t count)
    {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, 5s, [&] { return events_.size() >= count; });
        return events_;
    }
    std::vector<std::string> closes_after_one()
    {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, 5s, [&] { return !closes_.empty(); });
        return closes_;
    }
    Poco::JSON::Object::Ptr last_data()
    {
        const std::lock_guard lock(mutex_);
        return last_data_;
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::string> events_;
    std::vector<std::string> closes_;
    Poco::JSON::Object::Ptr last_data_;
};

QmpClient connect(const FakeQmpMonitor &fake, Recorder &recorder, std::chrono::milliseconds handshake = 2000ms)
{
    return QmpClient(UnixStream::connect(fake.socket_path(), 2s), recorder.options(handshake));
}

}  // namespace

TEST_CASE("the client negotiates capabilities and learns QEMU's version from the greeting", "[qemu][qmp]")
{
    FakeQmpMonitor fake([](FakeQmpPeer &peer) { peer.negotiate(); });
    Recorder recorder;
    {
        const QmpClient client = connect(fake, recorder);
        CHECK(client.qemu_version().major == 7);
        CHECK(client.qemu_version().minor == 2);
        CHECK(client.qemu_version().number() == 7002000u);
        CHECK(client.is_open());
    }
    CHECK(fake.finish().empty());
}

TEST_CASE("each reply goes to the command that asked, even when answered out of order", "[qemu][qmp]")
{
    FakeQmpMonitor fake([](FakeQmpPeer &peer) {
        peer.negotiate();
        const auto first = peer.receive();
        const auto second = peer.receive();
        peer.reply(second, R"({"answer": ")" + second->getValue<std::string>("execute") + "\"}");
        peer.reply(first, R"({"answer": ")" + first->getValue<std::string>("execute") + "\"}");
    });
    Recorder recorder;
    {
        QmpClient client = connect(fake, recorder);
        auto ask = [&](const std::string &command) {
            return client.execute(command, 3s).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("answer");
        };
        auto status = std::async(std::launch::async, ask, "query-status");
        auto version = std::async(std::launch::async, ask, "query-version");
        CHECK(status.get() == "query-status");
        CHECK(version.get() == "query-version");
    }
    CHECK(fake.finish().empty());
}

TEST_CASE("events before, between and after replies reach the callback in arrival order", "[qemu][qmp]")
{
    FakeQmpMonitor fake([](FakeQmpPeer &peer) {
        peer.negotiate();
        peer.event("STOP");
        const auto command = peer.receive();
        peer.event("RESUME");
        peer.reply(command, R"({"status": "running", "running": true})");
        peer.event("SHUTDOWN", R"({"guest": true, "reason": "guest-shutdown"})");
    });
    Recorder recorder;
    {
        QmpClient client = connect(fake, recorder);
        const auto status = client.execute("query-status", 3s).extract<Poco::JSON::Object::Ptr>();
        CHECK(status->getValue<std::string>("status") == "running");
        CHECK(recorder.events_after(3) == std::vector<std::string>{"STOP", "RESUME", "SHUTDOWN"});
        CHECK(recorder.last_data()->getValue<std::string>("reason") == "guest-shutdown");
    }
    CHECK(fake.finish().empty());
}

TEST_CASE("a reply split across many writes, and several messages in one write, are read whole", "[qemu][qmp]")
{
    FakeQmpMonitor fake([](FakeQmpPeer &peer) {
        peer.negotiate();
        const auto command = peer.receive();
        const std::string reply = R"({"return": {"status": "paused"}, "id": )" + FakeQmpPeer::id_of(command) + "}\r\n";
        for (const char byte : reply) {
            peer.send(std::string(1, byte));
            std::this_thread::sleep_for(1ms);
        }
        peer.send(R"({"event": "STOP", "data": {}})" "\r\n" R"({"event": "RESUME", "data": {}})" "\r\n");
    });
    Recorder recorder;
    {
        QmpClient client = connect(fake, recorder);
        const auto status = client.execute("query-status", 5s).extract<Poco::JSON::Object::Ptr>();
        CHECK(status->getValue<std::string>("status") == "paused");
        CHECK(recorder.events_after(2) == std::vector<std::string>{"STOP", "RESUME"});
    }
    CHECK(fake.finish().empty());
}

TEST_CASE("an error reply becomes an error naming the command and QEMU's reason", "[qemu][qmp]")
{
    FakeQmpMonitor fake([](FakeQmpPeer &peer) {
        peer.negotiate();
        peer.reply_error(peer.receive(), "The command no-such-thing has not been found");
        peer.reply(peer.receive(), "{}");
    });
    Recorder recorder;
    {
        QmpClient client = connect(fake, recorder);
        try {
            client.execute("no-such-thing", 3s);
            FAIL("an error reply was taken as success");
        } catch (const virtkit::Error &e) {
            CHECK(e.code() == VIRTKIT_ERR_OPERATION_FAILED);
            CHECK_THAT(e.what(), Catch::Contains("no-such-thing") && Catch::Contains("has not been found"));
        }
        CHECK_NOTHROW(client.execute("cont", 3s));  // the monitor is still usable
    }
    CHECK(fake.finish().empty());
}

TEST_CASE("garbage from one monitor fails its waiting command and leaves other monitors working", "[qemu][qmp]")
{
    FakeQmpMonitor broken([](FakeQmpPeer &peer) {
        peer.negotiate();
        peer.receive();
        peer.send("this is not JSON\r\n");
    });
    FakeQmpMonitor healthy([](FakeQmpPeer &peer) {
        peer.negotiate();
        peer.reply(peer.receive(), R"({"status": "running"})");
    });
    Recorder broken_events, healthy_events;
    {
        QmpClient bad = connect(broken, broken_events);
        QmpClient good = connect(healthy, healthy_events);
        try {
            bad.execute("query-status", 3s);
            FAIL("garbage was taken as a reply");
        } catch (const virtkit::Error &e) {
            CHECK(e.code() == VIRTKIT_ERR_NO_CONNECT);
            CHECK_THAT(e.what(), Catch::Contains("not a JSON object") && Catch::Contains("this is not JSON"));
        }
        const auto closes = broken_events.closes_after_one();
        REQUIRE(closes.size() == 1);
        CHECK_THAT(closes[0], Catch::Contains("not a JSON object"));
        CHECK_FALSE(bad.is_open());
        CHECK(error_code_of([&] { bad.execute("query-status", 1s); }) == VIRTKIT_ERR_NO_CONNECT);

        CHECK(good.execute("query-status", 3s).extract<Poco::JSON::Object::Ptr>()->has("status"));
        CHECK(good.is_open());
    }
    CHECK(broken.finish().empty());
    CHECK(healthy.finish().empty());
}

TEST_CASE("JSON that is not an object, or neither reply nor event, ends the monitor", "[qemu][qmp]")
{
    const std::string line = GENERATE(std::string("[1, 2, 3]"), std::string(R"({"unexpected": true})"));
    FakeQmpMonitor fake([line](FakeQmpPeer &peer) {
        peer.negotiate();
        peer.receive();
        peer.send(line + "\r\n");
    });
    Recorder recorder;
    {
        QmpClient client = connect(fake, recorder);
        CHECK(error_code_of([&] { client.execute("query-status", 3s); }) == VIRTKIT_ERR_NO_CONNECT);
        CHECK_FALSE(client.is_open());
    }
    CHECK(fake.finish().empty());
}

TEST_CASE("EOF in the middle of a reply fails the waiting command instead of hanging", "[qemu][qmp]")
{
    FakeQmpMonitor fake([](FakeQmpPeer &peer) {
        peer.negotiate();
        const auto command = peer.receive();
        peer.send(R"({"return": {"status": "runn)");
        peer.close();
    });
    Recorder recorder;
    {
        QmpClient client = connect(fake, recorder);
        try {
            client.execute("query-status", 5s);
            FAIL("a cut-off reply was taken as an answer");
        } catch (const virtkit::Error &e) {
            CHECK(e.code() == VIRTKIT_ERR_NO_CONNECT);
            CHECK_THAT(e.what(), Catch::Contains("query-status") && Catch::Contains("middle of a message"));
        }
        CHECK(recorder.closes_after_one().size() == 1);
    }
    CHECK(fake.finish().empty());
}

TEST_CASE("a slow reply times out the command and its late answer is not given to the next one", "[qemu][qmp]")
{
    FakeQmpMonitor fake([](FakeQmpPeer &peer) {
        peer.negotiate();
        const auto slow = peer.receive();
        const auto next = peer.receive();  // sent by the client after the timeout
        peer.reply(slow, R"("late")");
        peer.reply(next, R"("fresh")");
    });
    Recorder recorder;
    {
        QmpClient client = connect(fake, recorder);
        try {
            client.execute("query-status", 50ms);
            FAIL("no timeout");
        } catch (const virtkit::Error &e) {
            CHECK(e.code() == VIRTKIT_ERR_TIMEOUT);
            CHECK_THAT(e.what(), Catch::Contains("query-status"));
        }
        CHECK(client.execute("query-version", 3s).toString() == "fresh");
        CHECK(client.is_open());
    }
    CHECK(fake.finish().empty());
}

TEST_CASE("a monitor that never greets, or hangs up first, fails the connection clearly", "[qemu][qmp]")
{
    SECTION("no greeting")
    {
        FakeQmpMonitor fake([](FakeQmpPeer &) {});
        Recorder recorder;
        CHECK(error_code_of([&] { connect(fake, recorder, 100ms); }) == VIRTKIT_ERR_TIMEOUT);
        CHECK(fake.finish().empty());
    }
    SECTION("hangs up")
    {
        FakeQmpMonitor fake([](FakeQmpPeer &peer) { peer.close(); });
        Recorder recorder;
        CHECK(error_code_of([&] { connect(fake, recorder); }) == VIRTKIT_ERR_NO_CONNECT);
        CHECK(fake.finish().empty());
    }
    SECTION("speaks before greeting")
    {
        FakeQmpMonitor fake([](FakeQmpPeer &peer) { peer.event("STOP"); });
        Recorder recorder;
        CHECK(error_code_of([&] { connect(fake, recorder); }) == VIRTKIT_ERR_NO_CONNECT);
        CHECK(fake.finish().empty());
    }
}

TEST_CASE("a line longer than the limit ends the monitor rather than growing without bound", "[qemu][qmp]")
{
    FakeQmpMonitor fake([](FakeQmpPeer &peer) {
        peer.negotiate();
        peer.receive();
        peer.send(R"({"return": ")" + std::string(8192, 'x'));
    });
    Recorder recorder;
    QmpClient::Options options = recorder.options();
    options.max_line_bytes = 1024;
    {
        QmpClient client(UnixStream::connect(fake.socket_path(), 2s), options);
        try {
            client.execute("query-status", 3s);
            FAIL("an endless line was accepted");
        } catch (const virtkit::Error &e) {
            CHECK_THAT(e.what(), Catch::Contains("longer than 1024"));
        }
    }
    CHECK(fake.finish().empty());
}

TEST_CASE("waiting for a reply inside the event callback is refused instead of deadlocking", "[qemu][qmp]")
{
    FakeQmpMonitor fake([](FakeQmpPeer &peer) {
        peer.negotiate();
        peer.event("STOP");
        peer.reply(peer.receive(), "{}");
    });
    std::promise<int> refused;
    QmpClient *self = nullptr;
    std::mutex self_mutex;
    QmpClient::Options options;
    options.on_event = [&](const QmpEvent &) {
        const std::lock_guard lock(self_mutex);
        refused.set_value(error_code_of([&] { self->execute("query-status", 1s); }));
    };
    {
        std::unique_lock lock(self_mutex);  // the event waits until `self` is set
        QmpClient client(UnixStream::connect(fake.socket_path(), 2s), options);
        self = &client;
        lock.unlock();
        auto result = refused.get_future();
        REQUIRE(result.wait_for(5s) == std::future_status::ready);
        CHECK(result.get() == VIRTKIT_ERR_INTERNAL);
        CHECK_NOTHROW(client.execute("cont", 3s));
    }
    CHECK(fake.finish().empty());
}

TEST_CASE("a raw command gets QEMU's whole reply back, error replies included", "[qemu][qmp]")
{
    FakeQmpMonitor fake([](FakeQmpPeer &peer) {
        peer.negotiate();
        peer.reply_error(peer.receive(), "Parameter 'x' is unexpected");
    });
    Recorder recorder;
    {
        QmpClient client = connect(fake, recorder);
        Poco::JSON::Object::Ptr message = new Poco::JSON::Object;
        message->set("execute", "query-status");
        message->set("arguments", Poco::JSON::Object::Ptr(new Poco::JSON::Object));
        const auto reply = client.execute_raw(message, 3s);
        REQUIRE(reply->has("error"));
        CHECK(reply->getObject("error")->getValue<std::string>("desc") == "Parameter 'x' is unexpected");
        CHECK_FALSE(message->has("id"));

        Poco::JSON::Object::Ptr not_a_command = new Poco::JSON::Object;
        not_a_command->set("exec", "query-status");
        CHECK(error_code_of([&] { client.execute_raw(not_a_command, 1s); }) == VIRTKIT_ERR_INVALID_ARG);
    }
    CHECK(fake.finish().empty());
}
