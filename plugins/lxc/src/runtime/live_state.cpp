#include "runtime/live_state.hpp"

#include <fstream>
#include <sstream>
#include <unistd.h>

#include <virtkit/error.hpp>

namespace virtkit::lxc {
namespace {

// /proc/PID/stat: "pid (comm) state ..." where comm may hold spaces and ')'.
bool read_stat(pid_t pid, char &state, std::uint64_t &start_time)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    const auto close = text.rfind(')');
    if (close == std::string::npos)
        return false;
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    fields >> state;
    for (int i = 4; i <= 22 && fields >> field; ++i)
        if (i == 22) {
            start_time = std::stoull(field);
            return true;
        }
    return false;
}

}  // namespace

ProcessIdentity ProcessIdentity::of(pid_t pid)
{
    char state = 0;
    std::uint64_t start = 0;
    read_stat(pid, state, start);
    return {pid, start};
}

bool ProcessIdentity::alive() const
{
    char state = 0;
    std::uint64_t start = 0;
    return pid > 0 && read_stat(pid, state, start) && start == start_time && state != 'Z' && state != 'X';
}

void write_atomically(const std::filesystem::path &file, const std::string &text)
{
    const auto temporary = file.string() + ".tmp." + std::to_string(::getpid());
    {
        std::ofstream out(temporary, std::ios::trunc);
        out << text;
        if (!out.flush())
            throw Error(VIRTKIT_ERR_SYSTEM, "cannot write " + temporary);
    }
    std::error_code ec;
    std::filesystem::rename(temporary, file, ec);
    if (ec)
        throw Error(VIRTKIT_ERR_SYSTEM, "cannot replace " + file.string() + ": " + ec.message());
}

void LiveState::save(const std::filesystem::path &file) const
{
    std::ostringstream out;
    out << "supervisor " << supervisor.pid << " " << supervisor.start_time << "\n"
        << "init " << init.pid << " " << init.start_time << "\n"
        << "cgroup_version " << (cgroup_version == CgroupVersion::v2 ? 2 : 1) << "\n";
    for (const auto &dir : cgroup_dirs)
        out << "cgroup " << dir.string() << "\n";
    if (!console.empty())
        out << "console " << console << "\n";
    for (const auto &veth : host_veths)
        out << "veth " << veth << "\n";
    write_atomically(file, out.str());
}

std::optional<LiveState> LiveState::load(const std::filesystem::path &file)
{
    std::ifstream in(file);
    if (!in)
        return std::nullopt;
    LiveState state;
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string key;
        fields >> key;
        std::string rest;
        std::getline(fields >> std::ws, rest);
        std::istringstream values(rest);
        if (key == "supervisor")
            values >> state.supervisor.pid >> state.supervisor.start_time;
        else if (key == "init")
            values >> state.init.pid >> state.init.start_time;
        else if (key == "cgroup_version")
            state.cgroup_version = rest == "2" ? CgroupVersion::v2 : CgroupVersion::v1;
        else if (key == "cgroup")
            state.cgroup_dirs.emplace_back(rest);
        else if (key == "console")
            state.console = rest;
        else if (key == "veth")
            state.host_veths.push_back(rest);
    }
    if (state.supervisor.pid <= 0 || state.init.pid <= 0)
        return std::nullopt;
    return state;
}

void ExitRecord::save(const std::filesystem::path &file) const
{
    write_atomically(file, std::string(exited ? "exited " : "signal ") + std::to_string(code) + (oom ? " oom" : "") +
                               "\n");
}

std::optional<ExitRecord> ExitRecord::load(const std::filesystem::path &file)
{
    std::ifstream in(file);
    std::string how, extra;
    ExitRecord record;
    if (!(in >> how >> record.code))
        return std::nullopt;
    record.exited = how == "exited";
    record.oom = (in >> extra) && extra == "oom";
    return record;
}

}  // namespace virtkit::lxc
