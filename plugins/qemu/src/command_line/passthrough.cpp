// <qemu:commandline> (libvirt's http://libvirt.org/schemas/domain/qemu/1.0):
// arguments and environment passed to QEMU as written.  This is the one place
// where XML adds options on purpose: the user asked for exactly these.
#include <virtkit/error.hpp>

#include "command_line/argv_builder.hpp"

namespace virtkit::qemu {

void add_passthrough(const xmlNode *domain, ArgvBuilder &out)
{
    for (const xmlNode *c = domain->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || !c->ns || xml::name(c) != "commandline")
            continue;
        for (const xmlNode *item = c->children; item; item = item->next) {
            if (item->type != XML_ELEMENT_NODE)
                continue;
            const std::string kind = xml::name(item);
            const auto value = xml::attr(item, "value");
            if (kind == "arg" && value) {
                check_option_value(*value, "<qemu:arg>");
                out.add(*value);
            } else if (kind == "env" && xml::attr(item, "name")) {
                const std::string name = *xml::attr(item, "name");
                if (name.empty() || name.find('=') != std::string::npos)
                    throw Error(VIRTKIT_ERR_XML, "<qemu:env name='" + name + "'> is not a variable name");
                check_option_value(value.value_or(""), "<qemu:env>");
                out.environment.emplace_back(name, value.value_or(""));
            } else {
                throw Error(VIRTKIT_ERR_NO_SUPPORT, "<qemu:" + kind + "> is not supported (arg, env)");
            }
        }
    }
}

}  // namespace virtkit::qemu
