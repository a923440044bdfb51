// What vmxToDomainXml writes must validate against libvirt's domain.rng,
// also for mappings the corpus does not reach.
#include <memory>

#include <catch2/catch.hpp>
#include <libxml/parser.h>
#include <libxml/relaxng.h>

#include "corpus.hpp"
#include "support.hpp"

using namespace virtkit::esx;
using namespace virtkit::esx::testing;

namespace {

bool validatesAgainstDomainRng(const std::string &xml)
{
    const std::string schemaPath = std::string(VIRTKIT_CONFORMANCE_DIR) + "/src/conf/schemas/domain.rng";
    std::unique_ptr<xmlRelaxNGParserCtxt, decltype(&xmlRelaxNGFreeParserCtxt)> parser(
        xmlRelaxNGNewParserCtxt(schemaPath.c_str()), &xmlRelaxNGFreeParserCtxt);
    std::unique_ptr<xmlRelaxNG, decltype(&xmlRelaxNGFree)> schema(xmlRelaxNGParse(parser.get()), &xmlRelaxNGFree);
    REQUIRE(schema);
    std::unique_ptr<xmlRelaxNGValidCtxt, decltype(&xmlRelaxNGFreeValidCtxt)> validator(
        xmlRelaxNGNewValidCtxt(schema.get()), &xmlRelaxNGFreeValidCtxt);
    std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> doc(
        xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "out.xml", nullptr, XML_PARSE_NONET), &xmlFreeDoc);
    REQUIRE(doc);
    return xmlRelaxNGValidateDoc(validator.get(), doc.get()) == 0;
}

}  // namespace

TEST_CASE("every mapping writes XML that libvirt's domain.rng accepts", "[vmx2xml][schema]")
{
    const std::string vmx = vmxWith(
        "uuid.bios = \"42 1a 61 77 5a a9 ab b7-59 24 fc 37 6c 18 a1 b4\"\nvm.genid = \"1\"\nvm.genidX = \"-2\"\n"
        "annotation = \"a|0Ab\"\nmemsize = \"4096\"\nsched.mem.max = \"1024\"\nsched.mem.minsize = \"512\"\n"
        "numvcpus = \"4\"\ncpuid.coresPerSocket = \"2\"\nsched.cpu.affinity = \"0,1,2,3,8\"\nsched.cpu.shares = \"high\"\n"
        "guestOS = \"rhel9-64\"\nfirmware = \"efi\"\nsmbios.reflecthost = \"true\"\n"
        "scsi0.present = \"true\"\nscsi0.virtualDev = \"pvscsi\"\nscsi0:0.present = \"true\"\nscsi0:0.fileName = \"a.vmdk\"\n"
        "scsi0:0.mode = \"independent-nonpersistent\"\nscsi0:0.writeThrough = \"true\"\n"
        "scsi0:20.present = \"true\"\nscsi0:20.deviceType = \"scsi-passthru\"\nscsi0:20.fileName = \"/vmfs/devices/cdrom/x\"\n"
        "sata0.present = \"true\"\nsata0:3.present = \"true\"\nsata0:3.deviceType = \"cdrom-image\"\nsata0:3.fileName = \"x.iso\"\n"
        "ide1:1.present = \"true\"\nide1:1.deviceType = \"atapi-cdrom\"\nide1:1.fileName = \"auto detect\"\n"
        "floppy0.present = \"true\"\nfloppy0.fileType = \"file\"\nfloppy0.fileName = \"f.flp\"\n"
        "isolation.tools.hgfs.disable = \"false\"\nsharedFolder.maxNum = \"1\"\nsharedFolder0.present = \"true\"\n"
        "sharedFolder0.enabled = \"true\"\nsharedFolder0.hostPath = \"/srv\"\nsharedFolder0.guestName = \"srv\"\n"
        "ethernet0.present = \"true\"\nethernet0.connectionType = \"custom\"\nethernet0.networkName = \"n\"\n"
        "ethernet0.vnet = \"vmnet3\"\nethernet0.virtualDev = \"vmxnet\"\nethernet0.features = \"15\"\n"
        "ethernet0.addressType = \"static\"\nethernet0.address = \"00:50:56:00:00:01\"\nethernet0.checkMACAddress = \"false\"\n"
        "ethernet1.present = \"true\"\nethernet1.dvs.switchId = \"50 34 26 b2 94 e9 3b 16-1d 68 87 bf ff 4a 54 40\"\n"
        "ethernet1.dvs.portId = \"7\"\nethernet2.present = \"true\"\nethernet2.connectionType = \"nat\"\n"
        "ethernet3.present = \"true\"\n"
        "serial0.present = \"true\"\nserial0.fileType = \"network\"\nserial0.fileName = \"telnets://[::1]:7000\"\n"
        "serial1.present = \"true\"\nserial1.fileType = \"pipe\"\nserial1.fileName = \"p\"\n"
        "serial2.present = \"true\"\nserial2.fileType = \"file\"\nserial2.fileName = \"s.log\"\n"
        "serial3.present = \"true\"\nserial3.fileType = \"network\"\nserial3.fileName = \"\"\n"
        "parallel0.present = \"true\"\nparallel0.fileName = \"/dev/parport0\"\n"
        "RemoteDisplay.vnc.enabled = \"true\"\nRemoteDisplay.vnc.ip = \"127.0.0.1\"\nsvga.vramSize = \"16777216\"\n");
    Recorded r;
    const std::string xml = vmxToDomainXml(vmx, r.context);
    INFO(xml);
    CHECK(r.warnings.empty());
    CHECK(validatesAgainstDomainRng(xml));
    CHECK(xml.find("<filesystem") != std::string::npos);
    CHECK(xml.find("type='vds'") != std::string::npos);
    // The validator itself can say no.
    CHECK_FALSE(validatesAgainstDomainRng("<domain type='vmware'><name>x</name><bogus/></domain>"));
}
