// Generated command lines started by a real qemu-system-x86_64.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>

#include <virtkit/error.hpp>

#include "command_line/command_line.hpp"
#include "real_qemu.hpp"

using namespace std::chrono_literals;
using namespace virtkit::qemu;
using virtkit::qemu::testing::qemu_binary;
using virtkit::qemu::testing::TempDir;

namespace {

Poco::JSON::Array::Ptr as_array(const Poco::Dynamic::Var &value) { return value.extract<Poco::JSON::Array::Ptr>(); }

}  // namespace

TEST_CASE("real QEMU accepts a generated command line with a device of every class", "[qemu][qemu-real][argv]")
{
    const TempDir dir;
    const std::string image = dir.file("disk,readonly=off,file=x.img");
    std::ofstream(image).put('\0');
    std::filesystem::resize_file(image, 1 << 20);
    const std::string xml =
        "<domain type='qemu'><name>every-class</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>"
        "<memory unit='MiB'>64</memory><currentMemory unit='MiB'>64</currentMemory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>"
        "<features><acpi/><apic/></features><clock offset='utc'><timer name='rtc' tickpolicy='catchup'/></clock>"
        "<on_reboot>restart</on_reboot><devices>"
        "<emulator>" + qemu_binary() + "</emulator>"
        "<disk type='file' device='disk'><driver name='qemu' type='raw' cache='writeback'/>"
        "<source file='" + image + "'/><target dev='vda' bus='virtio'/><serial>S1</serial></disk>"
        "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>"
        "<controller type='scsi' model='virtio-scsi'/><controller type='virtio-serial'/>"
        "<interface type='user'><mac address='52:54:00:12:34:56'/><model type='virtio'/></interface>"
        "<interface type='user'><model type='e1000'/></interface>"
        "<serial type='pty'/><console type='pty'><target type='serial'/></console>"
        "<channel type='unix'><source mode='bind' path='" + dir.file("ga.sock") + "'/>"
        "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
        "<graphics type='vnc' autoport='yes' listen='127.0.0.1'/><video><model type='vga'/></video>"
        "<input type='tablet' bus='usb'/><sound model='ich6'/>"
        "<memballoon model='virtio'/><rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
        "<watchdog model='i6300esb' action='reset'/><panic model='isa'/>"
        "</devices></domain>";
    CommandLineOptions options;
    options.monitor_socket = dir.file("qmp.sock");
    const QemuCommandLine line = build_command_line(xml, options);

    ChildProcess qemu = ChildProcess::spawn(line.argv(), {"", dir.file("qemu.log"), {}});
    const auto log = [&] {
        std::ifstream in(dir.file("qemu.log"));
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    std::optional<QmpClient> client;
    try {
        client.emplace(UnixStream::connect(options.monitor_socket, 5s), QmpClient::Options{});
    } catch (const virtkit::Error &e) {
        FAIL("QEMU refused the command line: " << e.what() << "\n" << log());
    }
    const auto status = client->execute("query-status", 5s).extract<Poco::JSON::Object::Ptr>();
    CHECK(status->getValue<std::string>("status") == "prelaunch");

    // the file name with option syntax in it reached QEMU as one name
    bool found_image = false;
    const Poco::JSON::Array::Ptr nodes = as_array(client->execute("query-named-block-nodes", 5s));
    for (const auto &node : *nodes)
        found_image = found_image || node.extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("file") == image;
    CHECK(found_image);

    client->execute("cont", 5s);
    CHECK(client->execute("query-status", 5s).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("status") ==
          "running");
    CHECK(client->execute("query-vnc", 5s).extract<Poco::JSON::Object::Ptr>()->getValue<bool>("enabled"));
    client.reset();
    qemu.kill_and_reap();
    CHECK(qemu.has_exited());
}

TEST_CASE("real QEMU builds the NUMA cells of the XML: a memory backend per cell and each vCPU in its node",
          "[qemu][qemu-real][argv][numa]")
{
    const TempDir dir;
    const std::string xml =
        "<domain type='qemu'><name>numa</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>"
        "<memory unit='MiB'>64</memory><vcpu>3</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>"
        "<cpu><numa><cell id='1' cpus='1-2' memory='24' unit='MiB' memAccess='shared'/>"
        "<cell id='0' cpus='0' memory='40' unit='MiB'/></numa></cpu><devices/></domain>";
    CommandLineOptions options;
    options.monitor_socket = dir.file("qmp.sock");
    ChildProcess qemu = ChildProcess::spawn(build_command_line(xml, options).argv(), {"", dir.file("qemu.log"), {}});
    std::optional<QmpClient> client;
    try {
        client.emplace(UnixStream::connect(options.monitor_socket, 5s), QmpClient::Options{});
    } catch (const virtkit::Error &e) {
        std::ifstream in(dir.file("qemu.log"));
        FAIL("QEMU refused the command line: " << e.what() << "\n" << std::string(std::istreambuf_iterator<char>(in), {}));
    }
    std::map<std::string, std::pair<std::int64_t, bool>> backends;  // id -> size, shared
    const Poco::JSON::Array::Ptr memdevs = as_array(client->execute("query-memdev", 5s));
    for (const auto &memdev : *memdevs) {
        const auto object = memdev.extract<Poco::JSON::Object::Ptr>();
        backends[object->getValue<std::string>("id")] = {object->getValue<std::int64_t>("size"),
                                                         object->getValue<bool>("share")};
    }
    CHECK(backends == std::map<std::string, std::pair<std::int64_t, bool>>{{"ram-node0", {40ll << 20, false}},
                                                                          {"ram-node1", {24ll << 20, true}}});
    std::map<std::int64_t, std::int64_t> node_of_cpu;
    const Poco::JSON::Array::Ptr cpus = as_array(client->execute("query-cpus-fast", 5s));
    for (const auto &cpu : *cpus) {
        const auto object = cpu.extract<Poco::JSON::Object::Ptr>();
        node_of_cpu[object->getValue<std::int64_t>("cpu-index")] =
            object->getObject("props")->getValue<std::int64_t>("node-id");
    }
    CHECK(node_of_cpu == std::map<std::int64_t, std::int64_t>{{0, 0}, {1, 1}, {2, 1}});
    client.reset();
    qemu.kill_and_reap();
}
