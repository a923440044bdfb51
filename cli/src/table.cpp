#include "table.hpp"

#include <algorithm>

namespace virtkit::cli {

std::size_t displayWidth(const std::string &text)
{
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // skip continuation bytes
    }));
}

namespace {

void printRow(std::ostream &out, const std::vector<std::string> &row, const std::vector<std::size_t> &widths)
{
    for (std::size_t i = 0; i < row.size(); i++) {
        out << ' ' << row[i];
        if (i + 1 < row.size())
            out << std::string(widths[i] - displayWidth(row[i]) + 2, ' ');
    }
    out << '\n';
}

}  // namespace

void Table::print(std::ostream &out, bool withHeader) const
{
    std::vector<std::size_t> widths(header_.size(), 0);
    const auto measure = [&](const std::vector<std::string> &row) {
        for (std::size_t i = 0; i < row.size() && i < widths.size(); i++)
            widths[i] = std::max(widths[i], displayWidth(row[i]));
    };
    if (withHeader)
        measure(header_);
    for (const auto &row : rows_)
        measure(row);
    if (withHeader) {
        printRow(out, header_, widths);
        std::size_t total = 0;
        for (const auto w : widths)
            total += w + 3;
        out << std::string(total, '-') << '\n';
    }
    for (const auto &row : rows_)
        printRow(out, row, widths);
}

}  // namespace virtkit::cli
