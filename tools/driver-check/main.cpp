// virtkit-driver-check [--json] [--timeout SECONDS] [--domain-type TYPE] URI
// Exit status: 0 when no check failed, 1 when one did, 2 on a usage error.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include <virtkit/context.hpp>
#include <virtkit/error.hpp>

#include "driver_checks.hpp"

namespace {

const char *const kUsage =
    "usage: virtkit-driver-check [--json] [--timeout SECONDS] [--domain-type TYPE] URI\n"
    "\n"
    "Drives the driver behind URI through the virtkit API and reports each\n"
    "conformance check as passed, failed or skipped (operation not supported).\n"
    "  --json              machine-readable report on stdout\n"
    "  --timeout SECONDS   how long to wait for each event or state change (default 2)\n"
    "  --domain-type TYPE  <domain type=...> of the test domain (default: from the\n"
    "                      driver's capabilities, else 'test')\n"
    "Exit status: 0 if no check failed, 1 if any failed, 2 on a usage error.\n";

int usageError(const std::string &message)
{
    std::cerr << "virtkit-driver-check: " << message << "\n\n" << kUsage;
    return 2;
}

}  // namespace

int main(int argc, char **argv)
{
    virtkit::check::CheckOptions options;
    bool json = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::cout << kUsage;
            return 0;
        }
        if (arg == "--json") {
            json = true;
        } else if (arg == "--timeout" || arg == "--domain-type") {
            if (i + 1 >= argc)
                return usageError(arg + " needs a value");
            const std::string value = argv[++i];
            if (arg == "--domain-type") {
                options.domainType = value;
                continue;
            }
            char *end = nullptr;
            const double seconds = std::strtod(value.c_str(), &end);
            if (value.empty() || *end != '\0' || !(seconds > 0 && seconds <= 3600))
                return usageError("--timeout wants seconds between 0 and 3600, not '" + value + "'");
            options.timeout = std::chrono::milliseconds(static_cast<long>(seconds * 1000));
        } else if (!arg.empty() && arg[0] == '-') {
            return usageError("unknown option '" + arg + "'");
        } else if (options.uri.empty()) {
            options.uri = arg;
        } else {
            return usageError("one URI only (got '" + options.uri + "' and '" + arg + "')");
        }
    }
    if (options.uri.empty())
        return usageError("which driver? give a connection URI, e.g. test:///default");

    try {
        virtkit::Context ctx;
        const virtkit::check::Report report = virtkit::check::runDriverChecks(ctx, options);
        if (json)
            report.printJson(std::cout);
        else
            report.printText(std::cout);
        return report.anyFailed() ? 1 : 0;
    } catch (const virtkit::Error &e) {  // the context itself: a broken config file
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
