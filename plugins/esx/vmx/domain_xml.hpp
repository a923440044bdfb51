// Reading domain XML for the XML -> VMX converter: the hardened parse
// and small accessors that treat a missing node as "absent".
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <libxml/tree.h>

#include "vmx.hpp"

namespace virtkit::esx::vmx {

using Document = std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)>;

// At most max_xml_bytes, no network, no entity expansion, no DOCTYPE, root <domain>.
constexpr std::size_t max_xml_bytes = 4 * 1024 * 1024;
Document parseHardened(const std::string &text);

std::string nameOf(const xmlNode *node);
// Child elements without a namespace, all or those called name.
std::vector<const xmlNode *> elements(const xmlNode *parent, const char *name = nullptr);
const xmlNode *element(const xmlNode *parent, const char *name);
std::optional<std::string> attribute(const xmlNode *node, const char *name);
std::string textOf(const xmlNode *node);
std::string trimmed(std::string text);
// A size element (<memory unit='MiB'>4</memory>) in KiB, rounded up.
long long kibibytes(const xmlNode *node);
long long mebibytesRoundedUp(long long kib);
// The attribute as an integer in [min, max] (VIRTKIT_ERR_CONFIG otherwise), fallback when absent.
long long integerAttribute(const xmlNode *node, const char *name, long long min, long long max, long long fallback);

}  // namespace virtkit::esx::vmx
