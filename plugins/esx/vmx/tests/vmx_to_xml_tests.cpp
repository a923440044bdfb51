// VMX -> domain XML: mapping rules, warnings and refusals beyond the corpus.
#include <catch2/catch.hpp>

#include "support.hpp"
#include "xml_compare.hpp"

using namespace virtkit::esx;
using namespace virtkit::esx::testing;

namespace {
bool contains(const std::string &text, const std::string &fragment) { return text.find(fragment) != std::string::npos; }
}  // namespace

TEST_CASE("VMX entries without a domain XML equivalent are reported one by one", "[vmx2xml]")
{
    Recorded r;
    const std::string xml = vmxToDomainXml(vmxWith("tools.syncTime = \"FALSE\"\nfrobnicate.level = \"11\"\n"), r.context);
    CHECK(r.warned("'tools.syncTime'"));
    CHECK(r.warned("'frobnicate.level'"));
    CHECK_FALSE(r.warned("displayName"));
    CHECK(contains(xml, "<name>t</name>"));
}

TEST_CASE("out-of-range VMX values are refused with the entry named", "[vmx2xml][vmx-bad-input]")
{
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"memsize = \"0\"\n", "memsize"},
        {"memsize = \"99999999999\"\n", "memsize"},
        {"memsize = \"lots\"\n", "memsize"},
        {"numvcpus = \"0\"\n", "numvcpus"},
        {"numvcpus = \"100000\"\n", "numvcpus"},
        {"numvcpus = \"4\"\ncpuid.coresPerSocket = \"3\"\n", "coresPerSocket"},
        {"sched.cpu.shares = \"-5\"\n", "sched.cpu.shares"},
        {"sched.cpu.shares = \"extreme\"\n", "sched.cpu.shares"},
        {"numvcpus = \"4\"\nsched.cpu.affinity = \"0,1\"\n", "sched.cpu.affinity"},
        {"sched.cpu.affinity = \"0,99999\"\n", "sched.cpu.affinity"},
        {"svga.vramSize = \"0\"\n", "svga.vramSize"},
        {"sched.mem.max = \"-1\"\n", "sched.mem.max"},
        {"uuid.bios = \"not a uuid\"\n", "uuid.bios"},
        {"ethernet0.present = \"maybe\"\n", "ethernet0.present"},
        {"ethernet0.present = \"true\"\nethernet0.addressType = \"static\"\nethernet0.address = \"00:50:56:zz:00:01\"\n", "MAC"},
        {"ethernet0.present = \"true\"\nethernet0.addressType = \"random\"\n", "addressType"},
        {"serial0.present = \"true\"\nserial0.fileType = \"network\"\nserial0.fileName = \"tcp://host:99999\"\n", "port"},
        {"RemoteDisplay.vnc.enabled = \"true\"\nRemoteDisplay.vnc.port = \"70000\"\n", "RemoteDisplay.vnc.port"},
        {"annotation = \"bad |zz escape\"\n", "annotation"},
        {"annotation = \"bell |07\"\n", "annotation"},
        {"displayName = \"nul %00\"\n", "displayName"},
        {"annotation = \"not utf-8 |FF\"\n", "annotation"},
    };
    for (const auto &[extra, named] : cases) {
        INFO(extra);
        try {
            vmxToDomainXml(vmxWith(extra), VmxContext{});
            FAIL("accepted");
        } catch (const virtkit::Error &e) {
            CHECK(e.code() == VIRTKIT_ERR_CONFIG);
            CHECK(contains(e.what(), named));
        }
    }
}

TEST_CASE("VMX that is valid but not representable is refused as unsupported", "[vmx2xml][vmx-bad-input]")
{
    for (const std::string &vmx :
         {std::string("config.version = \"7\"\nvirtualHW.version = \"4\"\ndisplayName = \"t\"\n"),
          std::string("config.version = \"8\"\nvirtualHW.version = \"3\"\ndisplayName = \"t\"\n"),
          vmxWith(".encoding = \"windows-1252\"\n"), vmxWith("firmware = \"coreboot\"\n"),
          vmxWith("ethernet0.present = \"true\"\nethernet0.connectionType = \"hostonly\"\n"),
          vmxWith("ethernet0.present = \"true\"\nethernet0.virtualDev = \"virtio\"\n"),
          vmxWith("scsi0.present = \"true\"\nscsi0.virtualDev = \"megaraid\"\n"),
          vmxWith("ide0:0.present = \"true\"\nide0:0.deviceType = \"tape\"\nide0:0.fileName = \"x\"\n"),
          vmxWith("serial0.present = \"true\"\nserial0.fileType = \"network\"\nserial0.fileName = \"udp://h:1\"\n")}) {
        INFO(vmx);
        CHECK(errorCodeOf([&] { vmxToDomainXml(vmx, VmxContext{}); }) == VIRTKIT_ERR_NO_SUPPORT);
    }
}

TEST_CASE("a VMX without its essential entries is refused", "[vmx2xml][vmx-bad-input]")
{
    CHECK(errorCodeOf([] { vmxToDomainXml("", VmxContext{}); }) == VIRTKIT_ERR_CONFIG);
    CHECK(errorCodeOf([] { vmxToDomainXml("virtualHW.version = \"4\"\ndisplayName = \"t\"\n", VmxContext{}); }) ==
          VIRTKIT_ERR_CONFIG);
    CHECK(errorCodeOf([] { vmxToDomainXml("config.version = \"8\"\nvirtualHW.version = \"4\"\n", VmxContext{}); }) ==
          VIRTKIT_ERR_CONFIG);
}

TEST_CASE("the file-name callback decides what exists: CD-ROMs go empty, hard disks fail", "[vmx2xml]")
{
    Recorded r;
    std::vector<std::string> asked;
    r.context.parseFileName = [&](const std::string &name) -> std::optional<std::string> {
        asked.push_back(name);
        if (name == "gone.iso" || name == "gone.vmdk")
            return std::nullopt;
        return "[ds9] vm/" + name;
    };
    const std::string cdrom = vmxWith("ide0:0.present = \"true\"\nide0:0.deviceType = \"cdrom-image\"\n"
                                      "ide0:0.fileName = \"gone.iso\"\n"
                                      "ide1:0.present = \"true\"\nide1:0.fileName = \"here.vmdk\"\n");
    const std::string xml = vmxToDomainXml(cdrom, r.context);
    CHECK(asked == std::vector<std::string>{"gone.iso", "here.vmdk"});  // slot order: ide0:0, ide1:0
    CHECK(contains(xml, "<source file='[ds9] vm/here.vmdk'/>"));
    CHECK_FALSE(contains(xml, "gone.iso"));
    CHECK(r.warned("gone.iso"));
    const std::string disk = vmxWith("ide0:0.present = \"true\"\nide0:0.fileName = \"gone.vmdk\"\n");
    CHECK(errorCodeOf([&] { vmxToDomainXml(disk, r.context); }) == VIRTKIT_ERR_CONFIG);
}

TEST_CASE("bare file names resolve next to the .vmx; relative paths are refused", "[vmx2xml]")
{
    VmxContext context;
    context.vmxDatastore = "fast-ssd";
    context.vmxDirectory = "web01";
    CHECK(defaultParseFileName("disk.vmdk", context) == "[fast-ssd] web01/disk.vmdk");
    CHECK(defaultParseFileName("/vmfs/volumes/iso/linux.iso", context) == "[iso] linux.iso");
    CHECK(defaultParseFileName("/usr/lib/vmware/isoimages/linux.iso", context) == "/usr/lib/vmware/isoimages/linux.iso");
    CHECK(errorCodeOf([&] { defaultParseFileName("sub/disk.vmdk", context); }) == VIRTKIT_ERR_CONFIG);
    CHECK(errorCodeOf([&] { defaultParseFileName("/vmfs/volumes/onlyds", context); }) == VIRTKIT_ERR_CONFIG);
    CHECK(defaultFormatFileName("[fast-ssd] web01/disk.vmdk") == "/vmfs/volumes/fast-ssd/web01/disk.vmdk");
    CHECK(errorCodeOf([] { defaultFormatFileName("disk.vmdk"); }) == VIRTKIT_ERR_CONFIG);
    CHECK(errorCodeOf([] { defaultFormatFileName("[ds]nospace"); }) == VIRTKIT_ERR_CONFIG);
}

TEST_CASE("client devices and devices on absent controllers are left out with a warning", "[vmx2xml]")
{
    Recorded r;
    const std::string xml = vmxToDomainXml(
        vmxWith("ide0:0.present = \"true\"\nide0:0.clientDevice = \"true\"\nide0:0.deviceType = \"cdrom-raw\"\n"
                "scsi1:0.present = \"true\"\nscsi1:0.fileName = \"x.vmdk\"\n"),
        r.context);
    CHECK_FALSE(contains(xml, "<disk"));
    CHECK(r.warned("ide0:0 is a client device"));
    CHECK(r.warned("scsi1.present is not true"));
}

TEST_CASE("VMX display names and annotations are unescaped", "[vmx2xml]")
{
    const std::string xml = vmxToDomainXml(
        "config.version = \"8\"\nvirtualHW.version = \"4\"\ndisplayName = \"50%25 off\"\n"
        "annotation = \"line1|0Aline2 |22quoted|22 |7C\"\n",
        VmxContext{});
    CHECK(contains(xml, "<name>50% off</name>"));
    CHECK(contains(xml, "<description>line1\nline2 &quot;quoted&quot; |</description>"));
}

TEST_CASE("network serial ports: URI schemes, endpoints, IPv6 hosts", "[vmx2xml]")
{
    const std::string xml = vmxToDomainXml(
        vmxWith("serial0.present = \"true\"\nserial0.fileType = \"network\"\n"
                "serial0.fileName = \"telnet://[fe80::1]:2301\"\nserial0.network.endPoint = \"client\"\n"
                "serial1.present = \"true\"\nserial1.fileType = \"network\"\nserial1.fileName = \"ssl://0.0.0.0:4000\"\n"),
        VmxContext{});
    CHECK(contains(xml, "<source mode='connect' host='fe80::1' service='2301'/>"));
    CHECK(contains(xml, "<protocol type='telnet'/>"));
    CHECK(contains(xml, "<source mode='bind' host='0.0.0.0' service='4000'/>"));
    CHECK(contains(xml, "<protocol type='tls'/>"));
}

TEST_CASE("vCenter and VMware Workstation MAC address types both read as generated", "[vmx2xml]")
{
    const std::string xml = vmxToDomainXml(
        vmxWith("ethernet0.present = \"true\"\nethernet0.networkName = \"n\"\nethernet0.addressType = \"vpx\"\n"
                "ethernet0.generatedAddress = \"00:50:56:AA:BB:CC\"\n"),
        VmxContext{});
    CHECK(contains(xml, "<mac address='00:50:56:aa:bb:cc' type='generated'/>"));
}
