// console: virsh's `console DOMAIN`.  There is no stream slot in the plugin
// ABI yet, so this works locally: it finds the console's pty in the live
// domain XML, opens it and relays bytes both ways until Ctrl+] (0x1d).
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <virtkit/connection.hpp>
#include <virtkit/domain_xml.hpp>
#include <virtkit/error.hpp>
#include <virtkit/uri.hpp>

#include "command.hpp"
#include "session.hpp"

namespace virtkit::cli {

namespace {

constexpr char kEscape = 0x1d;  // Ctrl+], virsh's default escape character
// After stdin ends (a script's pipe), output still arriving is shown until the console is quiet this long.
constexpr int kDrainQuietMs = 500;

[[noreturn]] void systemError(const std::string &what)
{
    throw Error(VIRTKIT_ERR_SYSTEM, what + ": " + std::strerror(errno));
}

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;
    ~Fd() { if (fd_ >= 0) ::close(fd_); }
    int get() const { return fd_; }

private:
    int fd_;
};

// ---- finding the pty in the domain XML -------------------------------------

std::string attr(const xmlNode *node, const char *name)
{
    xmlChar *value = xmlGetProp(node, reinterpret_cast<const xmlChar *>(name));
    std::string text = value ? reinterpret_cast<const char *>(value) : "";
    xmlFree(value);
    return text;
}

const xmlNode *child(const xmlNode *node, const char *name)
{
    for (const xmlNode *c = node ? node->children : nullptr; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && std::strcmp(reinterpret_cast<const char *>(c->name), name) == 0)
            return c;
    return nullptr;
}

struct CharDevice {
    std::string name;  // the <alias name>, else consoleN / serialN
    std::string type;  // pty, file, unix, ...
    std::string path;  // the pty, from <source path> or the tty attribute
};

struct XmlDocFree {
    void operator()(xmlDoc *doc) const { xmlFreeDoc(doc); }
};

// The console (or serial) device the user asked for: by name with --devname,
// else the first <console>, else the first <serial> (as virsh does).
CharDevice findCharDevice(const std::string &xml, const std::optional<std::string> &devname,
                          const std::string &domain)
{
    const std::unique_ptr<xmlDoc, XmlDocFree> doc(
        xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "domain.xml", nullptr,
                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
    if (!doc)
        throw Error(VIRTKIT_ERR_XML, "the driver returned unreadable XML for domain '" + domain + "'");
    std::vector<CharDevice> consoles, serials;
    const xmlNode *devices = child(xmlDocGetRootElement(doc.get()), "devices");
    for (const xmlNode *c = devices ? devices->children : nullptr; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const std::string element = reinterpret_cast<const char *>(c->name);
        if (element != "console" && element != "serial")
            continue;
        auto &list = element == "console" ? consoles : serials;
        CharDevice d;
        d.name = attr(child(c, "alias"), "name");
        if (d.name.empty())
            d.name = element + std::to_string(list.size());
        d.type = attr(c, "type");
        d.path = attr(child(c, "source"), "path");
        if (d.path.empty())
            d.path = attr(c, "tty");
        list.push_back(d);
    }
    if (devname) {
        for (const auto *list : {&consoles, &serials})
            for (const CharDevice &d : *list)
                if (d.name == *devname)
                    return d;
        throw Error(VIRTKIT_ERR_INVALID_ARG, "domain '" + domain + "' has no console or serial device named '" +
                                                 *devname + "'");
    }
    if (!consoles.empty())
        return consoles.front();
    if (!serials.empty())
        return serials.front();
    throw Error(VIRTKIT_ERR_OPERATION_INVALID, "domain '" + domain + "' has no console or serial device");
}

// The pty, opened only if it really is one under /dev/pts: the path comes
// from XML, so it must never make us open (or lock) an arbitrary file.
int openPty(const CharDevice &dev)
{
    if (dev.type != "pty")
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "character device '" + dev.name + "' is not using a PTY (type '" +
                                                       dev.type + "')");
    if (dev.path.empty())
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, "character device '" + dev.name + "' has no pty path yet");
    char resolved[PATH_MAX];
    if (!::realpath(dev.path.c_str(), resolved) || std::strncmp(resolved, "/dev/pts/", 9) != 0)
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, "the console path '" + dev.path + "' is not a pty under /dev/pts");
    const int fd = ::open(resolved, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        systemError("cannot open the console " + std::string(resolved));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode) || !::isatty(fd)) {
        ::close(fd);
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, "the console path '" + dev.path + "' is not a terminal device");
    }
    return fd;
}

// ---- the session --------------------------------------------------------------

// The user's terminal in raw mode for the session's lifetime, restored on every way out.
class RawTerminal {
public:
    explicit RawTerminal(int fd) : fd_(fd)
    {
        if (!::isatty(fd_) || ::tcgetattr(fd_, &saved_) != 0)
            return;
        termios raw = saved_;
        ::cfmakeraw(&raw);
        if (::tcsetattr(fd_, TCSAFLUSH, &raw) == 0)
            active_ = true;
    }
    RawTerminal(const RawTerminal &) = delete;
    RawTerminal &operator=(const RawTerminal &) = delete;
    ~RawTerminal()
    {
        if (active_)
            ::tcsetattr(fd_, TCSAFLUSH, &saved_);
    }

private:
    int fd_;
    termios saved_{};
    bool active_ = false;
};

// Termination signals become readable on a signalfd instead of killing us
// with the terminal still raw; the old mask comes back at the end.
class SignalWatch {
public:
    SignalWatch()
    {
        sigset_t set;
        sigemptyset(&set);
        for (const int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE})
            sigaddset(&set, s);
        if (::sigprocmask(SIG_BLOCK, &set, &saved_) != 0)
            systemError("cannot block signals");
        sigdelset(&set, SIGPIPE);  // a closed stdout shows as EPIPE instead
        fd_ = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (fd_ < 0) {
            ::sigprocmask(SIG_SETMASK, &saved_, nullptr);
            systemError("cannot watch signals");
        }
    }
    SignalWatch(const SignalWatch &) = delete;
    SignalWatch &operator=(const SignalWatch &) = delete;
    ~SignalWatch()
    {
        ::close(fd_);
        ::sigprocmask(SIG_SETMASK, &saved_, nullptr);
    }
    int fd() const { return fd_; }

private:
    int fd_ = -1;
    sigset_t saved_{};
};

// Writes everything, waiting while a non-blocking fd is full.
void writeAll(int fd, const char *data, std::size_t size, const char *what)
{
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n > 0) {
            data += n;
            size -= static_cast<std::size_t>(n);
        } else if (n < 0 && errno == EAGAIN) {
            pollfd p{fd, POLLOUT, 0};
            ::poll(&p, 1, 1000);
        } else if (n < 0 && errno != EINTR) {
            systemError(std::string("cannot write to ") + what);
        }
    }
}

// Relays until the escape character, the end of the console or a signal.
void relay(int pty, int signals)
{
    bool stdinOpen = true;
    char buffer[4096];
    for (;;) {
        pollfd fds[3] = {{pty, POLLIN, 0}, {signals, POLLIN, 0}, {stdinOpen ? STDIN_FILENO : -1, POLLIN, 0}};
        const int ready = ::poll(fds, 3, stdinOpen ? -1 : kDrainQuietMs);
        if (ready < 0 && errno != EINTR)
            systemError("cannot wait for the console");
        if (ready == 0)
            return;  // stdin ended and the console has gone quiet
        if (fds[1].revents & POLLIN) {
            signalfd_siginfo info{};
            if (::read(signals, &info, sizeof info) == sizeof info)
                throw Error(VIRTKIT_ERR_OPERATION_FAILED, std::string("console session ended by signal: ") +
                                                              ::strsignal(static_cast<int>(info.ssi_signo)));
        }
        if (fds[0].revents & POLLIN) {
            const ssize_t n = ::read(pty, buffer, sizeof buffer);
            if (n > 0)
                writeAll(STDOUT_FILENO, buffer, static_cast<std::size_t>(n), "standard output");
            else if (n == 0 || (errno != EAGAIN && errno != EINTR))
                return;  // the other end is gone: the domain stopped
        } else if (fds[0].revents & (POLLHUP | POLLERR)) {
            return;
        }
        if (stdinOpen && (fds[2].revents & (POLLIN | POLLHUP))) {
            const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                systemError("cannot read standard input");
            if (n == 0)
                stdinOpen = false;
            if (n > 0) {
                const char *escape = static_cast<const char *>(std::memchr(buffer, kEscape, static_cast<std::size_t>(n)));
                const std::size_t keep = escape ? static_cast<std::size_t>(escape - buffer) : static_cast<std::size_t>(n);
                writeAll(pty, buffer, keep, "the console");
                if (escape)
                    return;
            }
        }
    }
}

void console(Session &session, const ParsedCommand &cmd)
{
    Domain dom = session.domain(cmd);
    if (!Uri::parse(session.connection().uri()).isLocal())
        throw Error(VIRTKIT_ERR_NO_SUPPORT, "console over a remote connection is not supported yet");
    if (dom.info().state == VIRTKIT_DOMAIN_SHUTOFF)
        throw Error(VIRTKIT_ERR_OPERATION_INVALID, "domain '" + dom.name() + "' is not running");
    const CharDevice dev = findCharDevice(dom.xml(0), cmd.value("devname"), dom.name());
    const Fd pty(openPty(dev));
    // One virtkit session per console: two would split the guest's output between them.
    if (::flock(pty.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK)
            systemError("cannot lock the console");
        if (!cmd.flag("force"))
            throw Error(VIRTKIT_ERR_OPERATION_FAILED, "the console of domain '" + dom.name() +
                                                          "' is in use by another session (use --force to attach anyway)");
    }
    // --safe asks for exclusive access; the lock above gives it among virtkit sessions.
    // The embedded driver holds its state root locked while connected: let go,
    // so other commands (destroy, list) work while the console is attached.
    const std::string name = dom.name();
    session.connection().close();

    session.extra("Connected to domain '" + name + "'");
    session.extra("Escape character is ^] (Ctrl + ])");
    session.out().flush();
    const SignalWatch signals;
    const RawTerminal terminal(STDIN_FILENO);
    relay(pty.get(), signals.fd());
}

}  // namespace

void addConsoleCommands(std::vector<CommandSpec> &table)
{
    table.push_back({"console", "domain", "connect to the guest console",
                     "Connect the virtual serial console for the guest. Ctrl+] detaches.",
                     {{"domain", OptionSpec::Kind::Value, true, true, "domain name, id or uuid"},
                      {"devname", OptionSpec::Kind::Value, false, false, "character device name (alias)"},
                      {"safe", OptionSpec::Kind::Flag, false, false, "only connect if safe console handling is supported"},
                      {"force", OptionSpec::Kind::Flag, false, false,
                       "attach even when another session holds the console"}},
                     console, false});
}

}  // namespace virtkit::cli
