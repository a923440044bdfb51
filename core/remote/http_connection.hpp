// The remote Connection: every call is one HTTP request to virtkitd, every
// error comes back as the same virtkit::Error (code and message) the daemon's
// driver raised.  Private to libvirtkit-remote; the core reaches it through
// RemoteConnection and the library's entry point (remote_connection.hpp).
#pragma once

#include <virtkit/connection.hpp>
#include <virtkit/migration.hpp>

#include "channel.hpp"
#include "remote/remote_connection.hpp"

namespace virtkit::remote {

class HttpConnection final : public RemoteConnection {
public:
    // Asks the daemon to open endpoint.driverUri; throws its error if it cannot.
    static std::shared_ptr<Connection> open(Context &ctx, const std::string &clientUri, Endpoint endpoint);
    HttpConnection(Context &ctx, std::string uri, Endpoint endpoint);
    ~HttpConnection() override;

    const Endpoint &endpoint() const override { return channel_.endpoint(); }
    const std::string &uri() const override { return uri_; }
    const std::string &driverName() const override { return driver_; }
    bool readOnly() const override { return channel_.endpoint().readOnly; }
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

    MigrationResult migratePeerToPeer(const std::string &uuid, const std::string &destUri,
                                      const MigrateParams &params, uint32_t flags) override;

private:
    // Sends one request under /1.0/connections/<driver uri>; returns the body
    // of a 2xx reply, throws the decoded Error otherwise.
    std::string call(const std::string &method, const std::string &subPath, const std::string &body = "");
    std::string domainPath(const std::string &uuid, const std::string &rest = "") const;
    void requireWritable(const char *op) const;
    void domainAction(const char *op, const std::string &uuid, const std::string &action, uint32_t flags = 0);

    Context &ctx_;
    const std::string uri_;
    std::string driver_;
    const std::string base_;  // /1.0/connections/<encoded driver uri>
    Channel channel_;
    bool closed_ = false;
};

}  // namespace virtkit::remote
