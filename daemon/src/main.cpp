// virtkitd: owns the plugin registry and every driver connection, serves
// them over HTTP/1.1 + JSON (see api.hpp).  One instance per state root.
//
//   virtkitd [--config FILE] [--root DIR] [--listen ADDR]... [--verbose]
//            [--pidfile FILE] [--timeout SECONDS]
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <virtkit/config.hpp>
#include <virtkit/context.hpp>
#include <virtkit/error.hpp>
#include <virtkit/log.hpp>

#include "api.hpp"
#include "driver_pool.hpp"
#include "server.hpp"

namespace {

using namespace virtkit;
using namespace virtkit::daemon;

struct Options {
    std::optional<std::string> configFile;
    std::string root;  // "" = the system layout (/run/virtkit)
    std::vector<std::string> listen;
    bool verbose = false;
    std::optional<std::string> pidFile;
    unsigned timeoutSec = 0;
};

const char *kUsage =
    "usage: virtkitd [--config FILE] [--root DIR] [--listen ADDR]... [--verbose]\n"
    "                [--pidfile FILE] [--timeout SECONDS]\n"
    "  --root DIR      keep all state, runtime files and sockets under DIR;\n"
    "                  qemu:///system is served as qemu:///embed?root=DIR/qemu\n"
    "  --listen ADDR   unix:PATH, unix-ro:PATH, tls:ADDR:PORT, tcp:127.0.0.1:PORT (repeatable)\n"
    "  --timeout N     exit after N seconds without clients\n";

Options parseOptions(int argc, char **argv)
{
    Options o;
    const std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string name = args[i], value;
        const auto eq = name.find('=');
        const bool inlineValue = name.rfind("--", 0) == 0 && eq != std::string::npos;
        if (inlineValue) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        const auto needValue = [&]() -> std::string {
            if (inlineValue)
                return value;
            if (i + 1 >= args.size())
                throw Error(VIRTKIT_ERR_INVALID_ARG, "option '" + name + "' needs a value");
            return args[++i];
        };
        if (name == "--config" || name == "-f") {
            o.configFile = needValue();
        } else if (name == "--root") {
            o.root = needValue();
            if (o.root.empty() || o.root[0] != '/')
                throw Error(VIRTKIT_ERR_INVALID_ARG, "--root needs an absolute directory, not '" + o.root + "'");
            while (o.root.size() > 1 && o.root.back() == '/')
                o.root.pop_back();
        } else if (name == "--listen") {
            o.listen.push_back(needValue());
        } else if (name == "--verbose" || name == "-v") {
            o.verbose = true;
        } else if (name == "--pidfile" || name == "-p") {
            o.pidFile = needValue();
        } else if (name == "--timeout" || name == "-t") {
            const std::string v = needValue();
            try {
                std::size_t used = 0;
                const unsigned long t = std::stoul(v, &used);
                if (used != v.size() || t > 86400 * 365)
                    throw std::invalid_argument(v);
                o.timeoutSec = static_cast<unsigned>(t);
            } catch (const std::exception &) {
                throw Error(VIRTKIT_ERR_INVALID_ARG, "--timeout needs a number of seconds, not '" + v + "'");
            }
        } else if (name == "--help" || name == "-h") {
            std::cout << kUsage;
            std::exit(0);
        } else {
            throw Error(VIRTKIT_ERR_INVALID_ARG, "unknown option '" + name + "'\n" + kUsage);
        }
    }
    return o;
}

Config loadConfig(const Options &o)
{
    return o.configFile ? Config::loadFile(*o.configFile) : Config::load();
}

// The pid file doubles as the lock on the state root: held (flock) for the
// daemon's life, released by the kernel even on SIGKILL.
class PidLock {
public:
    explicit PidLock(const std::string &path) : path_(path)
    {
        std::error_code ec;
        std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ < 0)
            throw Error(VIRTKIT_ERR_SYSTEM, "cannot open pid file " + path + ": " + std::strerror(errno));
        if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
            char buf[32] = {};
            const auto n = ::pread(fd_, buf, sizeof buf - 1, 0);
            ::close(fd_);
            fd_ = -1;
            std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "?";
            while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' '))
                pid.pop_back();
            throw Error(VIRTKIT_ERR_OPERATION_INVALID,
                        "another virtkitd (pid " + pid + ") already holds " + path + "; one daemon per state root");
        }
        const std::string text = std::to_string(::getpid()) + "\n";
        if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, text.data(), text.size(), 0) < 0)
            throw Error(VIRTKIT_ERR_SYSTEM, "cannot write pid file " + path + ": " + std::strerror(errno));
    }
    ~PidLock()
    {
        if (fd_ >= 0) {
            ::unlink(path_.c_str());
            ::close(fd_);
        }
    }

private:
    std::string path_;
    int fd_ = -1;
};

// systemd socket activation: fds from 3, named by FileDescriptorName= in the .socket unit.
std::vector<ListenSpec> inheritedListeners()
{
    std::vector<ListenSpec> out;
    const char *pid = std::getenv("LISTEN_PID");
    const char *fds = std::getenv("LISTEN_FDS");
    if (!pid || !fds || std::to_string(::getpid()) != pid)
        return out;
    const int count = std::atoi(fds);
    std::vector<std::string> names;
    if (const char *n = std::getenv("LISTEN_FDNAMES")) {
        std::string all = n;
        for (std::size_t start = 0; start <= all.size();) {
            const auto colon = all.find(':', start);
            names.push_back(all.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
            if (colon == std::string::npos)
                break;
            start = colon + 1;
        }
    }
    for (int i = 0; i < count; ++i) {
        ListenSpec spec;
        spec.kind = ListenSpec::Kind::Inherited;
        spec.fd = 3 + i;
        spec.readOnly = static_cast<std::size_t>(i) < names.size() && names[static_cast<std::size_t>(i)] == "virtkit-ro";
        ::fcntl(spec.fd, F_SETFD, FD_CLOEXEC);
        out.push_back(spec);
    }
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
    return out;
}

ServerSettings settingsFor(const Options &o, const Config &config)
{
    ServerSettings s = ServerSettings::fromConfig(config);
    const std::string runDir = o.root.empty() ? config.daemonValue("socket_dir").value_or("/run/virtkit") : o.root;
    auto inherited = inheritedListeners();
    // The default pair, always: read-write (0600) and read-only (0666), unless
    // systemd handed over a socket of that kind (virtkitd.socket: the rw one).
    const auto handed = [&](bool ro) {
        return std::any_of(inherited.begin(), inherited.end(), [ro](const ListenSpec &l) { return l.readOnly == ro; });
    };
    if (!handed(true))
        s.listeners.insert(s.listeners.begin(), parseListen("unix-ro:" + runDir + "/virtkit-sock-ro"));
    if (!handed(false))
        s.listeners.insert(s.listeners.begin(), parseListen("unix:" + runDir + "/virtkit-sock"));
    s.listeners.insert(s.listeners.begin(), inherited.begin(), inherited.end());
    for (const auto &text : o.listen)
        s.listeners.push_back(parseListen(text));
    if (s.pkiDir.empty())
        s.pkiDir = o.root.empty() ? "/etc/pki/virtkit" : o.root + "/pki";
    return s;
}

int run(const Options &o)
{
    Config config = loadConfig(o);
    if (o.verbose)
        ::setenv("VIRTKIT_LOG", "*=info", 0);
    // Signals are taken synchronously by the main thread: block them before any thread starts.
    sigset_t signals;
    sigemptyset(&signals);
    for (const int s : {SIGTERM, SIGINT, SIGHUP})
        sigaddset(&signals, s);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    Context ctx(config);
    auto log = log::get("daemon");
    for (const auto &w : config.warnings())
        log->warn("{}", w);
    ServerSettings settings = settingsFor(o, config);
    const std::string runDir = o.root.empty() ? config.daemonValue("socket_dir").value_or("/run/virtkit") : o.root;
    PidLock lock(o.pidFile.value_or(runDir + "/virtkitd.pid"));

    DriverPool pool(ctx, o.root);
    Api api(pool);
    Server server(api, settings);
    server.start();
    log->info("virtkitd {} ready (root {})", VIRTKIT_DAEMON_VERSION, o.root.empty() ? "system" : o.root);
    std::cerr << "virtkitd: ready\n" << std::flush;  // tests and scripts wait for this line

    for (;;) {
        timespec tick{1, 0};
        const int sig = sigtimedwait(&signals, nullptr, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
            log->info("signal {}: stopping; guests keep running", sig);
            break;
        }
        if (sig == SIGHUP) {
            try {
                Config fresh = loadConfig(o);
                server.reload(settingsFor(o, fresh));
                for (const auto &w : fresh.warnings())
                    log->warn("{}", w);
                log->info("configuration reloaded from {}", fresh.source().empty() ? "defaults" : fresh.source());
            } catch (const std::exception &e) {
                log->error("configuration reload failed, keeping the old one: {}", e.what());
            }
        }
        if (o.timeoutSec && server.idleSeconds() >= o.timeoutSec) {
            log->info("no clients for {} s: exiting (--timeout)", o.timeoutSec);
            break;
        }
    }
    server.stop();
    pool.closeAll();  // drivers detach from their guests; nothing is stopped
    return 0;
}

}  // namespace

int main(int argc, char **argv)
{
    try {
        return run(parseOptions(argc, argv));
    } catch (const std::exception &e) {
        std::cerr << "virtkitd: error: " << e.what() << '\n';
        return 1;
    }
}
