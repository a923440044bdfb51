// Turns a byte stream that arrives in arbitrary chunks into the complete
// lines QMP sends (one JSON message per line, "\r\n" or "\n" terminated).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace virtkit::qemu {

class LineSplitter {
public:
    explicit LineSplitter(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

    void append(std::string_view bytes) { buffer_.append(bytes); }

    // The next complete line without its terminator, or nullopt when only a
    // partial line is buffered.  Throws when a line exceeds the limit, since
    // a peer that never ends a line would otherwise grow memory without end.
    std::optional<std::string> next_line();

    bool has_partial_line() const noexcept { return scan_from_ < buffer_.size(); }

private:
    std::size_t max_line_bytes_;
    std::string buffer_;
    std::size_t scan_from_ = 0;  // bytes of buffer_ already consumed
};

}  // namespace virtkit::qemu
