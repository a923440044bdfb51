// The C-ABI glue, and the only file that knows about it: adapts
// EsxConnection to virtkit/sdk.hpp, which fills the C tables and catches
// every exception at the boundary; a virtkit::Error keeps its code there.
#include <virtkit/sdk.hpp>

#include "driver/esx_connection.hpp"

namespace {

using virtkit::esx::vsphere::DomainSummary;
using virtkit::esx::vsphere::EsxConnection;

virtkit::sdk::DomainIdent ident(const DomainSummary &s) { return {s.name, s.uuid, s.id}; }

class Connection : public virtkit::sdk::Connection {
public:
    Connection(const std::string &uri, const virtkit::sdk::Host &host)
        : impl_(std::make_unique<EsxConnection>(
              uri,
              [this](const DomainSummary &domain, virtkit_lifecycle_event type, int32_t detail) {
                  emitLifecycle(ident(domain), type, detail);
              },
              [host](const std::string &message) { host.warn(message); }))
    {
    }

    std::string hostname() override { return impl_->hostname(); }
    uint64_t hypervisorVersion() override { return impl_->hypervisorVersion(); }

    virtkit::sdk::DomainIdent lookupByName(const std::string &name) override
    {
        return ident(impl_->lookupByName(name));
    }
    virtkit::sdk::DomainIdent lookupByUuid(const std::string &uuid) override
    {
        return ident(impl_->lookupByUuid(uuid));
    }
    virtkit::sdk::DomainIdent lookupById(int32_t id) override { return ident(impl_->lookupById(id)); }
    std::vector<virtkit::sdk::DomainIdent> listDomains(uint32_t flags) override
    {
        std::vector<virtkit::sdk::DomainIdent> result;
        for (const DomainSummary &s : impl_->list(flags))
            result.push_back(ident(s));
        return result;
    }
    virtkit::sdk::DomainIdent defineXml(const std::string &xml, uint32_t) override { return ident(impl_->define(xml)); }
    void domainUndefine(const std::string &uuid, uint32_t) override { impl_->undefine(uuid); }
    void domainStart(const std::string &uuid, uint32_t) override { impl_->start(uuid); }
    void domainShutdown(const std::string &uuid, uint32_t) override { impl_->shutdown(uuid); }
    void domainReboot(const std::string &uuid, uint32_t) override { impl_->reboot(uuid); }
    void domainDestroy(const std::string &uuid, uint32_t) override { impl_->destroy(uuid); }
    void domainSuspend(const std::string &uuid) override { impl_->suspend(uuid); }
    void domainResume(const std::string &uuid) override { impl_->resume(uuid); }
    std::string domainXml(const std::string &uuid, uint32_t) override { return impl_->xml(uuid); }
    virtkit::sdk::DomainInfo domainInfo(const std::string &uuid) override
    {
        const auto status = impl_->status(uuid);
        virtkit::sdk::DomainInfo info;
        info.state = status.state;
        info.reason = status.reason;
        info.persistent = true;
        info.maxMemKiB = status.memoryKiB;
        info.memoryKiB = status.memoryKiB;
        info.vcpus = status.vcpus;
        return info;
    }
    bool domainAutostart(const std::string &uuid) override { return impl_->autostart(uuid); }
    std::string domainXmlFromNative(const std::string &format, const std::string &native) override
    {
        return impl_->xmlFromNative(format, native);
    }
    std::string domainXmlToNative(const std::string &format, const std::string &xml) override
    {
        return impl_->xmlToNative(format, xml);
    }

private:
    std::unique_ptr<EsxConnection> impl_;
};

class Driver : public virtkit::sdk::Driver {
public:
    using virtkit::sdk::Driver::Driver;
    std::unique_ptr<Connection> open(const std::string &uri, uint32_t)
    {
        return std::make_unique<Connection>(uri, host());
    }
};

}  // namespace

VIRTKIT_DECLARE_PLUGIN(Driver, "esx", VIRTKIT_ESX_PLUGIN_VERSION)
