#include "output.hpp"

#include <ostream>

#include "json.hpp"

namespace virtkit::cli {

void printDocument(Session &session, std::string text)
{
    if (!text.empty() && text.back() != '\n')
        text += '\n';
    session.out() << text;
}

void printValue(Session &session, const ParsedCommand &cmd, const char *key, const std::string &text)
{
    if (session.json(cmd))
        session.out() << JsonObject().add(key, text).str() << '\n';
    else
        session.out() << text << '\n';
}

}  // namespace virtkit::cli
