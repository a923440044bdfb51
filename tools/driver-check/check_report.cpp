#include "check_report.hpp"

#include <algorithm>
#include <cstdio>

namespace virtkit::check {
namespace {

std::string jsonString(const std::string &text)
{
    std::string out = "\"";
    for (const char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char escaped[8];
                std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
                out += escaped;
            } else {
                out += c;
            }
        }
    }
    return out + "\"";
}

}  // namespace

const char *outcomeName(Outcome outcome)
{
    switch (outcome) {
    case Outcome::Passed: return "passed";
    case Outcome::Failed: return "failed";
    case Outcome::Skipped: return "skipped";
    }
    return "unknown";
}

void Report::add(std::string name, Outcome outcome, std::string detail)
{
    results_.push_back({std::move(name), outcome, std::move(detail)});
}

std::size_t Report::count(Outcome outcome) const
{
    return static_cast<std::size_t>(std::count_if(results_.begin(), results_.end(),
                                                  [&](const CheckResult &r) { return r.outcome == outcome; }));
}

void Report::printText(std::ostream &out) const
{
    out << "driver check of " << uri_;
    if (!driver_.empty())
        out << " (driver '" << driver_ << "')";
    out << "\n";
    for (const CheckResult &r : results_) {
        const char *tag = r.outcome == Outcome::Passed ? "pass" : r.outcome == Outcome::Failed ? "FAIL" : "skip";
        out << "  " << tag << "  " << r.name;
        if (!r.detail.empty())
            out << ": " << r.detail;
        out << "\n";
    }
    out << "result: " << count(Outcome::Passed) << " checks passed, " << count(Outcome::Failed) << " failed, "
        << count(Outcome::Skipped) << " skipped\n";
}

void Report::printJson(std::ostream &out) const
{
    out << "{\"uri\": " << jsonString(uri_) << ", \"driver\": " << jsonString(driver_) << ", \"checks\": [";
    for (std::size_t i = 0; i < results_.size(); ++i) {
        const CheckResult &r = results_[i];
        out << (i ? ", " : "") << "{\"name\": " << jsonString(r.name) << ", \"result\": \""
            << outcomeName(r.outcome) << "\", \"detail\": " << jsonString(r.detail) << "}";
    }
    out << "], \"passed\": " << count(Outcome::Passed) << ", \"failed\": " << count(Outcome::Failed)
        << ", \"skipped\": " << count(Outcome::Skipped) << "}\n";
}

}  // namespace virtkit::check
