#include "qmp/qmp_client.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>
#include <unistd.h>

#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <virtkit/error.hpp>

namespace virtkit::qemu {
namespace {

std::string excerpt(const std::string &text)
{
    constexpr std::size_t limit = 80;
    std::string shown = text.size() > limit ? text.substr(0, limit) + "..." : text;
    for (char &c : shown)
        if (static_cast<unsigned char>(c) < 0x20)
            c = '?';
    return shown;
}

std::int64_t int_member(const Poco::JSON::Object::Ptr &object, const std::string &key)
{
    if (!object || !object->has(key))
        return 0;
    const Poco::Dynamic::Var value = object->get(key);
    return value.isNumeric() ? value.convert<std::int64_t>() : 0;
}

std::string to_json(const Poco::JSON::Object::Ptr &object)
{
    std::ostringstream out;
    Poco::JSON::Stringifier::condense(object, out);
    return out.str();
}

}  // namespace

std::uint64_t QemuVersion::number() const
{
    return static_cast<std::uint64_t>(major) * 1000000u + static_cast<std::uint64_t>(minor) * 1000u +
           static_cast<std::uint64_t>(micro);
}

QmpClient::QmpClient(UnixStream stream, Options options)
    : stream_(std::move(stream)), options_(std::move(options)), splitter_(options_.max_line_bytes)
{
    if (::pipe2(wake_pipe_, O_CLOEXEC) != 0)
        throw Error(VIRTKIT_ERR_SYSTEM, std::string("cannot create a pipe: ") + std::strerror(errno));
    reader_ = std::thread([this] { reader_loop(); });
    try {
        handshake();
    } catch (...) {
        stop_reader();
        throw;
    }
}

QmpClient::~QmpClient() { stop_reader(); }

void QmpClient::stop_reader()
{
    if (reader_.joinable()) {
        const char stop = 's';
        [[maybe_unused]] const ssize_t ignored = ::write(wake_pipe_[1], &stop, 1);
        reader_.join();
    }
    for (int &fd : wake_pipe_)
        if (fd >= 0) {
            ::close(fd);
            fd = -1;
        }
}

void QmpClient::handshake()
{
    {
        std::unique_lock lock(mutex_);
        const bool answered = changed_.wait_for(lock, options_.handshake_timeout,
                                                [this] { return greeted_ || closed_because_; });
        if (closed_because_)
            throw Error(VIRTKIT_ERR_NO_CONNECT, "QMP monitor failed before its greeting: " + *closed_because_);
        if (!answered)
            throw Error(VIRTKIT_ERR_TIMEOUT, "QMP monitor sent no greeting within " +
                                                 std::to_string(options_.handshake_timeout.count()) + " ms");
    }
    execute("qmp_capabilities", options_.handshake_timeout);
}

bool QmpClient::is_open() const
{
    const std::lock_guard lock(mutex_);
    return !closed_because_;
}

std::string QmpClient::close_reason() const
{
    const std::lock_guard lock(mutex_);
    return closed_because_.value_or("");
}

Poco::Dynamic::Var QmpClient::execute(const std::string &command, const Poco::JSON::Object::Ptr &arguments,
                                      std::chrono::milliseconds timeout)
{
    Poco::JSON::Object::Ptr message = new Poco::JSON::Object;
    message->set("execute", command);
    if (arguments)
        message->set("arguments", arguments);
    const Poco::JSON::Object::Ptr reply = round_trip(message, command, timeout);
    if (reply->has("error")) {
        const Poco::JSON::Object::Ptr error = reply->getObject("error");
        const std::string desc = error && error->has("desc") ? error->getValue<std::string>("desc") : to_json(reply);
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, "QEMU refused '" + command + "': " + desc);
    }
    return reply->get("return");
}

Poco::JSON::Object::Ptr QmpClient::execute_raw(const Poco::JSON::Object::Ptr &message,
                                               std::chrono::milliseconds timeout)
{
    if (!message || !message->has("execute") || !message->get("execute").isString())
        throw Error(VIRTKIT_ERR_INVALID_ARG, "a QMP command must be a JSON object with a string 'execute' member");
    // Copy: the id we add must not leak into the caller's object.
    Poco::JSON::Object::Ptr copy = new Poco::JSON::Object(*message);
    return round_trip(copy, message->getValue<std::string>("execute"), timeout);
}

Poco::JSON::Object::Ptr QmpClient::round_trip(Poco::JSON::Object::Ptr message, const std::string &command,
                                              std::chrono::milliseconds timeout)
{
    if (reader_.get_id() == std::this_thread::get_id())
        throw Error(VIRTKIT_ERR_INTERNAL,
                    "cannot wait for the reply to '" + command + "' from inside a QMP event callback");
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pending = std::make_shared<PendingCommand>();
    pending->command = command;
    std::uint64_t id = 0;
    {
        const std::lock_guard lock(mutex_);
        if (closed_because_)
            throw Error(VIRTKIT_ERR_NO_CONNECT, "cannot send '" + command + "': " + *closed_because_);
        id = next_id_++;
        pending_.emplace(id, pending);
    }
    message->set("id", id);
    try {
        const std::lock_guard write_lock(write_mutex_);
        stream_.write_all(to_json(message) + "\n", deadline);
    } catch (const Error &) {
        {
            const std::lock_guard lock(mutex_);
            pending_.erase(id);
        }
        // A half-written command would corrupt the stream: end the monitor.
        ::shutdown(stream_.fd(), SHUT_RDWR);
        throw;
    }

    std::unique_lock lock(mutex_);
    if (!changed_.wait_until(lock, deadline, [&] { return pending->done; })) {
        pending_.erase(id);
        throw Error(VIRTKIT_ERR_TIMEOUT,
                    "QEMU did not answer '" + command + "' within " + std::to_string(timeout.count()) + " ms");
    }
    if (pending->failure)
        throw Error(VIRTKIT_ERR_NO_CONNECT, "no answer to '" + command + "': " + *pending->failure);
    const std::string line = std::move(pending->reply_line);
    lock.unlock();
    Poco::JSON::Parser parser;  // the reader already checked it parses to an object
    return parser.parse(line).extract<Poco::JSON::Object::Ptr>();
}

void QmpClient::reader_loop()
{
    std::string why;
    try {
        char buffer[65536];
        for (;;) {
            pollfd fds[2] = {{stream_.fd(), POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0) {
                if (errno == EINTR)
                    continue;
                why = std::string("cannot wait on the QMP monitor: ") + std::strerror(errno);
                break;
            }
            if (fds[1].revents != 0)
                return;  // our own shutdown: no close callback
            const ssize_t n = ::read(stream_.fd(), buffer, sizeof(buffer));
            if (n == 0) {
                why = splitter_.has_partial_line() ? "QMP monitor closed the connection in the middle of a message"
                                                   : "QMP monitor closed the connection";
                break;
            }
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                    continue;
                if (errno == ECONNRESET) {  // a QEMU that died with our bytes unread
                    why = "QMP monitor closed the connection (reset by peer)";
                    break;
                }
                why = std::string("cannot read from the QMP monitor: ") + std::strerror(errno);
                break;
            }
            splitter_.append(std::string_view(buffer, static_cast<std::size_t>(n)));
            while (const std::optional<std::string> line = splitter_.next_line())
                handle_line(*line);
        }
    } catch (const std::exception &e) {
        why = e.what();
    }
    end_monitor(why);
}

void QmpClient::handle_line(const std::string &line)
{
    if (line.find_first_not_of(" \t") == std::string::npos)
        return;
    Poco::JSON::Object::Ptr message;
    try {
        Poco::JSON::Parser parser;
        const Poco::Dynamic::Var parsed = parser.parse(line);
        if (parsed.type() == typeid(Poco::JSON::Object::Ptr))
            message = parsed.extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception &) {
    }
    if (!message)
        throw Error(VIRTKIT_ERR_OPERATION_FAILED,
                    "QMP monitor sent something that is not a JSON object: '" + excerpt(line) + "'");

    if (message->has("QMP"))
        return handle_greeting(message);
    {
        const std::lock_guard lock(mutex_);
        if (!greeted_)
            throw Error(VIRTKIT_ERR_OPERATION_FAILED,
                        "QMP monitor spoke before its greeting: '" + excerpt(line) + "'");
    }
    if (message->has("event")) {
        QmpEvent event;
        event.name = message->get("event").toString();
        event.data = message->getObject("data");
        if (!event.data)
            event.data = new Poco::JSON::Object;
        const Poco::JSON::Object::Ptr timestamp = message->getObject("timestamp");
        event.seconds = int_member(timestamp, "seconds");
        event.microseconds = int_member(timestamp, "microseconds");
        if (options_.on_event) {
            try {
                options_.on_event(event);
            } catch (...) {
                // A throwing handler is a bug in the handler; the monitor stays up.
            }
        }
        return;
    }
    if (message->has("return") || message->has("error"))
        return handle_reply(message, line);
    throw Error(VIRTKIT_ERR_OPERATION_FAILED,
                "QMP monitor sent a message that is neither a reply nor an event: '" + excerpt(line) + "'");
}

void QmpClient::handle_greeting(const Poco::JSON::Object::Ptr &message)
{
    const Poco::JSON::Object::Ptr qmp = message->getObject("QMP");
    const Poco::JSON::Object::Ptr version = qmp ? qmp->getObject("version") : nullptr;
    const Poco::JSON::Object::Ptr qemu = version ? version->getObject("qemu") : nullptr;
    if (!qemu)
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, "QMP greeting names no QEMU version: '" +
                                                      excerpt(to_json(message)) + "'");
    const std::lock_guard lock(mutex_);
    if (greeted_)
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, "QMP monitor sent a second greeting");
    version_.major = static_cast<int>(int_member(qemu, "major"));
    version_.minor = static_cast<int>(int_member(qemu, "minor"));
    version_.micro = static_cast<int>(int_member(qemu, "micro"));
    if (version->has("package"))
        version_.package = version->get("package").toString();
    greeted_ = true;
    changed_.notify_all();
}

void QmpClient::handle_reply(const Poco::JSON::Object::Ptr &message, const std::string &line)
{
    const std::lock_guard lock(mutex_);
    auto found = pending_.end();
    const Poco::Dynamic::Var id = message->has("id") ? message->get("id") : Poco::Dynamic::Var();
    if (id.isInteger())
        found = pending_.find(id.convert<std::uint64_t>());
    else if (id.isEmpty() && !pending_.empty())
        found = pending_.begin();  // QEMU could not read our id: it answers in order
    if (found == pending_.end())
        return;  // the answer to a command that already timed out
    found->second->reply_line = line;
    found->second->done = true;
    pending_.erase(found);
    changed_.notify_all();
}

void QmpClient::end_monitor(const std::string &why)
{
    {
        const std::lock_guard lock(mutex_);
        closed_because_ = why;
        for (auto &[id, pending] : pending_) {
            pending->failure = why;
            pending->done = true;
        }
        pending_.clear();
        changed_.notify_all();
    }
    if (options_.on_close) {
        try {
            options_.on_close(why);
        } catch (...) {
            // As with events: a throwing handler must not take the process down.
        }
    }
}

}  // namespace virtkit::qemu
