// virtkit-lxc-supervisor: one per running container, so the container
// outlives whichever process started it.  It starts the container (see
// runtime/container_launch.hpp) as its own child, reports "ok" or "error
// CODE MESSAGE" on the status fd, records the live state, relays the console,
// and when init ends records how, removes the cgroup and veths, and exits.
//
//   virtkit-lxc-supervisor DEFINITION.xml STATE_FILE EXIT_FILE CGROUP_LEAF LINK_PREFIX STATUS_FD
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <virtkit/error.hpp>

#include "driver/container_definition.hpp"
#include "runtime/container_launch.hpp"
#include "runtime/live_state.hpp"

using namespace virtkit::lxc;

namespace {

void report(int fd, const std::string &line)
{
    const std::string text = line + "\n";
    [[maybe_unused]] const ssize_t ignored = ::write(fd, text.data(), text.size());
}

// Copies what is readable from `from` to `to`; drops what `to` cannot take
// now (nobody attached) rather than stalling the container's output.
void relay(int from, int to)
{
    char buffer[4096];
    const ssize_t n = ::read(from, buffer, sizeof buffer);
    if (n > 0 && to >= 0)
        [[maybe_unused]] const ssize_t ignored = ::write(to, buffer, static_cast<std::size_t>(n));
}

int supervise(LaunchedContainer &container, const std::string &exit_file, const std::string &state_file)
{
    sigset_t signals;
    sigemptyset(&signals);
    for (const int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP})
        sigaddset(&signals, s);
    const int sigfd = ::signalfd(-1, &signals, SFD_CLOEXEC);
    // Held open so the host pty never reports a hang-up while nobody is attached.
    const int host_slave = container.console_path.empty()
                               ? -1
                               : ::open(container.console_path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    int status = 0;
    for (;;) {
        pollfd fds[3] = {{sigfd, POLLIN, 0}, {container.host_console, POLLIN, 0}, {container.container_console, POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0 && errno != EINTR)
            break;
        if (fds[1].revents & POLLIN)
            relay(container.host_console, container.container_console);
        if (fds[2].revents & POLLIN)
            relay(container.container_console, container.host_console);
        if (!(fds[0].revents & POLLIN))
            continue;
        signalfd_siginfo info{};
        if (::read(sigfd, &info, sizeof info) != sizeof info)
            continue;
        if (info.ssi_signo != SIGCHLD) {
            ::kill(container.init, static_cast<int>(info.ssi_signo) == SIGHUP ? SIGTERM : static_cast<int>(info.ssi_signo));
            continue;
        }
        if (::waitpid(container.init, &status, WNOHANG) == container.init)
            break;
    }
    ExitRecord record;
    record.exited = WIFEXITED(status);
    record.code = record.exited ? WEXITSTATUS(status) : WTERMSIG(status);
    record.oom = container.cgroup.oom_killed();
    remove_container_leftovers(container.cgroup, container.host_veths);
    if (host_slave >= 0)
        ::close(host_slave);
    try {
        record.save(exit_file);
    } catch (const virtkit::Error &e) {
        std::fprintf(stderr, "%s\n", e.what());
    }
    ::unlink(state_file.c_str());
    return 0;
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc != 7) {
        std::fprintf(stderr, "usage: %s DEFINITION STATE EXIT CGROUP_LEAF LINK_PREFIX STATUS_FD\n"
                             "(started by the virtkit lxc plugin, not by hand)\n", argv[0]);
        return 2;
    }
    const int status_fd = std::atoi(argv[6]);
    // Not inherited by init: the starter reads until our answer, and a copy
    // held by the container would keep it waiting.
    ::fcntl(status_fd, F_SETFD, FD_CLOEXEC);
    // Detach: the starter reaps our parent at once and we live on our own.
    const pid_t daemon = ::fork();
    if (daemon < 0) {
        report(status_fd, "error 12 cannot fork the supervisor: " + std::string(std::strerror(errno)));
        return 1;
    }
    if (daemon > 0)
        return 0;
    ::setsid();
    ::signal(SIGPIPE, SIG_IGN);
    sigset_t signals;
    sigemptyset(&signals);
    for (const int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP})
        sigaddset(&signals, s);
    ::sigprocmask(SIG_BLOCK, &signals, nullptr);

    LaunchedContainer container;
    try {
        std::ifstream in(argv[1]);
        std::stringstream text;
        text << in.rdbuf();
        const ContainerDefinition def = ContainerDefinition::parse(text.str());
        container = launch_container(def, argv[4], argv[5]);
        LiveState state;
        state.supervisor = ProcessIdentity::of(::getpid());
        state.init = ProcessIdentity::of(container.init);
        state.cgroup_version = container.cgroup.version();
        state.cgroup_dirs = container.cgroup.dirs();
        state.console = container.console_path;
        state.host_veths = container.host_veths;
        state.save(argv[2]);
    } catch (const std::exception &e) {
        if (container.init > 0) {  // started, but cannot be recorded: undo
            ::kill(container.init, SIGKILL);
            ::waitpid(container.init, nullptr, 0);
            remove_container_leftovers(container.cgroup, container.host_veths);
        }
        const auto *error = dynamic_cast<const virtkit::Error *>(&e);
        report(status_fd, "error " + std::to_string(error ? error->code() : 1) + " " + e.what());
        return 1;
    }
    report(status_fd, "ok " + std::to_string(container.init));
    ::close(status_fd);
    return supervise(container, argv[3], argv[2]);
}
