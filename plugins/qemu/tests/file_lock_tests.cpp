// The per-domain lock when its holder is killed while a child it forked has
// not yet exec'd: the child's copy of the descriptor keeps the flock, though
// the pid written in the file is dead.  CI hit this once as a domain shown
// "managed by another process" right after its manager was killed mid-start.
#include <catch2/catch.hpp>

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include "driver/file_lock.hpp"
#include "temp_dir.hpp"

using namespace std::chrono_literals;
using virtkit::qemu::FileLock;
using virtkit::qemu::testing::TempDir;

namespace {

// Forks a holder that takes the lock, forks a child sharing the descriptor
// (as a spawn does before exec) for `child_life`, and exits at once.
pid_t dead_holder_with_child(const std::string &path, std::chrono::milliseconds child_life)
{
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t holder = ::fork();
    REQUIRE(holder >= 0);
    if (holder == 0) {
        auto lock = FileLock::try_acquire(path);
        if (lock && ::fork() == 0) {
            ::usleep(static_cast<useconds_t>(child_life.count() * 1000));
            ::_exit(0);
        }
        (void)!::write(ready[1], lock ? "o" : "f", 1);
        ::_exit(0);
    }
    char verdict = 0;
    REQUIRE(::read(ready[0], &verdict, 1) == 1);
    REQUIRE(verdict == 'o');
    ::close(ready[0]);
    ::close(ready[1]);
    int status = 0;
    ::waitpid(holder, &status, 0);
    return holder;
}

}  // namespace

TEST_CASE("a lock whose writer died is taken once the child sharing it lets go", "[qemu][lock]")
{
    const TempDir dir;
    const std::string path = (dir.path() / "owner.lock").string();
    const pid_t holder = dead_holder_with_child(path, 300ms);

    CHECK(FileLock::holder(path) == holder);
    CHECK_FALSE(FileLock::try_acquire(path).has_value());  // the child still has it
    CHECK(FileLock::try_acquire_settled(path, 5s).has_value());
    CHECK(FileLock::holder(path) == ::getpid());
}

TEST_CASE("a lock held past the settle time, or by a live writer, is not taken", "[qemu][lock]")
{
    const TempDir dir;
    const std::string path = (dir.path() / "owner.lock").string();
    dead_holder_with_child(path, 3000ms);
    CHECK_FALSE(FileLock::try_acquire_settled(path, 100ms).has_value());

    const std::string live_path = (dir.path() / "live.lock").string();
    const auto mine = FileLock::try_acquire(live_path);  // this process, alive, holds it
    REQUIRE(mine.has_value());
    const auto started = std::chrono::steady_clock::now();
    CHECK_FALSE(FileLock::try_acquire_settled(live_path, 10s).has_value());
    CHECK(std::chrono::steady_clock::now() - started < 5s);  // a live holder is not waited for
}
