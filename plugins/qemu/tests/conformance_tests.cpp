// The conformance figure over libvirt's own qemuxmlconfdata: for how many
// inputs our command line names the same machine type and the same multiset
// of -device drivers as libvirt's NAME.x86_64-latest.args.  A measured figure
// (docs/qemu.md), guarded here only against falling below what was measured.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include <Poco/JSON/Parser.h>

#include <virtkit/error.hpp>

#include "command_line/command_line.hpp"

namespace {

struct Summary {
    std::string machine;
    std::vector<std::string> drivers;  // sorted: a multiset
    bool operator==(const Summary &) const = default;
};

std::string driver_of(const std::string &value)
{
    if (!value.empty() && value.front() == '{') {
        Poco::JSON::Parser parser;
        return parser.parse(value).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("driver");
    }
    return value.substr(0, value.find(','));
}

Summary summarize(const std::vector<std::string> &args)
{
    Summary summary;
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
        if (args[i] == "-machine" && summary.machine.empty())
            summary.machine = args[i + 1].substr(0, args[i + 1].find(','));
        else if (args[i] == "-device")
            summary.drivers.push_back(driver_of(args[i + 1]));
    }
    std::sort(summary.drivers.begin(), summary.drivers.end());
    return summary;
}

// libvirt's .args: one "-flag 'value' \" per line after the environment.
std::vector<std::string> read_libvirt_args(const std::filesystem::path &file)
{
    std::vector<std::string> args;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
        if (line.size() >= 2 && line.compare(line.size() - 2, 2, " \\") == 0)
            line.resize(line.size() - 2);
        if (line.empty() || line.front() != '-')
            continue;
        const auto space = line.find(' ');
        args.push_back(line.substr(0, space));
        if (space != std::string::npos) {
            std::string value = line.substr(space + 1);
            if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'')
                value = value.substr(1, value.size() - 2);
            args.push_back(value);
        }
    }
    return args;
}

}  // namespace

TEST_CASE("conformance with libvirt's qemuxmlconfdata does not fall below the measured figure", "[qemu][argv][conformance]")
{
    const std::filesystem::path dir = std::filesystem::path(VIRTKIT_CONFORMANCE_DIR) / "tests" / "qemuxmlconfdata";
    REQUIRE(std::filesystem::is_directory(dir));
    virtkit::qemu::CommandLineOptions options;
    options.monitor_socket = "/var/lib/libvirt/qemu/monitor.sock";
    options.kvm_usable = true;  // libvirt's test capabilities include KVM

    int cases = 0, matches = 0, refused = 0;
    std::map<std::string, int> refusal_reasons;
    std::vector<std::string> matched;
    for (const auto &entry : std::filesystem::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        const std::string suffix = ".x86_64-latest.args";
        if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
            continue;
        const std::string base = name.substr(0, name.size() - suffix.size());
        const auto input = dir / (base + ".xml");
        if (!std::filesystem::exists(input))
            continue;
        ++cases;
        std::ifstream in(input);
        const std::string xml((std::istreambuf_iterator<char>(in)), {});
        try {
            const auto ours = summarize(virtkit::qemu::build_command_line(xml, options).args);
            const auto theirs = summarize(read_libvirt_args(entry.path()));
            if (ours == theirs) {
                ++matches;
                matched.push_back(base);
            } else if (std::getenv("VIRTKIT_CONFORMANCE_VERBOSE")) {
                std::cout << "  differs: " << base << ": ours " << ours.machine;
                for (const auto &d : ours.drivers)
                    std::cout << " " << d;
                std::cout << " / libvirt " << theirs.machine;
                for (const auto &d : theirs.drivers)
                    std::cout << " " << d;
                std::cout << "\n";
            }
        } catch (const virtkit::Error &e) {
            ++refused;
            std::string reason = e.what();
            refusal_reasons[reason.substr(0, 60)]++;
        }
    }
    std::sort(matched.begin(), matched.end());
    std::cout << "qemuxmlconfdata conformance: " << matches << " of " << cases
              << " inputs match libvirt (machine type + -device multiset); " << refused << " refused\n";
    if (std::getenv("VIRTKIT_CONFORMANCE_VERBOSE")) {
        for (const auto &[reason, count] : refusal_reasons)
            std::cout << "  refused " << count << "x: " << reason << "\n";
        for (const auto &base : matched)
            std::cout << "  match: " << base << "\n";
    }
    CHECK(cases >= 150);
    CHECK(matches >= 51);  // measured 2026-11-26 with NUMA and pinning (docs/qemu.md); raise it as support grows
}
