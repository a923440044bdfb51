// What the test driver needs from a libvirt domain XML, plus the whole
// document so that get-XML returns what the user wrote.
#pragma once

#include <cstdint>
#include <string>

#include "xml_document.hpp"

namespace virtkit::testdriver {

struct DomainDefinition {
    std::string name;
    std::string uuid;  // canonical
    uint64_t memoryKiB = 0;
    uint64_t currentMemoryKiB = 0;
    unsigned vcpus = 1;
    bool restartOnReboot = true;     // <on_reboot>, libvirt's default: restart
    bool restartOnPoweroff = false;  // <on_poweroff>, libvirt's default: destroy
    // The document as written, with the uuid in canonical form (generated
    // when absent) and without any id attribute.
    std::string xml;
};

// Throws PluginError(VIRTKIT_ERR_XML) saying what is wrong.
DomainDefinition parseDomainDefinition(const std::string &xml);
// Same, from a document whose root is <domain>; the document is normalised in place.
DomainDefinition domainDefinitionFromDocument(xmlDoc *doc);

// The stored document with id='N' on <domain> (id < 0: without it).
std::string domainXmlWithId(const std::string &storedXml, int id);

}  // namespace virtkit::testdriver
