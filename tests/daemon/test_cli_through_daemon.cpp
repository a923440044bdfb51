// The CLI through virtkitd: many concurrent virtkit processes on one daemon,
// --readonly refused, `virtkit uri --path` naming the route taken.
#include <catch2/catch.hpp>

#include <algorithm>
#include <thread>

#include "harness.hpp"

using namespace std::chrono_literals;
using virtkit::test::Daemon;
using virtkit::test::TempDir;
using virtkit::test::runCli;

namespace {

std::string xmlFile(const TempDir &dir, const std::string &name)
{
    return dir.write(name + ".xml", "<domain type='test'><name>" + name +
                                        "</name><memory unit='KiB'>65536</memory><vcpu>1</vcpu>"
                                        "<os><type>hvm</type></os></domain>");
}

}  // namespace

TEST_CASE("many CLI clients at once run lifecycles on one daemon", "[daemon][cli]")
{
    TempDir root;
    Daemon daemon(root.str());
    const std::string uri = daemon.testUri();
    constexpr int kClients = 16;
    std::vector<int> failures(kClients, 0);
    std::vector<std::string> firstError(kClients);
    std::vector<std::thread> threads;
    for (int i = 0; i < kClients; ++i) {
        threads.emplace_back([&, i] {
          try {  // an exception escaping a thread would abort and leave the daemon running
            const std::string name = "vm" + std::to_string(i);
            const std::string file = xmlFile(root, name);
            for (const std::string &cmd : {"define " + file, "start " + name, "suspend " + name, "resume " + name,
                                          "destroy " + name, "start " + name}) {
                const auto r = runCli({"-c", uri, cmd});
                if (r.exitCode != 0) {
                    if (firstError[i].empty())
                        firstError[i] = cmd + ": " + r.err;
                    ++failures[i];
                }
            }
          } catch (const std::exception &e) {
            firstError[i] = e.what();
            ++failures[i];
          }
        });
    }
    for (auto &t : threads)
        t.join();
    for (int i = 0; i < kClients; ++i) {
        INFO(firstError[i]);
        CHECK(failures[i] == 0);
    }
    // Every client saw the same state: all 16 running, plus the test driver's own.
    const auto list = runCli({"-c", uri, "list --name"});
    REQUIRE(list.exitCode == 0);
    for (int i = 0; i < kClients; ++i)
        CHECK(list.out.find("vm" + std::to_string(i) + "\n") != std::string::npos);
    CHECK(std::count(list.out.begin(), list.out.end(), '\n') >= kClients + 1);
    CHECK(daemon.running());
}

TEST_CASE("virtkit --readonly through the daemon can look but not touch", "[daemon][cli][readonly]")
{
    TempDir root;
    Daemon daemon(root.str());
    const auto look = runCli({"-c", daemon.testUri(), "--readonly", "dominfo test"});
    CHECK(look.exitCode == 0);
    CHECK(look.out.find("running") != std::string::npos);
    const auto touch = runCli({"-c", daemon.testUri(), "--readonly", "destroy test"});
    CHECK(touch.exitCode == 1);
    CHECK(touch.err.find("read only") != std::string::npos);
    const auto roSocket = runCli({"-c", daemon.testUri(true), "destroy test"});
    CHECK(roSocket.exitCode == 1);
    CHECK(roSocket.err.find("read only") != std::string::npos);
    const auto still = runCli({"-c", daemon.testUri(), "domstate test"});
    CHECK(still.out.find("running") != std::string::npos);
}

TEST_CASE("virtkit event --loop streams while another CLI changes a domain", "[daemon][cli][events]")
{
    TempDir root;
    Daemon daemon(root.str());
    const std::string file = xmlFile(root, "evvm");
    virtkit::test::Run watcher;
    std::thread watch([&] {
        try {
            watcher = runCli({"-c", daemon.testUri(true), "event --loop --timeout 4 --event lifecycle"});
        } catch (const std::exception &e) {
            watcher.err = e.what();
        }
    });
    std::this_thread::sleep_for(1s);  // let the watcher subscribe
    CHECK(runCli({"-c", daemon.testUri(), "define " + file}).exitCode == 0);
    CHECK(runCli({"-c", daemon.testUri(), "start evvm"}).exitCode == 0);
    watch.join();
    INFO(watcher.err);
    CHECK(watcher.out.find("'lifecycle' for domain 'evvm': Defined") != std::string::npos);
    CHECK(watcher.out.find("'lifecycle' for domain 'evvm': Started") != std::string::npos);
}

TEST_CASE("virtkit uri --path names the route a URI takes", "[daemon][cli]")
{
    TempDir root;
    Daemon daemon(root.str());
    const auto viaDaemon = runCli({"-c", daemon.testUri(), "uri --path"});
    CHECK(viaDaemon.exitCode == 0);
    CHECK(viaDaemon.out.find("virtkitd at unix:" + daemon.socket()) != std::string::npos);
    const auto inProcess = runCli({"-c", "test:///default", "uri --path"});
    CHECK(inProcess.exitCode == 0);
    CHECK(inProcess.out.find("in-process") != std::string::npos);
}
