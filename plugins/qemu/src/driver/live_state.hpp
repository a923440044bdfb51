// What a later process needs to take over a running QEMU, saved atomically
// (temporary file + rename) as run/domains/UUID/live.json each time it
// changes.  The file exists from the moment QEMU is spawned (phase
// "starting", before `cont`) until it is gone, so no QEMU of ours is ever
// untracked.  `extra` is free key/value space for other parts of the driver
// (migration keeps its job/phase there).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>

namespace virtkit::qemu {

struct LiveState {
    std::string uuid;
    std::string name;
    pid_t pid = -1;
    std::uint64_t start_ticks = 0;  // /proc/PID/stat starttime: guards against a reused pid
    std::string monitor;            // QMP socket path
    std::string log;                // QEMU's stderr
    std::int64_t started_at = 0;    // unix seconds
    std::int32_t id = -1;
    std::int32_t state = 0;  // virtkit_domain_state
    std::int32_t reason = 0;
    // starting: spawned, `cont` not yet confirmed; running: started;
    // stopping: destroy asked (a death is then not a crash)
    std::string phase = "starting";
    bool fake_reboot = false;  // reboot asked: the next guest SHUTDOWN resets instead
    std::string xml;           // the live XML
    std::map<std::string, std::string> extra;

    void save(const std::filesystem::path &file) const;
    // nullopt when the file is missing or unreadable (a torn file cannot exist: writes are atomic)
    static std::optional<LiveState> load(const std::filesystem::path &file);
};

}  // namespace virtkit::qemu
