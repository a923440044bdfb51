#include "driver/domain_definition.hpp"

#include <algorithm>
#include <array>
#include <fstream>

#include <virtkit/error.hpp>

#include "command_line/argv_builder.hpp"
#include "command_line/command_line.hpp"
#include "command_line/domain_document.hpp"

namespace virtkit::qemu {
namespace {

std::string canonical_uuid(std::string uuid)
{
    uuid.erase(std::remove(uuid.begin(), uuid.end(), '-'), uuid.end());
    std::transform(uuid.begin(), uuid.end(), uuid.begin(), [](unsigned char c) { return std::tolower(c); });
    if (uuid.size() != 32 || uuid.find_first_not_of("0123456789abcdef") != std::string::npos)
        throw Error(VIRTKIT_ERR_XML, "<uuid> is not a UUID");
    return uuid.substr(0, 8) + "-" + uuid.substr(8, 4) + "-" + uuid.substr(12, 4) + "-" + uuid.substr(16, 4) + "-" +
           uuid.substr(20);
}

}  // namespace

std::string new_uuid()
{
    std::array<unsigned char, 16> bytes{};
    std::ifstream random("/dev/urandom", std::ios::binary);
    if (!random.read(reinterpret_cast<char *>(bytes.data()), bytes.size()))
        throw Error(VIRTKIT_ERR_SYSTEM, "cannot read /dev/urandom for a new UUID");
    bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
    bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
    std::string hex;
    for (const unsigned char b : bytes) {
        constexpr char digits[] = "0123456789abcdef";
        hex += digits[b >> 4];
        hex += digits[b & 15];
    }
    return canonical_uuid(hex);
}

DomainDefinition DomainDefinition::parse(const std::string &xml, bool kvm_usable)
{
    DomainDocument document(xml);
    DomainDefinition definition;
    definition.xml = xml;
    const xmlNode *domain = document.root();
    definition.name = xml::child_text(domain, "name").value_or("");
    if (definition.name.empty() || definition.name.size() >= VIRTKIT_NAME_MAX ||
        definition.name.find('/') != std::string::npos)
        throw Error(VIRTKIT_ERR_XML, "a domain needs a <name> of 1-255 bytes without '/'");
    if (const auto uuid = xml::child_text(domain, "uuid")) {
        definition.uuid = canonical_uuid(*uuid);
    } else {
        definition.uuid = new_uuid();
        document.add_uuid(definition.uuid);
        definition.xml = document.to_string();
    }
    if (const xmlNode *memory = xml::child(document.root(), "memory"))
        definition.memory_kib = parse_kib(memory);
    if (const auto vcpus = xml::child_text(document.root(), "vcpu"))
        definition.vcpus = static_cast<std::uint32_t>(parse_number(*vcpus, "<vcpu>"));

    CommandLineOptions check;  // what cannot be honoured is refused now, not at start
    check.monitor_socket = "/define-time-check.sock";
    check.kvm_usable = kvm_usable;
    build_command_line(definition.xml, check);
    return definition;
}

}  // namespace virtkit::qemu
