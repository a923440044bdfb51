// hello:/// — an in-memory driver built with the virtkit C++ helper.  It
// overrides what it supports; every other operation (reboot, create_xml,
// native formats) stays unsupported, and the core says so.
#include "domain_store.hpp"

#include <virtkit/sdk.hpp>

namespace hello {
namespace {

using virtkit::sdk::Error;

// libvirt's reason and event-detail values for each step.
const Transition kStart{"start", {VIRTKIT_DOMAIN_SHUTOFF}, VIRTKIT_DOMAIN_RUNNING, 1, VIRTKIT_EVENT_STARTED, 0};
const Transition kSuspend{"suspend", {VIRTKIT_DOMAIN_RUNNING}, VIRTKIT_DOMAIN_PAUSED, 1, VIRTKIT_EVENT_SUSPENDED, 0};
const Transition kResume{"resume", {VIRTKIT_DOMAIN_PAUSED}, VIRTKIT_DOMAIN_RUNNING, 5, VIRTKIT_EVENT_RESUMED, 0};
const Transition kShutdown{"shut down", {VIRTKIT_DOMAIN_RUNNING, VIRTKIT_DOMAIN_PAUSED}, VIRTKIT_DOMAIN_SHUTOFF, 1,
                           VIRTKIT_EVENT_STOPPED, 0};
const Transition kDestroy{"destroy", {VIRTKIT_DOMAIN_RUNNING, VIRTKIT_DOMAIN_PAUSED}, VIRTKIT_DOMAIN_SHUTOFF, 2,
                          VIRTKIT_EVENT_STOPPED, 1};

void requireNoFlags(uint32_t flags, const char *operation)
{
    if (flags != 0)
        throw Error(VIRTKIT_ERR_INVALID_ARG,
                    std::string("the hello driver supports no flags for ") + operation + " (got " +
                        std::to_string(flags) + ")");
}

class HelloConnection : public virtkit::sdk::Connection {
public:
    explicit HelloConnection(DomainStore &store) : store_(store) {}

    std::string capabilities() override
    {
        return "<capabilities>\n"
               "  <host><cpu><arch>x86_64</arch></cpu></host>\n"
               "  <guest><os_type>hvm</os_type><arch name='x86_64'><domain type='hello'/></arch></guest>\n"
               "</capabilities>\n";
    }
    std::string hostname() override { return "hello.example"; }
    uint64_t hypervisorVersion() override { return 1000000; }  // 1.0.0

    DomainIdent lookupByName(const std::string &name) override { return store_.byName(name); }
    DomainIdent lookupByUuid(const std::string &uuid) override { return store_.byUuid(uuid); }
    DomainIdent lookupById(int32_t id) override { return store_.byId(id); }
    std::vector<DomainIdent> listDomains(uint32_t flags) override { return store_.list(flags); }

    DomainIdent defineXml(const std::string &xml, uint32_t flags) override
    {
        requireNoFlags(flags, "define");
        return store_.define(xml, announce());
    }
    void domainUndefine(const std::string &uuid, uint32_t flags) override
    {
        requireNoFlags(flags, "undefine");
        store_.undefine(uuid, announce());
    }
    void domainStart(const std::string &uuid, uint32_t flags) override { step(uuid, flags, kStart); }
    void domainShutdown(const std::string &uuid, uint32_t flags) override { step(uuid, flags, kShutdown); }
    void domainDestroy(const std::string &uuid, uint32_t flags) override { step(uuid, flags, kDestroy); }
    void domainSuspend(const std::string &uuid) override { step(uuid, 0, kSuspend); }
    void domainResume(const std::string &uuid) override { step(uuid, 0, kResume); }

    std::string domainXml(const std::string &uuid, uint32_t) override { return store_.xml(uuid); }
    DomainInfo domainInfo(const std::string &uuid) override { return store_.info(uuid); }
    bool domainAutostart(const std::string &uuid) override { return store_.autostart(uuid); }
    void domainSetAutostart(const std::string &uuid, bool on) override { store_.setAutostart(uuid, on); }

private:
    // Events go out tagged with this connection; the host copies and queues them.
    Announce announce() const
    {
        return [this](const DomainIdent &domain, virtkit_lifecycle_event type, int32_t detail) {
            emitLifecycle(domain, type, detail);
        };
    }
    void step(const std::string &uuid, uint32_t flags, const Transition &transition)
    {
        requireNoFlags(flags, transition.verb);
        store_.apply(uuid, transition, announce());
        host().debug(std::string(transition.verb) + " " + uuid);
    }

    DomainStore &store_;
};

// One store for the process: every hello:/// connection sees the same domains.
class HelloDriver : public virtkit::sdk::Driver {
public:
    explicit HelloDriver(virtkit::sdk::Host host) : Driver(host)
    {
        host.info("hello driver ready");
    }

    std::unique_ptr<HelloConnection> open(const std::string &uri, uint32_t)
    {
        if (uri != "hello:///" && uri != "hello:///default")
            throw Error(VIRTKIT_ERR_NO_CONNECT, "the hello driver serves only hello:/// (asked for '" + uri + "')");
        return std::make_unique<HelloConnection>(store_);
    }

private:
    DomainStore store_;
};

}  // namespace
}  // namespace hello

VIRTKIT_DECLARE_PLUGIN(hello::HelloDriver, "hello", "1.0.0")
