// Logging as an operator sees it: levels from a spec, messages on stderr,
// and a clear refusal of a spec that makes no sense.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <virtkit/error.hpp>
#include <virtkit/log.hpp>

using namespace virtkit;

TEST_CASE("without a spec, loggers pass warnings and above", "[log]") {
    log::configure("");
    CHECK(log::get("log-test-default")->level() == spdlog::level::warn);
}

TEST_CASE("a spec sets named loggers and '*' sets the rest, old loggers included", "[log]") {
    auto early = log::get("log-test-early");
    log::configure("log-test-qemu=debug, log-test-early=trace ,*=error");
    CHECK(log::get("log-test-qemu")->level() == spdlog::level::debug);
    CHECK(early->level() == spdlog::level::trace);
    CHECK(log::get("log-test-other")->level() == spdlog::level::err);

    log::configure("info");  // a bare level means "*=info"
    CHECK(log::get("log-test-qemu")->level() == spdlog::level::info);
    log::configure("*=off");
    CHECK(early->level() == spdlog::level::off);
    log::configure("");
}

TEST_CASE("a malformed log spec is refused and changes nothing", "[log]") {
    log::configure("log-test-kept=debug");
    const auto bad = GENERATE(as<std::string>{}, "log-test-kept=loud", "=debug", "log-test-kept=",
                              "log-test-kept=info,,*=warn", "log-test-kept=info,", "verbose", "a=b=c");
    CAPTURE(bad);
    try {
        log::configure(bad);
        FAIL("accepted a malformed spec");
    } catch (const Error &e) {
        CHECK(e.code() == VIRTKIT_ERR_CONFIG);
        CHECK_THAT(e.what(), Catch::Contains(bad));
    }
    CHECK(log::get("log-test-kept")->level() == spdlog::level::debug);
    CHECK_THROWS_AS(log::validateSpec(bad), Error);
    log::configure("");
}

TEST_CASE("every thread asking for a name gets the same logger", "[log]") {
    std::vector<std::shared_ptr<spdlog::logger>> seen(8);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < seen.size(); ++i) {
        threads.emplace_back([&seen, i] { seen[i] = log::get("log-test-shared"); });
    }
    for (auto &t : threads) {
        t.join();
    }
    const std::set<spdlog::logger *> distinct = [&] {
        std::set<spdlog::logger *> s;
        for (const auto &l : seen) s.insert(l.get());
        return s;
    }();
    CHECK(distinct.size() == 1);
    CHECK(seen[0]->name() == "log-test-shared");
}

TEST_CASE("log messages go to stderr with the logger's name", "[log]") {
    char path[] = "/tmp/virtkit-log-test-XXXXXX";
    const int file = mkstemp(path);
    REQUIRE(file >= 0);
    std::fflush(stderr);
    const int savedStderr = dup(STDERR_FILENO);
    dup2(file, STDERR_FILENO);

    log::configure("log-test-stderr=info");
    auto logger = log::get("log-test-stderr");
    logger->info("domain {} started", "web");
    logger->debug("below the level");
    logger->flush();

    std::fflush(stderr);
    dup2(savedStderr, STDERR_FILENO);
    close(savedStderr);
    close(file);
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    std::remove(path);
    log::configure("");

    CHECK_THAT(text.str(), Catch::Contains("domain web started"));
    CHECK_THAT(text.str(), Catch::Contains("log-test-stderr"));
    CHECK_THAT(text.str(), !Catch::Contains("below the level"));
}
