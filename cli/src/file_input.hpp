// Reading the files named on the command line (domain XML, native configs).
#pragma once

#include <cstddef>
#include <string>

namespace virtkit::cli {

// The whole file, refusing one larger than `limit` bytes without reading it
// all.  Throws Error naming the file and the reason (missing, unreadable,
// a directory, too large).
std::string readInputFile(const std::string &path, std::size_t limit);

}  // namespace virtkit::cli
