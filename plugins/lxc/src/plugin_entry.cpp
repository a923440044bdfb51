// The C-ABI glue, and the only file that knows about it: adapts
// LxcConnection to virtkit/sdk.hpp, which fills the C tables and catches
// every exception at the boundary; a virtkit::Error keeps its code there.
#include <virtkit/sdk.hpp>

#include <virtkit/error.hpp>

#include <unistd.h>

#include "driver/lxc_connection.hpp"
#include "native/lxc_native_config.hpp"

namespace {

using virtkit::lxc::DomainSummary;
using virtkit::lxc::LxcConnection;

virtkit::sdk::DomainIdent ident(const DomainSummary &summary) { return {summary.name, summary.uuid, summary.id}; }

class Connection : public virtkit::sdk::Connection {
public:
    explicit Connection(const std::string &uri)
        : impl_(std::make_unique<LxcConnection>(
              uri, [this](const std::string &name, const std::string &uuid, std::int32_t type, std::int32_t detail) {
                  emitLifecycle({name, uuid, -1}, static_cast<virtkit_lifecycle_event>(type), detail);
              }))
    {
    }

    std::string capabilities() override { return impl_->capabilities_xml(); }
    std::string hostname() override
    {
        char name[256] = {};
        if (::gethostname(name, sizeof name - 1) != 0)
            throw virtkit::sdk::Error(VIRTKIT_ERR_SYSTEM, "cannot read the host name");
        return name;
    }
    uint64_t hypervisorVersion() override { return impl_->hypervisor_version(); }

    virtkit::sdk::DomainIdent lookupByName(const std::string &name) override
    {
        return ident(impl_->lookup_by_name(name));
    }
    virtkit::sdk::DomainIdent lookupByUuid(const std::string &uuid) override
    {
        return ident(impl_->lookup_by_uuid(uuid));
    }
    virtkit::sdk::DomainIdent lookupById(int32_t id) override { return ident(impl_->lookup_by_id(id)); }
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
        info.maxMemKiB = status.memory_kib;
        info.memoryKiB = status.memory_kib;
        info.vcpus = status.vcpus;
        info.cpuTimeNs = status.cpu_time_ns;
        return info;
    }
    bool domainAutostart(const std::string &uuid) override { return impl_->autostart(uuid); }
    void domainSetAutostart(const std::string &uuid, bool enabled) override { impl_->set_autostart(uuid, enabled); }
    std::string domainXmlFromNative(const std::string &format, const std::string &native) override
    {
        if (format != "lxc-tools")
            throw virtkit::Error(VIRTKIT_ERR_NO_SUPPORT,
                                 "native format '" + format + "' is not supported; the lxc driver reads lxc-tools");
        const auto converted = virtkit::lxc::domain_xml_from_lxc_config(native);
        for (const std::string &warning : converted.warnings)
            host().warn(warning);
        return converted.xml;
    }

private:
    std::unique_ptr<LxcConnection> impl_;
};

class Driver : public virtkit::sdk::Driver {
public:
    using virtkit::sdk::Driver::Driver;
    std::unique_ptr<Connection> open(const std::string &uri, uint32_t) { return std::make_unique<Connection>(uri); }
};

}  // namespace

VIRTKIT_DECLARE_PLUGIN(Driver, "lxc", VIRTKIT_LXC_PLUGIN_VERSION)
