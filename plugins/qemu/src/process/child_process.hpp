// A child process we started and must reap: the destructor kills (SIGKILL)
// and reaps it if it is still there, so no child outlives its owner and no
// zombie is left behind.
#pragma once

#include <chrono>
#include <optional>
#include <utility>
#include <string>
#include <sys/types.h>
#include <vector>

namespace virtkit::qemu {

class ChildProcess {
public:
    struct Options {
        std::string stdout_path;  // empty: /dev/null
        std::string stderr_path;  // empty: /dev/null; otherwise appended to
        std::vector<std::pair<std::string, std::string>> extra_environment;  // added to ours
        // SIGKILL the child when the thread that started it dies (PR_SET_PDEATHSIG):
        // for helpers such as the capability probe, never for a guest.
        bool die_with_parent = false;
    };

    // Starts argv[0] (a path) with argv.  Throws Error when it cannot be spawned.
    static ChildProcess spawn(const std::vector<std::string> &argv, const Options &options);

    ChildProcess(ChildProcess &&other) noexcept;
    ChildProcess &operator=(ChildProcess &&other) noexcept;
    ChildProcess(const ChildProcess &) = delete;
    ChildProcess &operator=(const ChildProcess &) = delete;
    ~ChildProcess();

    pid_t pid() const noexcept { return pid_; }

    // True once the child has exited (reaping it if it is a zombie).
    bool has_exited();
    // The raw wait status once exited.
    std::optional<int> wait_status() const noexcept { return status_; }
    // Waits until the child exits or the timeout passes; true if it exited.
    bool wait_for_exit(std::chrono::milliseconds timeout);
    // Sends `signal` (if still running).
    void signal(int signal_number) const;
    // SIGKILL and reap; does nothing once exited.
    void kill_and_reap() noexcept;
    // Lets the child outlive this object (a guest must survive its manager).
    void release() noexcept { pid_ = -1; }

private:
    explicit ChildProcess(pid_t pid) noexcept : pid_(pid) {}

    pid_t pid_ = -1;
    std::optional<int> status_;
};

}  // namespace virtkit::qemu
