// event: wait for events of this connection and print them as virsh does
// ("event 'lifecycle' for domain 'test': Stopped Destroyed"), or one JSON
// object per line.  Without --loop it ends after the first event.
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <deque>
#include <mutex>
#include <ostream>

#include <virtkit/connection.hpp>
#include <virtkit/error.hpp>
#include <virtkit/event.hpp>

#include "command.hpp"
#include "json.hpp"
#include "session.hpp"

namespace virtkit::cli {

namespace {

// Set by SIGINT while `event` waits; a signal handler can touch nothing else.
volatile std::sig_atomic_t interrupted = 0;

extern "C" void onInterrupt(int) { interrupted = 1; }

// Catches SIGINT for as long as it lives, then restores the old handler.
class InterruptGuard {
public:
    InterruptGuard()
    {
        interrupted = 0;
        struct sigaction sa{};
        sa.sa_handler = onInterrupt;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &previous_);
    }
    ~InterruptGuard() { sigaction(SIGINT, &previous_, nullptr); }
    InterruptGuard(const InterruptGuard &) = delete;
    InterruptGuard &operator=(const InterruptGuard &) = delete;

private:
    struct sigaction previous_{};
};

// Events handed over from the bus thread to the command.
struct EventQueue {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<Event> events;
};

struct KindName {
    const char *name;
    EventKind kind;
};
constexpr KindName kKinds[] = {{"lifecycle", EventKind::Lifecycle},
                               {"job", EventKind::Job},
                               {"migration", EventKind::Migration},
                               {"device", EventKind::Device}};

const char *kindName(EventKind kind)
{
    for (const auto &k : kKinds)
        if (k.kind == kind)
            return k.name;
    return "unknown";
}

// --event: a kind as virsh names it, or (virtkit extra) one lifecycle type.
void applyEventName(EventFilter &filter, const std::string &name)
{
    for (const auto &k : kKinds)
        if (name == k.name) {
            filter.kind = k.kind;
            return;
        }
    const int32_t type = lifecycleEventFromName(name);
    if (type < 0)
        throw Error(VIRTKIT_ERR_INVALID_ARG, "unknown event type " + name + " (see 'event --list')");
    filter.kind = EventKind::Lifecycle;
    filter.type = type;
}

std::string capitalised(std::string word)
{
    if (!word.empty() && word[0] >= 'a' && word[0] <= 'z')
        word[0] = static_cast<char>(word[0] - 'a' + 'A');
    return word;
}

std::string timestamp(std::chrono::system_clock::time_point t)
{
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03d+0000", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
    return buf;
}

std::string eventText(const Event &e, bool withTime)
{
    std::string text = withTime ? timestamp(e.time) + ": " : "";
    text += "event '" + std::string(kindName(e.kind)) + "' for domain '" + e.domainName + "': ";
    if (e.kind == EventKind::Lifecycle)
        text += capitalised(lifecycleEventName(e.type)) + " " + capitalised(lifecycleDetailName(e.type, e.detail));
    else
        text += e.payloadJson;
    return text;
}

std::string eventJson(const Event &e)
{
    JsonObject obj;
    obj.add("event", kindName(e.kind)).add("domain", e.domainName).add("uuid", e.domainUuid);
    if (e.kind == EventKind::Lifecycle)
        obj.add("type", lifecycleEventName(e.type)).add("detail", lifecycleDetailName(e.type, e.detail));
    if (!e.payloadJson.empty())
        obj.add("payload", e.payloadJson);  // as a string: a plugin's JSON is not trusted to parse
    obj.add("seq", e.seq).add("time", timestamp(e.time));
    return obj.str();
}

int parseTimeout(const std::string &text)
{
    int seconds = 0;
    const bool digits = !text.empty() && text.size() < 9 && text.find_first_not_of("0123456789") == std::string::npos;
    if (digits)
        seconds = std::stoi(text);
    if (seconds <= 0)
        throw Error(VIRTKIT_ERR_INVALID_ARG, "numeric value '" + text + "' for <timeout> option is malformed or out of range");
    return seconds;
}

void event(Session &session, const ParsedCommand &cmd)
{
    std::ostream &out = session.out();
    if (cmd.flag("list")) {
        std::vector<std::string> names;
        for (const auto &k : kKinds)
            names.push_back(k.name);
        if (session.json(cmd))
            out << jsonStringArray(names) << '\n';
        else
            for (const auto &name : names)
                out << name << '\n';
        return;
    }
    const auto eventName = cmd.value("event");
    if (!eventName && !cmd.flag("all"))
        throw Error(VIRTKIT_ERR_INVALID_ARG, "one of --list, --all, or --event <type> is required");
    EventFilter filter;
    if (eventName)
        applyEventName(filter, *eventName);
    const auto timeout = cmd.value("timeout");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout ? parseTimeout(*timeout) : 0);
    if (cmd.value("domain"))
        filter.domain = session.domain(cmd).uuid();

    const auto queue = std::make_shared<EventQueue>();
    const InterruptGuard guard;
    auto subscription = session.connection().subscribe(filter, [queue](const Event &e) {
        const std::lock_guard lock(queue->mutex);
        queue->events.push_back(e);
        queue->ready.notify_one();
    });

    const bool json = session.json(cmd), loop = cmd.flag("loop"), withTime = cmd.flag("timestamp");
    unsigned received = 0;
    const char *ending = nullptr;
    std::unique_lock lock(queue->mutex);
    while (!ending) {
        // Short waits so that SIGINT is noticed promptly.
        queue->ready.wait_for(lock, std::chrono::milliseconds(100), [&] { return !queue->events.empty(); });
        while (!queue->events.empty() && (loop || received == 0)) {
            const Event e = std::move(queue->events.front());
            queue->events.pop_front();
            out << (json ? eventJson(e) : eventText(e, withTime)) << std::endl;
            received++;
        }
        if (!loop && received > 0)
            ending = "";
        else if (interrupted)
            ending = "event loop interrupted";
        else if (timeout && std::chrono::steady_clock::now() >= deadline)
            ending = "event loop timed out";
    }
    lock.unlock();
    subscription.unsubscribe();
    if (json)
        return;
    if (*ending)
        out << ending << '\n';
    out << "events received: " << received << '\n';
}

}  // namespace

void addEventCommands(std::vector<CommandSpec> &table)
{
    using K = OptionSpec::Kind;
    table.push_back({"event", "monitor", "Domain Events",
                     "List event types, or wait for domain events to occur.",
                     {{"domain", K::Value, false, false, "filter by domain name, id or uuid"},
                      {"event", K::Value, false, false,
                       "which event type to wait for (a kind from --list, or a lifecycle type such as 'started')"},
                      {"all", K::Flag, false, false, "wait for all events instead of just one type"},
                      {"loop", K::Flag, false, false, "loop until timeout or interrupt, rather than one event"},
                      {"timeout", K::Value, false, false, "timeout seconds"},
                      {"list", K::Flag, false, false, "list valid event types"},
                      {"timestamp", K::Flag, false, false, "show timestamp for each printed event"}},
                     event, true});
}

}  // namespace virtkit::cli
