// Serial consoles of real QEMU guests: the live XML names the pty QEMU opened
// for each pty <serial>/<console>, as libvirt's does, and that pty really is
// the guest's serial port.  The guest is tests/guest/serial_echo.S, booted as
// a multiboot kernel: it echoes what it reads on COM1 in upper case.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <thread>

#include "plugin_harness.hpp"
#include "temp_dir.hpp"

using namespace std::chrono_literals;
using namespace virtkit::qemu::testing;

namespace {

std::string live_xml(Conn &conn, const std::string &uuid)
{
    char *xml = nullptr;
    const Outcome got =
        attempt([&](virtkit_error *e) { return ops().domain_get_xml(conn.handle(), uuid.c_str(), 0, &xml, e); });
    REQUIRE(got.code == VIRTKIT_OK);
    std::string text = xml;
    ops().free_string(xml);
    return text;
}

std::string echo_guest_xml(const std::string &name, const std::string &uuid, const std::string &devices)
{
    return "<domain type='qemu'><name>" + name + "</name><uuid>" + uuid +
           "</uuid><memory unit='MiB'>32</memory><vcpu>1</vcpu>"
           "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>" VIRTKIT_QEMU_TEST_GUEST "</kernel></os>"
           "<devices>" + devices + "<memballoon model='none'/></devices></domain>";
}

// Writes `text` to the pty and reads until `expect` comes back (or 20 s pass).
std::string exchange(const std::string &pty, const std::string &text, const std::string &expect)
{
    const int fd = ::open(pty.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    termios raw{};
    REQUIRE(::tcgetattr(fd, &raw) == 0);
    ::cfmakeraw(&raw);
    REQUIRE(::tcsetattr(fd, TCSANOW, &raw) == 0);
    REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    std::string seen;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (seen.find(expect) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 200) == 1) {
            char buffer[256];
            const ssize_t n = ::read(fd, buffer, sizeof buffer);
            if (n > 0)
                seen.append(buffer, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return seen;
}

}  // namespace

#ifdef VIRTKIT_QEMU_TEST_GUEST
TEST_CASE("a pty serial console shows its /dev/pts path in the live XML and reaches the guest's serial port",
          "[qemu][qemu-real][console]")
{
    const TempDir root;
    const std::string uuid = fresh_uuid();
    const QemuGuard guard(uuid);
    Conn conn(root.path().string());
    REQUIRE(conn.define(echo_guest_xml("echo", uuid, "<serial type='pty'/><console type='pty'/>")).code == VIRTKIT_OK);
    CHECK(live_xml(conn, uuid).find("/dev/pts/") == std::string::npos);  // not before it runs
    REQUIRE(conn.run(ops().domain_start, uuid).code == VIRTKIT_OK);

    const std::string xml = live_xml(conn, uuid);
    INFO(xml);
    std::smatch serial, console;
    REQUIRE(std::regex_search(xml, serial, std::regex(R"re(<serial type="pty">\s*<source path="(/dev/pts/[0-9]+)"/>)re")));
    // the serial console is the first serial port itself: the same pty, as tty= too
    REQUIRE(std::regex_search(xml, console,
                              std::regex(R"re(<console type="pty" tty="(/dev/pts/[0-9]+)">\s*<source path="([^"]+)"/>)re")));
    CHECK(console[1] == serial[1]);
    CHECK(console[2] == serial[1]);

    // The guest upper-cases what it reads: the answer comes from inside it.
    const std::string answer = exchange(serial[1], "ping virtkit\r", "PING VIRTKIT");
    CHECK(answer.find("PING VIRTKIT") != std::string::npos);

    // Another connection reads the path back from the saved state.
    Conn later(root.path().string());
    CHECK(live_xml(later, uuid) == xml);
    REQUIRE(conn.run(ops().domain_destroy, uuid).code == VIRTKIT_OK);
    CHECK(live_xml(conn, uuid).find("/dev/pts/") == std::string::npos);  // the inactive XML again
}

TEST_CASE("a guest without a pty needs no chardev query, and file serials keep their own path",
          "[qemu][qemu-real][console]")
{
    const TempDir root;
    const std::string uuid = fresh_uuid();
    const QemuGuard guard(uuid);
    const std::string log = (root.path() / "serial.log").string();
    Conn conn(root.path().string());
    REQUIRE(conn.define(echo_guest_xml("file", uuid, "<serial type='file'><source path='" + log + "'/></serial>"))
                .code == VIRTKIT_OK);
    REQUIRE(conn.run(ops().domain_start, uuid).code == VIRTKIT_OK);
    const std::string xml = live_xml(conn, uuid);
    CHECK(xml.find("<source path=\"" + log + "\"/>") != std::string::npos);
    CHECK(xml.find("/dev/pts/") == std::string::npos);
    // the banner the guest prints at boot lands in the file
    std::string text;
    for (const auto deadline = std::chrono::steady_clock::now() + 20s;
         text.find("virtkit test guest ready") == std::string::npos && std::chrono::steady_clock::now() < deadline;
         std::this_thread::sleep_for(50ms)) {
        std::ifstream in(log);
        text.assign(std::istreambuf_iterator<char>(in), {});
    }
    CHECK(text.find("virtkit test guest ready") != std::string::npos);
    REQUIRE(conn.run(ops().domain_destroy, uuid).code == VIRTKIT_OK);
}
#endif
