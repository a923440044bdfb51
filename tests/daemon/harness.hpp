// Test harness for virtkitd: a daemon process under a temp root (killed on
// scope exit, even when a test fails), a thread-safe CLI runner, and a raw
// socket for sending the hostile bytes a real client never would.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace virtkit::test {

class TempDir {
public:
    TempDir();
    ~TempDir();
    const std::filesystem::path &path() const { return path_; }
    std::string str() const { return path_.string(); }
    std::string write(const std::string &name, const std::string &content) const;

private:
    std::filesystem::path path_;
};

struct Run {
    int exitCode = -1;
    std::string out, err;
};

// Runs a program to completion; stdin is /dev/null.  Thread-safe.
Run runProgram(const std::vector<std::string> &argv, const std::map<std::string, std::string> &env = {});
// The built virtkit CLI with HOME in `home` and no VIRTKIT_* but `env`.
Run runCli(const std::vector<std::string> &args, const std::map<std::string, std::string> &env = {});

class Daemon {
public:
    // Starts build/bin/virtkitd --root ROOT [extra...], with `config` (YAML) as
    // its --config when not empty; waits for its "ready" line.
    explicit Daemon(const std::string &root, std::vector<std::string> extra = {}, const std::string &config = "");
    ~Daemon();  // SIGKILL if still running
    Daemon(const Daemon &) = delete;
    Daemon &operator=(const Daemon &) = delete;

    pid_t pid() const { return pid_; }
    std::string socket() const { return root_ + "/virtkit-sock"; }
    std::string roSocket() const { return root_ + "/virtkit-sock-ro"; }
    // test+unix:///default?socket=<rw or ro socket>
    std::string testUri(bool readOnlySocket = false) const;
    std::string log() const;           // its stderr so far
    bool waitLog(const std::string &needle, std::chrono::milliseconds limit) const;
    int terminate();                   // SIGTERM, wait, exit status
    void kill9();                      // SIGKILL and reap
    bool running() const;

private:
    std::string root_, logPath_;
    mutable pid_t pid_ = -1;  // -1 once reaped
    bool ready_ = false;
};

// A plain stream socket to a UNIX path, for hand-written HTTP.
class RawClient {
public:
    explicit RawClient(const std::string &path);
    ~RawClient();
    void send(const std::string &bytes);  // throws on a closed peer
    void shutdownWrite();
    // Reads until the peer closes or `limit` passes; returns what came.
    std::string readAll(std::chrono::milliseconds limit);
    // Reads one HTTP response (headers + Content-Length body) or until `limit`.
    std::string readResponse(std::chrono::milliseconds limit);
    bool closedByPeer(std::chrono::milliseconds limit);  // EOF or reset within limit

private:
    int fd_ = -1;
};

int httpStatus(const std::string &response);  // 0 if none
std::string httpBody(const std::string &response);

}  // namespace virtkit::test
