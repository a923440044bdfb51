#include "session.hpp"

#include <ostream>

namespace virtkit::cli {

Session::Session(GlobalOptions options, std::ostream &out) : options_(std::move(options)), out_(out) {}

Session::~Session()
{
    try {
        if (connection_)
            connection_->close();
    } catch (...) {
        // closing at exit: nothing useful left to report it to
    }
}

Context &Session::context()
{
    if (!context_) {
        broken_ = true;  // until construction succeeds
        context_ = std::make_unique<Context>();
        broken_ = false;
    }
    return *context_;
}

std::shared_ptr<Connection> Session::connectionHandle()
{
    if (!connection_) {
        Context &ctx = context();
        const std::string uri = options_.uri ? *options_.uri : ctx.defaultUri();
        broken_ = true;
        connection_ = Connection::open(ctx, uri, options_.readOnly);
        broken_ = false;
    }
    return connection_;
}

Connection &Session::connection() { return *connectionHandle(); }

Domain Session::domain(const ParsedCommand &cmd, const std::string &option)
{
    return connectionHandle()->domain(cmd.required(option));
}

void Session::extra(const std::string &line)
{
    if (!options_.quiet)
        out_ << line << '\n';
}

void Session::endCommand(const ParsedCommand &cmd)
{
    if (!options_.quiet && !json(cmd))
        out_ << '\n';
}

}  // namespace virtkit::cli
