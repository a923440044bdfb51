// VMware's vSphere simulator (govmomi vcsim, built by esx-tests.cmake) as a
// child process for one test: started on a free loopback port, stopped (and
// its temp files removed) when the object goes, even when a test fails.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace virtkit::esx::testing {

struct VcsimOptions {
    std::string model = "esx";  // or "vpx"
    int vms = 2;
    bool tls = true;
    std::string user = "root";
    std::string password = "secret";
    std::string delay;  // METHOD=ms,...
};

inline VcsimOptions withModel(const std::string &model, int vms = 2)
{
    VcsimOptions options;
    options.model = model;
    options.vms = vms;
    return options;
}

class Vcsim {
public:
    explicit Vcsim(const VcsimOptions &options = {});
    ~Vcsim();
    Vcsim(const Vcsim &) = delete;
    Vcsim &operator=(const Vcsim &) = delete;

    int port() const { return port_; }
    const VcsimOptions &options() const { return options_; }
    // "esx://127.0.0.1:PORT/?no_verify=1" (tls) or "...?transport=http";
    // the vpx model: its standalone host, vpx://127.0.0.1:PORT/DC0/DC0_H0
    std::string uri(const std::string &extraQuery = "") const;
    // SOAP requests the simulator has served so far.
    long requestsServed() const;
    void kill();  // SIGKILL now: the "server died" case

private:
    VcsimOptions options_;
    pid_t pid_ = -1;
    int stdinFd_ = -1;
    int port_ = 0;
};

// True when the simulator was built; otherwise a test should WARN and return.
bool vcsimAvailable();
#define ESX_REQUIRE_VCSIM()                                                                             \
    do {                                                                                                \
        if (!::virtkit::esx::testing::vcsimAvailable()) {                                               \
            WARN("skipped: Go or govmomi was not found at configure time, so vcsim was not built");     \
            return;                                                                                     \
        }                                                                                               \
    } while (0)

// An auth file (esx, gsx and vpx entries for `host`) in a fresh temp dir, named by VIRTKIT_AUTH_FILE while alive.
class AuthFile {
public:
    AuthFile(const std::string &host, const std::string &user, const std::string &password);
    ~AuthFile();
    const std::string &path() const { return path_; }

private:
    std::string dir_;
    std::string path_;
};

// Runs a command line, returns exit status and combined output.
struct CommandResult {
    int status;
    std::string output;
};
CommandResult runCommand(const std::vector<std::string> &argv, const std::vector<std::string> &env = {});

}  // namespace virtkit::esx::testing
