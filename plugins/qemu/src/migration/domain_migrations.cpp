#include "migration/domain_migrations.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>
#include <unistd.h>

#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <virtkit/error.hpp>
#include <virtkit/plugin.h>

#include "driver/domain_definition.hpp"
#include "migration/migration_states.hpp"

namespace virtkit::qemu {
namespace {

using namespace std::chrono_literals;
namespace lm = libvirt_migration;
using P = MigrationPhase;

Poco::JSON::Object::Ptr parse_object(const std::string &json, const char *what)
{
    if (json.empty())
        return new Poco::JSON::Object;
    try {
        return Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception &e) {
        throw Error(VIRTKIT_ERR_INVALID_ARG, std::string(what) + " is not a JSON object: " + e.displayText());
    }
}

std::string text(const Poco::JSON::Object::Ptr &params, const std::string &key)
{
    return params->has(key) ? params->get(key).toString() : std::string();
}

std::uint64_t number(const Poco::JSON::Object::Ptr &params, const std::string &key)
{
    if (!params->has(key))
        return 0;
    try {
        return params->getValue<std::uint64_t>(key);
    } catch (const Poco::Exception &) {
        throw Error(VIRTKIT_ERR_INVALID_ARG, "migration parameter '" + key + "' must be a number");
    }
}

std::string to_json(const Poco::JSON::Object &object)
{
    std::ostringstream out;
    Poco::JSON::Stringifier::condense(object, out);
    return out.str();
}

std::string host_name()
{
    char name[256] = {};
    if (::gethostname(name, sizeof(name) - 1) != 0)
        return "localhost";
    return name;
}

// libvirt's default range for incoming migration ports.  The probe and QEMU's
// own bind are not atomic, so concurrent Prepares start at different offsets
// in the range rather than all racing for its first port.
int free_port(const std::string &address)
{
    static std::atomic<unsigned> next{static_cast<unsigned>(::getpid()) * 7u};
    const unsigned start = next.fetch_add(1);
    for (unsigned i = 0; i < 64; ++i) {
        const int port = 49152 + static_cast<int>((start + i) % 64);
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            break;
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        if (::inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1)
            addr.sin_addr.s_addr = htonl(INADDR_ANY);
        const bool free = ::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) == 0;
        ::close(fd);
        if (free)
            return port;
    }
    throw Error(VIRTKIT_ERR_OPERATION_FAILED, "no free port for incoming migration in 49152-49215");
}

// The destination's domain: "dest_name", else the name in "dest_xml".
std::string destination_name(const Poco::JSON::Object::Ptr &params)
{
    if (const std::string name = text(params, "dest_name"); !name.empty())
        return name;
    if (const std::string xml = text(params, "dest_xml"); !xml.empty())
        return DomainDefinition::parse(xml, false).name;
    throw Error(VIRTKIT_ERR_INVALID_ARG, "the destination domain is not named (parameter 'dest_name')");
}

MigrationParams migration_params(const Poco::JSON::Object::Ptr &params)
{
    MigrationParams out;
    out.uri = text(params, "uri");
    out.bandwidth_mibs = number(params, "bandwidth");
    out.postcopy_bandwidth_mibs = number(params, "bandwidth.postcopy");
    return out;
}

}  // namespace

DomainMigrations::DomainMigrations(QemuConnection &connection, MigrationTimeouts timeouts)
    : connection_(connection), timeouts_(timeouts)
{
}

DomainMigrations::~DomainMigrations()
{
    for (std::thread &t : background_)
        if (t.joinable())
            t.join();
}

std::shared_ptr<MigrationJob> DomainMigrations::existing_job(const std::string &uuid)
{
    const std::lock_guard lock(mutex_);
    const auto found = tracked_.find(uuid);
    return found == tracked_.end() ? nullptr : found->second.job;
}

DomainMigrations::Tracked DomainMigrations::tracked(const std::string &uuid, MigrationSide side)
{
    const std::shared_ptr<RunningDomain> domain = connection_.managed_domain(uuid);
    std::string saved;
    Tracked t;
    {
        const std::lock_guard lock(mutex_);
        auto found = tracked_.find(uuid);
        if (found != tracked_.end() && found->second.domain == domain) {
            if (found->second.job->side() != side && found->second.job->snapshot().active())
                throw Error(VIRTKIT_ERR_OPERATION_INVALID, std::string("the domain is already the ") +
                                                               to_string(found->second.job->side()) +
                                                               " of a migration");
            if (found->second.job->side() == side)
                return found->second;
        }
        const std::weak_ptr<RunningDomain> weak_domain = domain;
        t.domain = domain;
        t.job = std::make_shared<MigrationJob>(side, domain->state(), domain->reason(),
                                               [weak_domain](const DomainStateChange &c) {
                                                   if (const auto d = weak_domain.lock())
                                                       d->set_migration_state(c.state, c.reason, c.event, c.detail);
                                               });
        const std::weak_ptr<MigrationJob> weak_job = t.job;
        t.job->set_persist([this, weak_domain, weak_job] {
            const auto d = weak_domain.lock();
            const auto j = weak_job.lock();
            if (d && j && d->is_active())
                save(Tracked{d, j});
        });
        domain->add_qmp_listener([this, weak_job, uuid](const QmpEvent &event) {
            const auto job = weak_job.lock();
            if (!job)
                return;
            if (event.name == "MIGRATION") {
                const auto status = parse_qemu_migration_status(event.data->optValue<std::string>("status", ""));
                if (status && job->on_migration_event(*status))
                    complete_unattended(uuid);
            } else if (event.name == "STOP") {
                job->on_vcpus_stopped();
            }
        });
        tracked_[uuid] = t;
        saved = domain->extra("migration").value_or("");
    }
    if (!saved.empty())
        restore(t, saved);
    return t;
}

void DomainMigrations::rederive_saved_job(const std::string &uuid)
{
    if (existing_job(uuid))
        return;
    std::shared_ptr<RunningDomain> domain;
    try {
        domain = connection_.managed_domain(uuid);
    } catch (const Error &) {
        return;  // not running here (or another process manages it): nothing to re-derive
    }
    const auto saved = domain->extra("migration");
    if (saved && !saved->empty())
        tracked(uuid, MigrationJob::parse_saved_state(*saved).side);
}

void DomainMigrations::save(const Tracked &t)
{
    const JobSnapshot job = t.job->snapshot();
    t.domain->set_migration_owns_vcpu_state(job.active(), t.job->side() == MigrationSide::source);
    t.domain->set_extra("migration", job.active() ? t.job->saved_state() : std::string());
}

void DomainMigrations::restore(const Tracked &t, const std::string &saved_text)
{
    const MigrationJob::Saved saved = MigrationJob::parse_saved_state(saved_text);
    const auto reply = t.domain->monitor().execute("query-migrate", timeouts_.command).extract<Poco::JSON::Object::Ptr>();
    const auto status =
        parse_qemu_migration_status(reply->optValue<std::string>("status", "none")).value_or(QemuMigrationStatus::none);
    const RestartAction action = t.job->restore(saved.phase, saved.flags, saved.destination_started, status);
    switch (action) {
    case RestartAction::cancel_and_resume: {
        SourceMigration source(t.domain->monitor(), *t.job, timeouts_);
        source.confirm(true, [] {});  // not in post-copy: rolls back
        break;
    }
    case RestartAction::kill_destination:
        t.domain->destroy();
        t.job->finish_job(JobStatus::failed, "the managing process restarted before the guest ran here");
        break;
    case RestartAction::complete:
        if (t.job->side() == MigrationSide::source)
            t.domain->destroy_migrated();
        t.job->finish_job(JobStatus::completed);
        break;
    default: break;  // kept: unattended, broken post-copy, or waiting for Confirm
    }
    save(t);
}

void DomainMigrations::complete_unattended(const std::string &uuid)
{
    // On the reader thread: stopping QEMU waits for its monitor, so not here.
    const std::lock_guard lock(mutex_);
    background_.emplace_back([this, uuid] {
        Tracked t;
        {
            const std::lock_guard inner(mutex_);
            const auto found = tracked_.find(uuid);
            if (found == tracked_.end())
                return;
            t = found->second;
        }
        try {
            if (t.job->side() == MigrationSide::source)
                t.domain->destroy_migrated();
            t.job->finish_job(JobStatus::completed);
            save(t);
        } catch (const std::exception &) {
            // the domain went away meanwhile: nothing left to complete
        }
    });
}

DomainMigrations::Step DomainMigrations::begin(const std::string &uuid, const std::string &params_json,
                                               std::uint32_t flags)
{
    parse_object(params_json, "migration parameters");
    const Tracked t = tracked(uuid, MigrationSide::source);
    SourceMigration source(t.domain->monitor(), *t.job, timeouts_);
    if (flags & VIRTKIT_MIGRATE_POSTCOPY_RESUME)
        source.begin_resume(flags);
    else
        source.begin(flags, userfaultfd_available());
    save(t);
    Poco::JSON::Object cookie;
    cookie.set("hostname", host_name());
    cookie.set("uuid", uuid);
    Step step;
    step.xml = t.domain->live_xml();
    step.cookie = to_json(cookie);
    return step;
}

DomainMigrations::Step DomainMigrations::prepare(const std::string &params_json, const std::string &,
                                                 std::uint32_t flags)
{
    const auto params = parse_object(params_json, "migration parameters");
    Step step;
    if (flags & VIRTKIT_MIGRATE_POSTCOPY_RESUME) {
        step.domain = connection_.lookup_by_name(destination_name(params));
        const Tracked t = tracked(step.domain.uuid, MigrationSide::destination);
        const std::string listen = text(params, "listen_address").empty() ? "0.0.0.0" : text(params, "listen_address");
        const int port = free_port(listen);
        DestinationMigration destination(t.domain->monitor(), *t.job, timeouts_);
        destination.prepare_resume(flags, "tcp:" + listen + ":" + std::to_string(port));
        save(t);
        step.uri = "tcp:" + (listen == "0.0.0.0" ? host_name() : listen) + ":" + std::to_string(port);
        return step;
    }
    if (flags & VIRTKIT_MIGRATE_POSTCOPY && !userfaultfd_available())
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "post-copy migration needs userfaultfd, which the destination host lacks");
    const std::string xml = text(params, "dest_xml");
    if (xml.empty())
        throw Error(VIRTKIT_ERR_INVALID_ARG, "Prepare needs the domain XML (parameter 'dest_xml')");
    const DomainDefinition wanted = DomainDefinition::parse(xml, false);
    bool existed = false;
    try {
        DomainSummary present = connection_.lookup_by_uuid(wanted.uuid);
        existed = true;
        if (present.id > 0) {
            // An incoming QEMU a killed manager left, whose guest never ran,
            // is cleaned up by its re-derivation (as libvirt's restart does).
            rederive_saved_job(present.uuid);
            present = connection_.lookup_by_uuid(wanted.uuid);
        }
        if (present.id > 0)
            throw Error(VIRTKIT_ERR_OPERATION_INVALID,
                        "domain '" + present.name + "' is already running on the destination");
    } catch (const Error &e) {
        if (e.code() != VIRTKIT_ERR_NO_DOMAIN)
            throw;
    }
    const DomainSummary defined = connection_.define(xml);
    try {
        // the job announces it (STARTED/migrated, paused/migration) in prepare()
        connection_.start(defined.uuid, RunningDomain::StartOptions{{"-incoming", "defer"}, true});
        const Tracked t = tracked(defined.uuid, MigrationSide::destination);
        const std::string listen = text(params, "listen_address").empty() ? "0.0.0.0" : text(params, "listen_address");
        const int port = free_port(listen);
        DestinationMigration destination(t.domain->monitor(), *t.job, timeouts_);
        destination.prepare(flags, userfaultfd_available(), "tcp:" + listen + ":" + std::to_string(port));
        save(t);
        step.uri = "tcp:" + (listen == "0.0.0.0" ? host_name() : listen) + ":" + std::to_string(port);
        step.domain = connection_.lookup_by_uuid(defined.uuid);
        if (!existed) {
            const std::lock_guard lock(mutex_);
            defined_by_prepare_.insert(defined.uuid);
        }
    } catch (...) {
        try {
            connection_.destroy(defined.uuid);
        } catch (const Error &) {
        }
        if (!existed) {
            try {
                connection_.undefine(defined.uuid);
            } catch (const Error &) {
            }
        }
        throw;
    }
    return step;
}

DomainMigrations::Step DomainMigrations::perform(const std::string &uuid, const std::string &params_json,
                                                 const std::string &, std::uint32_t flags)
{
    const auto params = parse_object(params_json, "migration parameters");
    const Tracked t = tracked(uuid, MigrationSide::source);
    SourceMigration source(t.domain->monitor(), *t.job, timeouts_);
    try {
        if (flags & VIRTKIT_MIGRATE_POSTCOPY_RESUME)
            source.perform_resume(migration_params(params));
        else
            source.perform(migration_params(params));
    } catch (...) {
        save(t);
        throw;
    }
    save(t);
    return {};
}

DomainMigrations::Step DomainMigrations::finish(const std::string &params_json, const std::string &,
                                                std::uint32_t flags, bool cancelled)
{
    const auto params = parse_object(params_json, "migration parameters");
    const DomainSummary summary = connection_.lookup_by_name(destination_name(params));
    bool ours = false;
    {
        const std::lock_guard lock(mutex_);
        ours = defined_by_prepare_.erase(summary.uuid) > 0;
    }
    const auto forget = [&] {
        if (ours)
            connection_.undefine(summary.uuid);
    };
    if (summary.id <= 0 && !(flags & VIRTKIT_MIGRATE_POSTCOPY_RESUME)) {
        // QEMU 7.2 exits when an incoming migration fails: nothing ran here.
        if (const auto job = existing_job(summary.uuid))
            job->finish_job(JobStatus::failed, "the destination QEMU exited");
        forget();
        if (cancelled)
            return {};
        // The marker hands Confirm its cookie through the orchestrator (core/include/virtkit/migration.hpp).
        throw Error(VIRTKIT_ERR_OPERATION_FAILED,
                    "the destination QEMU exited during the incoming migration (its log says why); the guest "
                    "never ran there, so the source may roll back (confirm-cookie={\"destination_started\":false})");
    }
    const Tracked t = tracked(summary.uuid, MigrationSide::destination);
    DestinationMigration destination(t.domain->monitor(), *t.job, timeouts_);
    const auto kill = [&] {
        t.domain->destroy();
        forget();
    };
    try {
        if (flags & VIRTKIT_MIGRATE_POSTCOPY_RESUME)
            destination.finish_resume(cancelled);
        else
            destination.finish(cancelled, kill);
    } catch (...) {
        if (t.domain->is_active())
            save(t);
        throw;
    }
    save(t);
    Step step;
    Poco::JSON::Object cookie;  // read by Confirm
    cookie.set("destination_started", t.job->snapshot().destination_started || !t.job->snapshot().active());
    step.cookie = to_json(cookie);
    if (!cancelled)
        step.domain = connection_.lookup_by_uuid(summary.uuid);
    return step;
}

void DomainMigrations::confirm(const std::string &uuid, const std::string &, const std::string &cookie,
                               std::uint32_t flags, bool cancelled)
{
    bool never_ran = false;  // only an explicit word from the destination counts
    try {
        const auto from_finish = parse_object(cookie, "the Finish cookie");
        never_ran = from_finish->has("destination_started") && !from_finish->getValue<bool>("destination_started");
    } catch (const std::exception &) {
    }
    const Tracked t = tracked(uuid, MigrationSide::source);
    SourceMigration source(t.domain->monitor(), *t.job, timeouts_);
    const auto result = source.confirm(cancelled, [&] { t.domain->destroy_migrated(); }, never_ran);
    if (t.domain->is_active())
        save(t);
    if (result == SourceMigration::ConfirmResult::completed && (flags & VIRTKIT_MIGRATE_UNDEFINE_SOURCE))
        connection_.undefine(uuid);
}

void DomainMigrations::start_postcopy(const std::string &uuid)
{
    const auto job = existing_job(uuid);
    if (!job)
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "no outgoing migration is running for this domain");
    const Tracked t = tracked(uuid, MigrationSide::source);
    SourceMigration(t.domain->monitor(), *t.job, timeouts_).start_postcopy();
}

void DomainMigrations::abort_job(const std::string &uuid, std::uint32_t flags)
{
    rederive_saved_job(uuid);
    const auto job = existing_job(uuid);
    if (!job || !job->snapshot().active())
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "no job is running for this domain");
    if (job->side() == MigrationSide::destination)
        throw Error(VIRTKIT_ERR_OPERATION_INVALID,
                    "cannot abort an incoming migration on the destination; abort it on the source");
    const Tracked t = tracked(uuid, MigrationSide::source);
    SourceMigration(t.domain->monitor(), *t.job, timeouts_).abort(flags);
    save(t);
}

std::string DomainMigrations::job_stats(const std::string &uuid, std::uint32_t flags)
{
    connection_.lookup_by_uuid(uuid);  // NO_DOMAIN for an unknown one
    rederive_saved_job(uuid);
    const auto job = existing_job(uuid);
    if (!job)
        return R"({"type":0,"phase":"none","status":"none"})";
    return job->stats_json(flags & VIRTKIT_JOB_STATS_COMPLETED);
}

void DomainMigrations::set_max_speed(const std::string &uuid, std::uint64_t mibs, std::uint32_t flags)
{
    const Tracked t = tracked(uuid, MigrationSide::source);
    SourceMigration(t.domain->monitor(), *t.job, timeouts_).set_max_speed(mibs, flags & VIRTKIT_MIGRATE_MAX_SPEED_POSTCOPY);
}

std::uint64_t DomainMigrations::max_speed(const std::string &uuid, std::uint32_t flags)
{
    connection_.lookup_by_uuid(uuid);
    const auto job = existing_job(uuid);
    const bool postcopy = flags & VIRTKIT_MIGRATE_MAX_SPEED_POSTCOPY;
    if (!job)
        return postcopy ? 0 : MigrationJob::unlimited_speed_mibs;
    return job->max_speed(postcopy);
}

}  // namespace virtkit::qemu
