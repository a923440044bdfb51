#include "domain_template.hpp"

#include <unistd.h>

#include <random>
#include <regex>
#include <system_error>

namespace virtkit::check {

std::string randomUuid()
{
    std::random_device device;
    std::uniform_int_distribution<int> nibble(0, 15);
    std::string uuid;
    for (int i = 0; i < 32; ++i) {
        if (i == 8 || i == 12 || i == 16 || i == 20)
            uuid += '-';
        uuid += "0123456789abcdef"[i == 12 ? 4 : i == 16 ? 8 + nibble(device) % 4 : nibble(device)];
    }
    return uuid;
}

std::string domainTypeFromCapabilities(const std::string &capabilities)
{
    static const std::regex domainType(R"(<domain\s+type\s*=\s*['"]([^'"]+)['"])");
    std::smatch match;
    return std::regex_search(capabilities, match, domainType) ? match[1].str() : std::string();
}

std::string osTypeFromCapabilities(const std::string &capabilities)
{
    static const std::regex osType(R"(<os_type>\s*([^<\s]+)\s*</os_type>)");
    std::smatch match;
    return std::regex_search(capabilities, match, osType) ? match[1].str() : std::string();
}

TestDomain makeTestDomain(const std::string &type, const std::string &osType, const std::string &rootDir)
{
    TestDomain d;
    d.uuid = randomUuid();
    d.name = "vkcheck-" + d.uuid.substr(0, 8);
    d.type = type;
    d.osType = osType;
    d.rootDir = rootDir;
    return d;
}

ContainerRoot::ContainerRoot()
{
    namespace fs = std::filesystem;
    if (!fs::exists("/bin/busybox")) {
        why_ = "no /bin/busybox to build a container root from (install busybox-static)";
        return;
    }
    std::string pattern = (fs::temp_directory_path() / "vkcheck-root-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) {
        why_ = "cannot create a temp dir for the container root";
        return;
    }
    dir_ = pattern;
    std::error_code error;
    // The container may run under mapped IDs: its root must be readable by others.
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec, error);
    const fs::path root = dir_ / "rootfs";
    for (const char *d : {"bin", "proc", "sys", "dev", "tmp"})
        fs::create_directories(root / d, error);
    fs::copy_file("/bin/busybox", root / "bin/busybox", error);
    for (const char *applet : {"sh", "sleep"})
        if (!error)
            fs::create_symlink("busybox", root / "bin" / applet, error);
    if (error) {
        why_ = "cannot build a container root in " + dir_.string() + ": " + error.message();
        return;
    }
    rootfs_ = root.string();
}

ContainerRoot::~ContainerRoot()
{
    std::error_code ignored;
    if (!dir_.empty())
        std::filesystem::remove_all(dir_, ignored);
}

std::string TestDomain::xml() const
{
    return xmlWithUuid(uuid);
}

std::string TestDomain::xmlWithUuid(const std::string &otherUuid) const
{
    std::string os = "  <os><type>" + osType + "</type></os>\n", devices;
    if (osType == "exe") {
        // init ends on SIGTERM at once (wait, unlike a foreground sleep, is interrupted by a trapped
        // signal), so a graceful shutdown completes within the checker's timeout.
        os = "  <os>\n    <type>exe</type>\n    <init>/bin/sh</init>\n    <initarg>-c</initarg>\n"
             "    <initarg>trap 'exit 0' TERM; while :; do sleep 1 &amp; wait; done</initarg>\n  </os>\n";
        // Without a usable root the definition still names one (define and the lookups
        // need no files); the checks that start it are skipped.
        devices = "  <devices>\n    <filesystem type='mount'><source dir='" +
                  (rootDir.empty() ? std::string("/nonexistent-vkcheck-root") : rootDir) +
                  "'/><target dir='/'/></filesystem>\n  </devices>\n";
    }
    return "<domain type='" + type + "'>\n"
           "  <name>" + name + "</name>\n"
           "  <uuid>" + otherUuid + "</uuid>\n"
           "  <memory unit='KiB'>65536</memory>\n"
           "  <vcpu>1</vcpu>\n" + os + devices +
           "</domain>\n";
}

}  // namespace virtkit::check
