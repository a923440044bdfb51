// The outcome of each conformance check, printed as text or JSON.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace virtkit::check {

enum class Outcome { Passed, Failed, Skipped };

struct CheckResult {
    std::string name;    // e.g. "domain.start", "event.started", "bad-input.double-start"
    Outcome outcome;
    std::string detail;  // why it failed or was skipped; may be empty when passed
};

class Report {
public:
    explicit Report(std::string uri) : uri_(std::move(uri)) {}

    void add(std::string name, Outcome outcome, std::string detail = {});
    void setDriver(std::string driver) { driver_ = std::move(driver); }

    const std::vector<CheckResult> &results() const { return results_; }
    std::size_t count(Outcome outcome) const;
    bool anyFailed() const { return count(Outcome::Failed) > 0; }

    void printText(std::ostream &out) const;
    void printJson(std::ostream &out) const;

private:
    std::string uri_;
    std::string driver_;
    std::vector<CheckResult> results_;
};

const char *outcomeName(Outcome outcome);

}  // namespace virtkit::check
