#include "fake_connection.hpp"

#include <algorithm>
#include <sstream>

namespace virtkit::test {

std::string CallLog::sequence(bool phasesOnly) const
{
    static const std::vector<std::string> phases = {"begin", "prepare", "perform", "finish", "confirm"};
    std::string out;
    for (const auto &c : calls()) {
        if (phasesOnly && std::find(phases.begin(), phases.end(), c.op) == phases.end())
            continue;
        out += (out.empty() ? "" : " ") + c.side + ":" + c.op + (c.cancelled ? "(cancelled)" : "");
    }
    return out;
}

std::optional<PhaseCall> CallLog::find(const std::string &side, const std::string &op) const
{
    for (const auto &c : calls())
        if (c.side == side && c.op == op)
            return c;
    return std::nullopt;
}

int CallLog::count(const std::string &side, const std::string &op) const
{
    int n = 0;
    for (const auto &c : calls())
        n += c.side == side && c.op == op;
    return n;
}

bool CallLog::waitFor(const std::string &side, const std::string &op, std::chrono::milliseconds timeout)
{
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
        for (const auto &c : calls_)
            if (c.side == side && c.op == op)
                return true;
        return false;
    });
}

void FakeConnection::record(const std::string &op, uint32_t flags, bool cancelled, const std::string &params,
                            const std::string &cookie)
{
    log_.add({side_, op, flags, cancelled, params, cookie});
}

void FakeConnection::maybeFail(const std::string &phase)
{
    if (failAt == phase)
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, failMessage);
}

void FakeConnection::checkDomain(const std::string &uuid)
{
    if (uuid != domain.uuid)
        throw Error(VIRTKIT_ERR_NO_DOMAIN, "no domain with matching uuid '" + uuid + "'");
}

DomainRef FakeConnection::lookupByName(const std::string &name)
{
    if (name != domain.name)
        throw Error(VIRTKIT_ERR_NO_DOMAIN, "no domain with matching name '" + name + "'");
    return domain;
}

DomainRef FakeConnection::lookupByUuid(const std::string &uuid)
{
    checkDomain(uuid);
    return domain;
}

DomainRef FakeConnection::lookupById(int id)
{
    if (id != domain.id)
        throw Error(VIRTKIT_ERR_NO_DOMAIN, "no domain with matching id " + std::to_string(id));
    return domain;
}

void FakeConnection::domainSuspend(const std::string &uuid)
{
    checkDomain(uuid);
    record("suspend");
    std::lock_guard lock(mutex_);
    state = VIRTKIT_DOMAIN_PAUSED;
}

DomainInfo FakeConnection::domainInfo(const std::string &uuid)
{
    checkDomain(uuid);
    std::lock_guard lock(mutex_);
    DomainInfo info;
    info.state = state;
    info.persistent = true;
    return info;
}

std::string FakeConnection::jobStats(const std::string &uuid, uint32_t)
{
    checkDomain(uuid);
    std::lock_guard lock(mutex_);
    const int poll = ++statsCalls;
    if (jobStatsScript)
        return jobStatsScript(poll);
    std::ostringstream out;
    out << R"({"type":)" << (jobActive ? 2 : 0) << R"(,"operation":5,"status":")" << jobStatus << R"(","phase":")"
        << jobPhase << R"("})";
    return out.str();
}

void FakeConnection::abortJob(const std::string &uuid, uint32_t flags)
{
    checkDomain(uuid);
    record("abort", flags);
}

MigrationStep FakeConnection::migrateBegin(const std::string &uuid, const std::string &params, uint32_t flags)
{
    checkDomain(uuid);
    record("begin", flags, false, params);
    maybeFail("begin");
    std::lock_guard lock(mutex_);
    if (jobActive && !(flags & VIRTKIT_MIGRATE_POSTCOPY_RESUME))
        throw Error(VIRTKIT_ERR_OPERATION_INVALID,
                    "another migration job is already running for domain '" + domain.name + "'");
    jobActive = true;
    MigrationStep step;
    step.xml = xmlText();
    step.cookie = "cookie-begin";
    return step;
}

MigrationStep FakeConnection::migratePrepare(const std::string &params, const std::string &cookie, uint32_t flags)
{
    record("prepare", flags, false, params, cookie);
    maybeFail("prepare");
    MigrationStep step;
    step.uri = preparedUri;
    step.cookie = "cookie-prepare";
    return step;
}

MigrationStep FakeConnection::migratePerform(const std::string &uuid, const std::string &params,
                                             const std::string &cookie, uint32_t flags)
{
    checkDomain(uuid);
    record("perform", flags, false, params, cookie);
    if (performBody)
        performBody(*this);
    maybeFail("perform");
    MigrationStep step;
    step.cookie = "cookie-perform";
    return step;
}

MigrationStep FakeConnection::migrateFinish(const std::string &params, const std::string &cookie, uint32_t flags,
                                            bool cancelled)
{
    record("finish", flags, cancelled, params, cookie);
    if (!cancelled)
        maybeFail("finish");
    MigrationStep step;
    step.domain = domain;
    step.cookie = "cookie-finish";
    return step;
}

void FakeConnection::migrateConfirm(const std::string &uuid, const std::string &params, const std::string &cookie,
                                    uint32_t flags, bool cancelled)
{
    checkDomain(uuid);
    record("confirm", flags, cancelled, params, cookie);
    maybeFail("confirm");
    std::lock_guard lock(mutex_);
    jobActive = false;
    if (!cancelled || confirmCompletesOnCancel)
        state = VIRTKIT_DOMAIN_SHUTOFF;
}

void FakeConnection::migrateStartPostcopy(const std::string &uuid, uint32_t flags)
{
    checkDomain(uuid);
    record("startPostcopy", flags);
    std::lock_guard lock(mutex_);
    jobStatus = "postcopy";
}

}  // namespace virtkit::test
