// virsh's table layout (vsh-table.c): every cell preceded by one space, all
// but the last column padded to their widest cell plus two spaces, a dash
// line as wide as the columns plus three per column.  -q drops the header.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace virtkit::cli {

class Table {
public:
    explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
    void addRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    void print(std::ostream &out, bool withHeader) const;

private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

// Width on a terminal, counting UTF-8 code points rather than bytes.
std::size_t displayWidth(const std::string &text);

}  // namespace virtkit::cli
