#include "qmp/line_splitter.hpp"

#include <virtkit/error.hpp>

namespace virtkit::qemu {

std::optional<std::string> LineSplitter::next_line()
{
    const std::size_t newline = buffer_.find('\n', scan_from_);
    if (newline == std::string::npos) {
        if (buffer_.size() - scan_from_ > max_line_bytes_)
            throw Error(VIRTKIT_ERR_OPERATION_FAILED,
                        "QMP monitor sent a line longer than " + std::to_string(max_line_bytes_) + " bytes");
        // Drop consumed bytes only when no complete line is left, so a burst
        // of many lines is not copied once per line.
        buffer_.erase(0, scan_from_);
        scan_from_ = 0;
        return std::nullopt;
    }
    std::size_t end = newline;
    if (end > scan_from_ && buffer_[end - 1] == '\r')
        --end;
    std::string line = buffer_.substr(scan_from_, end - scan_from_);
    scan_from_ = newline + 1;
    if (line.size() > max_line_bytes_)
        throw Error(VIRTKIT_ERR_OPERATION_FAILED,
                    "QMP monitor sent a line longer than " + std::to_string(max_line_bytes_) + " bytes");
    return line;
}

}  // namespace virtkit::qemu
