#include "sdk_test_support.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <sys/wait.h>

namespace sdk_test {

TempDir::TempDir(const std::string &tag)
{
    std::string pattern = (fs::temp_directory_path() / ("virtkit-" + tag + "-XXXXXX")).string();
    if (!mkdtemp(pattern.data()))
        throw std::runtime_error("cannot create a temporary directory from " + pattern);
    path_ = pattern;
}

TempDir::~TempDir()
{
    std::error_code ignored;
    fs::remove_all(path_, ignored);
}

CommandResult run(const std::string &command)
{
    CommandResult result;
    FILE *pipe = popen((command + " 2>&1").c_str(), "r");
    if (!pipe)
        throw std::runtime_error("cannot run: " + command);
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0)
        result.output.append(buffer, n);
    const int status = pclose(pipe);
    result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

std::string quote(const std::string &text)
{
    std::string out = "'";
    for (const char c : text)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::string quote(const fs::path &path)
{
    return quote(path.string());
}

std::string cleanEnv(const std::vector<std::string> &assignments)
{
    std::string command = "env -i";
    for (const char *kept : {"PATH", "HOME", "TMPDIR"})
        if (const char *value = std::getenv(kept))
            command += " " + quote(std::string(kept) + "=" + value);
    for (const std::string &a : assignments)
        command += " " + quote(a);
    return command;
}

std::string readFile(const fs::path &file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + file.string());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void writeFile(const fs::path &file, const std::string &text)
{
    fs::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out << text;
    if (!out)
        throw std::runtime_error("cannot write " + file.string());
}

std::vector<std::string> pluginIds(const std::string &json)
{
    static const std::regex id(R"re(\{"id": *"([^"]*)")re");
    std::vector<std::string> ids;
    for (auto it = std::sregex_iterator(json.begin(), json.end(), id); it != std::sregex_iterator(); ++it)
        ids.push_back((*it)[1].str());
    return ids;
}

std::string pluginStatus(const std::string &json, const std::string &id)
{
    const std::regex entry("\\{\"id\": *\"" + id + "\"[^}]*?\"status\": *\"([a-z]+)\"");
    std::smatch match;
    return std::regex_search(json, match, entry) ? match[1].str() : std::string();
}

}  // namespace sdk_test
