#include "capabilities/kvm.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace virtkit::qemu {

KvmStatus probe_kvm(const std::string &device)
{
    const int fd = ::open(device.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return {false, "cannot open " + device + ": " + std::strerror(errno)};
    const int version = ::ioctl(fd, KVM_GET_API_VERSION, 0);
    const int err = errno;
    ::close(fd);
    if (version < 0)
        return {false, device + " does not answer KVM_GET_API_VERSION: " + std::strerror(err)};
    if (version != KVM_API_VERSION)
        return {false, device + " speaks KVM API " + std::to_string(version) + ", not " +
                           std::to_string(KVM_API_VERSION)};
    return {true, ""};
}

}  // namespace virtkit::qemu
