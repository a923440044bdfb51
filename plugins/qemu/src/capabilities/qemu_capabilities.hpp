// What one QEMU binary can do, learnt by asking it over QMP (libvirt's
// approach): version, machine types, CPU models, KVM and device types.
// Probing costs one short-lived QEMU, so results are cached per binary,
// keyed by path + mtime + size, in memory and optionally on disk.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "qmp/qmp_client.hpp"

namespace virtkit::qemu {

struct MachineType {
    std::string name;
    std::string alias;  // e.g. "pc" for pc-i440fx-7.2
    bool is_default = false;
    int max_cpus = 0;
    bool deprecated = false;
};

struct BinaryStamp {
    std::int64_t mtime_ns = 0;
    std::uint64_t size = 0;
    bool operator==(const BinaryStamp &) const = default;
    static BinaryStamp of(const std::string &path);  // throws when missing
};

struct QemuCapabilities {
    std::string binary;
    BinaryStamp stamp;
    QemuVersion version;
    std::vector<MachineType> machines;
    std::vector<std::string> cpu_models;  // usable ones (no unavailable features)
    bool kvm_present = false;
    bool kvm_enabled = false;  // QEMU ran the probe under KVM
    std::set<std::string> device_types;

    bool has_device(const std::string &driver) const { return device_types.count(driver) != 0; }
    // The machine a name (or alias) resolves to, or nullptr.
    const MachineType *machine(const std::string &name_or_alias) const;

    std::string to_json() const;
    static QemuCapabilities from_json(const std::string &text);  // throws on a bad or old format
};

// Starts `binary` with no machine and asks it.  Throws Error on failure,
// with QEMU's own stderr in the message.  Nothing is left running.
QemuCapabilities probe_capabilities(const std::string &binary, std::chrono::milliseconds timeout);

class CapabilityCache {
public:
    // `directory` empty: memory only.
    explicit CapabilityCache(std::filesystem::path directory = {}) : directory_(std::move(directory)) {}

    // Cached capabilities of `binary`, probing only when it changed.
    std::shared_ptr<const QemuCapabilities> get(const std::string &binary);
    int probes_run() const;

private:
    std::filesystem::path file_for(const std::string &binary) const;

    std::filesystem::path directory_;
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<const QemuCapabilities>> entries_;
    int probes_ = 0;
};

}  // namespace virtkit::qemu
