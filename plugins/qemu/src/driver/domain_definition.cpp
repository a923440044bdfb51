#include "driver/domain_definition.hpp"

#include <virtkit/error.hpp>
#include <virtkit/sdk_uuid.hpp>

#include "command_line/argv_builder.hpp"
#include "command_line/command_line.hpp"
#include "command_line/domain_document.hpp"

namespace virtkit::qemu {

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
        const auto canonical = sdk::canonicalUuid(*uuid);
        if (!canonical)
            throw Error(VIRTKIT_ERR_XML, "<uuid> '" + *uuid + "' is not a UUID");
        definition.uuid = *canonical;
    } else {
        definition.uuid = sdk::randomUuid();
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
