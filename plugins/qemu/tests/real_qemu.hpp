// Starting a real qemu-system-x86_64 for [qemu-real] tests: a bare QEMU with
// no machine and no guest, a QMP socket in a temporary directory, killed and
// reaped when the guard goes out of scope.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "process/child_process.hpp"
#include "qmp/qmp_client.hpp"
#include "temp_dir.hpp"

namespace virtkit::qemu::testing {

inline std::string qemu_binary()
{
    const std::string path = "/usr/bin/qemu-system-x86_64";
    if (!std::filesystem::exists(path))
        throw std::runtime_error(path + " is not installed (scripts/setup.sh installs qemu-system-x86)");
    return path;
}

class BareQemu {
public:
    explicit BareQemu(const std::vector<std::string> &extra = {})
    {
        std::vector<std::string> argv = {qemu_binary(), "-S", "-nodefaults", "-no-user-config",
                                         "-display", "none", "-machine", "none",
                                         "-qmp", "unix:" + socket_path() + ",server=on,wait=off"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        process_.emplace(ChildProcess::spawn(argv, {"", dir_.file("stderr.log"), {}}));
    }
    std::string socket_path() const { return dir_.file("qmp.sock"); }
    ChildProcess &process() { return *process_; }

private:
    TempDir dir_;
    std::optional<ChildProcess> process_;  // destroyed (killed, reaped) before dir_
};

}  // namespace virtkit::qemu::testing
