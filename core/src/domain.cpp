// Domain handles and the state/reason names virsh prints (domstate --reason).
#include <virtkit/domain.hpp>
#include <virtkit/domain_xml.hpp>

#include <array>
#include <iterator>

#include <virtkit/connection.hpp>
#include <virtkit/error.hpp>

namespace virtkit {
namespace {

template <size_t N>
const char *nameAt(const std::array<const char *, N> &names, int index, const char *fallback)
{
    return index >= 0 && static_cast<size_t>(index) < N ? names[static_cast<size_t>(index)] : fallback;
}

// libvirt's virDomainState, in enum order.
constexpr std::array<const char *, 8> kStates = {"no state",    "running",  "idle",    "paused",
                                                 "in shutdown", "shut off", "crashed", "pmsuspended"};

// libvirt's per-state reason enums, in enum order, as virsh names them.
constexpr std::array<const char *, 1> kNostateReasons = {"unknown"};
constexpr std::array<const char *, 12> kRunningReasons = {
    "unknown",         "booted",  "migrated",           "restored",      "from snapshot", "unpaused",
    "migration canceled", "save canceled", "event wakeup", "crashed", "post-copy", "post-copy failed"};
constexpr std::array<const char *, 1> kBlockedReasons = {"unknown"};
constexpr std::array<const char *, 15> kPausedReasons = {
    "unknown",       "user",          "migrating", "saving",      "dumping",   "I/O error",
    "watchdog",      "from snapshot", "shutting down", "creating snapshot", "crashed", "starting up",
    "post-copy",     "post-copy failed", "api error"};
constexpr std::array<const char *, 2> kShutdownReasons = {"unknown", "user"};
constexpr std::array<const char *, 9> kShutoffReasons = {"unknown", "shutdown", "destroyed",
                                                         "crashed", "migrated", "saved",
                                                         "failed",  "from snapshot", "daemon"};
constexpr std::array<const char *, 2> kCrashedReasons = {"unknown", "panicked"};
constexpr std::array<const char *, 1> kPmsuspendedReasons = {"unknown"};

}  // namespace

const char *domainStateName(int state)
{
    return nameAt(kStates, state, "no state");
}

const char *domainStateReasonName(int state, int reason)
{
    switch (state) {
    case VIRTKIT_DOMAIN_NOSTATE: return nameAt(kNostateReasons, reason, "unknown");
    case VIRTKIT_DOMAIN_RUNNING: return nameAt(kRunningReasons, reason, "unknown");
    case VIRTKIT_DOMAIN_BLOCKED: return nameAt(kBlockedReasons, reason, "unknown");
    case VIRTKIT_DOMAIN_PAUSED: return nameAt(kPausedReasons, reason, "unknown");
    case VIRTKIT_DOMAIN_SHUTDOWN: return nameAt(kShutdownReasons, reason, "unknown");
    case VIRTKIT_DOMAIN_SHUTOFF: return nameAt(kShutoffReasons, reason, "unknown");
    case VIRTKIT_DOMAIN_CRASHED: return nameAt(kCrashedReasons, reason, "unknown");
    case VIRTKIT_DOMAIN_PMSUSPENDED: return nameAt(kPmsuspendedReasons, reason, "unknown");
    default: return "unknown";
    }
}

Domain::Domain(std::shared_ptr<Connection> conn, std::string name, std::string uuid, int id)
    : conn_(std::move(conn)), name_(std::move(name)), uuid_(std::move(uuid)), id_(id)
{
    if (!conn_)
        throw Error(VIRTKIT_ERR_INVALID_ARG, "a domain handle needs a connection");
}

void Domain::start()
{
    conn_->domainStart(uuid_);
    refreshAfterChange();
}

void Domain::shutdown(uint32_t flags)
{
    conn_->domainShutdown(uuid_, flags);
    refreshAfterChange();
}

void Domain::reboot(uint32_t flags)
{
    conn_->domainReboot(uuid_, flags);
    refreshAfterChange();
}

void Domain::destroy(uint32_t flags)
{
    conn_->domainDestroy(uuid_, flags);
    refreshAfterChange();
}

void Domain::suspend()
{
    conn_->domainSuspend(uuid_);
}

void Domain::resume()
{
    conn_->domainResume(uuid_);
}

void Domain::undefine()
{
    conn_->domainUndefine(uuid_);
}

std::string Domain::xml(uint32_t flags) const
{
    return conn_->domainXml(uuid_, flags);
}

DomainInfo Domain::info() const
{
    return conn_->domainInfo(uuid_);
}

std::string Domain::osType() const
{
    return DomainXml::parse(xml()).osType();
}

bool Domain::autostart() const
{
    return conn_->domainAutostart(uuid_);
}

void Domain::setAutostart(bool on)
{
    conn_->domainSetAutostart(uuid_, on);
}

void Domain::refresh()
{
    const DomainRef ref = conn_->lookupByUuid(uuid_);
    name_ = ref.name;
    id_ = ref.id;
}

// The ID changes when a domain starts or stops; a transient domain that
// stopped is gone, which leaves it without an ID.
void Domain::refreshAfterChange()
{
    try {
        refresh();
    } catch (const Error &e) {
        if (e.code() == VIRTKIT_ERR_NO_DOMAIN)
            id_ = -1;
    }
}

}  // namespace virtkit
