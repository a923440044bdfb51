// Helpers for the [sdk] tests, which drive real programs (cmake, cpack, the
// installed virtkit) the way a driver author or a packager would.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace sdk_test {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed again at scope exit.
class TempDir {
public:
    explicit TempDir(const std::string &tag);
    ~TempDir();
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    const fs::path &path() const { return path_; }
    fs::path operator/(const std::string &name) const { return path_ / name; }

private:
    fs::path path_;
};

struct CommandResult {
    int exitCode = -1;   // -1 if it did not exit normally
    std::string output;  // stdout and stderr together
};

// Runs `command` through /bin/sh with stdout and stderr captured.
CommandResult run(const std::string &command);
// Single-quoted for /bin/sh.
std::string quote(const std::string &text);
std::string quote(const fs::path &path);
// `env -i` with PATH and HOME kept, plus the given VAR=value pairs: a
// program's view is then exactly what the test set up.
std::string cleanEnv(const std::vector<std::string> &assignments);

std::string readFile(const fs::path &file);
void writeFile(const fs::path &file, const std::string &text);

// The "id" values of `virtkit plugins --json` output, in order.
std::vector<std::string> pluginIds(const std::string &json);
// The "status" of plugin `id` in that output ("" if not listed).
std::string pluginStatus(const std::string &json, const std::string &id);

}  // namespace sdk_test
