#include "harness.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char **environ;

namespace virtkit::test {
namespace {

std::string slurp(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

pid_t spawn(const std::vector<std::string> &args, const std::map<std::string, std::string> &env,
            const std::string &outPath, const std::string &errPath)
{
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<std::string> a = args;
    std::vector<char *> argv;
    for (auto &s : a)
        argv.push_back(s.data());
    argv.push_back(nullptr);
    std::vector<std::string> e;
    for (const auto &[k, v] : env)
        e.push_back(k + "=" + v);
    std::vector<char *> envp;
    for (auto &s : e)
        envp.push_back(s.data());
    envp.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        throw std::runtime_error("cannot spawn " + args[0] + ": " + std::strerror(rc));
    return pid;
}

int waitExit(pid_t pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::map<std::string, std::string> baseEnv(const std::map<std::string, std::string> &extra)
{
    static TempDir home;  // one HOME for every CLI run: none of them writes state there
    std::map<std::string, std::string> env = {{"HOME", home.str()}, {"PATH", "/usr/bin:/bin"}, {"LANG", "C"}};
    for (const auto &[k, v] : extra)
        env[k] = v;
    return env;
}

}  // namespace

TempDir::TempDir()
{
    std::string pattern = (std::filesystem::temp_directory_path() / "virtkitd-test-XXXXXX").string();
    if (!mkdtemp(pattern.data()))
        throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

TempDir::~TempDir()
{
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string &name, const std::string &content) const
{
    const auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
}

Run runProgram(const std::vector<std::string> &argv, const std::map<std::string, std::string> &env)
{
    TempDir dir;
    const std::string out = dir.str() + "/out", err = dir.str() + "/err";
    const pid_t pid = spawn(argv, baseEnv(env), out, err);
    Run r;
    r.exitCode = waitExit(pid);
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
}

Run runCli(const std::vector<std::string> &args, const std::map<std::string, std::string> &env)
{
    std::vector<std::string> argv{VIRTKIT_CLI_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    return runProgram(argv, env);
}

Daemon::Daemon(const std::string &root, std::vector<std::string> extra, const std::string &config) : root_(root)
{
    logPath_ = root + "/daemon.log";
    std::vector<std::string> argv{VIRTKITD_PATH, "--root", root, "--verbose"};
    if (!config.empty()) {
        const std::string file = root + "/virtkitd.yaml";
        std::ofstream(file) << config;
        argv.insert(argv.end(), {"--config", file});
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    // Append, so a restarted daemon's log keeps the first one's lines.
    const std::string previous = slurp(logPath_ + ".old") + slurp(logPath_ + ".new");
    std::ofstream(logPath_ + ".old") << previous;
    pid_ = spawn(argv, baseEnv({}), "/dev/null", logPath_ + ".new");
    for (int i = 0; i < 200 && !ready_; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
        if (slurp(logPath_ + ".new").find("virtkitd: ready") != std::string::npos)
            ready_ = true;
        else if (!running())
            break;
    }
    if (!ready_) {
        const std::string why = log();
        kill9();
        throw std::runtime_error("virtkitd did not start: " + why);
    }
}

Daemon::~Daemon()
{
    if (pid_ > 0)
        kill9();
}

std::string Daemon::testUri(bool ro) const { return "test+unix:///default?socket=" + (ro ? roSocket() : socket()); }

std::string Daemon::log() const { return slurp(logPath_ + ".old") + slurp(logPath_ + ".new"); }

bool Daemon::waitLog(const std::string &needle, std::chrono::milliseconds limit) const
{
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (log().find(needle) != std::string::npos)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return log().find(needle) != std::string::npos;
}

bool Daemon::running() const
{
    if (pid_ <= 0)
        return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == 0)
        return true;
    pid_ = -1;  // reaped: never signal a pid that may be reused
    return false;
}

int Daemon::terminate()
{
    if (pid_ <= 0)
        return -1;
    ::kill(pid_, SIGTERM);
    const int rc = waitExit(pid_);
    pid_ = -1;
    return rc;
}

void Daemon::kill9()
{
    if (pid_ <= 0)
        return;
    ::kill(pid_, SIGKILL);
    waitExit(pid_);
    pid_ = -1;
}

RawClient::RawClient(const std::string &path)
{
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0)
        throw std::runtime_error("connect " + path + ": " + std::strerror(errno));
}

RawClient::~RawClient()
{
    if (fd_ >= 0)
        ::close(fd_);
}

void RawClient::send(const std::string &bytes)
{
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw std::runtime_error(std::string("send: ") + std::strerror(errno));
        }
        done += static_cast<std::size_t>(n);
    }
}

void RawClient::shutdownWrite() { ::shutdown(fd_, SHUT_WR); }

std::string RawClient::readAll(std::chrono::milliseconds limit)
{
    std::string out;
    const auto end = std::chrono::steady_clock::now() + limit;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return out;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
            return out;
        char buf[65536];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0)
            return out;
        out.append(buf, static_cast<std::size_t>(n));
    }
}

std::string RawClient::readResponse(std::chrono::milliseconds limit)
{
    std::string out;
    const auto end = std::chrono::steady_clock::now() + limit;
    for (;;) {
        const auto headerEnd = out.find("\r\n\r\n");
        if (headerEnd != std::string::npos) {
            const auto cl = out.find("Content-Length: ");
            const std::size_t length = cl == std::string::npos ? 0 : std::stoul(out.substr(cl + 16));
            if (out.size() >= headerEnd + 4 + length)
                return out;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return out;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
            return out;
        char buf[65536];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0)
            return out;
        out.append(buf, static_cast<std::size_t>(n));
    }
}

bool RawClient::closedByPeer(std::chrono::milliseconds limit)
{
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 100) > 0) {
            char buf[4096];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0)
                return true;
        }
    }
    return false;
}

int httpStatus(const std::string &response)
{
    if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12)
        return 0;
    return std::atoi(response.c_str() + 9);
}

std::string httpBody(const std::string &response)
{
    const auto end = response.find("\r\n\r\n");
    return end == std::string::npos ? "" : response.substr(end + 4);
}

}  // namespace virtkit::test
