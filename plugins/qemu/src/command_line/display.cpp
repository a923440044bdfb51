// What a person sees and touches: <graphics> (VNC), <video>, <input>, <sound>.
#include <virtkit/error.hpp>

#include "command_line/argv_builder.hpp"

namespace virtkit::qemu {
namespace {

void add_vnc(const xmlNode *graphics, ArgvBuilder &out)
{
    xml::allow_only(graphics, {"listen"});
    if (xml::attr(graphics, "passwd") || xml::attr(graphics, "websocket") || xml::attr(graphics, "socket"))
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "VNC passwords, websockets and sockets are not supported yet");
    std::string listen = xml::attr_or(graphics, "listen", "127.0.0.1");
    if (const xmlNode *element = xml::child(graphics, "listen")) {
        const std::string type = xml::attr_or(element, "type", "address");
        if (type != "address")
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "VNC listen type '" + type + "' is not supported");
        listen = xml::attr_or(element, "address", listen);
    }
    if (listen.find(':') != std::string::npos)
        listen = "[" + listen + "]";  // IPv6
    const std::string port_text = xml::attr_or(graphics, "port", "-1");
    const bool autoport = xml::is_yes(xml::attr(graphics, "autoport")) || port_text == "-1";
    KeyValueOption vnc;
    if (autoport) {
        // QEMU itself takes the first free display from 0 upwards
        vnc = KeyValueOption(listen + ":0");
        vnc.add("to", 100);
    } else {
        const std::uint64_t port = parse_number(port_text, "<graphics port>");
        if (port < 5900 || port > 65535)
            throw Error(VIRTKIT_ERR_XML, "VNC port " + port_text + " is outside 5900-65535");
        vnc = KeyValueOption(listen + ":" + std::to_string(port - 5900));
    }
    out.add("-vnc", vnc.str());
}

std::string video_driver(const std::string &model, bool primary)
{
    if (model == "cirrus")
        return "cirrus-vga";
    if (model == "vga")
        return "VGA";
    if (model == "qxl")
        return primary ? "qxl-vga" : "qxl";
    if (model == "virtio")
        return primary ? "virtio-vga" : "virtio-gpu-pci";
    if (model == "bochs")
        return "bochs-display";
    if (model == "ramfb")
        return "ramfb";
    throw Error(VIRTKIT_ERR_NO_SUPPORT, "video model '" + model + "' is not supported");
}

void add_video(const xmlNode *devices, ArgvBuilder &out)
{
    auto videos = xml::children(devices, "video");
    if (videos.empty()) {
        if (!xml::child(devices, "graphics"))
            return;
        // libvirt's default card when there is a display to show
        out.add_device(JsonOption("driver", "cirrus-vga").add("id", "video0"));
        return;
    }
    for (std::size_t i = 0; i < videos.size(); ++i) {
        xml::allow_only(videos[i], {"model", "address", "alias"});
        const xmlNode *model = xml::child(videos[i], "model");
        const std::string type = model ? xml::attr_or(model, "type", "cirrus") : "cirrus";
        if (type == "none")
            continue;
        JsonOption device("driver", video_driver(type, i == 0));
        device.add("id", "video" + std::to_string(i));
        if (const auto vram = model ? xml::attr(model, "vram") : std::nullopt;
            vram && (type == "vga" || type == "cirrus" || type == "qxl"))
            device.add("vgamem_mb", static_cast<std::int64_t>(parse_number(*vram, "<video vram>") / 1024));
        out.add_placement(device, videos[i]);
        out.add_device(device);
    }
}

void add_inputs(const xmlNode *devices, ArgvBuilder &out)
{
    for (const xmlNode *input : xml::children(devices, "input")) {
        xml::allow_only(input, {"address", "alias"});
        const std::string type = xml::attr_or(input, "type", "");
        const std::string bus = xml::attr_or(input, "bus", "ps2");
        if (type != "mouse" && type != "keyboard" && type != "tablet")
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "input type '" + type + "' is not supported");
        if (bus == "ps2") {
            if (type == "tablet")
                throw Error(VIRTKIT_ERR_XML, "a tablet cannot be a PS/2 device");
            continue;  // the machine's own PS/2 controller
        }
        std::string driver;
        if (bus == "usb")
            driver = type == "mouse" ? "usb-mouse" : type == "keyboard" ? "usb-kbd" : "usb-tablet";
        else if (bus == "virtio")
            driver = "virtio-" + type + "-pci";
        else
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "input bus '" + bus + "' is not supported");
        JsonOption device("driver", driver);
        device.add("id", "input" + std::to_string(out.next("input")));
        out.add_placement(device, input);
        out.add_device(device);
    }
}

// <audio> backends; returns the id sound devices use.
std::string add_audio_backends(const xmlNode *devices, bool needed, ArgvBuilder &out)
{
    std::string first;
    for (const xmlNode *audio : xml::children(devices, "audio")) {
        xml::allow_only(audio, {});
        const std::string type = xml::attr_or(audio, "type", "");
        if (type != "none")
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "audio backend type '" + type + "' is not supported (none)");
        const std::string id = "audio" + std::to_string(parse_number(xml::attr_or(audio, "id", ""), "<audio id>"));
        out.add("-audiodev", KeyValueOption("none").add("id", id).str());
        if (first.empty())
            first = id;
    }
    if (first.empty() && needed) {
        first = "audio1";  // sound devices need a backend; a headless host has none
        out.add("-audiodev", "none,id=audio1");
    }
    return first;
}

void add_sound(const xmlNode *devices, ArgvBuilder &out)
{
    const auto sounds = xml::children(devices, "sound");
    const std::string audiodev = add_audio_backends(devices, !sounds.empty(), out);
    for (const xmlNode *sound : sounds) {
        xml::allow_only(sound, {"codec", "address", "alias"});
        const std::string model = xml::attr_or(sound, "model", "");
        const std::string id = "sound" + std::to_string(out.next("sound"));
        const bool hda = model == "ich6" || model == "ich9" || model == "ich7";
        std::string driver;
        if (hda)
            driver = model == "ich9" ? "ich9-intel-hda" : "intel-hda";
        else if (model == "ac97")
            driver = "AC97";
        else if (model == "es1370")
            driver = "ES1370";
        else if (model == "sb16")
            driver = "sb16";
        else if (model == "usb")
            driver = "usb-audio";
        else
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "sound model '" + model + "' is not supported");
        JsonOption device("driver", driver);
        device.add("id", id);
        if (!hda)
            device.add("audiodev", audiodev);
        out.add_placement(device, sound);
        out.add_device(device);
        if (!hda)
            continue;
        auto codecs = xml::children(sound, "codec");
        const std::vector<std::string> default_codec{"duplex"};
        std::vector<std::string> types;
        for (const xmlNode *codec : codecs)
            types.push_back(xml::attr_or(codec, "type", "duplex"));
        if (types.empty())
            types = default_codec;
        for (std::size_t cad = 0; cad < types.size(); ++cad) {
            if (types[cad] != "duplex" && types[cad] != "micro" && types[cad] != "output")
                throw Error(VIRTKIT_ERR_NO_SUPPORT, "sound codec '" + types[cad] + "' is not supported");
            out.add_device(JsonOption("driver", "hda-" + types[cad])
                               .add("id", id + "-codec" + std::to_string(cad))
                               .add("bus", id + ".0")
                               .add("cad", static_cast<std::int64_t>(cad))
                               .add("audiodev", audiodev));
        }
    }
}

}  // namespace

void add_display(const xmlNode *devices, ArgvBuilder &out)
{
    for (const xmlNode *graphics : xml::children(devices, "graphics")) {
        const std::string type = xml::attr_or(graphics, "type", "");
        if (type != "vnc")
            throw Error(VIRTKIT_ERR_NO_SUPPORT, "graphics type '" + type + "' is not supported (vnc)");
        add_vnc(graphics, out);
    }
    add_video(devices, out);
    add_inputs(devices, out);
    add_sound(devices, out);
}

}  // namespace virtkit::qemu
