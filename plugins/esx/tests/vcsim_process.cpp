#include "vcsim_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <memory>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>

extern char **environ;

namespace virtkit::esx::testing {

bool vcsimAvailable() { return std::strlen(VIRTKIT_ESX_VCSIM) > 0 && ::access(VIRTKIT_ESX_VCSIM, X_OK) == 0; }

Vcsim::Vcsim(const VcsimOptions &options) : options_(options)
{
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe failed");
    std::vector<std::string> args = {VIRTKIT_ESX_VCSIM, "-model", options.model, "-vm", std::to_string(options.vms),
                                     "-user", options.user, "-pass", options.password};
    if (options.tls)
        args.push_back("-tls");
    if (!options.delay.empty()) {
        args.push_back("-delay");
        args.push_back(options.delay);
    }
    pid_ = ::fork();
    if (pid_ == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        if (!std::getenv("VIRTKIT_ESX_VCSIM_LOG")) {  // vcsim logs every call to stderr
            const int devnull = ::open("/dev/null", O_WRONLY);
            ::dup2(devnull, 2);
        }
        std::vector<char *> argv;
        for (auto &a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdinFd_ = in[1];
    // "URL https://127.0.0.1:PORT/sdk" within 60 s (model creation takes a while for 500 VMs)
    std::string line;
    pollfd pfd{out[0], POLLIN, 0};
    while (line.find('\n') == std::string::npos && ::poll(&pfd, 1, 60000) > 0) {
        char buf[256];
        const ssize_t n = ::read(out[0], buf, sizeof buf);
        if (n <= 0)
            break;
        line.append(buf, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    const auto colon = line.rfind(':');
    if (line.rfind("URL ", 0) != 0 || colon == std::string::npos) {
        kill();
        throw std::runtime_error("vcsim did not start: '" + line + "'");
    }
    port_ = std::atoi(line.c_str() + colon + 1);
}

Vcsim::~Vcsim()
{
    if (stdinFd_ >= 0)
        ::close(stdinFd_);  // vcsim stops on EOF and removes its temp datastore
    if (pid_ > 0) {
        for (int i = 0; i < 50; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_)
                return;
            ::usleep(100000);
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

void Vcsim::kill()
{
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
}

std::string Vcsim::uri(const std::string &extraQuery) const
{
    std::string query = options_.tls ? "?no_verify=1" : "?transport=http";
    if (!extraQuery.empty())
        query += "&" + extraQuery;
    return options_.model == "vpx"
               ? "vpx://127.0.0.1:" + std::to_string(port_) + "/DC0/DC0_H0" + query
               : "esx://127.0.0.1:" + std::to_string(port_) + "/" + query;
}

long Vcsim::requestsServed() const
{
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (options_.tls) {
        Poco::Net::Context::Ptr context =
            new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", Poco::Net::Context::VERIFY_NONE);
        session = std::make_unique<Poco::Net::HTTPSClientSession>("127.0.0.1", static_cast<uint16_t>(port_), context);
    } else {
        session = std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", static_cast<uint16_t>(port_));
    }
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/virtkit-requests");
    session->sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::string body;
    Poco::StreamCopier::copyToString(session->receiveResponse(response), body);
    return std::atol(body.c_str());
}

AuthFile::AuthFile(const std::string &host, const std::string &user, const std::string &password)
{
    char tmpl[] = "/tmp/virtkit-esx-auth-XXXXXX";
    if (!::mkdtemp(tmpl))
        throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    path_ = dir_ + "/auth.conf";
    std::ofstream file(path_);
    file << "[credentials-test]\nusername=" << user << "\npassword=" << password << "\n";
    for (const char *scheme : {"esx", "gsx", "vpx"})
        file << "[auth-" << scheme << "-" << host << "]\ncredentials=test\n";
    ::setenv("VIRTKIT_AUTH_FILE", path_.c_str(), 1);
}

AuthFile::~AuthFile()
{
    ::unsetenv("VIRTKIT_AUTH_FILE");
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
}

CommandResult runCommand(const std::vector<std::string> &argv, const std::vector<std::string> &env)
{
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe failed");
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out[1], 1);
        ::dup2(out[1], 2);
        const int devnull = ::open("/dev/null", O_RDONLY);
        ::dup2(devnull, 0);
        ::setsid();  // no controlling terminal: a password prompt must not find one
        for (const auto &e : env)
            ::putenv(const_cast<char *>(e.c_str()));
        std::vector<char *> args;
        for (const auto &a : argv)
            args.push_back(const_cast<char *>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(out[1]);
    std::string output;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(out[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            output.append(buf, static_cast<std::size_t>(n));
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

}  // namespace virtkit::esx::testing
