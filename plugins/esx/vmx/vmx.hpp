// VMware VMX <-> libvirt domain XML, following the mapping of libvirt's
// ESX/VMware drivers (docs/esx-vmx.md lists it key by key).
//
// Errors are virtkit::Error with VIRTKIT_ERR_CONFIG (bad VMX text or value),
// VIRTKIT_ERR_XML (bad domain XML) or VIRTKIT_ERR_NO_SUPPORT (valid, but not
// representable on the other side).  What is dropped on the way is reported
// through VmxContext::warn, never silently.  Everything else in this folder
// is internal and lives in virtkit::esx::vmx.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <virtkit/error.hpp>

namespace virtkit::esx {

struct VmxContext {
    // A VMX fileName ("disk.vmdk", "/vmfs/volumes/ds1/vm/disk.vmdk") to the
    // path the domain XML shows ("[ds1] vm/disk.vmdk").  std::nullopt means
    // "that file or datastore does not exist": a CD-ROM then loses its
    // source, a hard disk is an error (libvirt's allow-missing rule).
    // Unset: defaultParseFileName() with vmxDatastore/vmxDirectory.
    std::function<std::optional<std::string>(const std::string &fileName)> parseFileName;
    // The reverse; unset: defaultFormatFileName().  Throw virtkit::Error to refuse.
    std::function<std::string(const std::string &path)> formatFileName;
    // Where the .vmx itself lives; a bare fileName is relative to it.
    std::string vmxDatastore = "datastore";
    std::string vmxDirectory = "directory";
    // virtualHW.version written by domainXmlToVmx (ESX 3.5 = 4, 4.x = 7, ...).
    int virtualHwVersion = 4;
    // vCenter inventory path of the datacenter, shown as
    // <vmware:datacenterpath> when not empty (as libvirt's ESX driver does).
    std::string datacenterPath;
    // Receives one sentence per thing that was ignored or approximated.
    std::function<void(const std::string &)> warn;
};

// "/vmfs/volumes/DS/REST" -> "[DS] REST"; "/abs/path" -> itself;
// "name" -> "[vmxDatastore] vmxDirectory/name"; "dir/name" is refused
// (relative paths are ambiguous on ESX).
std::string defaultParseFileName(const std::string &fileName, const VmxContext &context);
// "[DS] REST" -> "/vmfs/volumes/DS/REST"; "/abs/path" -> itself; else refused.
std::string defaultFormatFileName(const std::string &path);

std::string vmxToDomainXml(const std::string &vmx, const VmxContext &context);
std::string domainXmlToVmx(const std::string &xml, const VmxContext &context);

}  // namespace virtkit::esx
