// Domain XML -> VMX: mapping, refusals, and the hardened XML reader.
#include <catch2/catch.hpp>

#include "support.hpp"
#include "vmx_file.hpp"

using namespace virtkit::esx;
using namespace virtkit::esx::vmx;
using namespace virtkit::esx::testing;

namespace {

std::string domain(const std::string &devices, const std::string &extra = "")
{
    return "<domain type='vmware'><name>web</name><uuid>50115e16-9bdc-49d7-f171-53c4d7f91710</uuid>"
           "<memory unit='MiB'>2048</memory><vcpu>2</vcpu><os><type arch='x86_64'>hvm</type></os>" +
           extra + "<devices>" + devices + "</devices></domain>";
}

std::optional<std::string> entry(const std::string &vmx, const std::string &key)
{
    return VmxFile::parse(vmx).get(key);
}

}  // namespace

TEST_CASE("general settings become the VMX entries libvirt writes", "[xml2vmx]")
{
    const std::string vmx = domainXmlToVmx(
        domain("", "<cputune><shares>4000</shares></cputune><cpu><topology sockets='1' cores='2' threads='1'/></cpu>"
                   "<currentMemory unit='KiB'>1048576</currentMemory><description>a \"b\"\nc|d</description>"),
        VmxContext{});
    CHECK(entry(vmx, "config.version") == "8");
    CHECK(entry(vmx, "virtualHW.version") == "4");
    CHECK(entry(vmx, "guestOS") == "other-64");
    CHECK(entry(vmx, "uuid.bios") == "50 11 5e 16 9b dc 49 d7-f1 71 53 c4 d7 f9 17 10");
    CHECK(entry(vmx, "memsize") == "2048");
    CHECK(entry(vmx, "sched.mem.max") == "1024");
    CHECK(entry(vmx, "numvcpus") == "2");
    CHECK(entry(vmx, "cpuid.coresPerSocket") == "2");
    CHECK(entry(vmx, "sched.cpu.shares") == "high");
    CHECK(entry(vmx, "annotation") == "a |22b|22|0Ac|7Cd");
    CHECK(entry(vmx, "floppy0.present") == "false");
}

TEST_CASE("virtualHW.version comes from the context and is range-checked", "[xml2vmx]")
{
    VmxContext context;
    context.virtualHwVersion = 19;
    CHECK(entry(domainXmlToVmx(domain(""), context), "virtualHW.version") == "19");
    context.virtualHwVersion = 2;
    CHECK(errorCodeOf([&] { domainXmlToVmx(domain(""), context); }) == VIRTKIT_ERR_CONFIG);
}

TEST_CASE("a name or value cannot inject VMX entries", "[xml2vmx][vmx-bad-input]")
{
    const std::string xml = "<domain type='vmware'><name>x\"&#10;evil = \"1</name><memory>65536</memory>"
                            "<devices/></domain>";
    const std::string vmx = domainXmlToVmx(xml, VmxContext{});
    CHECK_FALSE(entry(vmx, "evil"));
    CHECK(entry(vmx, "displayName") == "x%22%0Aevil = %221");
    const std::string net = domain("<interface type='bridge'><source bridge='a\"&#10;b = \"c'/></interface>");
    CHECK(errorCodeOf([&] { domainXmlToVmx(net, VmxContext{}); }) == VIRTKIT_ERR_NO_SUPPORT);
}

TEST_CASE("XML that ESX cannot run is refused as unsupported", "[xml2vmx][vmx-bad-input]")
{
    const std::vector<std::string> cases = {
        "<domain type='kvm'><name>x</name><memory>65536</memory></domain>",
        domain("<disk type='file' device='disk'><source file='[ds] a.qcow2'/><target dev='vda' bus='virtio'/></disk>"),
        domain("<disk type='file' device='disk'><source file='[ds] a.qcow2'/><target dev='sda' bus='scsi'/></disk>"),
        domain("<disk type='block' device='disk'><source dev='/dev/sdb'/><target dev='sda' bus='scsi'/></disk>"),
        domain("<controller type='scsi' index='0' model='virtio-scsi'/>"),
        domain("<disk type='file' device='floppy'><source file='[ds] f.flp'/><target dev='sda' bus='scsi'/></disk>"),
        domain("<interface type='network'><source network='default'/></interface>"),
        domain("<interface type='bridge'><source bridge='b'/><model type='virtio'/></interface>"),
        domain("<graphics type='spice'/>"),
        domain("<video><model type='qxl'/></video>"),
        domain("<serial type='pty'/>"),
        "<domain type='vmware'><name>x</name><memory>65536</memory><os firmware='coreboot'><type>hvm</type></os></domain>",
        "<domain type='vmware'><name>x</name><memory>65536</memory><os><type arch='aarch64'>hvm</type></os></domain>",
        domain("", "<cpu><topology sockets='1' cores='1' threads='2'/></cpu>"),
    };
    for (const std::string &xml : cases) {
        INFO(xml);
        CHECK(errorCodeOf([&] { domainXmlToVmx(xml, VmxContext{}); }) == VIRTKIT_ERR_NO_SUPPORT);
    }
}

TEST_CASE("out-of-range XML values are refused", "[xml2vmx][vmx-bad-input]")
{
    const std::vector<std::string> cases = {
        "<domain type='vmware'><name>x</name><memory unit='KiB'>0</memory></domain>",
        "<domain type='vmware'><name>x</name><memory unit='TiB'>4096</memory></domain>",
        "<domain type='vmware'><name>x</name><memory unit='TiB'>99999999999</memory></domain>",
        domain("", "<cputune><shares>2000000</shares></cputune>"),
        "<domain type='vmware'><name>x</name><memory>65536</memory><vcpu>0</vcpu></domain>",
        "<domain type='vmware'><name>x</name><memory>65536</memory><vcpu>4</vcpu><cpu><topology sockets='3' cores='1'/></cpu></domain>",
        "<domain type='vmware'><name>x</name><memory>65536</memory><vcpu cpuset='0'>2</vcpu></domain>",
        domain("<disk device='disk'><source file='[ds] a.vmdk'/><target dev='sda' bus='scsi'/>"
               "<address type='drive' controller='0' bus='0' target='0' unit='7'/></disk>"),
        domain("<disk device='disk'><source file='[ds] a.vmdk'/><target dev='sda' bus='scsi'/></disk>"
               "<disk device='disk'><source file='[ds] b.vmdk'/><target dev='sda' bus='scsi'/></disk>"),
        domain("<serial type='dev'><source path='/dev/ttyS0'/><target port='9'/></serial>"),
        domain("<disk device='disk'><source file='relative.vmdk'/><target dev='sda' bus='scsi'/></disk>"),
    };
    for (const std::string &xml : cases) {
        INFO(xml);
        CHECK(errorCodeOf([&] { domainXmlToVmx(xml, VmxContext{}); }) == VIRTKIT_ERR_CONFIG);
    }
}

TEST_CASE("XML with entities, DOCTYPEs or broken syntax is refused without being expanded", "[xml2vmx][vmx-bad-input]")
{
    const std::vector<std::string> cases = {
        "<?xml version='1.0'?><!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
        "<domain type='vmware'><name>&x;</name><memory>65536</memory></domain>",
        "<!DOCTYPE domain SYSTEM 'http://192.0.2.1/domain.dtd'><domain type='vmware'><name>x</name></domain>",
        "<!DOCTYPE d [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>"
        "<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'><!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>]>"
        "<domain type='vmware'><name>&d;</name></domain>",
        "<domain type='vmware'><name>x</name>",
        "not xml at all",
        "<other/>",
        "<domain><name>x</name><memory>65536</memory></domain>",
        "<domain type='vmware'><memory>65536</memory></domain>",
        std::string("\x00\x01\x02garbage", 10),
    };
    for (const std::string &xml : cases) {
        INFO(xml);
        CHECK(errorCodeOf([&] { domainXmlToVmx(xml, VmxContext{}); }) == VIRTKIT_ERR_XML);
    }
}

TEST_CASE("huge or deeply nested XML is refused, not parsed for ever", "[xml2vmx][vmx-bad-input]")
{
    const std::string huge = "<domain type='vmware'><name>" + std::string(5 * 1024 * 1024, 'a') + "</name></domain>";
    CHECK(errorCodeOf([&] { domainXmlToVmx(huge, VmxContext{}); }) == VIRTKIT_ERR_XML);
    std::string deep = "<domain type='vmware'><name>x</name><memory>65536</memory>";
    for (int i = 0; i < 100000; ++i)
        deep += "<a>";
    CHECK(errorCodeOf([&] { domainXmlToVmx(deep, VmxContext{}); }) == VIRTKIT_ERR_XML);
}

TEST_CASE("what VMX cannot say is reported, not dropped silently", "[xml2vmx]")
{
    Recorded r;
    domainXmlToVmx(domain("<input type='tablet' bus='usb'/><console type='pty'><target type='virtio'/></console>",
                          "<features><acpi/></features><clock offset='localtime'/>"),
                   r.context);
    CHECK(r.warned("<features>"));
    CHECK(r.warned("<input>"));
    CHECK(r.warned("localtime"));
    CHECK(r.warned("<console>"));
}

TEST_CASE("MAC addresses keep their generated/static kind through VMX", "[xml2vmx]")
{
    const std::string vmx = domainXmlToVmx(
        domain("<interface type='bridge'><mac address='00:50:56:91:48:C7' type='generated'/><source bridge='a'/></interface>"
               "<interface type='bridge'><mac address='00:0c:29:00:00:01'/><source bridge='a'/></interface>"
               "<interface type='bridge'><mac address='fa:16:3e:00:00:01'/><source bridge='a'/></interface>"
               "<interface type='bridge'><mac address='fa:16:3e:00:00:02' check='no'/><source bridge='a'/></interface>"),
        VmxContext{});
    CHECK(entry(vmx, "ethernet0.addressType") == "vpx");
    CHECK(entry(vmx, "ethernet0.generatedAddress") == "00:50:56:91:48:c7");
    CHECK(entry(vmx, "ethernet1.addressType") == "generated");
    CHECK(entry(vmx, "ethernet2.addressType") == "static");
    CHECK_FALSE(entry(vmx, "ethernet2.checkMACAddress"));
    CHECK(entry(vmx, "ethernet3.checkMACAddress") == "false");
}

TEST_CASE("the file-name callback maps XML paths to VMX and may refuse them", "[xml2vmx]")
{
    VmxContext context;
    context.formatFileName = [](const std::string &path) -> std::string {
        if (path.rfind("[ds] ", 0) != 0)
            throw virtkit::Error(VIRTKIT_ERR_CONFIG, "unknown datastore in " + path);
        return path.substr(5);
    };
    const auto disk = [](const std::string &file) {
        return domain("<disk device='disk'><source file='" + file + "'/><target dev='sda' bus='scsi'/></disk>");
    };
    CHECK(entry(domainXmlToVmx(disk("[ds] a.vmdk"), context), "scsi0:0.fileName") == "a.vmdk");
    CHECK(errorCodeOf([&] { domainXmlToVmx(disk("[other] a.vmdk"), context); }) == VIRTKIT_ERR_CONFIG);
}
