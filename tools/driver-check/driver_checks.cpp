#include "driver_checks.hpp"

#include <functional>
#include <optional>
#include <stdexcept>
#include <thread>

#include <virtkit/connection.hpp>
#include <virtkit/domain_xml.hpp>
#include <virtkit/error.hpp>

#include "domain_template.hpp"
#include "event_recorder.hpp"

namespace virtkit::check {
namespace {

// Thrown by a check body to fail with a sentence.
class CheckFailed : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

void require(bool ok, const std::string &why)
{
    if (!ok)
        throw CheckFailed(why);
}

const char *codeName(int code)
{
    static const char *const names[] = {
        "OK", "INTERNAL", "INVALID_ARG", "NO_SUPPORT", "NO_DOMAIN", "OPERATION_INVALID", "OPERATION_FAILED",
        "XML", "DOMAIN_EXISTS", "NO_CONNECT", "CONFIG", "TIMEOUT", "SYSTEM", "AUTH", "ABI"};
    return code >= 0 && code < static_cast<int>(std::size(names)) ? names[code] : "unknown code";
}

std::string describe(const Error &e)
{
    return std::string("VIRTKIT_ERR_") + codeName(e.code()) + ": " + e.what();
}

class DriverChecks {
public:
    DriverChecks(Context &ctx, const CheckOptions &options, Report &report)
        : ctx_(ctx), options_(options), report_(report)
    {
    }
    ~DriverChecks() { cleanUp(); }
    DriverChecks(const DriverChecks &) = delete;
    DriverChecks &operator=(const DriverChecks &) = delete;

    void run()
    {
        if (!check("connect.open", [&] { conn_ = Connection::open(ctx_, options_.uri); }))
            return;
        report_.setDriver(conn_->driverName());
        events_.emplace(*conn_, options_.timeout);
        hostChecks();
        domainChecks();
        badInputChecks();
        cleanUp();
        check("connect.close", [&] { conn_->close(); });
    }

private:
    // Runs one check; true if it passed.
    bool check(const std::string &name, const std::function<void()> &body)
    {
        try {
            body();
            report_.add(name, Outcome::Passed);
            return true;
        } catch (const CheckFailed &e) {
            report_.add(name, Outcome::Failed, e.what());
        } catch (const Error &e) {
            const bool unclaimed = e.code() == VIRTKIT_ERR_NO_SUPPORT;
            report_.add(name, unclaimed ? Outcome::Skipped : Outcome::Failed, unclaimed ? e.what() : describe(e));
        } catch (const std::exception &e) {
            report_.add(name, Outcome::Failed, std::string("unexpected exception: ") + e.what());
        }
        return false;
    }

    void skip(const std::string &name, const std::string &why) { report_.add(name, Outcome::Skipped, why); }

    // A bad input must fail with `code` and leave nothing behind.
    void expectError(const std::string &name, int code, const std::function<void()> &op)
    {
        check(name, [&] {
            try {
                op();
            } catch (const Error &e) {
                if (e.code() == VIRTKIT_ERR_NO_SUPPORT)
                    throw;
                require(e.code() == code, std::string("expected VIRTKIT_ERR_") + codeName(code) + ", got " + describe(e));
                return;
            }
            throw CheckFailed(std::string("succeeded; expected VIRTKIT_ERR_") + codeName(code));
        });
    }

    void expectEvent(const std::string &transition, int32_t type)
    {
        check("event." + transition, [&] {
            ctx_.bus().flush();
            require(events_->waitFor(dom_.uuid, type).has_value(),
                    std::string("no '") + lifecycleEventName(type) + "' event for " + dom_.name + " within " +
                        std::to_string(options_.timeout.count()) + " ms (seen: " + events_->seenFor(dom_.uuid) + ")");
        });
    }

    // The domain's state, or nullopt if the driver does not report info.
    std::optional<int> state()
    {
        try {
            return conn_->domainInfo(dom_.uuid).state;
        } catch (const Error &e) {
            if (e.code() == VIRTKIT_ERR_NO_SUPPORT)
                return std::nullopt;
            throw;
        }
    }

    // Drivers may change state asynchronously (a guest shutting down), so poll.
    void expectState(int wanted, const std::string &after)
    {
        const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
        std::optional<int> now = state();
        while (now && *now != wanted && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            now = state();
        }
        require(!now || *now == wanted, "after " + after + " the domain is '" + domainStateName(*now) +
                                            "', expected '" + domainStateName(wanted) + "'");
    }

    void hostChecks()
    {
        std::string capabilities;
        check("connect.capabilities", [&] {
            capabilities = conn_->capabilities();
            require(capabilities.find("<capabilities") != std::string::npos,
                    "the capabilities document has no <capabilities> element");
        });
        check("connect.hostname", [&] { require(!conn_->hostname().empty(), "the hostname is empty"); });
        check("connect.version", [&] { conn_->hypervisorVersion(); });
        std::string type = options_.domainType;
        if (type.empty())
            type = domainTypeFromCapabilities(capabilities);
        // A container driver gets a container (os type 'exe'), everything else a machine.
        std::string osType = osTypeFromCapabilities(capabilities);
        if (osType == "exe")
            root_.emplace();
        dom_ = makeTestDomain(type.empty() ? "test" : type, osType.empty() ? "hvm" : osType,
                              root_ ? root_->rootfs() : "");
    }

    void domainChecks()
    {
        const bool defined = check("domain.define", [&] {
            const DomainRef ref = conn_->defineXml(dom_.xml());
            defined_ = true;
            require(ref.name == dom_.name, "define returned name '" + ref.name + "', expected '" + dom_.name + "'");
            require(ref.uuid == dom_.uuid, "define returned UUID '" + ref.uuid + "', expected " + dom_.uuid);
        });
        if (!defined) {
            for (const char *name : {"event.defined", "domain.list", "domain.lookup-by-name", "domain.lookup-by-uuid",
                                     "domain.xml", "domain.info", "bad-input.duplicate-name", "domain.start",
                                     "domain.undefine"})
                skip(name, "needs domain.define");
            return;
        }
        expectEvent("defined", VIRTKIT_EVENT_DEFINED);
        lookupChecks();
        expectError("bad-input.duplicate-name", VIRTKIT_ERR_DOMAIN_EXISTS, [&] {
            const std::string otherUuid = randomUuid();
            conn_->defineXml(dom_.xmlWithUuid(otherUuid));
            conn_->domainUndefine(otherUuid);  // wrongly accepted: do not leave the twin behind
        });
        const bool startable = !root_ || root_->unusableBecause().empty();
        if (!startable) {
            for (const char *name : {"domain.start", "event.started", "domain.lookup-by-id", "bad-input.double-start",
                                     "domain.suspend", "domain.resume", "domain.shutdown", "domain.destroy"})
                skip(name, "skipped: " + root_->unusableBecause());
        } else if (check("domain.start", [&] {
                conn_->domainStart(dom_.uuid);
                running_ = true;
                expectState(VIRTKIT_DOMAIN_RUNNING, "start");
            }))
            runningChecks();
        else
            for (const char *name : {"event.started", "domain.lookup-by-id", "bad-input.double-start",
                                     "domain.suspend", "domain.resume", "domain.shutdown", "domain.destroy"})
                skip(name, "needs domain.start");
        undefineCheck();
    }

    void lookupChecks()
    {
        check("domain.list", [&] {
            bool listed = false;
            for (const DomainRef &ref : conn_->listDomains(ListInactive))
                listed = listed || ref.uuid == dom_.uuid;
            require(listed, "the defined, inactive domain is missing from the list of inactive domains");
            for (const DomainRef &ref : conn_->listDomains(ListActive))
                require(ref.uuid != dom_.uuid, "the inactive domain is listed as active");
        });
        check("domain.lookup-by-name", [&] {
            const DomainRef ref = conn_->lookupByName(dom_.name);
            require(ref.uuid == dom_.uuid, "lookup by name found UUID " + ref.uuid + ", expected " + dom_.uuid);
        });
        check("domain.lookup-by-uuid", [&] {
            const DomainRef ref = conn_->lookupByUuid(dom_.uuid);
            require(ref.name == dom_.name, "lookup by UUID found '" + ref.name + "', expected '" + dom_.name + "'");
        });
        check("domain.xml", [&] {
            const DomainXml doc = DomainXml::parse(conn_->domainXml(dom_.uuid, 0));
            require(doc.name() == dom_.name, "the domain XML names '" + doc.name() + "'");
            require(doc.uuid() == dom_.uuid, "the domain XML has UUID '" + doc.uuid() + "'");
        });
        check("domain.info", [&] {
            const DomainInfo info = conn_->domainInfo(dom_.uuid);
            require(info.state == VIRTKIT_DOMAIN_SHUTOFF,
                    std::string("a defined domain that was never started is '") + domainStateName(info.state) + "'");
        });
    }

    void runningChecks()
    {
        expectEvent("started", VIRTKIT_EVENT_STARTED);
        check("domain.lookup-by-id", [&] {
            const int id = conn_->lookupByUuid(dom_.uuid).id;
            require(id >= 0, "the running domain has no ID");
            const DomainRef ref = conn_->lookupById(id);
            require(ref.uuid == dom_.uuid, "lookup by ID " + std::to_string(id) + " found UUID " + ref.uuid);
        });
        expectError("bad-input.double-start", VIRTKIT_ERR_OPERATION_INVALID, [&] { conn_->domainStart(dom_.uuid); });

        if (check("domain.suspend", [&] {
                conn_->domainSuspend(dom_.uuid);
                expectState(VIRTKIT_DOMAIN_PAUSED, "suspend");
            })) {
            expectEvent("suspended", VIRTKIT_EVENT_SUSPENDED);
            if (check("domain.resume", [&] {
                    conn_->domainResume(dom_.uuid);
                    expectState(VIRTKIT_DOMAIN_RUNNING, "resume");
                }))
                expectEvent("resumed", VIRTKIT_EVENT_RESUMED);
        } else {
            skip("domain.resume", "needs domain.suspend");
        }
        stopChecks();
    }

    // Shutdown first (it needs a running guest), then start again for destroy.
    void stopChecks()
    {
        if (check("domain.shutdown", [&] {
                conn_->domainShutdown(dom_.uuid);
                expectState(VIRTKIT_DOMAIN_SHUTOFF, "shutdown");
                running_ = false;
            }))
            expectEvent("stopped-by-shutdown", VIRTKIT_EVENT_STOPPED);
        const bool destroyed = check("domain.destroy", [&] {
            if (!running_) {
                conn_->domainStart(dom_.uuid);
                running_ = true;
                require(events_->waitFor(dom_.uuid, VIRTKIT_EVENT_STARTED).has_value(),
                        "no 'started' event when starting the domain again for destroy");
            }
            conn_->domainDestroy(dom_.uuid);
            expectState(VIRTKIT_DOMAIN_SHUTOFF, "destroy");
            running_ = false;
        });
        if (destroyed)
            expectEvent("stopped-by-destroy", VIRTKIT_EVENT_STOPPED);
    }

    void undefineCheck()
    {
        if (running_) {
            skip("domain.undefine", "the domain could not be stopped");
            return;
        }
        if (check("domain.undefine", [&] {
                conn_->domainUndefine(dom_.uuid);
                defined_ = false;
                try {
                    conn_->lookupByName(dom_.name);
                } catch (const Error &e) {
                    require(e.code() == VIRTKIT_ERR_NO_DOMAIN, "after undefine, lookup by name fails with " + describe(e));
                    return;
                }
                throw CheckFailed("after undefine the domain can still be looked up by name");
            }))
            expectEvent("undefined", VIRTKIT_EVENT_UNDEFINED);
    }

    void badInputChecks()
    {
        const std::string missing = "vkcheck-missing-" + randomUuid().substr(0, 8);
        check("bad-input.malformed-xml", [&] {
            try {
                conn_->defineXml("<domain type='" + dom_.type + "'><name>" + missing + "</name><memory>");
            } catch (const Error &e) {
                if (e.code() == VIRTKIT_ERR_NO_SUPPORT)
                    throw;
                require(e.code() == VIRTKIT_ERR_XML, "expected VIRTKIT_ERR_XML, got " + describe(e));
                return;
            }
            throw CheckFailed("malformed XML was accepted");
        });
        expectError("bad-input.unknown-name", VIRTKIT_ERR_NO_DOMAIN, [&] { conn_->lookupByName(missing); });
        expectError("bad-input.unknown-uuid", VIRTKIT_ERR_NO_DOMAIN, [&] { conn_->lookupByUuid(randomUuid()); });
        expectError("bad-input.unknown-id", VIRTKIT_ERR_NO_DOMAIN, [&] { conn_->lookupById(2000000000); });
        expectError("bad-input.start-unknown", VIRTKIT_ERR_NO_DOMAIN, [&] { conn_->domainStart(randomUuid()); });
    }

    // Best effort: leave the driver as we found it, whatever failed.
    void cleanUp() noexcept
    {
        if (!conn_ || !defined_)
            return;
        defined_ = false;
        try {
            if (running_)
                conn_->domainDestroy(dom_.uuid);
        } catch (...) {
        }
        try {
            conn_->domainUndefine(dom_.uuid);
        } catch (...) {
        }
    }

    Context &ctx_;
    const CheckOptions &options_;
    Report &report_;
    std::optional<ContainerRoot> root_;  // outlives the domain cleanUp() removes
    std::shared_ptr<Connection> conn_;
    std::optional<EventRecorder> events_;
    TestDomain dom_;
    bool defined_ = false;
    bool running_ = false;
};

}  // namespace

Report runDriverChecks(Context &ctx, const CheckOptions &options)
{
    Report report(options.uri);
    DriverChecks(ctx, options, report).run();
    return report;
}

}  // namespace virtkit::check
