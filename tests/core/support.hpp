// Small helpers the core's tests share: environment and temp-dir guards, and
// the Error a call throws.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include <virtkit/error.hpp>

namespace virtkit::test {

// Sets environment variables for one test; restores them when it ends.
class EnvGuard {
public:
    EnvGuard() = default;
    EnvGuard(const std::string &name, const std::optional<std::string> &value) { set(name, value); }
    EnvGuard(const EnvGuard &) = delete;
    EnvGuard &operator=(const EnvGuard &) = delete;
    void set(const std::string &name, const std::optional<std::string> &value)
    {
        if (!saved_.count(name)) {
            const char *old = std::getenv(name.c_str());
            saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
        }
        apply(name, value);
    }
    ~EnvGuard()
    {
        for (const auto &[name, value] : saved_)
            apply(name, value);
    }

private:
    static void apply(const std::string &name, const std::optional<std::string> &value)
    {
        if (value)
            ::setenv(name.c_str(), value->c_str(), 1);
        else
            ::unsetenv(name.c_str());
    }
    std::map<std::string, std::optional<std::string>> saved_;
};

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
public:
    TempDir()
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "virtkit-test-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    std::string path() const { return path_.string(); }
    // Writes `text` to dir/relative (creating folders) and returns its path.
    std::string write(const std::string &relative, const std::string &text) const
    {
        const std::filesystem::path file = path_ / relative;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream(file) << text;
        return file.string();
    }

private:
    std::filesystem::path path_;
};

// The Error a call throws; fails the test if it throws nothing.
template <typename Call>
Error errorFrom(Call call)
{
    try {
        call();
    } catch (const Error &e) {
        return e;
    }
    FAIL("expected virtkit::Error");
    return Error(VIRTKIT_OK, "");
}

}  // namespace virtkit::test
