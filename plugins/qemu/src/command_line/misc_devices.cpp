// Devices with no class of their own: <memballoon>, <rng>, <watchdog>, <panic>.
#include <virtkit/error.hpp>

#include "command_line/argv_builder.hpp"

namespace virtkit::qemu {
namespace {

void add_memballoon(const xmlNode *devices, ArgvBuilder &out)
{
    const xmlNode *balloon = xml::child(devices, "memballoon");
    const std::string model = balloon ? xml::attr_or(balloon, "model", "") : "virtio";  // libvirt's default
    if (model == "none")
        return;
    if (model != "virtio")
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "memory balloon model '" + model + "' is not supported (virtio, none)");
    JsonOption device("driver", "virtio-balloon-pci");
    device.add("id", "balloon0");
    if (balloon) {
        xml::allow_only(balloon, {"address", "alias"});
        out.add_placement(device, balloon);
    }
    out.add_device(device);
}

void add_rngs(const xmlNode *devices, ArgvBuilder &out)
{
    for (const xmlNode *rng : xml::children(devices, "rng")) {
        xml::allow_only(rng, {"backend", "rate", "address", "alias"});
        if (xml::attr_or(rng, "model", "") != "virtio")
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "rng model must be 'virtio'");
        const xmlNode *backend = xml::child(rng, "backend");
        const std::string kind = backend ? xml::attr_or(backend, "model", "") : "";
        const int number = out.next("rng");
        const std::string object_id = "objrng" + std::to_string(number);
        if (kind == "random") {
            const std::string path = xml::text(backend).empty() ? "/dev/urandom" : xml::text(backend);
            out.add("-object", JsonOption("qom-type", "rng-random").add("id", object_id)
                                   .add("filename", path).str());
        } else if (kind == "builtin") {
            out.add("-object", JsonOption("qom-type", "rng-builtin").add("id", object_id).str());
        } else {
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "rng backend '" + kind + "' is not supported (random, builtin)");
        }
        JsonOption device("driver", "virtio-rng-pci");
        device.add("rng", object_id);
        if (const xmlNode *rate = xml::child(rng, "rate")) {
            device.add("max-bytes", static_cast<std::int64_t>(parse_number(xml::attr_or(rate, "bytes", ""),
                                                                           "<rate bytes>")));
            device.add("period", static_cast<std::int64_t>(parse_number(xml::attr_or(rate, "period", "1000"),
                                                                        "<rate period>")));
        }
        device.add("id", "rng" + std::to_string(number));
        out.add_placement(device, rng);
        out.add_device(device);
    }
}

void add_watchdogs(const xmlNode *devices, ArgvBuilder &out)
{
    const auto watchdogs = xml::children(devices, "watchdog");
    if (watchdogs.size() > 1)
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "only one <watchdog> is supported");
    for (const xmlNode *watchdog : watchdogs) {
        xml::allow_only(watchdog, {"address", "alias"});
        const std::string model = xml::attr_or(watchdog, "model", "");
        if (model == "i6300esb" || model == "ib700") {
            JsonOption device("driver", model);
            device.add("id", "watchdog0");
            out.add_placement(device, watchdog);
            out.add_device(device);
        } else if (model == "itco" && out.q35) {
            // built into q35's ICH9
        } else {
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "watchdog model '" + model + "' is not supported here");
        }
        const std::string action = xml::attr_or(watchdog, "action", "reset");
        const char *qemu_action = action == "reset"      ? "reset"
                                  : action == "shutdown" ? "shutdown"
                                  : action == "poweroff" ? "poweroff"
                                  : action == "pause"    ? "pause"
                                  : action == "none"     ? "none"
                                  : action == "inject-nmi" ? "inject-nmi"
                                                           : nullptr;
        if (!qemu_action)
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "watchdog action '" + action + "' is not supported");
        out.add("-action", std::string("watchdog=") + qemu_action);
    }
}

void add_panics(const xmlNode *devices, ArgvBuilder &out)
{
    for (const xmlNode *panic : xml::children(devices, "panic")) {
        xml::allow_only(panic, {"address", "alias"});
        const std::string model = xml::attr_or(panic, "model", "isa");
        if (model == "isa") {
            JsonOption device("driver", "pvpanic");
            if (const xmlNode *address = xml::child(panic, "address"); address && xml::attr(address, "iobase")) {
                const std::string base = *xml::attr(address, "iobase");
                device.add("ioport", static_cast<std::int64_t>(parse_address_number(base, "<panic> iobase")));
            }
            out.add_device(device);
        } else if (model == "pvpanic") {
            JsonOption device("driver", "pvpanic-pci");
            out.add_placement(device, panic);
            out.add_device(device);
        } else {
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "panic model '" + model + "' is not supported (isa, pvpanic)");
        }
    }
}

}  // namespace

void add_misc_devices(const xmlNode *devices, ArgvBuilder &out)
{
    add_memballoon(devices, out);
    add_rngs(devices, out);
    add_watchdogs(devices, out);
    add_panics(devices, out);
}

}  // namespace virtkit::qemu
