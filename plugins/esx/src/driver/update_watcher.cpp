#include "driver/update_watcher.hpp"

namespace virtkit::esx::vsphere {

namespace {

constexpr const char *vim = " xmlns=\"urn:vim25\"";
constexpr int maxWaitSeconds = 30;

}  // namespace

UpdateWatcher::UpdateWatcher(VsphereSession &session, Emit emit) : session_(session), emit_(std::move(emit))
{
    thread_ = std::thread([this] { run(); });
}

UpdateWatcher::~UpdateWatcher()
{
    stop_ = true;
    wake_.notify_all();
    // CancelWaitForUpdates ends a pending wait at once; repeat it in case the
    // thread was between two waits when the first one arrived.
    Moref collector;
    for (int attempt = 0; attempt < 50; ++attempt) {
        {
            std::unique_lock lock(mutex_);
            if (wake_.wait_for(lock, std::chrono::milliseconds(attempt ? 200 : 0), [this] { return finished_; }))
                break;
            collector = collector_;
        }
        if (collector.empty())
            continue;
        try {
            session_.call("CancelWaitForUpdates", collector);
        } catch (const std::exception &) {
            // the wait then ends by its own timeout
        }
    }
    thread_.join();
    if (!collector.empty()) {
        try {
            session_.call("DestroyPropertyCollector", collector);
        } catch (const std::exception &) {
        }
    }
}

bool UpdateWatcher::waitUntilWatching(std::chrono::milliseconds limit)
{
    std::unique_lock lock(mutex_);
    return wake_.wait_for(lock, limit, [this] { return watching_ || finished_; }) && watching_;
}

void UpdateWatcher::run()
{
    bool baseline = true;
    while (!stop_) {
        try {
            watchOnce(baseline);
        } catch (const std::exception &) {
            // Lost the server or the session: start over after a pause and
            // report the difference, not the whole inventory.
        }
        baseline = false;
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_.load(); });
    }
    const std::lock_guard lock(mutex_);
    finished_ = true;
    wake_.notify_all();
}

void UpdateWatcher::watchOnce(bool baseline)
{
    SoapEndpoint endpoint = session_.endpoint();
    endpoint.timeout += std::chrono::seconds(maxWaitSeconds);
    SoapClient client(endpoint);
    client.setCookie(session_.cookie());
    auto call = [&](const std::string &body) {
        auto answer = client.call(body);
        requests_ = requests_ + 1;
        return answer;
    };

    const auto created = call("<CreatePropertyCollector" + std::string(vim) + ">" +
                              session_.propertyCollector().xml("_this") + "</CreatePropertyCollector>");
    const Moref collector = Moref::from(child(created.result, "returnval"));
    {
        const std::lock_guard lock(mutex_);
        collector_ = collector;
        if (stop_)
            return;
    }
    const auto view = call("<CreateContainerView" + std::string(vim) + ">" + session_.viewManager().xml("_this") +
                           session_.viewRoot().xml("container") +
                           "<type>VirtualMachine</type><recursive>true</recursive></CreateContainerView>");
    const Moref viewRef = Moref::from(child(view.result, "returnval"));
    std::string spec = "<spec><propSet><type>VirtualMachine</type>";
    for (const auto &path : vmSummaryPaths())
        spec += "<pathSet>" + path + "</pathSet>";
    spec += "</propSet><objectSet>" + viewRef.xml("obj") +
            "<skip>true</skip><selectSet xsi:type=\"TraversalSpec\"><type>ContainerView</type><path>view</path>"
            "<skip>false</skip></selectSet></objectSet></spec>";
    call("<CreateFilter" + std::string(vim) + ">" + collector.xml("_this") + spec +
         "<partialUpdates>false</partialUpdates></CreateFilter>");

    std::map<std::string, VmRecord> before;
    if (!baseline)
        before = known_;
    std::string version;
    bool first = true;
    while (!stop_) {
        const auto answer = call("<WaitForUpdatesEx" + std::string(vim) + ">" + collector.xml("_this") +
                                 "<version>" + escapeXml(version) + "</version><options><maxWaitSeconds>" +
                                 std::to_string(maxWaitSeconds) + "</maxWaitSeconds></options></WaitForUpdatesEx>");
        const xmlNode *set = child(answer.result, "returnval");
        if (!set)
            continue;  // waited maxWaitSeconds without a change
        version = text(child(set, "version"));
        if (first)
            known_.clear();
        for (const xmlNode *filterSet : children(set, "filterSet"))
            for (const xmlNode *object : children(filterSet, "objectSet"))
                apply(object, first);
        if (first) {
            const std::lock_guard lock(mutex_);
            watching_ = true;
            wake_.notify_all();
        }
        if (first && !baseline) {
            // After a reconnect: compare the fresh inventory with the old one.
            for (auto &[ref, vm] : known_) {
                const auto old = before.find(ref);
                if (old == before.end())
                    emit_(vm, VIRTKIT_EVENT_DEFINED, 0);
                else {
                    VmRecord previous = old->second;
                    change(previous, vm);
                }
            }
            for (const auto &[ref, vm] : before)
                if (!known_.count(ref))
                    emit_(vm, VIRTKIT_EVENT_UNDEFINED, 0);
        }
        first = false;
    }
}

void UpdateWatcher::apply(const xmlNode *objectUpdate, bool baseline)
{
    const std::string kind = text(child(objectUpdate, "kind"));
    const Moref obj = Moref::from(child(objectUpdate, "obj"));
    if (kind == "leave") {
        const auto it = known_.find(obj.value);
        if (it != known_.end()) {
            emit_(it->second, VIRTKIT_EVENT_UNDEFINED, 0);
            known_.erase(it);
        }
        return;
    }
    // enter and modify carry changeSet{name, op, val}; fold them into a record.
    auto it = known_.find(obj.value);
    const bool isNew = it == known_.end();
    ObjectProperties props;
    props.obj = obj;
    if (!isNew) {
        // start from what we know; the change set overrides
        VmRecord &vm = it->second;
        VmRecord now = vm;
        for (const xmlNode *c : children(objectUpdate, "changeSet")) {
            const std::string name = text(child(c, "name"));
            const std::string value = text(child(c, "val"));
            if (name == "name")
                now.name = value;
            else if (name == "runtime.powerState")
                now.powerState = value;
            else if (name == "config.uuid")
                now.uuid = value;
        }
        change(vm, now);
        return;
    }
    for (const xmlNode *c : children(objectUpdate, "changeSet"))
        props.values[text(child(c, "name"))] = child(c, "val");
    const VmRecord vm = vmRecord(props);
    if (!(vm.host == session_.hostSystem()))
        return;  // runs on another host of the datacenter
    known_[obj.value] = vm;
    if (!baseline)
        emit_(vm, VIRTKIT_EVENT_DEFINED, 0);
}

void UpdateWatcher::change(VmRecord &known, const VmRecord &now)
{
    const std::string from = known.powerState;
    known = now;
    if (from == now.powerState)
        return;
    if (now.powerState == "poweredOn")
        emit_(now, from == "suspended" ? VIRTKIT_EVENT_RESUMED : VIRTKIT_EVENT_STARTED, 0);
    else if (now.powerState == "suspended")
        emit_(now, VIRTKIT_EVENT_SUSPENDED, 0);
    else if (now.powerState == "poweredOff")
        emit_(now, VIRTKIT_EVENT_STOPPED, 0);
}

}  // namespace virtkit::esx::vsphere
