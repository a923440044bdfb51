#include "migration/migration_phase.hpp"

#include <array>
#include <utility>

#include <virtkit/error.hpp>

namespace virtkit::qemu {
namespace {

constexpr std::array<std::pair<MigrationPhase, const char *>, 15> phase_names{{
    {MigrationPhase::none, "none"},
    {MigrationPhase::begin3, "begin3"},
    {MigrationPhase::perform3, "perform3"},
    {MigrationPhase::perform3_done, "perform3_done"},
    {MigrationPhase::confirm3_cancelled, "confirm3_cancelled"},
    {MigrationPhase::confirm3, "confirm3"},
    {MigrationPhase::prepare, "prepare"},
    {MigrationPhase::finish2, "finish2"},
    {MigrationPhase::finish3, "finish3"},
    {MigrationPhase::postcopy_failed, "postcopy_failed"},
    {MigrationPhase::begin_resume, "begin_resume"},
    {MigrationPhase::perform_resume, "perform_resume"},
    {MigrationPhase::confirm_resume, "confirm_resume"},
    {MigrationPhase::prepare_resume, "prepare_resume"},
    {MigrationPhase::finish_resume, "finish_resume"},
}};

using P = MigrationPhase;

bool source_may_follow(P current, P next)
{
    switch (next) {
    case P::begin3: return current == P::none;
    case P::perform3: return current == P::begin3;
    case P::perform3_done: return current == P::perform3;
    case P::confirm3: return current == P::perform3_done;
    case P::confirm3_cancelled: return current == P::begin3 || current == P::perform3 || current == P::perform3_done;
    case P::postcopy_failed:
        return current == P::perform3_done || current == P::confirm3_cancelled || current == P::confirm3 ||
               current == P::begin_resume || current == P::perform_resume || current == P::confirm_resume;
    case P::begin_resume: return current == P::postcopy_failed;
    case P::perform_resume: return current == P::begin_resume;
    case P::confirm_resume: return current == P::perform_resume;
    default: return false;
    }
}

bool destination_may_follow(P current, P next)
{
    switch (next) {
    case P::prepare: return current == P::none;
    case P::finish3: return current == P::prepare;
    case P::postcopy_failed:
        return current == P::finish3 || current == P::prepare_resume || current == P::finish_resume;
    case P::prepare_resume: return current == P::postcopy_failed;
    case P::finish_resume: return current == P::prepare_resume;
    default: return false;
    }
}

}  // namespace

const char *to_string(MigrationPhase phase)
{
    for (const auto &[p, name] : phase_names)
        if (p == phase)
            return name;
    return "unknown";
}

std::optional<MigrationPhase> parse_migration_phase(const std::string &text)
{
    for (const auto &[p, name] : phase_names)
        if (text == name)
            return p;
    return std::nullopt;
}

const char *to_string(MigrationSide side) { return side == MigrationSide::source ? "source" : "destination"; }

bool is_resume_phase(MigrationPhase phase)
{
    return phase == P::begin_resume || phase == P::perform_resume || phase == P::confirm_resume ||
           phase == P::prepare_resume || phase == P::finish_resume;
}

bool phase_may_follow(MigrationSide side, MigrationPhase current, MigrationPhase next)
{
    return side == MigrationSide::source ? source_may_follow(current, next) : destination_may_follow(current, next);
}

void check_phase_order(MigrationSide side, MigrationPhase current, MigrationPhase next)
{
    if (phase_may_follow(side, current, next))
        return;
    std::string message = std::string("migration phase '") + to_string(next) + "' cannot follow '" +
                          to_string(current) + "' on the " + to_string(side);
    if (current == P::postcopy_failed)
        message += ": the post-copy migration is broken; only --postcopy-resume is allowed";
    else if (current != P::none && static_cast<int>(next) <= static_cast<int>(current))
        message += " (the migration protocol would run backwards)";
    throw Error(VIRTKIT_ERR_OPERATION_INVALID, message);
}

}  // namespace virtkit::qemu
