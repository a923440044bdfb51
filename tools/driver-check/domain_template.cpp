#include "domain_template.hpp"

#include <random>
#include <regex>

namespace virtkit::check {

std::string randomUuid()
{
    std::random_device device;
    std::uniform_int_distribution<int> nibble(0, 15);
    std::string uuid;
    for (int i = 0; i < 32; ++i) {
        if (i == 8 || i == 12 || i == 16 || i == 20)
            uuid += '-';
        uuid += "0123456789abcdef"[i == 12 ? 4 : i == 16 ? 8 + nibble(device) % 4 : nibble(device)];
    }
    return uuid;
}

std::string domainTypeFromCapabilities(const std::string &capabilities)
{
    static const std::regex domainType(R"(<domain\s+type\s*=\s*['"]([^'"]+)['"])");
    std::smatch match;
    return std::regex_search(capabilities, match, domainType) ? match[1].str() : std::string();
}

TestDomain makeTestDomain(const std::string &type)
{
    TestDomain d;
    d.uuid = randomUuid();
    d.name = "vkcheck-" + d.uuid.substr(0, 8);
    d.type = type;
    return d;
}

std::string TestDomain::xml() const
{
    return xmlWithUuid(uuid);
}

std::string TestDomain::xmlWithUuid(const std::string &otherUuid) const
{
    return "<domain type='" + type + "'>\n"
           "  <name>" + name + "</name>\n"
           "  <uuid>" + otherUuid + "</uuid>\n"
           "  <memory unit='KiB'>65536</memory>\n"
           "  <vcpu>1</vcpu>\n"
           "  <os><type>hvm</type></os>\n"
           "</domain>\n";
}

}  // namespace virtkit::check
