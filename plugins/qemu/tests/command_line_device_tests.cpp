// Domain XML -> QEMU argv, one device class at a time.
#include <catch2/catch.hpp>

#include <map>
#include <optional>

#include <virtkit/error.hpp>

#include "command_line_support.hpp"

using namespace virtkit::qemu::testing;
using Catch::Contains;
using Strings = std::vector<std::string>;

TEST_CASE("disks: each bus gets its QEMU device, attached to a -blockdev node", "[qemu][argv][disk]")
{
    const auto args = args_for(domain_xml(
        "<disk type='file' device='disk'><source file='/i/a.img'/><target dev='vda' bus='virtio'/></disk>"
        "<disk type='block' device='disk'><source dev='/dev/vg/b'/><target dev='hdb' bus='ide'/></disk>"
        "<disk type='file' device='cdrom'><source file='/i/c.iso'/><target dev='hdc' bus='ide'/></disk>"
        "<disk type='file' device='disk'><source file='/i/d.img'/><target dev='sda' bus='scsi'/></disk>"
        "<disk type='file' device='disk'><source file='/i/e.img'/><target dev='sdb' bus='usb'/></disk>"));
    CHECK(device_drivers(args) == Strings{"piix3-usb-uhci", "virtio-blk-pci", "ide-hd", "ide-cd", "lsi", "scsi-hd",
                                          "usb-storage", "virtio-balloon-pci"});
    const auto nodes = json_values_of(args, "-blockdev");
    REQUIRE(nodes.size() == 5);
    CHECK(nodes[1]->getValue<std::string>("driver") == "host_device");
    CHECK(nodes[2]->getValue<bool>("read-only"));  // a cdrom is read-only
    const auto ide_hd = device(args, "ide-hd");
    CHECK(ide_hd->getValue<std::string>("bus") == "ide.0");
    CHECK(ide_hd->getValue<int>("unit") == 1);
    CHECK(ide_hd->getValue<std::string>("drive") == nodes[1]->getValue<std::string>("node-name"));
    CHECK(device(args, "ide-cd")->getValue<std::string>("bus") == "ide.1");
    CHECK(device(args, "scsi-hd")->getValue<std::string>("bus") == "scsi0.0");
}

TEST_CASE("disks: qcow2 gets a format node over the file node", "[qemu][argv][disk]")
{
    const auto args = args_for(domain_xml("<disk type='file'><driver name='qemu' type='qcow2'/>"
                                          "<source file='/i/a.qcow2'/><target dev='vda'/></disk>"));
    const auto nodes = json_values_of(args, "-blockdev");
    REQUIRE(nodes.size() == 2);
    CHECK(nodes[1]->getValue<std::string>("driver") == "qcow2");
    CHECK(nodes[1]->getValue<std::string>("file") == nodes[0]->getValue<std::string>("node-name"));
    CHECK(device(args, "virtio-blk-pci")->getValue<std::string>("drive") == nodes[1]->getValue<std::string>("node-name"));
    CHECK(error_code_for(domain_xml("<disk type='file'><driver name='qemu' type='vmdk'/>"
                                    "<source file='/i/a.vmdk'/><target dev='vda'/></disk>")) == VIRTKIT_ERR_NO_SUPPORT);
}

TEST_CASE("disks: readonly, shareable, cache, serial and an empty cdrom", "[qemu][argv][disk]")
{
    const auto args = args_for(domain_xml(
        "<disk type='file'><driver name='qemu' type='raw' cache='none'/><source file='/i/a.img'/>"
        "<target dev='vda'/><readonly/><shareable/><serial>WD-1234</serial></disk>"
        "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>"));
    const auto node = json_values_of(args, "-blockdev").at(0);
    CHECK(node->getValue<bool>("read-only"));
    CHECK(node->getObject("cache")->getValue<bool>("direct"));
    const auto blk = device(args, "virtio-blk-pci");
    CHECK(blk->getValue<bool>("share-rw"));
    CHECK(blk->getValue<std::string>("serial") == "WD-1234");
    CHECK(blk->getValue<std::string>("write-cache") == "on");
    const auto cd = device(args, "ide-cd");
    REQUIRE(cd);
    CHECK_FALSE(cd->has("drive"));
}

TEST_CASE("disks: sata on q35 uses the built-in AHCI, and on pc it needs a controller", "[qemu][argv][disk]")
{
    std::string q35 = domain_xml("<disk type='file'><source file='/i/a.img'/><target dev='sda' bus='sata'/></disk>");
    q35.replace(q35.find("machine='pc'"), 12, "machine='q35'");
    CHECK(device(args_for(q35), "ide-hd")->getValue<std::string>("bus") == "ide.0");
    const auto pc = args_for(domain_xml("<controller type='sata' index='0'/>"
                                        "<disk type='file'><source file='/i/a.img'/><target dev='sdb' bus='sata'/></disk>"));
    CHECK(device(pc, "ahci")->getValue<std::string>("id") == "sata0");
    CHECK(device(pc, "ide-hd")->getValue<std::string>("bus") == "sata0.1");
}

TEST_CASE("disks: bad targets, missing sources and unknown types are refused", "[qemu][argv][disk]")
{
    CHECK(error_code_for(domain_xml("<disk type='file'><source file='/a'/><target dev='zz9'/></disk>")) == VIRTKIT_ERR_XML);
    CHECK(error_code_for(domain_xml("<disk type='file'><target dev='vda'/></disk>")) == VIRTKIT_ERR_XML);
    CHECK(error_code_for(domain_xml("<disk type='file'><source file='rel/a'/><target dev='vda'/></disk>")) == VIRTKIT_ERR_XML);
    CHECK(error_code_for(domain_xml("<disk type='network'><source protocol='nbd' name='x'/><target dev='vda'/></disk>")) ==
          VIRTKIT_ERR_NO_SUPPORT);
    CHECK(error_code_for(domain_xml("<disk type='file' device='cdrom'><target dev='vda' bus='virtio'/></disk>")) ==
          VIRTKIT_ERR_NO_SUPPORT);
}

TEST_CASE("controllers: USB by model or the machine's default, SCSI, virtio-serial, PCI bridges", "[qemu][argv][controller]")
{
    CHECK(device_drivers(args_for(domain_xml("<controller type='usb' model='none'/><memballoon model='none'/>"))).empty());
    CHECK(device_drivers(args_for(domain_xml("<controller type='usb' model='qemu-xhci'/>"))).front() == "qemu-xhci");
    std::string bare_q35 = domain_xml();
    bare_q35.replace(bare_q35.find("machine='pc'"), 12, "machine='q35'");
    CHECK(device_drivers(args_for(bare_q35)).front() == "qemu-xhci");
    const auto args = args_for(domain_xml(
        "<controller type='scsi' index='0' model='virtio-scsi'/><controller type='virtio-serial' index='0'/>"
        "<controller type='pci' index='0' model='pci-root'/>"
        "<controller type='pci' index='1' model='pci-bridge'><address type='pci' domain='0x0000' bus='0x00' "
        "slot='0x05' function='0x0'/></controller>"
        "<disk type='file'><source file='/a'/><target dev='sda' bus='scsi'/></disk>"));
    CHECK(device(args, "virtio-scsi-pci")->getValue<std::string>("id") == "scsi0");
    CHECK(device(args, "virtio-serial-pci")->getValue<std::string>("id") == "virtio-serial0");
    const auto bridge = device(args, "pci-bridge");
    CHECK(bridge->getValue<std::string>("id") == "pci.1");
    CHECK(bridge->getValue<std::string>("addr") == "0x5");
    CHECK(bridge->getValue<std::string>("bus") == "pci.0");
    CHECK(device(args, "scsi-hd")->getValue<int>("lun") == 0);
    CHECK(error_code_for(domain_xml("<controller type='ccid' index='0'/>")) == VIRTKIT_ERR_NO_SUPPORT);
    std::string q35 = domain_xml("<controller type='pci' index='0' model='pcie-root'/>"
                                 "<controller type='pci' index='1' model='pcie-root-port'><model name='ioh3420'/>"
                                 "<target chassis='7' port='0x10'/></controller>");
    q35.replace(q35.find("machine='pc'"), 12, "machine='q35'");
    const auto port = device(args_for(q35), "ioh3420");
    REQUIRE(port);
    CHECK(port->getValue<int>("chassis") == 7);
    CHECK(port->getValue<int>("port") == 16);
    CHECK(error_code_for(domain_xml("<controller type='usb' model='fancy-usb'/>")) == VIRTKIT_ERR_NO_SUPPORT);
    CHECK(error_code_for(domain_xml("<controller type='scsi' model='virtio-scsi'><address type='pci' slot='0xZZ'/>"
                                    "</controller>")) == VIRTKIT_ERR_XML);
}

TEST_CASE("interfaces: user, bridge and tap backends with their NIC models and MAC addresses", "[qemu][argv][net]")
{
    const auto args = args_for(domain_xml(
        "<interface type='user'><mac address='52:54:00:aa:bb:cc'/><model type='virtio'/></interface>"
        "<interface type='bridge'><source bridge='br0'/><model type='e1000'/></interface>"
        "<interface type='ethernet'><target dev='tap7'/></interface>"));
    CHECK(values_of(args, "-netdev") == Strings{"user,id=hostnet0", "bridge,id=hostnet1,br=br0",
                                                "tap,id=hostnet2,ifname=tap7,script=no,downscript=no"});
    const auto virtio = device(args, "virtio-net-pci");
    CHECK(virtio->getValue<std::string>("netdev") == "hostnet0");
    CHECK(virtio->getValue<std::string>("mac") == "52:54:00:aa:bb:cc");
    CHECK(device(args, "e1000")->getValue<std::string>("netdev") == "hostnet1");
    CHECK(device(args, "rtl8139"));  // libvirt's default model
    CHECK(error_code_for(domain_xml("<interface type='user'><mac address='52:54:00:aa:bb'/></interface>")) == VIRTKIT_ERR_XML);
    CHECK(values_of(args_for(domain_xml("<interface type='bridge'><source bridge='br0,id=x'/></interface>")),
                    "-netdev") == Strings{"bridge,id=hostnet0,br=br0,,id=x"});
}

namespace {

std::vector<std::string> args_with_networks(const std::string &xml, virtkit::qemu::NetworkBridgeLookup networks)
{
    virtkit::qemu::CommandLineOptions options;
    options.monitor_socket = "/m.sock";
    options.network_bridges = std::move(networks);
    return build_command_line(xml, options).args;
}

}  // namespace

TEST_CASE("interfaces: a virtual network is its host bridge, attached as type='bridge'", "[qemu][argv][net]")
{
    const std::string on_default = "<interface type='network'><source network='default'/><model type='virtio'/>"
                                   "<mac address='52:54:00:aa:bb:cc'/></interface>";
    const auto args = args_for(domain_xml(on_default));
    CHECK(values_of(args, "-netdev") == Strings{"bridge,id=hostnet0,br=virbr0"});
    CHECK(values_of(args, "-netdev") ==
          values_of(args_for(domain_xml("<interface type='bridge'><source bridge='virbr0'/><model type='virtio'/>"
                                        "<mac address='52:54:00:aa:bb:cc'/></interface>")),
                    "-netdev"));
    CHECK(device(args, "virtio-net-pci")->getValue<std::string>("netdev") == "hostnet0");
    // Live XML read back carries the bridge too; it must agree.
    CHECK(values_of(args_for(domain_xml("<interface type='network'><source network='default' bridge='virbr0'/>"
                                        "</interface>")),
                    "-netdev") == Strings{"bridge,id=hostnet0,br=virbr0"});

    // The config maps names to bridges, and may remap 'default'.
    const std::map<std::string, std::string> config = {{"lan", "br0"}, {"default", "br-nat"}, {"odd", "br0,id=x"}};
    const auto lookup = [config](const std::string &network) -> std::optional<std::string> {
        const auto found = config.find(network);
        return found == config.end() ? std::nullopt : std::optional(found->second);
    };
    CHECK(values_of(args_with_networks(domain_xml("<interface type='network'><source network='lan'/></interface>"
                                                  "<interface type='network'><source network='default'/></interface>"),
                                       lookup),
                    "-netdev") == Strings{"bridge,id=hostnet0,br=br0", "bridge,id=hostnet1,br=br-nat"});
    // A comma in a configured bridge name cannot inject an option.
    CHECK(values_of(args_with_networks(domain_xml("<interface type='network'><source network='odd'/></interface>"),
                                       lookup),
                    "-netdev") == Strings{"bridge,id=hostnet0,br=br0,,id=x"});
}

TEST_CASE("interfaces: unknown networks and what a bridge cannot honour are refused", "[qemu][argv][net]")
{
    const std::string unknown = domain_xml("<interface type='network'><source network='isolated'/></interface>");
    CHECK(error_code_for(unknown) == VIRTKIT_ERR_NO_SUPPORT);
    CHECK_THAT(error_text_for(unknown), Contains("'isolated'") && Contains("plugins: qemu: networks:"));
    const auto nothing_configured = [](const std::string &) -> std::optional<std::string> { return std::nullopt; };
    CHECK_THROWS_WITH(args_with_networks(unknown, nothing_configured), Contains("'isolated'"));

    CHECK(error_code_for(domain_xml("<interface type='network'/>")) == VIRTKIT_ERR_XML);
    CHECK(error_code_for(domain_xml("<interface type='network'><source bridge='virbr0'/></interface>")) ==
          VIRTKIT_ERR_XML);
    const std::string portgroup =
        domain_xml("<interface type='network'><source network='default' portgroup='engineering'/></interface>");
    CHECK(error_code_for(portgroup) == VIRTKIT_ERR_NO_SUPPORT);
    CHECK_THAT(error_text_for(portgroup), Contains("portgroup"));
    CHECK(error_code_for(domain_xml("<interface type='network'><source network='default' bridge='br9'/>"
                                    "</interface>")) == VIRTKIT_ERR_NO_SUPPORT);
    CHECK(error_code_for(domain_xml("<interface type='network'><source network='default'/>"
                                    "<virtualport type='openvswitch'/></interface>")) == VIRTKIT_ERR_NO_SUPPORT);
    CHECK(error_code_for(domain_xml("<interface type='network'><source network='default'/>"
                                    "<bandwidth><inbound average='1000'/></bandwidth></interface>")) ==
          VIRTKIT_ERR_NO_SUPPORT);
    const auto empty_bridge = [](const std::string &) -> std::optional<std::string> { return std::string(); };
    CHECK_THROWS_WITH(args_with_networks(domain_xml("<interface type='network'><source network='lan'/></interface>"),
                                         empty_bridge),
                      Contains("plugins.qemu.networks.lan"));
}

TEST_CASE("serial, console and channel: chardev backends and their frontends", "[qemu][argv][chardev]")
{
    const auto args = args_for(domain_xml(
        "<serial type='pty'><target port='0'/></serial>"
        "<serial type='unix'><source mode='bind' path='/run/s.sock'/></serial>"
        "<serial type='null'/>"
        "<console type='pty'><target type='serial' port='0'/></console>"
        "<console type='pty'><target type='virtio' port='1'/></console>"
        "<channel type='unix'><source mode='bind' path='/run/ga.sock'/>"
        "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>"));
    const Strings chardevs = values_of(args, "-chardev");
    CHECK(chardevs == Strings{"socket,id=charmonitor,path=/run/test/monitor.sock,server=on,wait=off",
                              "pty,id=charserial0", "socket,id=charserial1,path=/run/s.sock,server=on,wait=off",
                              "null,id=charserial2", "pty,id=charconsole0",
                              "socket,id=charchannel0,path=/run/ga.sock,server=on,wait=off"});
    CHECK(device_drivers(args) == Strings{"piix3-usb-uhci", "isa-serial", "isa-serial", "isa-serial",
                                          "virtio-serial-pci", "virtconsole", "virtserialport", "virtio-balloon-pci"});
    CHECK(device(args, "virtserialport")->getValue<std::string>("name") == "org.qemu.guest_agent.0");
    // a serial console with no <serial> is the first serial port
    CHECK(device_drivers(args_for(domain_xml("<console type='pty'/>"))) ==
          Strings{"piix3-usb-uhci", "isa-serial", "virtio-balloon-pci"});
    CHECK(error_code_for(domain_xml("<serial type='spiceport'/>")) == VIRTKIT_ERR_NO_SUPPORT);
    CHECK(error_code_for(domain_xml("<channel type='pty'><target type='guestfwd'/></channel>")) == VIRTKIT_ERR_NO_SUPPORT);
}

TEST_CASE("graphics: VNC on a given port or the first free one, and other kinds refused", "[qemu][argv][display]")
{
    CHECK(values_of(args_for(domain_xml("<graphics type='vnc' port='5905' listen='0.0.0.0'/>")), "-vnc") ==
          Strings{"0.0.0.0:5"});
    CHECK(values_of(args_for(domain_xml("<graphics type='vnc' autoport='yes'><listen type='address' address='::1'/>"
                                        "</graphics>")),
                    "-vnc") == Strings{"[::1]:0,to=100"});
    CHECK(error_code_for(domain_xml("<graphics type='spice'/>")) == VIRTKIT_ERR_NO_SUPPORT);
    CHECK(error_code_for(domain_xml("<graphics type='vnc' port='80'/>")) == VIRTKIT_ERR_XML);
    CHECK(error_code_for(domain_xml("<graphics type='vnc' passwd='secret'/>")) == VIRTKIT_ERR_NO_SUPPORT);
}

TEST_CASE("video, input and sound devices", "[qemu][argv][display]")
{
    CHECK(device(args_for(domain_xml("<graphics type='vnc'/>")), "cirrus-vga"));  // default card with a display
    const auto args = args_for(domain_xml(
        "<video><model type='qxl' vram='65536'/></video><video><model type='virtio'/></video>"
        "<input type='tablet' bus='usb'/><input type='mouse' bus='ps2'/><input type='keyboard' bus='virtio'/>"
        "<sound model='ich6'><codec type='micro'/></sound><sound model='ac97'/>"));
    CHECK(device_drivers(args) == Strings{"piix3-usb-uhci", "qxl-vga", "virtio-gpu-pci", "usb-tablet",
                                          "virtio-keyboard-pci", "intel-hda", "hda-micro", "AC97", "virtio-balloon-pci"});
    CHECK(device(args, "qxl-vga")->getValue<int>("vgamem_mb") == 64);
    CHECK(device(args, "hda-micro")->getValue<std::string>("bus") == "sound0.0");
    CHECK(values_of(args, "-audiodev") == Strings{"none,id=audio1"});
    CHECK(error_code_for(domain_xml("<video><model type='gop'/></video>")) == VIRTKIT_ERR_NO_SUPPORT);
    CHECK(error_code_for(domain_xml("<input type='passthrough' bus='virtio'/>")) == VIRTKIT_ERR_NO_SUPPORT);
    CHECK(error_code_for(domain_xml("<sound model='pcspk'/>")) == VIRTKIT_ERR_NO_SUPPORT);
    const auto declared = args_for(domain_xml("<audio id='3' type='none'/><sound model='es1370'/>"));
    CHECK(values_of(declared, "-audiodev") == Strings{"none,id=audio3"});
    CHECK(device(declared, "ES1370")->getValue<std::string>("audiodev") == "audio3");
    CHECK(error_code_for(domain_xml("<audio id='1' type='pulseaudio'/>")) == VIRTKIT_ERR_NO_SUPPORT);
}

TEST_CASE("memballoon, rng, watchdog and panic devices", "[qemu][argv][misc]")
{
    CHECK(device(args_for(domain_xml()), "virtio-balloon-pci"));  // libvirt adds one unless model='none'
    const auto args = args_for(domain_xml(
        "<memballoon model='none'/>"
        "<rng model='virtio'><rate bytes='1024' period='2000'/><backend model='random'>/dev/hwrng</backend></rng>"
        "<watchdog model='i6300esb' action='poweroff'/><panic model='isa'/>"));
    CHECK(device_drivers(args) == Strings{"piix3-usb-uhci", "virtio-rng-pci", "i6300esb", "pvpanic"});
    const auto rng_object = json_values_of(args, "-object").at(0);
    CHECK(rng_object->getValue<std::string>("filename") == "/dev/hwrng");
    CHECK(device(args, "virtio-rng-pci")->getValue<std::string>("rng") == rng_object->getValue<std::string>("id"));
    CHECK(device(args, "virtio-rng-pci")->getValue<int>("max-bytes") == 1024);
    CHECK(values_of(args, "-action") == Strings{"watchdog=poweroff"});
    CHECK(error_code_for(domain_xml("<rng model='virtio'><backend model='egd' type='tcp'/></rng>")) ==
          VIRTKIT_ERR_NO_SUPPORT);
    CHECK(error_code_for(domain_xml("<watchdog model='diag288'/>")) == VIRTKIT_ERR_NO_SUPPORT);
}

TEST_CASE("<qemu:commandline> arguments and environment pass through as written", "[qemu][argv]")
{
    const std::string extra = "<qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
                              "<qemu:arg value='-trace'/><qemu:arg value='events=/tmp/ev,file=/tmp/t'/>"
                              "<qemu:env name='QEMU_AUDIO_DRV' value='none'/></qemu:commandline>";
    virtkit::qemu::CommandLineOptions options;
    options.monitor_socket = "/m.sock";
    const auto line = build_command_line(domain_xml("", extra), options);
    CHECK(values_of(line.args, "-trace") == Strings{"events=/tmp/ev,file=/tmp/t"});
    REQUIRE(line.environment.size() == 1);
    CHECK(line.environment[0] == std::pair<std::string, std::string>("QEMU_AUDIO_DRV", "none"));
}
