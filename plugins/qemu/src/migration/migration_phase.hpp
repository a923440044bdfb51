// The phases of libvirt's migration protocol v3 (and of post-copy recovery),
// and which phase may follow which.  A phase never runs backwards; after a
// broken post-copy only the resume phases are allowed, in order.
#pragma once

#include <optional>
#include <string>

namespace virtkit::qemu {

enum class MigrationSide { source, destination };

enum class MigrationPhase {
    none,
    begin3,
    perform3,
    perform3_done,
    confirm3_cancelled,
    confirm3,
    prepare,
    finish2,
    finish3,
    postcopy_failed,
    begin_resume,
    perform_resume,
    confirm_resume,
    prepare_resume,
    finish_resume,
};

const char *to_string(MigrationPhase phase);
std::optional<MigrationPhase> parse_migration_phase(const std::string &text);
const char *to_string(MigrationSide side);

bool is_resume_phase(MigrationPhase phase);

// Whether `next` may follow `current` on `side`.  Going back to
// postcopy_failed from a resume phase is how a failed recovery ends.
bool phase_may_follow(MigrationSide side, MigrationPhase current, MigrationPhase next);

// Throws Error(OPERATION_INVALID) naming both phases when `next` may not follow.
void check_phase_order(MigrationSide side, MigrationPhase current, MigrationPhase next);

}  // namespace virtkit::qemu
