// virtkit.yaml (yaml-cpp).  Found through VIRTKIT_CONFIG, else
// ~/.config/virtkit/virtkit.yaml, else /etc/virtkit/virtkit.yaml; none is fine.
//
//   default_uri: test:///default
//   plugin_path: [/opt/virtkit/plugins]
//   log: { level: warn }            # or  log: "qemu=debug,*=warn"
//   plugins:
//     qemu: { state_dir: /var/lib/virtkit/qemu }
//   daemon: { socket_dir: /run/virtkit, listen: [tls:0.0.0.0:16514] }
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>


namespace virtkit {

class Config {
public:
    Config();  // empty config
    ~Config();
    Config(const Config &);
    Config &operator=(const Config &);

    // Uses the search order above.  Throws Error(VIRTKIT_ERR_CONFIG) naming
    // the file and line on a broken file; a missing file is not an error.
    static Config load();
    static Config loadFile(const std::string &path);
    static Config fromString(const std::string &yaml, const std::string &origin = "<string>");

    const std::string &source() const;             // file it came from, "" if none
    std::vector<std::string> pluginPath() const;   // config's plugin search dirs
    std::optional<std::string> defaultUri() const;
    std::optional<std::string> logSpec() const;    // e.g. "qemu=debug,*=warn"
    // A scalar in plugins.<plugin>.<dotted.key>; nullopt if absent.
    std::optional<std::string> pluginValue(const std::string &plugin, const std::string &key) const;
    // virtkitd's section (daemon: {...}, keys in docs/daemon.md): a scalar, or
    // a list's items (a scalar reads as a one-item list).
    std::optional<std::string> daemonValue(const std::string &key) const;
    std::vector<std::string> daemonList(const std::string &key) const;
    // "unknown key 'foo' in /etc/virtkit/virtkit.yaml line 3", one per key.
    const std::vector<std::string> &warnings() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace virtkit
