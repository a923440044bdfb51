#include "process/child_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <sys/wait.h>
#include <thread>

#include <virtkit/error.hpp>

extern char **environ;

namespace virtkit::qemu {
namespace {

// posix_spawn_file_actions_t as an RAII value.
class FileActions {
public:
    FileActions() { ::posix_spawn_file_actions_init(&actions_); }
    ~FileActions() { ::posix_spawn_file_actions_destroy(&actions_); }
    FileActions(const FileActions &) = delete;
    FileActions &operator=(const FileActions &) = delete;

    void open(int fd, const std::string &path, int flags)
    {
        const std::string &target = path.empty() ? null_device : path;
        if (::posix_spawn_file_actions_addopen(&actions_, fd, target.c_str(), flags, 0600) != 0)
            throw Error(VIRTKIT_ERR_SYSTEM, "cannot prepare the redirection to '" + target + "'");
    }
    const posix_spawn_file_actions_t *get() const { return &actions_; }

private:
    inline static const std::string null_device = "/dev/null";
    posix_spawn_file_actions_t actions_;
};

}  // namespace

ChildProcess ChildProcess::spawn(const std::vector<std::string> &argv, const Options &options)
{
    if (argv.empty())
        throw Error(VIRTKIT_ERR_INVALID_ARG, "cannot start a process without a program path");
    FileActions actions;
    actions.open(STDIN_FILENO, "", O_RDONLY);
    actions.open(STDOUT_FILENO, options.stdout_path, O_WRONLY | O_CREAT | O_APPEND);
    actions.open(STDERR_FILENO, options.stderr_path, O_WRONLY | O_CREAT | O_APPEND);

    std::vector<char *> args;
    for (const std::string &arg : argv)
        args.push_back(const_cast<char *>(arg.c_str()));
    args.push_back(nullptr);

    std::vector<std::string> extra;
    for (const auto &[name, value] : options.extra_environment)
        extra.push_back(name + "=" + value);
    std::vector<char *> env;
    for (char **e = environ; e && *e; ++e)
        env.push_back(*e);
    for (std::string &e : extra)
        env.push_back(e.data());
    env.push_back(nullptr);

    if (options.die_with_parent) {
        // fork + exec: posix_spawn cannot set a parent-death signal.  Only
        // async-signal-safe calls between fork and exec.
        const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        const int out = ::open(options.stdout_path.empty() ? "/dev/null" : options.stdout_path.c_str(),
                               O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        const int err = ::open(options.stderr_path.empty() ? "/dev/null" : options.stderr_path.c_str(),
                               O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        const pid_t parent = ::getpid();
        const pid_t child = (in < 0 || out < 0 || err < 0) ? -1 : ::fork();
        if (child == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent)  // the parent died before prctl
                ::_exit(127);
            ::dup2(in, STDIN_FILENO);
            ::dup2(out, STDOUT_FILENO);
            ::dup2(err, STDERR_FILENO);
            ::execve(argv[0].c_str(), args.data(), env.data());
            ::_exit(127);
        }
        const int fork_errno = errno;
        for (const int fd : {in, out, err})
            if (fd >= 0)
                ::close(fd);
        if (child < 0)
            throw Error(VIRTKIT_ERR_SYSTEM, "cannot start '" + argv[0] + "': " + std::strerror(fork_errno));
        return ChildProcess(child);
    }
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, argv[0].c_str(), actions.get(), nullptr, args.data(), env.data());
    if (rc != 0)
        throw Error(VIRTKIT_ERR_SYSTEM, "cannot start '" + argv[0] + "': " + std::strerror(rc));
    return ChildProcess(pid);
}

ChildProcess::ChildProcess(ChildProcess &&other) noexcept : pid_(other.pid_), status_(other.status_)
{
    other.pid_ = -1;
}

ChildProcess &ChildProcess::operator=(ChildProcess &&other) noexcept
{
    if (this != &other) {
        kill_and_reap();
        pid_ = other.pid_;
        status_ = other.status_;
        other.pid_ = -1;
    }
    return *this;
}

ChildProcess::~ChildProcess() { kill_and_reap(); }

bool ChildProcess::has_exited()
{
    if (pid_ < 0 || status_)
        return true;
    int status = 0;
    const pid_t rc = ::waitpid(pid_, &status, WNOHANG);
    if (rc == pid_ || (rc < 0 && errno == ECHILD)) {
        status_ = rc == pid_ ? status : 0;
        return true;
    }
    return false;
}

bool ChildProcess::wait_for_exit(std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto pause = std::chrono::microseconds(200);
    while (!has_exited()) {
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::microseconds(10000));
    }
    return true;
}

void ChildProcess::signal(int signal_number) const
{
    if (pid_ > 0 && !status_)
        ::kill(pid_, signal_number);
}

void ChildProcess::kill_and_reap() noexcept
{
    if (pid_ < 0 || status_)
        return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    status_ = status;
}

}  // namespace virtkit::qemu
