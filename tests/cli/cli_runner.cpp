#include "cli_runner.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace virtkit::test {

namespace {

std::string readAll(const std::filesystem::path &path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

std::vector<std::string> lines(const std::string &text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

}  // namespace

std::vector<std::string> CliResult::errorLines() const
{
    std::vector<std::string> out;
    for (auto &line : lines(err))
        if (line.rfind("error: ", 0) == 0)
            out.push_back(line);
    return out;
}

std::vector<std::string> CliResult::outLines() const { return lines(out); }

CliSandbox::CliSandbox()
{
    std::string pattern = (std::filesystem::temp_directory_path() / "virtkit-cli-XXXXXX").string();
    if (!mkdtemp(pattern.data()))
        throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    std::filesystem::create_directories(dir_ / "home");
    env_["HOME"] = (dir_ / "home").string();
    env_["PATH"] = "/usr/bin:/bin";
    env_["LANG"] = "C";
}

CliSandbox::~CliSandbox()
{
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

std::string CliSandbox::writeFile(const std::string &name, const std::string &content) const
{
    const auto path = dir_ / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
}

CliResult CliSandbox::run(const std::vector<std::string> &args) const
{
    const auto outPath = dir_ / "stdout", errPath = dir_ / "stderr";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);

    std::vector<std::string> argStrings{VIRTKIT_CLI_PATH};
    argStrings.insert(argStrings.end(), args.begin(), args.end());
    std::vector<char *> argv;
    for (auto &a : argStrings)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> envStrings;
    for (const auto &[name, value] : env_)
        envStrings.push_back(name + "=" + value);
    std::vector<char *> envp;
    for (auto &e : envStrings)
        envp.push_back(e.data());
    envp.push_back(nullptr);

    pid_t pid = 0;
    const int rc = posix_spawn(&pid, VIRTKIT_CLI_PATH, &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        throw std::runtime_error("cannot spawn " VIRTKIT_CLI_PATH);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            throw std::runtime_error("waitpid failed");
    CliResult result;
    // A crash shows as 128 + signal, never as 0 or 1.
    result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.out = readAll(outPath);
    result.err = readAll(errPath);
    return result;
}

std::string domainXml(const std::string &name, const std::string &extra)
{
    return "<domain type='test'>\n"
           "  <name>" + name + "</name>\n"
           "  <memory unit='KiB'>131072</memory>\n"
           "  <vcpu>1</vcpu>\n"
           "  <os><type arch='x86_64'>hvm</type></os>\n" + extra +
           "</domain>\n";
}

}  // namespace virtkit::test
