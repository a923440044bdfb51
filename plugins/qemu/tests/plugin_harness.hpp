// Driving the built plugin through its C ABI in tests: the operations
// table, a connection wrapper, guest XML and ways to find and watch a QEMU.
#pragma once

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <virtkit/plugin.h>

#include "temp_dir.hpp"

namespace virtkit::qemu::testing {

struct Event {
    std::string name;
    int32_t type;
    int32_t detail;
};

// Lifecycle events the plugin emitted since the last call.
std::vector<Event> take_events();
// The plugin's operations table (dlopen + init once per process; the test
// host's config sets shutdown_timeout 1.5 s, lock_wait 0.3 s and the
// virtual network lan -> bridge br-lan).
const virtkit_driver_ops &ops();

struct Outcome {
    int32_t code;
    std::string message;
};

template <typename Call>
inline Outcome attempt(Call &&call)
{
    virtkit_error err{};
    err.struct_size = sizeof err;
    const int32_t code = call(&err);
    return {code, code == VIRTKIT_OK ? "" : err.message};
}

class Conn {
public:
    explicit Conn(const std::string &root)
    {
        const Outcome opened = attempt([&](virtkit_error *e) {
            return ops().connect_open(("qemu:///embed?root=" + root).c_str(), 0, &conn_, e);
        });
        REQUIRE(opened.code == VIRTKIT_OK);
    }
    ~Conn() { close(); }
    void close()
    {
        if (conn_)
            attempt([&](virtkit_error *e) { return ops().connect_close(std::exchange(conn_, nullptr), e); });
    }
    Outcome define(const std::string &xml, virtkit_domain_ident *ident = nullptr)
    {
        virtkit_domain_ident scratch{};
        scratch.struct_size = sizeof scratch;
        return attempt([&](virtkit_error *e) { return ops().domain_define_xml(conn_, xml.c_str(), 0, ident ? ident : &scratch, e); });
    }
    Outcome run(int32_t (*const op)(virtkit_conn *, const char *, uint32_t, virtkit_error *), const std::string &uuid,
                uint32_t flags = 0)
    {
        return attempt([&](virtkit_error *e) { return op(conn_, uuid.c_str(), flags, e); });
    }
    // qemu-monitor-command: the reply text, or the error in `outcome`.
    std::string monitor(const std::string &uuid, const std::string &command, uint32_t flags, Outcome *outcome = nullptr)
    {
        char *reply = nullptr;
        const Outcome result = attempt([&](virtkit_error *e) {
            return ops().domain_monitor_command(conn_, uuid.c_str(), command.c_str(), flags, &reply, e);
        });
        if (outcome)
            *outcome = result;
        std::string text = reply ? reply : "";
        if (reply)
            ops().free_string(reply);
        return text;
    }
    virtkit_conn *handle() const { return conn_; }
    Outcome run(int32_t (*const op)(virtkit_conn *, const char *, virtkit_error *), const std::string &uuid)
    {
        return attempt([&](virtkit_error *e) { return op(conn_, uuid.c_str(), e); });
    }
    virtkit_domain_info info(const std::string &uuid)
    {
        virtkit_domain_info out{};
        out.struct_size = sizeof out;
        REQUIRE(attempt([&](virtkit_error *e) { return ops().domain_get_info(conn_, uuid.c_str(), &out, e); }).code ==
                VIRTKIT_OK);
        return out;
    }
    std::vector<std::string> names(uint32_t flags)
    {
        virtkit_domain_ident *list = nullptr;
        size_t count = 0;
        REQUIRE(attempt([&](virtkit_error *e) { return ops().domain_list(conn_, flags, &list, &count, e); }).code ==
                VIRTKIT_OK);
        std::vector<std::string> result;
        for (size_t i = 0; i < count; ++i)
            result.emplace_back(list[i].name);
        ops().free_domain_list(list, count);
        return result;
    }

private:
    virtkit_conn *conn_ = nullptr;
};

// Unique per call: tests run in parallel processes and find their QEMU by UUID.
inline std::string fresh_uuid()
{
    unsigned char bytes[16];
    std::ifstream("/dev/urandom", std::ios::binary).read(reinterpret_cast<char *>(bytes), sizeof bytes);
    char text[37];
    std::snprintf(text, sizeof text, "%02x%02x%02x%02x-%02x%02x-4%x%02x-8%x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                  bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6] & 15, bytes[7], bytes[8] & 15, bytes[9],
                  bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
    return text;
}

inline std::string guest_xml(const std::string &name, const std::string &uuid, const std::string &devices = "",
                      const std::string &machine = "pc")
{
    return "<domain type='qemu'><name>" + name + "</name><uuid>" + uuid + "</uuid>"
           "<memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='" + machine +
           "'>hvm</type></os><devices>" + devices + "<memballoon model='none'/></devices></domain>";
}

// The pid of the QEMU running guest `uuid`, found by its -uuid argument.
inline pid_t qemu_pid_of(const std::string &uuid)
{
    DIR *proc = ::opendir("/proc");
    pid_t found = -1;
    while (const dirent *entry = proc ? ::readdir(proc) : nullptr) {
        std::ifstream in(std::string("/proc/") + entry->d_name + "/cmdline");
        const std::string cmdline((std::istreambuf_iterator<char>(in)), {});
        if (cmdline.find("qemu-system") != std::string::npos &&
            cmdline.find(std::string("-uuid") + '\0' + uuid) != std::string::npos)
            found = static_cast<pid_t>(std::atoi(entry->d_name));
    }
    if (proc)
        ::closedir(proc);
    return found;
}

inline bool gone(pid_t pid)
{
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("State:", 0) == 0)
            return line.find('Z') != std::string::npos;  // a zombie counts as dead
    return true;
}


// Kills (SIGKILL) whatever QEMU still runs guest `uuid` at scope exit, so a
// failing test leaves nothing behind.
class QemuGuard {
public:
    explicit QemuGuard(std::string uuid) : uuid_(std::move(uuid)) {}
    ~QemuGuard()
    {
        for (pid_t pid = qemu_pid_of(uuid_); pid > 0 && !gone(pid); pid = qemu_pid_of(uuid_))
            ::kill(pid, SIGKILL);
    }
    QemuGuard(const QemuGuard &) = delete;
    QemuGuard &operator=(const QemuGuard &) = delete;

private:
    std::string uuid_;
};

}  // namespace virtkit::qemu::testing
