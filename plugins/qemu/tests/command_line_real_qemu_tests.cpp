// Generated command lines started by a real qemu-system-x86_64.
#include <catch2/catch.hpp>

#include <fstream>

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
