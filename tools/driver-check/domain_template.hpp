// The throw-away domain the checker defines: a unique name and UUID, and the
// domain type and OS type the driver's capabilities advertise.  A container
// driver (os type 'exe') gets a container: init plus a root filesystem.
#pragma once

#include <filesystem>
#include <string>

namespace virtkit::check {

struct TestDomain {
    std::string name;  // "vkcheck-<random>"
    std::string uuid;
    std::string type;
    std::string osType = "hvm";  // "exe": a container rooted at rootDir
    std::string rootDir;         // empty: none could be made (see ContainerRoot)
    std::string xml() const;
    std::string xmlWithUuid(const std::string &otherUuid) const;
};

std::string randomUuid();
// The first <domain type='...'> of a capabilities document, or "" if none.
std::string domainTypeFromCapabilities(const std::string &capabilities);
// The first <guest><os_type> of a capabilities document, or "" if none.
std::string osTypeFromCapabilities(const std::string &capabilities);
TestDomain makeTestDomain(const std::string &type, const std::string &osType = "hvm",
                          const std::string &rootDir = "");

// A temp dir holding a minimal busybox root (bin/sh, bin/sleep) for a
// container test domain; removed with this object.  Without /bin/busybox
// it stays empty and says why, so the checks that run the domain are skipped.
class ContainerRoot {
public:
    ContainerRoot();
    ~ContainerRoot();
    ContainerRoot(const ContainerRoot &) = delete;
    ContainerRoot &operator=(const ContainerRoot &) = delete;
    const std::string &rootfs() const { return rootfs_; }
    const std::string &unusableBecause() const { return why_; }  // "" when usable

private:
    std::filesystem::path dir_;
    std::string rootfs_, why_;
};

}  // namespace virtkit::check
