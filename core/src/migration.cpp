// The five phases of libvirt's migration protocol v3 and their failure
// rules (see migration.hpp), plus the steering of a running Perform:
// progress, --postcopy-after-precopy, --timeout and interruption.
#include <virtkit/migration.hpp>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <chrono>
#include <future>
#include <sstream>

#include <virtkit/error.hpp>
#include <virtkit/log.hpp>

#include "remote/remote_connection.hpp"

namespace virtkit {
namespace {

bool has(uint32_t flags, uint32_t flag) { return (flags & flag) != 0; }

std::string quoted(const std::string &s) { return "'" + s + "'"; }

void require(bool ok, const std::string &message)
{
    if (!ok)
        throw Error(VIRTKIT_ERR_INVALID_ARG, message);
}

// Tells the caller's progress handler; a throwing handler must not stop the phases.
void report(const MigrationProgressHandler &progress, const std::string &phase, const JobStats &stats = {})
{
    if (!progress)
        return;
    try {
        progress({phase, stats});
    } catch (const std::exception &e) {
        log::get("migration")->warn("progress handler failed: {}", e.what());
    }
}

// Runs Perform on a worker thread and, on the calling thread, polls the
// source's job to report progress and to act on the caller's triggers.
class PerformSteering {
public:
    PerformSteering(Connection &src, const std::string &uuid, const MigrateParams &params, uint32_t flags,
                    const MigrationProgressHandler &progress, MigrationResult &result)
        : src_(src), uuid_(uuid), params_(params), flags_(flags), progress_(progress), result_(result)
    {
    }

    MigrationStep run(const std::string &paramsJson, const std::string &cookie)
    {
        auto perform = std::async(std::launch::async, [&] {
            return src_.migratePerform(uuid_, paramsJson, cookie, flags_);
        });
        const auto start = std::chrono::steady_clock::now();
        const auto interval = std::chrono::milliseconds(params_.pollIntervalMs ? params_.pollIntervalMs : 100);
        while (perform.wait_for(interval) != std::future_status::ready)
            poll(std::chrono::steady_clock::now() - start);
        return perform.get();
    }

private:
    void poll(std::chrono::steady_clock::duration elapsed)
    {
        if (params_.interrupt && params_.interrupt->load() && !aborted_) {
            aborted_ = true;  // once: the plugin refuses to abort a post-copy migration
            attempt("abort the migration job", [&] { src_.abortJob(uuid_, 0); });
        }
        JobStats stats;
        try {
            stats = JobStats::parse(src_.jobStats(uuid_, 0));
        } catch (const Error &e) {
            if (!statsFailed_)  // progress is a courtesy: keep migrating without it
                log::get("migration")->warn("cannot read the migration's progress: {}", e.what());
            statsFailed_ = true;
            stats = {};
        }
        report(progress_, "perform", stats);
        if (!has(flags_, VIRTKIT_MIGRATE_POSTCOPY_RESUME)) {
            if (params_.postcopyAfterPrecopy && stats.memoryIteration && *stats.memoryIteration >= 2)
                switchToPostcopy(stats);
            if (params_.timeoutSeconds && !timedOut_ && elapsed >= std::chrono::seconds(params_.timeoutSeconds)) {
                timedOut_ = true;
                if (params_.timeoutPostcopy) {
                    switchToPostcopy(stats);
                } else if (attempt("suspend the domain after the timeout", [&] { src_.domainSuspend(uuid_); })) {
                    result_.suspendedOnTimeout = true;
                }
            }
        }
    }

    void switchToPostcopy(const JobStats &stats)
    {
        if (switched_ || stats.inPostcopy())
            return;
        switched_ = true;
        if (attempt("switch to post-copy", [&] { src_.migrateStartPostcopy(uuid_, 0); }))
            result_.switchedToPostcopy = true;
    }

    // The migration may have finished between the poll and the action: a
    // failed action is a warning, never a reason to stop the phases.
    template <typename Action>
    bool attempt(const char *what, Action action)
    {
        try {
            action();
            return true;
        } catch (const Error &e) {
            result_.warnings.push_back(std::string("could not ") + what + ": " + e.what());
            return false;
        }
    }

    Connection &src_;
    const std::string &uuid_;
    const MigrateParams &params_;
    const uint32_t flags_;
    const MigrationProgressHandler &progress_;
    MigrationResult &result_;
    bool aborted_ = false, statsFailed_ = false, switched_ = false, timedOut_ = false;
};

// The source's job after a failed phase, as far as it can be read.
JobStats sourceJob(Connection &src, const std::string &uuid)
{
    try {
        return JobStats::parse(src.jobStats(uuid, 0));
    } catch (const Error &) {
        return {};
    }
}

// The cookie a failed Finish hands to Confirm (see migration.hpp): the JSON
// object after the last "confirm-cookie=" in its message; "" when there is
// none or it is not a JSON object.  An error is the only thing a failed
// phase returns through every transport (C ABI, daemon), hence the marker.
std::string confirmCookieOf(const std::string &finishError)
{
    static const std::string marker = "confirm-cookie=";
    const auto at = finishError.rfind(marker);
    if (at == std::string::npos)
        return {};
    const std::size_t start = at + marker.size();
    int depth = 0;
    bool inString = false, escaped = false;
    for (std::size_t i = start; i < finishError.size(); ++i) {
        const char c = finishError[i];
        if (i == start && c != '{')
            return {};
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
            continue;
        }
        if (c == '"')
            inString = true;
        else if (c == '{')
            ++depth;
        else if (c == '}' && --depth == 0) {
            const std::string cookie = finishError.substr(start, i + 1 - start);
            try {
                Poco::JSON::Parser().parse(cookie).extract<Poco::JSON::Object::Ptr>();
                return cookie;
            } catch (const Poco::Exception &) {
                return {};
            }
        }
    }
    return {};
}

// Runs a cancelling phase; its failure is added to the reported error, never thrown.
template <typename Phase>
std::string cancelQuietly(const char *name, Phase phase)
{
    try {
        phase();
        return {};
    } catch (const Error &e) {
        return std::string("; ") + name + " (cancelled) also failed: " + e.what();
    }
}

class Migration {
public:
    Migration(Connection &src, Connection &dst, const std::string &uuid, const MigrateParams &params, uint32_t flags,
              const MigrationProgressHandler &progress)
        : src_(src), dst_(dst), uuid_(uuid), params_(params), flags_(flags), progress_(progress)
    {
    }

    MigrationResult run()
    {
        prepareFlags();
        const bool resume = has(flags_, VIRTKIT_MIGRATE_POSTCOPY_RESUME);
        const std::string what = resume ? "post-copy recovery of domain " + quoted(name_)
                                        : "migration of domain " + quoted(name_);

        // Begin: a refusal (e.g. another migration of this domain is running) touches nothing.
        report(progress_, "begin");
        MigrationStep begin;
        try {
            begin = src_.migrateBegin(uuid_, params_.toJson(std::nullopt, params_.destXml, params_.destName), flags_);
        } catch (const Error &e) {
            throw Error(e.code(), what + " failed at Begin: " + e.what());
        }
        xml_ = params_.destXml ? *params_.destXml : begin.xml;

        report(progress_, "prepare");
        MigrationStep prepare;
        try {
            prepare = dst_.migratePrepare(params_.toJson(std::nullopt, xml_, destName_), begin.cookie, flags_);
        } catch (const Error &e) {
            const std::string extra = cancelQuietly("Confirm", [&] { confirm("", true); });
            throw Error(e.code(), what + " failed at Prepare on " + dst_.uri() + ": " + e.what() + extra);
        }
        uri_ = !prepare.uri.empty() ? std::optional<std::string>(prepare.uri) : params_.uri;

        report(progress_, "perform");
        MigrationStep perform;
        try {
            perform = PerformSteering(src_, uuid_, params_, flags_, progress_, result_)
                          .run(params_.toJson(uri_, xml_, destName_), prepare.cookie);
        } catch (const Error &e) {
            // The destination's vCPUs never ran: rolling back is safe (see migration.hpp).
            std::string extra = cancelQuietly("Finish", [&] { finish("", true); });
            extra += cancelQuietly("Confirm", [&] { confirm("", true); });
            throw Error(e.code(), what + " failed at Perform: " + e.what() + extra + outcome(resume, false, extra));
        }

        report(progress_, "finish");
        MigrationStep finished;
        try {
            finished = finish(perform.cookie, false);
        } catch (const Error &e) {
            // Finish may know what Confirm must do (its guest never ran): pass its word on.
            const std::string cookie = confirmCookieOf(e.what());
            const std::string extra = cancelQuietly("Confirm", [&] { confirm(cookie, true); });
            if (sourceStopped()) {  // the plugin's Confirm saw QEMU complete: the guest lives on the destination
                result_.warnings.push_back("Finish failed (" + std::string(e.what()) +
                                           ") but the hypervisor completed the migration");
                result_.domain = lookupOnDestination();
                return result_;
            }
            throw Error(e.code(), what + " failed at Finish on " + dst_.uri() + ": " + e.what() + extra +
                                      outcome(resume, true, extra));
        }
        result_.domain = finished.domain;

        report(progress_, "confirm");
        try {
            confirm(finished.cookie, false);
        } catch (const Error &e) {
            result_.warnings.push_back("the domain runs on the destination, but Confirm on the source failed: " +
                                       std::string(e.what()));
        }
        return result_;
    }

private:
    // libvirt's managed flow migrates a paused domain paused -- except a
    // post-copy recovery, whose source is paused by the broken migration.
    void prepareFlags()
    {
        const DomainRef ref = src_.lookupByUuid(uuid_);
        name_ = ref.name;
        destName_ = params_.destName ? *params_.destName : ref.name;
        if (has(flags_, VIRTKIT_MIGRATE_POSTCOPY_RESUME))
            return;
        if (src_.domainInfo(uuid_).state == VIRTKIT_DOMAIN_PAUSED)
            flags_ |= VIRTKIT_MIGRATE_PAUSED;
        require(!(has(flags_, VIRTKIT_MIGRATE_POSTCOPY) && has(flags_, VIRTKIT_MIGRATE_PAUSED)),
                "post-copy migration is not supported with a paused domain or --suspend (domain " + quoted(name_) +
                    ")");
    }

    MigrationStep finish(const std::string &cookie, bool cancelled)
    {
        return dst_.migrateFinish(params_.toJson(uri_, xml_, destName_), cookie, flags_, cancelled);
    }

    void confirm(const std::string &cookie, bool cancelled)
    {
        src_.migrateConfirm(uuid_, params_.toJson(uri_, xml_, destName_), cookie, flags_, cancelled);
    }

    // After a cancelled Confirm: is the source shut off (or gone, if it was transient)?
    bool sourceStopped()
    {
        try {
            return src_.domainInfo(uuid_).state == VIRTKIT_DOMAIN_SHUTOFF;
        } catch (const Error &e) {
            return e.code() == VIRTKIT_ERR_NO_DOMAIN;
        }
    }

    DomainRef lookupOnDestination()
    {
        try {
            return dst_.lookupByName(destName_);
        } catch (const Error &e) {
            result_.warnings.push_back("cannot look the domain up on the destination: " + std::string(e.what()));
            return {};
        }
    }

    // What the user must know after a failure: where the guest is now.
    std::string outcome(bool resume, bool afterFinish, const std::string &cancelFailures)
    {
        const JobStats job = sourceJob(src_, uuid_);
        if (resume || (afterFinish && job.inPostcopy()))
            return ". The migration is in post-copy: the domain is kept on both hosts (paused as post-copy failed), "
                   "nothing was killed; recover with 'migrate --postcopy --postcopy-resume'";
        if (job.inPostcopy())
            return ". The migration is still in post-copy on the source; nothing was killed";
        if (!cancelFailures.empty())
            return ". The rollback may be incomplete: check domain " + quoted(name_) + " on both hosts";
        return ". The migration was rolled back: domain " + quoted(name_) + " stays on the source";
    }

    Connection &src_;
    Connection &dst_;
    const std::string &uuid_;
    const MigrateParams &params_;
    uint32_t flags_;
    const MigrationProgressHandler &progress_;
    MigrationResult result_;
    std::string name_, destName_, xml_;
    std::optional<std::string> uri_;
};

}  // namespace

std::string MigrateParams::toJson(const std::optional<std::string> &uriOverride,
                                  const std::optional<std::string> &xml,
                                  const std::optional<std::string> &name) const
{
    Poco::JSON::Object obj;
    if (const auto &u = uriOverride ? uriOverride : uri)
        obj.set("uri", *u);
    if (name)
        obj.set("dest_name", *name);
    if (xml)
        obj.set("dest_xml", *xml);
    if (persistentXml)
        obj.set("persistent_xml", *persistentXml);
    if (bandwidth)
        obj.set("bandwidth", *bandwidth);
    if (postcopyBandwidth)
        obj.set("bandwidth.postcopy", *postcopyBandwidth);
    if (listenAddress)
        obj.set("listen_address", *listenAddress);
    std::ostringstream out;
    obj.stringify(out);
    return out.str();
}

void validateMigration(const MigrateParams &params, uint32_t flags)
{
    const bool postcopy = has(flags, VIRTKIT_MIGRATE_POSTCOPY);
    require(!has(flags, VIRTKIT_MIGRATE_POSTCOPY_RESUME) || postcopy,
            "resuming failed post-copy migration requires post-copy to be enabled (--postcopy)");
    require(!postcopy || has(flags, VIRTKIT_MIGRATE_LIVE) || has(flags, VIRTKIT_MIGRATE_POSTCOPY_RESUME),
            "post-copy migration requires live migration (--live)");
    require(!postcopy || !has(flags, VIRTKIT_MIGRATE_TUNNELLED),
            "post-copy is not supported with tunnelled migration");
    require(!postcopy || !has(flags, VIRTKIT_MIGRATE_PAUSED),
            "post-copy migration is not supported with --suspend");
    require(!params.postcopyAfterPrecopy || postcopy, "--postcopy-after-precopy requires --postcopy");
    require(!params.timeoutPostcopy || postcopy, "--timeout-postcopy requires --postcopy");
    require(!params.timeoutPostcopy || params.timeoutSeconds > 0, "--timeout-postcopy requires --timeout");
    require(params.timeoutSeconds == 0 || has(flags, VIRTKIT_MIGRATE_LIVE),
            "--timeout requires live migration (--live)");
    require(!params.destName || !params.destName->empty(), "--dname must not be empty");
}

MigrationResult migrate(Connection &src, Connection &dst, const std::string &uuid, const MigrateParams &params,
                        uint32_t flags, const MigrationProgressHandler &progress)
{
    validateMigration(params, flags);
    require(&src != &dst, "the destination " + quoted(dst.uri()) + " is the source connection itself");
    return Migration(src, dst, uuid, params, flags, progress).run();
}

MigrationResult migratePeerToPeer(Context &ctx, Connection &src, const std::string &uuid, const std::string &destUri,
                                  const MigrateParams &params, uint32_t flags,
                                  const MigrationProgressHandler &progress)
{
    validateMigration(params, flags);
    // A source behind a daemon: that daemon runs this function itself (its own connection to the destination).
    if (auto *remote = dynamic_cast<remote::RemoteConnection *>(&src))
        return remote->migratePeerToPeer(uuid, destUri, params, flags);
    std::shared_ptr<Connection> dst;
    try {
        dst = Connection::open(ctx, destUri);
    } catch (const Error &e) {
        throw Error(e.code(), "cannot connect to the destination " + quoted(destUri) + ": " + e.what());
    }
    MigrationResult result = migrate(src, *dst, uuid, params, flags | VIRTKIT_MIGRATE_PEER2PEER, progress);
    dst->close();
    return result;
}

}  // namespace virtkit
