// The in-process Connection: every call goes through one plugin's C
// operations table.  Private to the core; Connection::open creates it.
#pragma once

#include <shared_mutex>

#include <virtkit/connection.hpp>
#include <virtkit/plugin_registry.hpp>

namespace virtkit {

class PluginConnection final : public Connection {
public:
    // Calls connect_open; throws Error if the plugin cannot open `uriText`.
    static std::shared_ptr<Connection> open(Context &ctx, LoadedPlugin &plugin, const std::string &uriText,
                                            std::string canonicalUri, bool readOnly);
    PluginConnection(Context &ctx, LoadedPlugin &plugin, std::string uri, bool readOnly, virtkit_conn *handle);
    ~PluginConnection() override;

    const std::string &uri() const override { return uri_; }
    const std::string &driverName() const override { return plugin_.manifest->id; }
    bool readOnly() const override { return readOnly_; }
    void close() override;

    std::string capabilities() override;
    std::string hostname() override;
    uint64_t hypervisorVersion() override;

    std::vector<DomainRef> listDomains(uint32_t flags) override;
    DomainRef lookupByName(const std::string &name) override;
    DomainRef lookupByUuid(const std::string &uuid) override;
    DomainRef lookupById(int id) override;
    DomainRef defineXml(const std::string &xml) override;
    DomainRef createXml(const std::string &xml) override;

    void domainStart(const std::string &uuid) override;
    void domainShutdown(const std::string &uuid, uint32_t flags) override;
    void domainReboot(const std::string &uuid, uint32_t flags) override;
    void domainDestroy(const std::string &uuid, uint32_t flags) override;
    void domainSuspend(const std::string &uuid) override;
    void domainResume(const std::string &uuid) override;
    void domainUndefine(const std::string &uuid) override;
    std::string domainXml(const std::string &uuid, uint32_t flags) override;
    DomainInfo domainInfo(const std::string &uuid) override;
    bool domainAutostart(const std::string &uuid) override;
    void domainSetAutostart(const std::string &uuid, bool on) override;

    std::string domainXmlFromNative(const std::string &format, const std::string &native) override;
    std::string domainXmlToNative(const std::string &format, const std::string &xml) override;

    std::string monitorCommand(const std::string &uuid, const std::string &command, uint32_t flags) override;
    std::string domainCapabilities(const std::string &emulator, const std::string &arch, const std::string &machine,
                                   const std::string &virttype) override;
    std::string jobStats(const std::string &uuid, uint32_t flags) override;
    void abortJob(const std::string &uuid, uint32_t flags) override;
    MigrationStep migrateBegin(const std::string &uuid, const std::string &params, uint32_t flags) override;
    MigrationStep migratePrepare(const std::string &params, const std::string &cookie, uint32_t flags) override;
    MigrationStep migratePerform(const std::string &uuid, const std::string &params, const std::string &cookie,
                                 uint32_t flags) override;
    MigrationStep migrateFinish(const std::string &params, const std::string &cookie, uint32_t flags,
                                bool cancelled) override;
    void migrateConfirm(const std::string &uuid, const std::string &params, const std::string &cookie,
                        uint32_t flags, bool cancelled) override;
    void migrateStartPostcopy(const std::string &uuid, uint32_t flags) override;
    void migrateSetMaxSpeed(const std::string &uuid, uint64_t bandwidth, uint32_t flags) override;
    uint64_t migrateGetMaxSpeed(const std::string &uuid, uint32_t flags) override;

    EventBus::Subscription subscribe(EventFilter filter, EventBus::Handler handler) override;

private:
    enum class Access { Read, Write };

    // Checks (open, read-only, slot present), then calls slot(handle, args..., &err)
    // and turns a failure into Error.  Holds a shared lock so close() waits.
    template <typename Fn, typename... Args>
    void call(const char *op, Access access, Fn *slot, Args... args);
    template <typename Fn, typename... Args>
    std::string callForString(const char *op, Fn *slot, Args... args);
    DomainRef defineOrCreate(const char *op, const std::string &xml,
                             int32_t (*slot)(virtkit_conn *, const char *, uint32_t, virtkit_domain_ident *,
                                             virtkit_error *));

    Context &ctx_;
    LoadedPlugin &plugin_;
    const std::string uri_;
    const bool readOnly_;
    mutable std::shared_mutex mutex_;  // shared: calls; exclusive: close
    virtkit_conn *handle_;             // nullptr once closed
};

}  // namespace virtkit
