#include "event_stream.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>

#include <Poco/Buffer.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>

#include <virtkit/error.hpp>
#include <virtkit/log.hpp>
#include <virtkit/remote_protocol.hpp>

namespace virtkit::daemon {
namespace {

// Filled by the bus handler (the subscriber's own thread), drained by the
// client's connection thread, so a stuck socket write never holds the bus.
struct Outbox {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<std::string> frames;
    bool overflowed = false;
};

}  // namespace

void streamEvents(Api &api, const ApiRequest &req, Poco::Net::HTTPServerRequest &request,
                  Poco::Net::HTTPServerResponse &response, std::size_t queueLimit, const std::atomic<bool> &stopping)
{
    const auto log = log::get("daemon");
    EventsTarget target;
    try {
        target = api.eventsTarget(req);
    } catch (const Error &e) {
        // The error rides in a header too: a WebSocket client cannot read a refused upgrade's body.
        const std::string body = remote::encodeError(e.code(), e.what());
        response.set(remote::kErrorHeader, body);
        response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(remote::httpStatusFor(e.code())));
        response.setContentType("application/json");
        response.setContentLength(static_cast<std::streamsize>(body.size()));
        response.send() << body;
        return;
    }

    auto outbox = std::make_shared<Outbox>();
    const std::string clientUri = target.clientUri;
    // Subscribe before the handshake completes: every event after the client's
    // subscribe() returns is delivered.
    auto subscription = target.connection->subscribe(target.filter, [outbox, clientUri, queueLimit](const Event &e) {
        Event copy = e;
        copy.connection = clientUri;
        std::string frame = remote::encodeEvent(copy);
        const std::lock_guard lock(outbox->mutex);
        if (outbox->frames.size() >= queueLimit) {
            outbox->overflowed = true;
        } else {
            outbox->frames.push_back(std::move(frame));
        }
        outbox->ready.notify_one();
    });

    std::string peer = request.clientAddress().toString();
    try {
        Poco::Net::WebSocket ws(request, response);
        ws.setSendTimeout(Poco::Timespan(5, 0));
        ws.setMaxPayloadSize(64 * 1024);
        log->info("event client {} subscribed to {}", peer, clientUri);
        Poco::Buffer<char> incoming(0);
        std::string reason;
        while (!stopping) {
            std::deque<std::string> batch;
            {
                std::unique_lock lock(outbox->mutex);
                outbox->ready.wait_for(lock, std::chrono::milliseconds(200),
                                       [&] { return !outbox->frames.empty() || outbox->overflowed; });
                if (outbox->overflowed) {
                    reason = "more than " + std::to_string(queueLimit) + " events queued unsent (client not reading)";
                    break;
                }
                batch.swap(outbox->frames);
            }
            try {
                for (const auto &frame : batch)
                    ws.sendFrame(frame.data(), static_cast<int>(frame.size()), Poco::Net::WebSocket::FRAME_TEXT);
            } catch (const Poco::Exception &e) {
                // A send that cannot finish within the send timeout: the client stopped reading.
                reason = "sending failed or blocked for 5 s (client not reading): " + e.displayText();
                break;
            }
            // The client sends nothing but pings and close; look without blocking.
            while (ws.available() > 0 || ws.poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ)) {
                int flags = 0;
                incoming.resize(0);
                const int n = ws.receiveFrame(incoming, flags);
                const int op = flags & Poco::Net::WebSocket::FRAME_OP_BITMASK;
                if (n <= 0 || op == Poco::Net::WebSocket::FRAME_OP_CLOSE) {
                    reason = "closed by client";
                    break;
                }
                if (op == Poco::Net::WebSocket::FRAME_OP_PING)
                    ws.sendFrame(incoming.begin(), n, static_cast<int>(Poco::Net::WebSocket::FRAME_OP_PONG) | static_cast<int>(Poco::Net::WebSocket::FRAME_FLAG_FIN));
            }
            if (!reason.empty())
                break;
        }
        subscription.unsubscribe();
        if (reason.empty())
            reason = "daemon stopping";
        if (reason != "closed by client") {
            log->warn("dropping event client {}: {}", peer, reason);
            try {
                ws.shutdown(Poco::Net::WebSocket::WS_POLICY_VIOLATION, reason.substr(0, 120));
            } catch (const Poco::Exception &) {
            }
        } else {
            log->info("event client {} left", peer);
        }
    } catch (const Poco::Exception &e) {
        log->info("event client {} gone: {}", peer, e.displayText());
    }
}

}  // namespace virtkit::daemon
