// Domain XML -> QEMU argv: the machine, its CPU, memory, firmware and clock,
// and the rules that keep XML from injecting options.
#include <catch2/catch.hpp>

#include <algorithm>

#include <virtkit/error.hpp>

#include "command_line_support.hpp"

using namespace virtkit::qemu::testing;
using Catch::Contains;

namespace {
bool has(const std::vector<std::string> &args, const std::string &arg)
{
    return std::find(args.begin(), args.end(), arg) != args.end();
}
}  // namespace

TEST_CASE("every guest starts paused, without defaults or user config, with QMP on its socket", "[qemu][argv]")
{
    const auto args = args_for(domain_xml());
    CHECK(has(args, "-S"));
    CHECK(has(args, "-nodefaults"));
    CHECK(has(args, "-no-user-config"));
    CHECK(values_of(args, "-name") == std::vector<std::string>{"guest=guest1,debug-threads=on"});
    CHECK(values_of(args, "-uuid") == std::vector<std::string>{"c7a5fdbd-edaf-9455-926a-d65c16db1809"});
    CHECK(values_of(args, "-chardev").front() == "socket,id=charmonitor,path=/run/test/monitor.sock,server=on,wait=off");
    CHECK(values_of(args, "-mon") == std::vector<std::string>{"chardev=charmonitor,id=monitor,mode=control"});
    CHECK(values_of(args, "-accel") == std::vector<std::string>{"tcg"});
    CHECK(values_of(args, "-machine").front().rfind("pc,", 0) == 0);
}

TEST_CASE("the emulator comes from <emulator>, and must be an absolute path", "[qemu][argv]")
{
    virtkit::qemu::CommandLineOptions options;
    options.monitor_socket = "/m.sock";
    CHECK(build_command_line(domain_xml("<emulator>/opt/qemu/bin/qemu-system-x86_64</emulator>"), options).emulator ==
          "/opt/qemu/bin/qemu-system-x86_64");
    CHECK(build_command_line(domain_xml(), options).emulator == "/usr/bin/qemu-system-x86_64");
    CHECK(error_code_for(domain_xml("<emulator>qemu</emulator>")) == VIRTKIT_ERR_XML);
}

TEST_CASE("a comma in any XML value is doubled, so it cannot start a new option", "[qemu][argv][escaping]")
{
    const std::string xml = "<domain type='qemu'><name>evil,debug-threads=off,process=x</name>"
                            "<uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid><memory>65536</memory>"
                            "<os><type machine='pc'>hvm</type></os><devices>"
                            "<serial type='file'><source path='/tmp/log,append=on'/></serial></devices></domain>";
    const auto args = args_for(xml);
    CHECK(values_of(args, "-name").front() == "guest=evil,,debug-threads=off,,process=x,debug-threads=on");
    CHECK(values_of(args, "-chardev").back() == "file,id=charserial0,path=/tmp/log,,append=on");
}

TEST_CASE("a disk path with option syntax in it stays one file name", "[qemu][argv][escaping]")
{
    const std::string path = "/var/lib/img,readonly=off,file=/etc/shadow";
    const auto args = args_for(domain_xml("<disk type='file' device='disk'><source file='" + path +
                                          "'/><target dev='vda' bus='virtio'/></disk>"));
    const auto blockdevs = json_values_of(args, "-blockdev");
    REQUIRE(blockdevs.size() == 1);
    CHECK(blockdevs[0]->getValue<std::string>("filename") == path);
    CHECK(blockdevs[0]->size() == 4);  // driver, filename, node-name, read-only: nothing smuggled in
    for (const std::string &arg : args)
        CHECK(arg != "file=/etc/shadow");
}

TEST_CASE("line breaks in values are refused instead of reaching QEMU", "[qemu][argv][escaping]")
{
    CHECK(error_code_for(domain_xml("<serial type='file'><source path='/tmp/a&#10;b'/></serial>")) == VIRTKIT_ERR_XML);
    CHECK(error_code_for(domain_xml("<disk type='file'><source file='/tmp/a&#13;b'/><target dev='vda'/></disk>")) ==
          VIRTKIT_ERR_XML);
}

TEST_CASE("domain XML is parsed without DTDs, entities or network access", "[qemu][argv][hardening]")
{
    const std::string entity = "<?xml version='1.0'?><!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
                               "<domain type='qemu'><name>&x;</name></domain>";
    CHECK(error_code_for(entity) == VIRTKIT_ERR_XML);
    CHECK(error_code_for("<domain type='qemu'><name>unclosed</domain>") == VIRTKIT_ERR_XML);
    CHECK(error_code_for("<notadomain/>") == VIRTKIT_ERR_XML);
    CHECK(error_code_for(std::string(5u << 20, ' ')) == VIRTKIT_ERR_XML);
}

TEST_CASE("memory honours units, maxMemory adds hotplug slots, currentMemory may not exceed memory", "[qemu][argv]")
{
    const std::string base = "<domain type='qemu'><name>g</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>";
    const std::string os = "<os><type>hvm</type></os><devices/></domain>";
    CHECK(values_of(args_for(base + "<memory unit='GiB'>1</memory>" + os), "-m") ==
          std::vector<std::string>{"size=1048576k"});
    CHECK(values_of(args_for(base + "<memory unit='MB'>100</memory>" + os), "-m") ==
          std::vector<std::string>{"size=97657k"});
    CHECK(values_of(args_for(base + "<maxMemory slots='16' unit='GiB'>4</maxMemory><memory>65536</memory>" + os),
                    "-m") == std::vector<std::string>{"size=65536k,slots=16,maxmem=4194304k"});
    CHECK(error_code_for(base + "<memory>65536</memory><currentMemory>131072</currentMemory>" + os) == VIRTKIT_ERR_XML);
    CHECK(error_code_for(base + "<memory unit='parsecs'>1</memory>" + os) == VIRTKIT_ERR_XML);
    CHECK(error_code_for(base + "<memory>lots</memory>" + os) == VIRTKIT_ERR_XML);
}

TEST_CASE("vcpus: current and maximum, and a topology that must add up", "[qemu][argv]")
{
    const auto smp = [](const std::string &vcpu, const std::string &cpu = "") {
        std::string xml = domain_xml("", cpu);
        const auto at = xml.find("<vcpu>1</vcpu>");
        xml.replace(at, 14, vcpu);
        return values_of(args_for(xml), "-smp").front();
    };
    CHECK(smp("<vcpu>2</vcpu>") == "2,sockets=2,cores=1,threads=1");
    CHECK(smp("<vcpu current='2'>4</vcpu>") == "2,maxcpus=4,sockets=4,cores=1,threads=1");
    CHECK(smp("<vcpu>8</vcpu>", "<cpu><topology sockets='2' cores='2' threads='2'/></cpu>") ==
          "8,sockets=2,cores=2,threads=2");
    CHECK_THROWS_AS(smp("<vcpu>6</vcpu>", "<cpu><topology sockets='2' cores='2' threads='2'/></cpu>"), virtkit::Error);
    CHECK_THROWS_AS(smp("<vcpu current='5'>4</vcpu>"), virtkit::Error);
}

TEST_CASE("CPU modes map as libvirt's do, and host-passthrough needs KVM", "[qemu][argv]")
{
    CHECK(values_of(args_for(domain_xml()), "-cpu").empty());  // QEMU's default model
    const auto custom = args_for(domain_xml("", "<cpu mode='custom'><model>Haswell</model>"
                                                "<feature policy='require' name='vmx'/>"
                                                "<feature policy='disable' name='hle'/></cpu>"));
    CHECK(values_of(custom, "-cpu") == std::vector<std::string>{"Haswell,vmx=on,hle=off"});
    CHECK(values_of(args_for(domain_xml("", "<cpu mode='host-passthrough'/>", "kvm"), true), "-cpu") ==
          std::vector<std::string>{"host"});
    CHECK(values_of(args_for(domain_xml("", "<cpu mode='host-model'/>")), "-cpu") == std::vector<std::string>{"max"});
    CHECK(error_code_for(domain_xml("", "<cpu mode='host-passthrough'/>")) == VIRTKIT_ERR_NO_SUPPORT);
}

namespace {
std::string numa_xml(const std::string &cells, const std::string &vcpus = "4")
{
    return "<domain type='qemu'><name>numa</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>"
           "<memory unit='MiB'>1</memory><vcpu>" + vcpus + "</vcpu><os><type machine='pc'>hvm</type></os>"
           "<cpu><numa>" + cells + "</numa></cpu><devices/></domain>";
}
}  // namespace

TEST_CASE("NUMA cells become memory backends and -numa nodes in id order, and their sum is the memory",
          "[qemu][argv][numa]")
{
    const auto args = args_for(numa_xml("<cell id='1' cpus='2-3' memory='100' unit='MiB' memAccess='shared'>"
                                        "<distances><sibling id='0' value='21'/><sibling id='1' value='10'/></distances>"
                                        "</cell>"
                                        "<cell id='0' cpus='0,1' memory='109550' unit='KiB'/>"));
    // 109550 KiB rounds up to 107 MiB, as libvirt rounds cells to whole MiB: 107 + 100 MiB in all
    CHECK(values_of(args, "-m") == std::vector<std::string>{"size=211968k"});
    CHECK(values_of(args, "-numa") == std::vector<std::string>{"node,nodeid=0,cpus=0-1,memdev=ram-node0",
                                                               "node,nodeid=1,cpus=2-3,memdev=ram-node1",
                                                               "dist,src=1,dst=0,val=21", "dist,src=1,dst=1,val=10"});
    const auto objects = json_values_of(args, "-object");
    REQUIRE(objects.size() == 2);
    CHECK(objects[0]->getValue<std::string>("qom-type") == "memory-backend-ram");
    CHECK(objects[0]->getValue<std::int64_t>("size") == 107ll << 20);
    CHECK(objects[1]->getValue<std::string>("qom-type") == "memory-backend-memfd");
    CHECK(objects[1]->getValue<bool>("share"));
    CHECK(objects[1]->getValue<std::int64_t>("size") == 100ll << 20);
    // a cell without CPUs, and split ranges with an exclusion
    CHECK(values_of(args_for(numa_xml("<cell cpus='0-3,^1' memory='64' unit='MiB'/><cell memory='64' unit='MiB'/>")),
                    "-numa") == std::vector<std::string>{"node,nodeid=0,cpus=0,cpus=2-3,memdev=ram-node0",
                                                         "node,nodeid=1,memdev=ram-node1"});
}

TEST_CASE("NUMA cells that cannot be built are refused with the reason", "[qemu][argv][numa]")
{
    CHECK_THAT(error_text_for(numa_xml("<cell cpus='0-4' memory='64' unit='MiB'/>")), Contains("vCPU 4"));
    CHECK_THAT(error_text_for(numa_xml("<cell cpus='0-1' memory='64'/><cell cpus='1-2' memory='64'/>")),
               Contains("two <numa> cells"));
    CHECK_THAT(error_text_for(numa_xml("<cell id='0' memory='64'/><cell id='0' memory='64'/>")), Contains("two cells"));
    CHECK_THAT(error_text_for(numa_xml("<cell id='0' memory='64'/><cell id='2' memory='64'/>")), Contains("from 0 to 1"));
    CHECK_THAT(error_text_for(numa_xml("<cell cpus='0' memory='64' memAccess='weird'/>")), Contains("memAccess"));
    CHECK_THAT(error_text_for(numa_xml("<cell cpus='3-1' memory='64'/>")), Contains("bad range"));
    CHECK_THAT(error_text_for(numa_xml("<cell memory='64'><distances><sibling id='5' value='20'/></distances></cell>")),
               Contains("distance"));
    CHECK(error_code_for(numa_xml("<cell memory='64'><cache level='1'/></cell>")) == VIRTKIT_ERR_NO_SUPPORT);
    CHECK(error_code_for(numa_xml("<cell memory='64' discard='yes'/>")) == VIRTKIT_ERR_NO_SUPPORT);
    CHECK(error_code_for(numa_xml("")) == VIRTKIT_ERR_XML);
}

TEST_CASE("a KVM domain is refused where KVM is not usable, and uses -accel kvm where it is", "[qemu][argv]")
{
    CHECK_THAT(error_text_for(domain_xml("", "", "kvm"), false), Contains("KVM"));
    CHECK(values_of(args_for(domain_xml("", "", "kvm"), true), "-accel") == std::vector<std::string>{"kvm"});
    CHECK(error_code_for(domain_xml("", "", "xen")) == VIRTKIT_ERR_NO_SUPPORT);
}

TEST_CASE("os: machine type, boot order and menu, direct kernel boot, UEFI pflash", "[qemu][argv]")
{
    const auto with_os = [](const std::string &os) {
        std::string xml = domain_xml();
        const auto start = xml.find("<os>");
        const auto end = xml.find("</os>") + 5;
        return xml.replace(start, end - start, os);
    };
    const auto q35 = args_for(with_os("<os><type machine='pc-q35-7.2'>hvm</type></os>"));
    CHECK(values_of(q35, "-machine").front().rfind("pc-q35-7.2,", 0) == 0);

    const auto boot = args_for(with_os("<os><type>hvm</type><boot dev='cdrom'/><boot dev='hd'/>"
                                       "<bootmenu enable='yes' timeout='3000'/></os>"));
    CHECK(values_of(boot, "-boot") == std::vector<std::string>{"order=dc,menu=on,splash-time=3000,strict=on"});

    const auto kernel = args_for(with_os("<os><type>hvm</type><kernel>/boot/vmlinuz</kernel>"
                                         "<initrd>/boot/initrd.img</initrd><cmdline>console=ttyS0,115200 ro</cmdline></os>"));
    CHECK(values_of(kernel, "-kernel") == std::vector<std::string>{"/boot/vmlinuz"});
    CHECK(values_of(kernel, "-initrd") == std::vector<std::string>{"/boot/initrd.img"});
    CHECK(values_of(kernel, "-append") == std::vector<std::string>{"console=ttyS0,115200 ro"});

    const auto uefi = args_for(with_os("<os><type machine='q35'>hvm</type>"
                                       "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>"
                                       "<nvram>/var/lib/vk/nvram/g_VARS.fd</nvram></os>"));
    CHECK_THAT(values_of(uefi, "-machine").front(), Contains("pflash0=pflash0-format") && Contains("pflash1=pflash1-format"));
    const auto nodes = json_values_of(uefi, "-blockdev");
    REQUIRE(nodes.size() == 4);
    CHECK(nodes[0]->getValue<std::string>("filename") == "/usr/share/OVMF/OVMF_CODE.fd");
    CHECK(nodes[1]->getValue<bool>("read-only"));
    CHECK(nodes[2]->getValue<std::string>("filename") == "/var/lib/vk/nvram/g_VARS.fd");
    CHECK_FALSE(nodes[3]->getValue<bool>("read-only"));

    CHECK(error_code_for(with_os("<os><type arch='aarch64'>hvm</type></os>")) == VIRTKIT_ERR_NO_SUPPORT);
    CHECK(error_code_for(with_os("<os><type>hvm</type><boot dev='floppy-disk'/></os>")) == VIRTKIT_ERR_XML);
    CHECK(error_code_for(with_os("<os firmware='efi'><type>hvm</type></os>")) == VIRTKIT_ERR_NO_SUPPORT);
}

TEST_CASE("per-device boot order and <os><boot> cannot be mixed", "[qemu][argv]")
{
    const std::string disk = "<disk type='file'><source file='/i.img'/><target dev='vda'/><boot order='1'/></disk>";
    CHECK(device(args_for(domain_xml(disk)), "virtio-blk-pci")->getValue<int>("bootindex") == 1);
    std::string both = domain_xml(disk);
    both.replace(both.find("</os>"), 5, "<boot dev='hd'/></os>");
    CHECK(error_code_for(both) == VIRTKIT_ERR_XML);
}

TEST_CASE("features: ACPI off unless asked for, hyperv enlightenments become CPU flags", "[qemu][argv]")
{
    CHECK_THAT(values_of(args_for(domain_xml()), "-machine").front(), Contains("acpi=off"));
    const auto args = args_for(domain_xml("", "<features><acpi/><apic/><pae/><hyperv mode='custom'>"
                                              "<relaxed state='on'/><vapic state='on'/>"
                                              "<spinlocks state='on' retries='8191'/></hyperv></features>"));
    CHECK_THAT(values_of(args, "-machine").front(), !Contains("acpi=off"));
    CHECK(values_of(args, "-cpu") == std::vector<std::string>{"qemu64,hv-relaxed=on,hv-vapic=on,hv-spinlocks=0x1fff"});
    CHECK(error_code_for(domain_xml("", "<features><gic/></features>")) == VIRTKIT_ERR_NO_SUPPORT);
}

TEST_CASE("clock offset and timers map to -rtc and friends", "[qemu][argv]")
{
    const auto args = args_for(domain_xml("", "<clock offset='localtime'><timer name='rtc' tickpolicy='catchup'/>"
                                              "<timer name='pit' tickpolicy='delay'/><timer name='hpet' present='no'/>"
                                              "</clock>"));
    CHECK(values_of(args, "-rtc") == std::vector<std::string>{"base=localtime,driftfix=slew"});
    CHECK(values_of(args, "-global") == std::vector<std::string>{"kvm-pit.lost_tick_policy=delay"});
    CHECK(has(args, "-no-hpet"));
    CHECK(values_of(args_for(domain_xml("", "<clock offset='absolute' start='0'/>")), "-rtc") ==
          std::vector<std::string>{"base=1970-01-01T00:00:00"});
    CHECK(error_code_for(domain_xml("", "<clock offset='utc'><timer name='tsc'/></clock>")) == VIRTKIT_ERR_NO_SUPPORT);
}

TEST_CASE("on_reboot=destroy stops QEMU at reboot, and QEMU never exits by itself at poweroff", "[qemu][argv]")
{
    const auto args = args_for(domain_xml("", "<on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot>"));
    CHECK(has(args, "-no-shutdown"));
    CHECK(has(args, "-no-reboot"));
    CHECK_FALSE(has(args_for(domain_xml()), "-no-reboot"));
    CHECK(error_code_for(domain_xml("", "<on_crash>coredump-destroy</on_crash>")) == VIRTKIT_ERR_NO_SUPPORT);
}

TEST_CASE("<pm> turns guest suspend to RAM and disk on or off in the chipset", "[qemu][argv]")
{
    const auto args = args_for(domain_xml("", "<pm><suspend-to-mem enabled='no'/><suspend-to-disk enabled='yes'/></pm>"));
    CHECK(values_of(args, "-global") == std::vector<std::string>{"PIIX4_PM.disable_s3=1", "PIIX4_PM.disable_s4=0"});
}

TEST_CASE("what the driver cannot honour is refused by name, never dropped", "[qemu][argv]")
{
    CHECK_THAT(error_text_for(domain_xml("<hostdev mode='subsystem' type='pci'/>")), Contains("<devices><hostdev>"));
    CHECK_THAT(error_text_for(domain_xml("", "<numatune><memory mode='strict' nodeset='0'/></numatune>")),
               Contains("<numatune>"));
    CHECK_THAT(error_text_for(domain_xml("<disk type='file'><source file='/i'/><target dev='vda'/>"
                                         "<iotune><total_bytes_sec>1</total_bytes_sec></iotune></disk>")),
               Contains("<devices><disk><iotune>"));
    CHECK(error_code_for(domain_xml("", "<seclabel type='dynamic' model='selinux'/>")) == VIRTKIT_ERR_NO_SUPPORT);
    CHECK(error_code_for(domain_xml("", "<x:thing xmlns:x='urn:other'/>")) == VIRTKIT_ERR_NO_SUPPORT);
}
