#include "capabilities/qemu_capabilities.hpp"

#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <virtkit/error.hpp>

#include "capabilities/kvm.hpp"
#include "command_line/option_string.hpp"
#include "process/child_process.hpp"
#include "qmp/monitor_connect.hpp"

namespace virtkit::qemu {
namespace {

constexpr int cache_format = 1;  // bump when the JSON layout changes

using Poco::JSON::Array;
using Poco::JSON::Object;

// A private directory for the probe's socket and log, removed afterwards.
class ScratchDirectory {
public:
    ScratchDirectory()
    {
        const char *tmp = std::getenv("TMPDIR");
        std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/virtkit-probe-XXXXXX";
        if (!::mkdtemp(pattern.data()))
            throw Error(VIRTKIT_ERR_SYSTEM, "cannot create a directory for probing QEMU in " + pattern);
        path_ = pattern;
    }
    ~ScratchDirectory()
    {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    ScratchDirectory(const ScratchDirectory &) = delete;
    ScratchDirectory &operator=(const ScratchDirectory &) = delete;
    std::string file(const char *name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

Array::Ptr array_of(const Poco::Dynamic::Var &value)
{
    if (value.type() != typeid(Array::Ptr))
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, "QEMU answered a capability query with something not a list");
    return value.extract<Array::Ptr>();
}

std::string string_member(const Object::Ptr &object, const char *key)
{
    return object && object->has(key) ? object->get(key).toString() : "";
}

bool bool_member(const Object::Ptr &object, const char *key)
{
    return object && object->has(key) && object->get(key).isBoolean() && object->getValue<bool>(key);
}

}  // namespace

BinaryStamp BinaryStamp::of(const std::string &path)
{
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode))
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "emulator '" + path + "' does not exist or is not a file");
    return {static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec,
            static_cast<std::uint64_t>(info.st_size)};
}

const MachineType *QemuCapabilities::machine(const std::string &name_or_alias) const
{
    for (const MachineType &m : machines)
        if (m.name == name_or_alias || (!m.alias.empty() && m.alias == name_or_alias))
            return &m;
    return nullptr;
}

QemuCapabilities probe_capabilities(const std::string &binary, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    QemuCapabilities caps;
    caps.binary = binary;
    caps.stamp = BinaryStamp::of(binary);
    if (::access(binary.c_str(), X_OK) != 0)
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "emulator '" + binary + "' is not executable");

    const ScratchDirectory scratch;
    const std::string socket = scratch.file("qmp.sock");
    std::vector<std::string> argv{binary, "-S", "-nodefaults", "-no-user-config", "-display", "none",
                                  "-machine", "none"};
    if (probe_kvm().usable)
        argv.insert(argv.end(), {"-accel", "kvm", "-accel", "tcg"});
    argv.insert(argv.end(), {"-qmp", "unix:" + escape_option_value(socket, "probe socket") + ",server=on,wait=off"});
    ChildProcess qemu = ChildProcess::spawn(argv, {"", scratch.file("stderr.log"), {}, true});
    std::unique_ptr<QmpClient> client;
    try {
        client = connect_to_started_qemu(qemu, socket, scratch.file("stderr.log"), {}, deadline);
    } catch (const Error &e) {
        throw Error(e.code(), "probing QEMU binary '" + binary + "' failed: " + e.what());
    }
    const auto left = [&] {
        return std::max(std::chrono::milliseconds(1), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                          deadline - std::chrono::steady_clock::now()));
    };

    caps.version = client->qemu_version();
    // Each list is held by name: a range-for over *temporary would outlive it.
    const Array::Ptr machine_list = array_of(client->execute("query-machines", left()));
    for (const auto &entry : *machine_list) {
        const Object::Ptr m = entry.extract<Object::Ptr>();
        MachineType machine;
        machine.name = string_member(m, "name");
        machine.alias = string_member(m, "alias");
        machine.is_default = bool_member(m, "is-default");
        machine.deprecated = bool_member(m, "deprecated");
        machine.max_cpus = m->has("cpu-max") ? m->getValue<int>("cpu-max") : 0;
        caps.machines.push_back(std::move(machine));
    }
    const Array::Ptr cpu_list = array_of(client->execute("query-cpu-definitions", left()));
    for (const auto &entry : *cpu_list) {
        const Object::Ptr cpu = entry.extract<Object::Ptr>();
        const Array::Ptr missing = cpu->getArray("unavailable-features");
        if (!missing || missing->size() == 0)
            caps.cpu_models.push_back(string_member(cpu, "name"));
    }
    const Object::Ptr kvm = client->execute("query-kvm", left()).extract<Object::Ptr>();
    caps.kvm_present = bool_member(kvm, "present");
    caps.kvm_enabled = bool_member(kvm, "enabled");
    Object::Ptr filter = new Object;
    filter->set("implements", "device");
    filter->set("abstract", false);
    const Array::Ptr type_list = array_of(client->execute("qom-list-types", filter, left()));
    for (const auto &entry : *type_list)
        caps.device_types.insert(string_member(entry.extract<Object::Ptr>(), "name"));

    try {
        client->execute("quit", left());
    } catch (const Error &) {
        // QEMU may hang up before answering; it is killed below either way
    }
    if (!qemu.wait_for_exit(std::chrono::milliseconds(500)))
        qemu.kill_and_reap();
    return caps;
}

std::string QemuCapabilities::to_json() const
{
    Object::Ptr root = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    root->set("format", cache_format);
    root->set("binary", binary);
    root->set("mtime_ns", stamp.mtime_ns);
    root->set("size", stamp.size);
    Object::Ptr v = new Object;
    v->set("major", version.major);
    v->set("minor", version.minor);
    v->set("micro", version.micro);
    v->set("package", version.package);
    root->set("version", v);
    Array::Ptr machine_list = new Array;
    for (const MachineType &m : machines) {
        Object::Ptr o = new Object;
        o->set("name", m.name);
        o->set("alias", m.alias);
        o->set("default", m.is_default);
        o->set("cpu-max", m.max_cpus);
        o->set("deprecated", m.deprecated);
        machine_list->add(o);
    }
    root->set("machines", machine_list);
    Array::Ptr cpus = new Array;
    for (const std::string &c : cpu_models)
        cpus->add(c);
    root->set("cpu-models", cpus);
    root->set("kvm-present", kvm_present);
    root->set("kvm-enabled", kvm_enabled);
    Array::Ptr devices = new Array;
    for (const std::string &d : device_types)
        devices->add(d);
    root->set("devices", devices);
    std::ostringstream out;
    Poco::JSON::Stringifier::stringify(root, out, 1);
    return out.str();
}

QemuCapabilities QemuCapabilities::from_json(const std::string &text)
{
    try {
        Poco::JSON::Parser parser;
        const Object::Ptr root = parser.parse(text).extract<Object::Ptr>();
        if (!root || root->getValue<int>("format") != cache_format)
            throw Error(VIRTKIT_ERR_CONFIG, "capability cache entry has another format");
        QemuCapabilities caps;
        caps.binary = root->getValue<std::string>("binary");
        caps.stamp = {root->getValue<std::int64_t>("mtime_ns"), root->getValue<std::uint64_t>("size")};
        const Object::Ptr v = root->getObject("version");
        caps.version = {v->getValue<int>("major"), v->getValue<int>("minor"), v->getValue<int>("micro"),
                        v->getValue<std::string>("package")};
        for (const auto &entry : *root->getArray("machines")) {
            const Object::Ptr m = entry.extract<Object::Ptr>();
            caps.machines.push_back({m->getValue<std::string>("name"), m->getValue<std::string>("alias"),
                                     m->getValue<bool>("default"), m->getValue<int>("cpu-max"),
                                     m->getValue<bool>("deprecated")});
        }
        for (const auto &entry : *root->getArray("cpu-models"))
            caps.cpu_models.push_back(entry.toString());
        caps.kvm_present = root->getValue<bool>("kvm-present");
        caps.kvm_enabled = root->getValue<bool>("kvm-enabled");
        for (const auto &entry : *root->getArray("devices"))
            caps.device_types.insert(entry.toString());
        return caps;
    } catch (const Error &) {
        throw;
    } catch (const std::exception &e) {
        throw Error(VIRTKIT_ERR_CONFIG, std::string("capability cache entry is unreadable: ") + e.what());
    }
}

std::filesystem::path CapabilityCache::file_for(const std::string &binary) const
{
    std::string name;
    for (const char c : binary)
        name += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_';
    return directory_ / (name + ".json");
}

std::shared_ptr<const QemuCapabilities> CapabilityCache::get(const std::string &binary)
{
    const BinaryStamp stamp = BinaryStamp::of(binary);
    const std::lock_guard lock(mutex_);
    if (const auto found = entries_.find(binary); found != entries_.end() && found->second->stamp == stamp)
        return found->second;
    if (!directory_.empty()) {
        std::ifstream in(file_for(binary));
        if (in) {
            try {
                auto cached = std::make_shared<const QemuCapabilities>(
                    QemuCapabilities::from_json(std::string((std::istreambuf_iterator<char>(in)), {})));
                if (cached->stamp == stamp && cached->binary == binary)
                    return entries_[binary] = cached;
            } catch (const Error &) {
                // a stale or damaged entry is simply probed again
            }
        }
    }
    auto probed = std::make_shared<const QemuCapabilities>(probe_capabilities(binary, std::chrono::seconds(30)));
    ++probes_;
    if (!directory_.empty()) {
        // write-then-rename: a concurrent reader sees the old or the new entry, never half of one
        std::error_code ignored;
        std::filesystem::create_directories(directory_, ignored);
        const auto target = file_for(binary);
        const auto temporary = target.string() + ".tmp." + std::to_string(::getpid());
        std::ofstream(temporary) << probed->to_json();
        std::filesystem::rename(temporary, target, ignored);
    }
    return entries_[binary] = probed;
}

int CapabilityCache::probes_run() const
{
    const std::lock_guard lock(mutex_);
    return probes_;
}

}  // namespace virtkit::qemu
