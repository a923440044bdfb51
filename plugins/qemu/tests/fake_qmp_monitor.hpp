// A scripted stand-in for QEMU's QMP monitor, speaking the real wire format
// on a UNIX socket, for making a monitor misbehave on cue.  The script runs
// on the monitor's own thread with a FakeQmpPeer; when it returns, the fake
// keeps the connection open until the client closes it (bounded), so only a
// script that calls close() produces an EOF.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <Poco/JSON/Object.h>

#include "temp_dir.hpp"

namespace virtkit::qemu::testing {

class FakeQmpPeer {
public:
    explicit FakeQmpPeer(int fd) : fd_(fd) {}

    void send(const std::string &bytes);
    void greet();                       // QEMU 7.2's greeting
    Poco::JSON::Object::Ptr receive();  // the next command, within 5 s
    // The next command, or null once the client has closed the connection.
    Poco::JSON::Object::Ptr receive_unless_closed();
    void reply(const Poco::JSON::Object::Ptr &command, const std::string &return_json);
    void reply_error(const Poco::JSON::Object::Ptr &command, const std::string &desc);
    void event(const std::string &name, const std::string &data_json = "{}");
    void negotiate();  // greet, then answer qmp_capabilities
    void close();
    void wait_for_client_to_close();

    static std::string id_of(const Poco::JSON::Object::Ptr &command);

private:
    int fd_;
    std::string buffered_;
};

class FakeQmpMonitor {
public:
    using Script = std::function<void(FakeQmpPeer &)>;

    explicit FakeQmpMonitor(Script script);
    ~FakeQmpMonitor();
    FakeQmpMonitor(const FakeQmpMonitor &) = delete;
    FakeQmpMonitor &operator=(const FakeQmpMonitor &) = delete;

    std::string socket_path() const { return dir_.file("monitor.sock"); }
    // Waits for the script to end; returns what went wrong in it, or "".
    std::string finish();

private:
    void serve(const Script &script);

    TempDir dir_;
    int listen_fd_ = -1;
    std::string failure_;
    std::thread thread_;
};

}  // namespace virtkit::qemu::testing
