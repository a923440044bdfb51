#include "file_input.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <virtkit/error.hpp>

namespace virtkit::cli {

namespace {

class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }
    FileDescriptor(const FileDescriptor &) = delete;
    FileDescriptor &operator=(const FileDescriptor &) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

[[noreturn]] void systemError(const std::string &what, const std::string &path, int err)
{
    throw Error(VIRTKIT_ERR_SYSTEM, what + " '" + path + "': " + std::strerror(err));
}

}  // namespace

std::string readInputFile(const std::string &path, std::size_t limit)
{
    const FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0)
        systemError("cannot open file", path, errno);
    struct stat st{};
    if (::fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode))
        throw Error(VIRTKIT_ERR_INVALID_ARG, "'" + path + "' is a directory, not a file");
    const std::string tooLarge = "file '" + path + "' is larger than the limit of " + std::to_string(limit) + " bytes";
    if (S_ISREG(st.st_mode) && static_cast<std::size_t>(st.st_size) > limit)
        throw Error(VIRTKIT_ERR_INVALID_ARG, tooLarge);

    std::string content;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            systemError("cannot read file", path, errno);
        if (n == 0)
            break;
        if (content.size() + static_cast<std::size_t>(n) > limit)  // a pipe or a growing file
            throw Error(VIRTKIT_ERR_INVALID_ARG, tooLarge);
        content.append(buf, static_cast<std::size_t>(n));
    }
    return content;
}

}  // namespace virtkit::cli
