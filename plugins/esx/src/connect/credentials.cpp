#include "connect/credentials.hpp"

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <sstream>
#include <termios.h>
#include <unistd.h>

#include <virtkit/error.hpp>

namespace virtkit::esx::vsphere {

namespace {

std::string trim(const std::string &s)
{
    const auto b = s.find_first_not_of(" \t\r");
    const auto e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

using Sections = std::map<std::string, std::map<std::string, std::string>>;

Sections parseIni(const std::string &text, const std::string &fileName)
{
    Sections sections;
    std::string current;
    std::istringstream in(text);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        line = trim(line);
        if (line.empty() || line[0] == '#' || line[0] == ';')
            continue;
        if (line.front() == '[') {
            if (line.back() != ']')
                throw Error(VIRTKIT_ERR_CONFIG, fileName + ":" + std::to_string(number) + ": unterminated section name");
            current = trim(line.substr(1, line.size() - 2));
            sections[current];
            continue;
        }
        const auto eq = line.find('=');
        if (eq == std::string::npos || current.empty())
            throw Error(VIRTKIT_ERR_CONFIG,
                        fileName + ":" + std::to_string(number) + ": expected key=value inside a [section]");
        sections[current][trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
    }
    return sections;
}

// Reads a line from the terminal, echo off when `secret`.
std::optional<std::string> promptTty(const std::string &prompt, bool secret)
{
    const int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return std::nullopt;
    termios saved{};
    const bool isTty = ::tcgetattr(fd, &saved) == 0;
    if (!isTty) {
        ::close(fd);
        return std::nullopt;
    }
    if (::write(fd, prompt.data(), prompt.size()) < 0) {
        ::close(fd);
        return std::nullopt;
    }
    if (secret) {
        termios quiet = saved;
        quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
        ::tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    std::string line;
    char c = 0;
    while (::read(fd, &c, 1) == 1 && c != '\n')
        line += c;
    if (secret) {
        ::tcsetattr(fd, TCSAFLUSH, &saved);
        [[maybe_unused]] const auto written = ::write(fd, "\n", 1);
    }
    ::close(fd);
    return line;
}

}  // namespace

std::optional<Credentials> credentialsFromAuthFile(const std::string &text, const std::string &scheme,
                                                   const std::string &host, const std::string &uriUser,
                                                   const std::string &fileName)
{
    const Sections sections = parseIni(text, fileName);
    const auto auth = sections.find("auth-" + scheme + "-" + host);
    if (auth == sections.end())
        return std::nullopt;
    const auto name = auth->second.find("credentials");
    if (name == auth->second.end())
        throw Error(VIRTKIT_ERR_CONFIG, fileName + ": [" + auth->first + "] has no credentials= line");
    const auto creds = sections.find("credentials-" + name->second);
    if (creds == sections.end())
        throw Error(VIRTKIT_ERR_CONFIG,
                    fileName + ": [" + auth->first + "] names [credentials-" + name->second + "], which does not exist");
    Credentials result;
    if (const auto u = creds->second.find("username"); u != creds->second.end())
        result.user = u->second;
    if (!uriUser.empty()) {
        if (!result.user.empty() && result.user != uriUser)
            return std::nullopt;  // the file speaks of someone else
        result.user = uriUser;
    }
    const auto p = creds->second.find("password");
    if (p == creds->second.end() || result.user.empty())
        return std::nullopt;
    result.password = p->second;
    return result;
}

std::string authFilePath()
{
    if (const char *env = std::getenv("VIRTKIT_AUTH_FILE"); env && *env)
        return env;  // named explicitly: used even if missing (then it is an error)
    if (const char *home = std::getenv("HOME"); home && *home) {
        const std::string user = std::string(home) + "/.config/virtkit/auth.conf";
        if (::access(user.c_str(), F_OK) == 0)
            return user;
    }
    if (::access("/etc/virtkit/auth.conf", F_OK) == 0)
        return "/etc/virtkit/auth.conf";
    return {};
}

Credentials findCredentials(const std::string &scheme, const std::string &host, const std::string &uriUser)
{
    if (const std::string path = authFilePath(); !path.empty()) {
        std::ifstream file(path);
        if (!file)
            throw Error(VIRTKIT_ERR_CONFIG, "cannot read the auth file " + path);
        std::stringstream text;
        text << file.rdbuf();
        if (auto found = credentialsFromAuthFile(text.str(), scheme, host, uriUser, path))
            return *found;
    }
    std::string user = uriUser;
    if (user.empty()) {
        const auto typed = promptTty("Enter username for " + host + ": ", false);
        if (!typed || typed->empty())
            throw Error(VIRTKIT_ERR_AUTH, "no credentials for " + scheme + "://" + host +
                                              ": give user@ in the URI and a password at the prompt, or an [auth-" +
                                              scheme + "-" + host + "] entry in the auth file (VIRTKIT_AUTH_FILE, "
                                              "~/.config/virtkit/auth.conf or /etc/virtkit/auth.conf)");
        user = *typed;
    }
    const auto password = promptTty("Enter " + user + "'s password for " + host + ": ", true);
    if (!password)
        throw Error(VIRTKIT_ERR_AUTH, "a password for " + user + "@" + host +
                                          " is needed but there is no terminal to ask on; put it in the auth file "
                                          "(VIRTKIT_AUTH_FILE, ~/.config/virtkit/auth.conf or /etc/virtkit/auth.conf)");
    return {user, *password};
}

}  // namespace virtkit::esx::vsphere
