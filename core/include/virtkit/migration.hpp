// Live migration driven from the management side: libvirt's protocol v3,
// client-managed.  Five phases on two connections:
//
//   Begin (src) -> Prepare (dst) -> Perform (src) -> Finish (dst) -> Confirm (src)
//
// Each phase hands its cookie to the next; Prepare answers the URI the
// source's hypervisor must send the stream to.  The same function serves
// the client (two Connections the CLI opened) and peer-to-peer (the source's
// daemon holds a remote Connection to the destination's daemon).
//
// ---- Failure rules (the contract with the plugins' migration phases) ----
// The orchestrator never destroys, undefines or aborts anything by itself;
// it only tells each side, through `cancelled`, that the other side failed.
// The plugin, which knows its hypervisor's state, decides what that means:
//
//   Begin fails    -> nothing else is called (a refused second migration must
//                     not disturb the job that is already running).
//   Prepare fails  -> Confirm(src, cancelled=1): end the source's job, keep
//                     the domain running there.
//   Perform fails  -> Finish(dst, cancelled=1) then Confirm(src, cancelled=1).
//                     The destination's vCPUs never ran (Finish starts them),
//                     so rolling back to the source is safe even after the
//                     switch to post-copy: Finish(cancelled) removes the
//                     incoming domain, Confirm(cancelled) resumes the source.
//   Finish fails   -> Confirm(src, cancelled=1, cookie).  A failed Finish
//                     returns no cookie, so when it knows something Confirm
//                     needs it ends its error message with a marker:
//                     "(confirm-cookie={...})", one JSON object.  The
//                     orchestrator passes the object after the last
//                     "confirm-cookie=" to Confirm verbatim, and "" when
//                     there is no marker or no whole object.  The qemu
//                     plugin's Finish sends {"destination_started":false}
//                     when its guest never ran (its QEMU exited or was
//                     killed before Finish started the vCPUs); its Confirm
//                     then rolls the source back even in post-copy.  Without
//                     that explicit word a post-copy source stays paused.
//                     The plugin's Confirm must
//                     look at its hypervisor: if the migration has reached
//                     post-copy it never resumes nor kills the source (the
//                     guest's memory is split across hosts) and keeps the job
//                     in a post-copy-failed phase; if QEMU reports the
//                     migration *completed*, Confirm completes it (stops the
//                     source with reason "migrated") and returns success.
//                     The orchestrator then reads the source's state: a source
//                     that is shut off means the migration completed and
//                     migrate() succeeds with a warning; otherwise it throws
//                     Finish's error (naming post-copy recovery when the
//                     source's job is in post-copy).
//   Confirm fails after a successful Finish -> the domain runs on the
//                     destination; migrate() succeeds with a warning.
//
// With VIRTKIT_MIGRATE_POSTCOPY_RESUME the same five phases run in their
// resume variants (Begin checks the job is post-copy-failed, Prepare runs
// migrate-recover, Perform resumes the stream and returns only at the
// source's postcopy-active, Finish waits for completion); cancelled=1 there
// means "this recovery attempt failed, stay post-copy-failed", never roll
// back.  The resume flag requires VIRTKIT_MIGRATE_POSTCOPY, as in libvirt,
// and the orchestrator never adds VIRTKIT_MIGRATE_PAUSED to a resume.
//
// ---- Concurrency the plugins must allow ----
// While Perform blocks on one thread, the orchestrator calls jobStats,
// migrateStartPostcopy, domainSuspend and abortJob on the same source
// Connection from another thread.
//
// ---- Job statistics (Connection::jobStats) ----
// A JSON object keyed by libvirt's VIR_DOMAIN_JOB_* typed-parameter names
// ("type", "operation", "time_elapsed", "data_total", "data_processed",
// "data_remaining", "memory_total", "memory_processed", "memory_remaining",
// "memory_bps", "memory_dirty_rate", "memory_page_size", "memory_iteration",
// "memory_postcopy_requests", "memory_constant", "memory_normal",
// "memory_normal_bytes", "downtime", "setup_time", "success", "errmsg") plus
// virtkit's "phase" (libvirt's migration phase names: "begin3", "perform3",
// "perform3_done", "confirm3_cancelled", "confirm3", "prepare", "finish3",
// "postcopy_failed", "begin_resume", "perform_resume", "confirm_resume",
// "prepare_resume", "finish_resume") and "status" (libvirt's job status
// names, lower case: "none", "active", "migrating", "hypervisor_completed",
// "paused", "postcopy", "postcopy_paused", "postcopy_recover", "completed",
// "failed", "canceled").  "type" and "operation" are libvirt's integer enum
// values (VIR_DOMAIN_JOB_*, VIR_DOMAIN_JOB_OPERATION_*).  Missing keys mean
// "not known".
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <virtkit/connection.hpp>

namespace virtkit {

class Context;

// libvirt's virDomainJobType and virDomainJobOperation values.
enum class JobType : int { None = 0, Bounded = 1, Unbounded = 2, Completed = 3, Failed = 4, Cancelled = 5 };
enum class JobOperation : int {
    Unknown = 0, Start = 1, Save = 2, Restore = 3, MigrationIn = 4, MigrationOut = 5,
    Snapshot = 6, SnapshotRevert = 7, Dump = 8, Backup = 9, SnapshotDelete = 10
};

// One parsed Connection::jobStats answer.
struct JobStats {
    JobType type = JobType::None;
    JobOperation operation = JobOperation::Unknown;
    std::string phase;   // "perform3", "postcopy_failed", ... ("" when none)
    std::string status;  // "migrating", "postcopy_paused", ...
    std::optional<uint64_t> timeElapsedMs, dataTotal, dataProcessed, dataRemaining;
    std::optional<uint64_t> memoryTotal, memoryProcessed, memoryRemaining, memoryBps, memoryDirtyRate;
    std::optional<uint64_t> memoryPageSize, memoryIteration, postcopyRequests;
    std::optional<uint64_t> memoryConstant, memoryNormal, memoryNormalBytes;
    std::optional<uint64_t> downtimeMs, setupTimeMs;
    std::optional<bool> success;
    std::string errmsg;

    // Throws Error(INTERNAL) when the text is not a JSON object or a known key has the wrong type.
    static JobStats parse(const std::string &json);
    // True once the job reached post-copy (running, paused by a broken link, or recovering).
    bool inPostcopy() const;
    // 0..100 from data (or memory) remaining/total; nullopt when unknown.
    std::optional<int> percent() const;
};

const char *jobTypeName(JobType type);              // virsh's "Unbounded", "Completed", ...
const char *jobOperationName(JobOperation op);      // virsh's "Outgoing migration", ...

// What the caller asks for.  The plugin-visible parameters are serialised to
// the VIR_MIGRATE_PARAM_* JSON object; the rest steers the orchestrator.
struct MigrateParams {
    std::optional<std::string> uri;            // --migrateuri: Prepare's hint, and Perform's target if Prepare answers none
    std::optional<std::string> destName;       // --dname
    std::optional<std::string> destXml;        // --xml: replaces Begin's XML
    std::optional<std::string> persistentXml;  // --persistent-xml
    std::optional<uint64_t> bandwidth;         // MiB/s
    std::optional<uint64_t> postcopyBandwidth; // MiB/s
    std::optional<std::string> listenAddress;

    // Orchestrator only.
    bool postcopyAfterPrecopy = false;  // switch when memory_iteration reaches 2 (first pass done)
    unsigned timeoutSeconds = 0;        // 0 = none; then suspend, or switch to post-copy:
    bool timeoutPostcopy = false;
    unsigned pollIntervalMs = 100;      // jobStats polling while Perform runs
    const std::atomic<bool> *interrupt = nullptr;  // set (e.g. by SIGINT) to abort the job once

    // The JSON object the phases receive; `uri` overrides `this->uri`, and `name` is the
    // domain's name on the destination (dest_name) when no --dname was given.
    std::string toJson(const std::optional<std::string> &uriOverride = std::nullopt,
                       const std::optional<std::string> &xml = std::nullopt,
                       const std::optional<std::string> &name = std::nullopt) const;
};

// One progress report while Perform runs (on the calling thread of migrate()).
struct MigrationProgress {
    std::string phase;  // orchestrator's phase: "begin", "prepare", "perform", "finish", "confirm"
    JobStats stats;     // the source's latest jobStats (empty before the first poll)
};
using MigrationProgressHandler = std::function<void(const MigrationProgress &)>;

struct MigrationResult {
    DomainRef domain;                  // on the destination (empty if Finish failed but QEMU completed)
    bool switchedToPostcopy = false;   // the orchestrator asked for post-copy (timeout or after-precopy)
    bool suspendedOnTimeout = false;
    std::vector<std::string> warnings;
};

// Refuses contradictory flags and options before any phase runs (Error INVALID_ARG):
// post-copy without live, resume without post-copy, timeout-postcopy without post-copy, ...
void validateMigration(const MigrateParams &params, uint32_t flags);

// Runs the five phases; throws Error as described at the top.  `uuid` names the domain on `src`.
MigrationResult migrate(Connection &src, Connection &dst, const std::string &uuid, const MigrateParams &params,
                        uint32_t flags, const MigrationProgressHandler &progress = {});

// Peer-to-peer: what a source daemon runs for `migrate --p2p`.  Opens `destUri` itself (through
// ctx, so a remote URI reaches the destination's daemon) and runs migrate() with PEER2PEER set.
// When `src` is itself a connection to a daemon, the request goes to that daemon, which runs this
// function there; progress and params.interrupt do not cross (abort with Connection::abortJob).
MigrationResult migratePeerToPeer(Context &ctx, Connection &src, const std::string &uuid, const std::string &destUri,
                                  const MigrateParams &params, uint32_t flags,
                                  const MigrationProgressHandler &progress = {});

}  // namespace virtkit
