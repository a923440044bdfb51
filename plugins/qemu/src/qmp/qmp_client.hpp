// A QMP (QEMU Machine Protocol) client over one UNIX stream socket.
//
// A reader thread owns the receiving side: it splits the stream into lines,
// hands replies to the command waiting for them (matched by id) and events
// to `on_event` in arrival order.  Garbage, an over-long line, EOF or a read
// error end this monitor alone: every waiting command fails with an Error,
// later commands fail at once, `on_close` is called once with the reason.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>

#include "qmp/line_splitter.hpp"
#include "qmp/unix_stream.hpp"

namespace virtkit::qemu {

struct QmpEvent {
    std::string name;
    Poco::JSON::Object::Ptr data;  // never null: empty when QEMU sent none
    std::int64_t seconds = 0;
    std::int64_t microseconds = 0;
};

struct QemuVersion {
    int major = 0;
    int minor = 0;
    int micro = 0;
    std::string package;
    // libvirt's encoding: major * 1000000 + minor * 1000 + micro
    std::uint64_t number() const;
};

class QmpClient {
public:
    using EventHandler = std::function<void(const QmpEvent &)>;
    using CloseHandler = std::function<void(const std::string &why)>;

    struct Options {
        std::chrono::milliseconds handshake_timeout{10000};
        std::size_t max_line_bytes = std::size_t{64} << 20;
        // Both run on the reader thread; they must not throw and must not
        // wait for a reply of this client (that is refused with an Error).
        EventHandler on_event;
        CloseHandler on_close;
    };

    // Takes over a connected stream, waits for QEMU's greeting and
    // negotiates capabilities; throws an Error when either fails.
    QmpClient(UnixStream stream, Options options);
    ~QmpClient();
    QmpClient(const QmpClient &) = delete;
    QmpClient &operator=(const QmpClient &) = delete;

    const QemuVersion &qemu_version() const noexcept { return version_; }

    // Runs one command and returns its "return" value.  Throws Error with
    // VIRTKIT_ERR_OPERATION_FAILED when QEMU answers with an error,
    // VIRTKIT_ERR_TIMEOUT when no answer comes in time (a late answer is
    // dropped), VIRTKIT_ERR_NO_CONNECT when the monitor is gone.
    Poco::Dynamic::Var execute(const std::string &command, const Poco::JSON::Object::Ptr &arguments,
                               std::chrono::milliseconds timeout);
    Poco::Dynamic::Var execute(const std::string &command, std::chrono::milliseconds timeout)
    {
        return execute(command, nullptr, timeout);
    }

    // Sends a caller-written QMP message ({"execute": ...}) and returns
    // QEMU's whole reply, error replies included (for qemu-monitor-command).
    Poco::JSON::Object::Ptr execute_raw(const Poco::JSON::Object::Ptr &message, std::chrono::milliseconds timeout);

    bool is_open() const;
    // Why the monitor ended; empty while it is open.
    std::string close_reason() const;

private:
    // Poco's JSON values are not shared between threads: the reader hands
    // the reply over as text and the waiting thread parses its own copy.
    struct PendingCommand {
        std::string command;
        bool done = false;
        std::string reply_line;
        std::optional<std::string> failure;  // set when the monitor ended first
    };

    Poco::JSON::Object::Ptr round_trip(Poco::JSON::Object::Ptr message, const std::string &command,
                                       std::chrono::milliseconds timeout);
    void handshake();
    void reader_loop();
    void handle_line(const std::string &line);
    void handle_greeting(const Poco::JSON::Object::Ptr &message);
    void handle_reply(const Poco::JSON::Object::Ptr &message, const std::string &line);
    void end_monitor(const std::string &why);
    void stop_reader();

    UnixStream stream_;
    Options options_;
    LineSplitter splitter_;
    int wake_pipe_[2] = {-1, -1};  // written to stop the reader

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    bool greeted_ = false;
    std::optional<std::string> closed_because_;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, std::shared_ptr<PendingCommand>> pending_;
    QemuVersion version_;

    std::mutex write_mutex_;
    std::thread reader_;  // last: starts after everything above exists
};

}  // namespace virtkit::qemu
