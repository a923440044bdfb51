// migrate, migrate-postcopy, migrate-setspeed, migrate-getspeed, domjobinfo,
// domjobabort: virsh's options, the orchestration is core's (migration.hpp).
#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <ostream>

#include <virtkit/connection.hpp>
#include <virtkit/error.hpp>
#include <virtkit/migration.hpp>

#include "command.hpp"
#include "file_input.hpp"
#include "json.hpp"
#include "output.hpp"
#include "session.hpp"

namespace virtkit::cli {

namespace {

constexpr std::size_t kMaxXmlBytes = 10 * 1024 * 1024;  // virsh's VIRSH_MAX_XML_FILE

uint64_t number(const ParsedCommand &cmd, const std::string &option)
{
    const std::string text = *cmd.value(option);
    uint64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
        throw Error(VIRTKIT_ERR_INVALID_ARG,
                    "numeric value '" + text + "' for <" + option + "> option is malformed or out of range");
    return n;
}

std::optional<uint64_t> optionalNumber(const ParsedCommand &cmd, const std::string &option)
{
    return cmd.value(option) ? std::optional<uint64_t>(number(cmd, option)) : std::nullopt;
}

// virsh's flag options and the VIR_MIGRATE_* bit each sets.
struct FlagOption {
    const char *name;
    uint32_t flag;
    const char *help;
};
constexpr FlagOption kFlagOptions[] = {
    {"live", VIRTKIT_MIGRATE_LIVE, "live migration"},
    {"offline", VIRTKIT_MIGRATE_OFFLINE, "offline migration"},
    {"p2p", VIRTKIT_MIGRATE_PEER2PEER, "peer-2-peer migration"},
    {"tunnelled", VIRTKIT_MIGRATE_TUNNELLED, "tunnelled migration"},
    {"persistent", VIRTKIT_MIGRATE_PERSIST_DEST, "persist VM on destination"},
    {"undefinesource", VIRTKIT_MIGRATE_UNDEFINE_SOURCE, "undefine VM on source"},
    {"suspend", VIRTKIT_MIGRATE_PAUSED, "do not restart the domain on the destination host"},
    {"copy-storage-all", VIRTKIT_MIGRATE_NON_SHARED_DISK, "migration with non-shared storage with full disk copy"},
    {"copy-storage-inc", VIRTKIT_MIGRATE_NON_SHARED_INC, "migration with non-shared storage with incremental copy"},
    {"change-protection", VIRTKIT_MIGRATE_CHANGE_PROTECTION, "prevent any configuration changes to domain until migration ends"},
    {"unsafe", VIRTKIT_MIGRATE_UNSAFE, "force migration even if it may be unsafe"},
    {"compressed", VIRTKIT_MIGRATE_COMPRESSED, "compress repeated pages during live migration"},
    {"auto-converge", VIRTKIT_MIGRATE_AUTO_CONVERGE, "force convergence during live migration"},
    {"abort-on-error", VIRTKIT_MIGRATE_ABORT_ON_ERROR, "abort on soft errors during migration"},
    {"postcopy", VIRTKIT_MIGRATE_POSTCOPY, "enable post-copy migration; switch to it using migrate-postcopy command"},
    {"postcopy-resume", VIRTKIT_MIGRATE_POSTCOPY_RESUME, "resume failed post-copy migration"},
    {"tls", VIRTKIT_MIGRATE_TLS, "use TLS for migration"},
    {"parallel", VIRTKIT_MIGRATE_PARALLEL, "enable parallel migration"},
    {"zerocopy", VIRTKIT_MIGRATE_ZEROCOPY, "use zero-copy mechanism for migrating memory pages"},
};

// virsh's vshPrettyCapacity: the value in the largest unit that keeps it >= 1.
std::string capacity(uint64_t bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(units)) {
        value /= 1024;
        ++unit;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f %s", value, units[unit]);
    return buf;
}

// Ctrl-C during `migrate` aborts the job (as virsh does) instead of killing
// the managing process between phases.  Restores the old handler on exit.
class InterruptGuard {
public:
    InterruptGuard()
    {
        flag().store(false);
        struct sigaction sa = {};
        sa.sa_handler = [](int) { flag().store(true); };
        sigemptyset(&sa.sa_mask);
        installed_ = sigaction(SIGINT, &sa, &old_) == 0;
    }
    ~InterruptGuard()
    {
        if (installed_)
            sigaction(SIGINT, &old_, nullptr);
    }
    InterruptGuard(const InterruptGuard &) = delete;
    InterruptGuard &operator=(const InterruptGuard &) = delete;
    static std::atomic<bool> &flag()
    {
        static std::atomic<bool> interrupted{false};
        return interrupted;
    }

private:
    struct sigaction old_ = {};
    bool installed_ = false;
};

// --verbose: one line on stderr, rewritten in place, as virsh's "Migration: [ 45 %]".
class ProgressLine {
public:
    void operator()(const MigrationProgress &p)
    {
        const JobStats &s = p.stats;
        std::string line = "Migration: [";
        char pct[8];
        std::snprintf(pct, sizeof pct, "%3d %%", s.percent().value_or(last_));
        last_ = s.percent().value_or(last_);
        line += std::string(pct) + "] " + p.phase;
        if (!s.status.empty())
            line += " (" + s.status + ")";
        if (s.dataProcessed)
            line += ", transferred " + capacity(*s.dataProcessed);
        if (s.dataRemaining)
            line += ", remaining " + capacity(*s.dataRemaining);
        if (s.memoryBps)
            line += ", " + capacity(*s.memoryBps) + "/s";
        const std::size_t width = line.size();
        if (line.size() < width_)
            line += std::string(width_ - line.size(), ' ');  // erase the longer previous line
        width_ = width;
        std::cerr << '\r' << line << std::flush;
        shown_ = true;
    }
    void done(bool success)
    {
        if (success) {
            const std::string line = "Migration: [100 %]";
            std::cerr << '\r' << line << std::string(width_ > line.size() ? width_ - line.size() : 0, ' ') << '\n';
        } else if (shown_) {
            std::cerr << '\n';
        }
        std::cerr.flush();
    }

private:
    int last_ = 0;
    std::size_t width_ = 0;
    bool shown_ = false;
};

void migrate(Session &session, const ParsedCommand &cmd)
{
    uint32_t flags = 0;
    for (const auto &f : kFlagOptions)
        if (cmd.flag(f.name))
            flags |= f.flag;
    const bool p2p = (flags & VIRTKIT_MIGRATE_PEER2PEER) != 0;
    flags &= ~VIRTKIT_MIGRATE_PEER2PEER;  // migratePeerToPeer sets it

    MigrateParams params;
    params.uri = cmd.value("migrateuri");
    params.destName = cmd.value("dname");
    params.listenAddress = cmd.value("listen-address");
    params.bandwidth = optionalNumber(cmd, "bandwidth");
    params.postcopyBandwidth = optionalNumber(cmd, "postcopy-bandwidth");
    if (const auto file = cmd.value("xml"))
        params.destXml = readInputFile(*file, kMaxXmlBytes);
    if (const auto file = cmd.value("persistent-xml"))
        params.persistentXml = readInputFile(*file, kMaxXmlBytes);
    params.postcopyAfterPrecopy = cmd.flag("postcopy-after-precopy");
    if (cmd.value("timeout")) {
        const uint64_t t = number(cmd, "timeout");
        if (t == 0 || t > 24u * 3600u)
            throw Error(VIRTKIT_ERR_INVALID_ARG, "migrate: Invalid timeout");
        params.timeoutSeconds = static_cast<unsigned>(t);
    } else if (cmd.flag("timeout-suspend") || cmd.flag("timeout-postcopy")) {
        throw Error(VIRTKIT_ERR_INVALID_ARG, "--timeout-suspend and --timeout-postcopy require --timeout");
    }
    if (cmd.flag("timeout-suspend") && cmd.flag("timeout-postcopy"))
        throw Error(VIRTKIT_ERR_INVALID_ARG, "options --timeout-suspend and --timeout-postcopy are mutually exclusive");
    params.timeoutPostcopy = cmd.flag("timeout-postcopy");
    validateMigration(params, flags);  // before anything is opened or touched

    Domain dom = session.domain(cmd);
    const std::string &dest = cmd.required("desturi");
    InterruptGuard interrupt;
    params.interrupt = &InterruptGuard::flag();
    ProgressLine line;
    MigrationProgressHandler progress;
    if (cmd.flag("verbose"))
        progress = [&line](const MigrationProgress &p) { line(p); };

    MigrationResult result;
    try {
        if (p2p) {
            result = migratePeerToPeer(session.context(), session.connection(), dom.uuid(), dest, params, flags,
                                       progress);
        } else {
            std::shared_ptr<Connection> dst;
            try {
                dst = Connection::open(session.context(), dest);
            } catch (const Error &e) {
                throw Error(e.code(), "cannot connect to the destination '" + dest + "': " + e.what());
            }
            result = virtkit::migrate(session.connection(), *dst, dom.uuid(), params, flags, progress);
            dst->close();
        }
    } catch (...) {
        if (progress)
            line.done(false);
        throw;
    }
    if (progress) {
        line.done(true);
        if (result.switchedToPostcopy)
            std::cerr << "Migration: switched to post-copy\n";
        if (result.suspendedOnTimeout)
            std::cerr << "Migration: domain suspended after the timeout\n";
    }
    for (const auto &warning : result.warnings)
        std::cerr << "warning: " << warning << '\n';
}

void migratePostcopy(Session &session, const ParsedCommand &cmd)
{
    Domain dom = session.domain(cmd);
    dom.connection().migrateStartPostcopy(dom.uuid(), 0);
}

void migrateSetspeed(Session &session, const ParsedCommand &cmd)
{
    Domain dom = session.domain(cmd);
    const uint64_t mibps = number(cmd, "bandwidth");
    dom.connection().migrateSetMaxSpeed(dom.uuid(), mibps, cmd.flag("postcopy") ? VIRTKIT_MIGRATE_MAX_SPEED_POSTCOPY : 0);
}

void migrateGetspeed(Session &session, const ParsedCommand &cmd)
{
    Domain dom = session.domain(cmd);
    const uint64_t mibps =
        dom.connection().migrateGetMaxSpeed(dom.uuid(), cmd.flag("postcopy") ? VIRTKIT_MIGRATE_MAX_SPEED_POSTCOPY : 0);
    if (session.json(cmd))
        session.out() << JsonObject().add("bandwidth", mibps).str() << '\n';
    else
        session.out() << mibps << '\n';
}

void domjobabort(Session &session, const ParsedCommand &cmd)
{
    Domain dom = session.domain(cmd);
    dom.connection().abortJob(dom.uuid(), cmd.flag("postcopy") ? VIRTKIT_ABORT_JOB_POSTCOPY : 0);
}

// virsh's "%-17s %-12s" layout, with the unit after the value.
void field(std::ostream &out, const std::string &label, const std::string &value, const std::string &unit = "")
{
    std::string text = label + std::string(label.size() < 17 ? 17 - label.size() : 0, ' ') + ' ';
    if (unit.empty()) {
        text += value;
    } else {
        text += value + std::string(value.size() < 12 ? 12 - value.size() : 0, ' ') + ' ' + unit;
    }
    out << text << '\n';
}

void domjobinfo(Session &session, const ParsedCommand &cmd)
{
    Domain dom = session.domain(cmd);
    const JobStats s =
        JobStats::parse(dom.connection().jobStats(dom.uuid(), cmd.flag("completed") ? VIRTKIT_JOB_STATS_COMPLETED : 0));
    std::ostream &out = session.out();
    struct Number {
        const char *label, *key;
        const std::optional<uint64_t> &value;
        enum { Plain, Ms, Bytes, BytesPerSec, PagesPerSec, PageBytes } unit;
    };
    const bool completed = s.type == JobType::Completed;
    const Number numbers[] = {
        {"Time elapsed:", "time_elapsed", s.timeElapsedMs, Number::Ms},
        {"Data processed:", "data_processed", s.dataProcessed, Number::Bytes},
        {"Data remaining:", "data_remaining", s.dataRemaining, Number::Bytes},
        {"Data total:", "data_total", s.dataTotal, Number::Bytes},
        {"Memory processed:", "memory_processed", s.memoryProcessed, Number::Bytes},
        {"Memory remaining:", "memory_remaining", s.memoryRemaining, Number::Bytes},
        {"Memory total:", "memory_total", s.memoryTotal, Number::Bytes},
        {"Memory bandwidth:", "memory_bps", s.memoryBps, Number::BytesPerSec},
        {"Dirty rate:", "memory_dirty_rate", s.memoryDirtyRate, Number::PagesPerSec},
        {"Page size:", "memory_page_size", s.memoryPageSize, Number::PageBytes},
        {"Iteration:", "memory_iteration", s.memoryIteration, Number::Plain},
        {"Postcopy requests:", "memory_postcopy_requests", s.postcopyRequests, Number::Plain},
        {"Constant pages:", "memory_constant", s.memoryConstant, Number::Plain},
        {"Normal pages:", "memory_normal", s.memoryNormal, Number::Plain},
        {"Normal data:", "memory_normal_bytes", s.memoryNormalBytes, Number::Bytes},
        {completed ? "Total downtime:" : "Expected downtime:", "downtime", s.downtimeMs, Number::Ms},
        {"Setup time:", "setup_time", s.setupTimeMs, Number::Ms},
    };
    if (session.json(cmd)) {
        JsonObject obj;
        obj.add("type", jobTypeName(s.type)).add("operation", jobOperationName(s.operation));
        obj.add("phase", s.phase).add("status", s.status);
        for (const auto &n : numbers)
            if (n.value)
                obj.add(n.key, *n.value);
        if (s.success)
            obj.add("success", *s.success);
        if (!s.errmsg.empty())
            obj.add("errmsg", s.errmsg);
        out << obj.str() << '\n';
        return;
    }
    field(out, "Job type:", jobTypeName(s.type));
    if (s.type == JobType::None)
        return;
    field(out, "Operation:", jobOperationName(s.operation));
    if (!s.phase.empty())
        field(out, "Phase:", s.phase);
    if (!s.status.empty())
        field(out, "Status:", s.status);
    for (const auto &n : numbers) {
        if (!n.value)
            continue;
        const std::string v = std::to_string(*n.value);
        switch (n.unit) {
        case Number::Plain: field(out, n.label, v); break;
        case Number::Ms: field(out, n.label, v, "ms"); break;
        case Number::Bytes: field(out, n.label, capacity(*n.value)); break;
        case Number::BytesPerSec: field(out, n.label, capacity(*n.value) + "/s"); break;
        case Number::PagesPerSec: field(out, n.label, v, "pages/s"); break;
        case Number::PageBytes: field(out, n.label, v, "bytes"); break;
        }
    }
    if (!s.errmsg.empty())
        field(out, "Error message:", s.errmsg);
}

}  // namespace

void addMigrationCommands(std::vector<CommandSpec> &table)
{
    using K = OptionSpec::Kind;
    const OptionSpec domain{"domain", K::Value, true, true, "domain name, id or uuid"};
    const OptionSpec postcopy{"postcopy", K::Flag, false, false, "the post-copy phase of a migration"};

    std::vector<OptionSpec> migrateOptions;
    for (const auto &f : kFlagOptions)
        migrateOptions.push_back({f.name, K::Flag, false, false, f.help});
    const std::vector<OptionSpec> more = {
        {"postcopy-after-precopy", K::Flag, false, false, "automatically switch to post-copy migration after one pass of pre-copy"},
        {"verbose", K::Flag, false, false, "display the progress of migration"},
        domain,
        {"desturi", K::Value, true, true, "connection URI of the destination host as seen from the client (normal migration) or source (p2p migration)"},
        {"migrateuri", K::Value, false, false, "migration URI, usually can be omitted"},
        {"listen-address", K::Value, false, false, "listen address that destination should bind to for incoming migration"},
        {"dname", K::Value, false, false, "rename to new name during migration (if supported)"},
        {"timeout", K::Value, false, false, "run action specified by --timeout-* option (suspend by default) if live migration exceeds timeout (in seconds)"},
        {"timeout-suspend", K::Flag, false, false, "suspend the guest after timeout"},
        {"timeout-postcopy", K::Flag, false, false, "switch to post-copy after timeout"},
        {"xml", K::Value, false, false, "filename containing updated XML for the target"},
        {"persistent-xml", K::Value, false, false, "filename containing updated persistent XML for the target"},
        {"bandwidth", K::Value, false, false, "migration bandwidth limit in MiB/s"},
        {"postcopy-bandwidth", K::Value, false, false, "post-copy migration bandwidth limit in MiB/s"},
    };
    migrateOptions.insert(migrateOptions.end(), more.begin(), more.end());

    table.push_back({"migrate", "domain", "migrate domain to another host",
                     "Migrate domain to another host.  Add --live for live migration.", migrateOptions, migrate, false});
    table.push_back({"migrate-postcopy", "domain", "Switch running migration from pre-copy to post-copy",
                     "Switch running migration from pre-copy to post-copy. The migration must have been started "
                     "with --postcopy option.",
                     {domain}, migratePostcopy, false});
    table.push_back({"migrate-setspeed", "domain", "Set the maximum migration bandwidth",
                     "Set the maximum migration bandwidth (in MiB/s) for a domain which is being migrated to "
                     "another host.",
                     {domain, {"bandwidth", K::Value, true, true, "migration bandwidth limit in MiB/s"}, postcopy},
                     migrateSetspeed, false});
    table.push_back({"migrate-getspeed", "domain", "Get the maximum migration bandwidth",
                     "Get the maximum migration bandwidth (in MiB/s) for a domain.", {domain, postcopy},
                     migrateGetspeed, true});
    table.push_back({"domjobabort", "domain", "abort active domain job",
                     "Aborts the currently running domain job; with --postcopy, pauses a post-copy migration.",
                     {domain, {"postcopy", K::Flag, false, false, "interrupt post-copy migration"}}, domjobabort,
                     false});
    table.push_back({"domjobinfo", "domain", "domain job information",
                     "Returns information about jobs running on a domain.",
                     {domain, {"completed", K::Flag, false, false, "return statistics of a recently completed job"}},
                     domjobinfo, true});
}

}  // namespace virtkit::cli
