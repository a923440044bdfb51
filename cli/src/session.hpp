// What the commands of one invocation share: the global options, one
// Context and one Connection (both opened on first need, so `help` and
// `plugins` never connect), and the output conventions of virsh.
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include <virtkit/connection.hpp>
#include <virtkit/context.hpp>
#include <virtkit/domain.hpp>

#include "command.hpp"

namespace virtkit::cli {

struct GlobalOptions {
    std::optional<std::string> uri;  // -c; default: Context::defaultUri()
    bool readOnly = false;
    bool quiet = false;
    bool json = false;
};

class Session {
public:
    Session(GlobalOptions options, std::ostream &out);
    ~Session();

    Context &context();
    Connection &connection();
    std::shared_ptr<Connection> connectionHandle();
    // The domain named (by name, UUID or ID) in the command's --<option>.
    Domain domain(const ParsedCommand &cmd, const std::string &option = "domain");

    bool json(const ParsedCommand &cmd) const { return options_.json || cmd.flag("json"); }
    bool quiet() const { return options_.quiet; }
    std::ostream &out() { return out_; }
    // virsh's vshPrintExtra: informational text that -q silences.
    void extra(const std::string &line);
    // virsh ends every command's output with a blank line (not with -q or --json).
    void endCommand(const ParsedCommand &cmd);
    // True once the config, the plugins or the connection failed to open:
    // every later command would fail the same way, so the invocation stops.
    bool broken() const { return broken_; }

private:
    GlobalOptions options_;
    std::ostream &out_;
    std::unique_ptr<Context> context_;        // outlives the connection (declared first)
    std::shared_ptr<Connection> connection_;
    bool broken_ = false;
};

}  // namespace virtkit::cli
