// Runs the built virtkit binary in a sandbox: a fresh temp dir as HOME, no
// VIRTKIT_* variables unless a test sets them, stdin from /dev/null.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace virtkit::test {

struct CliResult {
    int exitCode = -1;
    std::string out;
    std::string err;
    // stderr lines starting with "error: "
    std::vector<std::string> errorLines() const;
    std::vector<std::string> outLines() const;
};

class CliSandbox {
public:
    CliSandbox();
    ~CliSandbox();
    CliSandbox(const CliSandbox &) = delete;
    CliSandbox &operator=(const CliSandbox &) = delete;

    const std::filesystem::path &dir() const { return dir_; }
    // Writes dir()/name and returns its absolute path.
    std::string writeFile(const std::string &name, const std::string &content) const;
    void setEnv(const std::string &name, const std::string &value) { env_[name] = value; }

    CliResult run(const std::vector<std::string> &args) const;
    // The usual case: against test:///default.
    CliResult runTest(const std::string &commands) const { return run({"-c", "test:///default", commands}); }

private:
    std::filesystem::path dir_;
    std::map<std::string, std::string> env_;
};

// A small valid domain definition.
std::string domainXml(const std::string &name, const std::string &extra = "");

}  // namespace virtkit::test
