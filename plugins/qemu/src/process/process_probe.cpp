#include "process/process_probe.hpp"

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace virtkit::qemu {
namespace {

std::string read_proc(pid_t pid, const char *what)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/" + what, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

// The fields after "(comm)", which may itself hold spaces and parentheses.
std::vector<std::string> stat_fields_after_comm(pid_t pid)
{
    const std::string stat = read_proc(pid, "stat");
    const auto close = stat.rfind(')');
    std::vector<std::string> fields;
    if (close == std::string::npos)
        return fields;
    std::string field;
    for (std::size_t i = close + 2; i < stat.size(); ++i) {
        if (stat[i] == ' ' || stat[i] == '\n') {
            fields.push_back(field);
            field.clear();
        } else {
            field += stat[i];
        }
    }
    if (!field.empty())
        fields.push_back(field);
    return fields;
}

}  // namespace

bool process_alive(pid_t pid)
{
    if (pid <= 0)
        return false;
    const auto fields = stat_fields_after_comm(pid);
    return !fields.empty() && fields[0] != "Z" && fields[0] != "X";
}

std::optional<std::uint64_t> process_start_ticks(pid_t pid)
{
    const auto fields = stat_fields_after_comm(pid);
    if (fields.size() < 20)  // starttime is field 22, the 20th after comm
        return std::nullopt;
    try {
        return std::stoull(fields[19]);
    } catch (const std::exception &) {
        return std::nullopt;
    }
}

bool process_is_qemu_for(pid_t pid, const std::string &uuid)
{
    const std::string cmdline = read_proc(pid, "cmdline");
    std::vector<std::string> argv;
    std::string arg;
    for (const char c : cmdline) {
        if (c == '\0') {
            argv.push_back(arg);
            arg.clear();
        } else {
            arg += c;
        }
    }
    if (argv.empty() || argv[0].find("qemu") == std::string::npos)
        return false;
    for (std::size_t i = 0; i + 1 < argv.size(); ++i)
        if (argv[i] == "-uuid" && argv[i + 1] == uuid)
            return true;
    return false;
}

pid_t find_qemu_process(const std::string &uuid, const std::string &needle)
{
    std::error_code ec;
    for (const auto &entry : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        const pid_t pid = static_cast<pid_t>(std::stol(name));
        if (process_alive(pid) && process_is_qemu_for(pid, uuid) &&
            read_proc(pid, "cmdline").find(needle) != std::string::npos)
            return pid;
    }
    return -1;
}

void reap_if_child(pid_t pid)
{
    if (pid <= 0)
        return;
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) < 0 && errno == EINTR) {
    }
}

ProcessWatch::ProcessWatch(pid_t pid) : pid_(pid)
{
    fd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

ProcessWatch::~ProcessWatch()
{
    if (fd_ >= 0)
        ::close(fd_);
}

bool ProcessWatch::wait_for_exit(std::chrono::milliseconds timeout)
{
    if (fd_ < 0)
        return !process_alive(pid_);  // no pidfd: the process was gone already
    pollfd p{fd_, POLLIN, 0};
    int rc;
    while ((rc = ::poll(&p, 1, static_cast<int>(timeout.count()))) < 0 && errno == EINTR) {
    }
    return rc > 0;
}

void ProcessWatch::signal(int signal_number) const
{
    if (fd_ >= 0)
        ::syscall(SYS_pidfd_send_signal, fd_, signal_number, nullptr, 0);
}

}  // namespace virtkit::qemu
