// The throw-away domain the checker defines: a unique name and UUID, and the
// domain type the driver's capabilities advertise.
#pragma once

#include <string>

namespace virtkit::check {

struct TestDomain {
    std::string name;  // "vkcheck-<random>"
    std::string uuid;
    std::string type;
    std::string xml() const;
    std::string xmlWithUuid(const std::string &otherUuid) const;
};

std::string randomUuid();
// The first <domain type='...'> of a capabilities document, or "" if none.
std::string domainTypeFromCapabilities(const std::string &capabilities);
TestDomain makeTestDomain(const std::string &type);

}  // namespace virtkit::check
