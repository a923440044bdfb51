// The C-ABI glue, and the only file that knows about it: adapts
// QemuConnection to virtkit/sdk.hpp, which fills the C tables and catches
// every exception at the boundary; a virtkit::Error keeps its code there.
#include <virtkit/sdk.hpp>

#include "command_line/command_line.hpp"
#include "driver/qemu_connection.hpp"
#include "migration/domain_migrations.hpp"

namespace {

using virtkit::qemu::DomainSummary;
using virtkit::qemu::QemuConnection;

virtkit::sdk::DomainIdent ident(const DomainSummary &summary) { return {summary.name, summary.uuid, summary.id}; }

class Connection : public virtkit::sdk::Connection {
public:
    Connection(const std::string &uri, QemuConnection::Settings settings)
        : impl_(std::make_unique<QemuConnection>(
              uri,
              [this](const std::string &name, const std::string &uuid, std::int32_t type, std::int32_t detail) {
                  emitLifecycle({name, uuid, -1}, static_cast<virtkit_lifecycle_event>(type), detail);
              },
              settings)),
          migrations_(std::make_unique<virtkit::qemu::DomainMigrations>(*impl_))
    {
    }

    std::string capabilities() override { return impl_->capabilities_xml(); }
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
    void domainDestroy(const std::string &uuid, uint32_t) override { impl_->destroy(uuid); }
    void domainShutdown(const std::string &uuid, uint32_t flags) override { impl_->shutdown(uuid, flags); }
    void domainReboot(const std::string &uuid, uint32_t flags) override { impl_->reboot(uuid, flags); }
    std::string monitorCommand(const std::string &uuid, const std::string &command, uint32_t flags) override
    {
        if (flags & ~VIRTKIT_MONITOR_HMP)
            throw virtkit::sdk::Error(VIRTKIT_ERR_INVALID_ARG, "unknown monitor command flags");
        return impl_->monitor_command(uuid, command, flags & VIRTKIT_MONITOR_HMP);
    }
    std::string domainCapabilities(const std::string &emulator, const std::string &arch, const std::string &machine,
                                   const std::string &virttype) override
    {
        return impl_->domain_capabilities_xml(emulator, arch, machine, virttype);
    }
    void domainSuspend(const std::string &uuid) override { impl_->suspend(uuid); }
    void domainResume(const std::string &uuid) override { impl_->resume(uuid); }
    bool domainAutostart(const std::string &uuid) override { return impl_->autostart(uuid); }
    void domainSetAutostart(const std::string &uuid, bool on) override { impl_->set_autostart(uuid, on); }
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
        return info;
    }

    // Migration (ABI 1.1): plugins/qemu/src/migration/domain_migrations.hpp.
    std::string jobStats(const std::string &uuid, uint32_t flags) override
    {
        return migrations_->job_stats(uuid, flags);
    }
    void abortJob(const std::string &uuid, uint32_t flags) override { migrations_->abort_job(uuid, flags); }
    virtkit::sdk::MigrationStep migrateBegin(const std::string &uuid, const std::string &params, uint32_t flags) override
    {
        return step(migrations_->begin(uuid, params, flags));
    }
    virtkit::sdk::MigrationStep migratePrepare(const std::string &params, const std::string &cookie,
                                               uint32_t flags) override
    {
        return step(migrations_->prepare(params, cookie, flags));
    }
    virtkit::sdk::MigrationStep migratePerform(const std::string &uuid, const std::string &params,
                                               const std::string &cookie, uint32_t flags) override
    {
        return step(migrations_->perform(uuid, params, cookie, flags));
    }
    virtkit::sdk::MigrationStep migrateFinish(const std::string &params, const std::string &cookie, uint32_t flags,
                                              bool cancelled) override
    {
        return step(migrations_->finish(params, cookie, flags, cancelled));
    }
    void migrateConfirm(const std::string &uuid, const std::string &params, const std::string &cookie, uint32_t flags,
                        bool cancelled) override
    {
        migrations_->confirm(uuid, params, cookie, flags, cancelled);
    }
    void migrateStartPostcopy(const std::string &uuid, uint32_t) override { migrations_->start_postcopy(uuid); }
    void migrateSetMaxSpeed(const std::string &uuid, uint64_t mibps, uint32_t flags) override
    {
        migrations_->set_max_speed(uuid, mibps, flags);
    }
    uint64_t migrateGetMaxSpeed(const std::string &uuid, uint32_t flags) override
    {
        return migrations_->max_speed(uuid, flags);
    }

private:
    static virtkit::sdk::MigrationStep step(const virtkit::qemu::DomainMigrations::Step &s)
    {
        return {s.xml, s.uri, s.cookie, s.domain.uuid.empty() ? virtkit::sdk::DomainIdent{} : ident(s.domain)};
    }

    std::unique_ptr<QemuConnection> impl_;
    std::unique_ptr<virtkit::qemu::DomainMigrations> migrations_;  // after impl_: destroyed first
};

// A duration in seconds from this plugin's config section.
std::chrono::milliseconds seconds_setting(const virtkit::sdk::Host &host, const char *key,
                                          std::chrono::milliseconds fallback)
{
    const auto text = host.config(key);
    if (!text)
        return fallback;
    try {
        std::size_t used = 0;
        const double seconds = std::stod(*text, &used);
        if (used == text->size() && seconds >= 0)
            return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
    } catch (const std::exception &) {
    }
    throw virtkit::sdk::Error(VIRTKIT_ERR_CONFIG, std::string("plugins.qemu.") + key + " must be a number of seconds, not '" +
                                                      *text + "'");
}

class Driver : public virtkit::sdk::Driver {
public:
    // Virtual networks are read from plugins.qemu.networks.<name> each time a
    // domain is checked or started, so the mapping is the config's, not a copy.
    explicit Driver(virtkit::sdk::Host host) : virtkit::sdk::Driver(host)
    {
        virtkit::qemu::set_configured_network_bridges(
            [host](const std::string &network) { return host.config("networks." + network); });
    }
    ~Driver() override { virtkit::qemu::set_configured_network_bridges({}); }
    std::unique_ptr<Connection> open(const std::string &uri, uint32_t)
    {
        QemuConnection::Settings settings;
        settings.shutdown_timeout = seconds_setting(host(), "shutdown_timeout", settings.shutdown_timeout);
        settings.lock_wait = seconds_setting(host(), "lock_wait", settings.lock_wait);
        return std::make_unique<Connection>(uri, settings);
    }
};

}  // namespace

VIRTKIT_DECLARE_PLUGIN(Driver, "qemu", VIRTKIT_QEMU_PLUGIN_VERSION)
