#include "runtime/network.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <virtkit/error.hpp>

namespace virtkit::lxc {
namespace {

// Runs `ip ARGS...`; returns its exit status, stderr into `output`.
int run_ip(std::vector<std::string> args, std::string &output)
{
    args.insert(args.begin(), "ip");
    std::vector<char *> argv;
    for (auto &a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0)
        return -1;
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(pipefd[1], 2);
        const int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 0);
        ::dup2(null, 1);
        for (const char *ip : {"/usr/sbin/ip", "/sbin/ip", "/bin/ip"})
            ::execv(ip, argv.data());
        ::_exit(127);
    }
    ::close(pipefd[1]);
    char buffer[512];
    for (ssize_t n; (n = ::read(pipefd[0], buffer, sizeof buffer)) > 0;)
        output.append(buffer, static_cast<std::size_t>(n));
    ::close(pipefd[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    while (!output.empty() && output.back() == '\n')
        output.pop_back();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void ip(const std::vector<std::string> &args)
{
    std::string output;
    if (run_ip(args, output) != 0) {
        std::string command = "ip";
        for (const auto &a : args)
            command += " " + a;
        throw Error(VIRTKIT_ERR_SYSTEM, "'" + command + "' failed: " + output);
    }
}

int inet_socket(int family = AF_INET) { return ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0); }

// The kernel's struct in6_ifreq and in6_rtmsg (linux/ipv6.h and
// linux/ipv6_route.h clash with glibc's netinet/in.h).
struct Ipv6Address {
    in6_addr address;
    std::uint32_t prefix_length;
    int ifindex;
};
struct Ipv6Route {
    in6_addr dst, src, gateway;
    std::uint32_t type;
    std::uint16_t dst_len, src_len;
    std::uint32_t metric;
    unsigned long info;
    std::uint32_t flags;
    int ifindex;
};

std::string add_ipv6(const std::string &dev, const std::string &address, unsigned prefix)
{
    const int sock = inet_socket(AF_INET6);
    Ipv6Address req{};
    req.prefix_length = prefix;
    req.ifindex = static_cast<int>(::if_nametoindex(dev.c_str()));
    std::string error;
    if (sock < 0 || ::inet_pton(AF_INET6, address.c_str(), &req.address) != 1 || ::ioctl(sock, SIOCSIFADDR, &req) != 0)
        error = "cannot give " + dev + " the address " + address + ": " + std::strerror(errno);
    if (sock >= 0)
        ::close(sock);
    return error;
}

std::string add_default_route(const std::string &dev, const std::string &gateway, bool v6)
{
    const int sock = inet_socket(v6 ? AF_INET6 : AF_INET);
    if (sock < 0)
        return std::string("cannot open a socket: ") + std::strerror(errno);
    int result = -1;
    if (v6) {
        Ipv6Route route{};
        route.flags = RTF_UP | RTF_GATEWAY;
        route.metric = 1;
        route.ifindex = static_cast<int>(::if_nametoindex(dev.c_str()));
        if (::inet_pton(AF_INET6, gateway.c_str(), &route.gateway) == 1)
            result = ::ioctl(sock, SIOCADDRT, &route);
    } else {
        rtentry route{};
        auto *dst = reinterpret_cast<sockaddr_in *>(&route.rt_dst);
        auto *mask = reinterpret_cast<sockaddr_in *>(&route.rt_genmask);
        auto *via = reinterpret_cast<sockaddr_in *>(&route.rt_gateway);
        dst->sin_family = mask->sin_family = via->sin_family = AF_INET;
        route.rt_flags = RTF_UP | RTF_GATEWAY;
        std::string name = dev;
        route.rt_dev = name.data();
        if (::inet_pton(AF_INET, gateway.c_str(), &via->sin_addr) == 1)
            result = ::ioctl(sock, SIOCADDRT, &route);
    }
    const int saved = errno;
    ::close(sock);
    return result == 0 ? "" : "cannot add the default route via " + gateway + " on " + dev + ": " + std::strerror(saved);
}

std::string set_flag_up(int sock, const std::string &name)
{
    ifreq req{};
    std::strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (::ioctl(sock, SIOCGIFFLAGS, &req) != 0)
        return "cannot read the flags of " + name + ": " + std::strerror(errno);
    req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
    if (::ioctl(sock, SIOCSIFFLAGS, &req) != 0)
        return "cannot bring " + name + " up: " + std::strerror(errno);
    return {};
}

}  // namespace

bool link_exists(const std::string &name) { return ::if_nametoindex(name.c_str()) != 0; }

void create_veth(const Interface &iface, const std::string &host, const std::string &peer, pid_t pid)
{
    if (link_exists(host))
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, "a network interface named " + host + " already exists on the host");
    if (!iface.bridge.empty() && !link_exists(iface.bridge))
        throw Error(VIRTKIT_ERR_OPERATION_FAILED, "the bridge " + iface.bridge + " does not exist on the host");
    ip({"link", "add", host, "type", "veth", "peer", "name", peer});
    try {
        if (!iface.mac.empty())
            ip({"link", "set", peer, "address", iface.mac});
        ip({"link", "set", peer, "netns", std::to_string(pid)});
        if (!iface.bridge.empty())
            ip({"link", "set", host, "master", iface.bridge});
        ip({"link", "set", host, "up"});
    } catch (...) {
        delete_veth(host);
        throw;
    }
}

void delete_veth(const std::string &host)
{
    std::string ignored;
    if (link_exists(host))
        run_ip({"link", "del", host}, ignored);
}

std::string bring_up_loopback()
{
    const int sock = inet_socket();
    if (sock < 0)
        return std::string("cannot open a socket: ") + std::strerror(errno);
    std::string error = set_flag_up(sock, "lo");
    ::close(sock);
    return error;
}

std::string configure_guest_end(const Interface &iface, const std::string &peer)
{
    const int sock = inet_socket();
    if (sock < 0)
        return std::string("cannot open a socket: ") + std::strerror(errno);
    std::string error;
    ifreq req{};
    std::strncpy(req.ifr_name, peer.c_str(), IFNAMSIZ - 1);
    std::strncpy(req.ifr_newname, iface.guest_name.c_str(), IFNAMSIZ - 1);
    if (::ioctl(sock, SIOCSIFNAME, &req) != 0)
        error = "cannot rename " + peer + " to " + iface.guest_name + ": " + std::strerror(errno);
    for (const auto &[address, prefix] : iface.ipv4) {
        if (!error.empty())
            break;
        ifreq addr{};
        std::strncpy(addr.ifr_name, iface.guest_name.c_str(), IFNAMSIZ - 1);
        auto *in = reinterpret_cast<sockaddr_in *>(&addr.ifr_addr);
        in->sin_family = AF_INET;
        if (::inet_pton(AF_INET, address.c_str(), &in->sin_addr) != 1 || ::ioctl(sock, SIOCSIFADDR, &addr) != 0) {
            error = "cannot give " + iface.guest_name + " the address " + address + ": " + std::strerror(errno);
            break;
        }
        in->sin_addr.s_addr = htonl(prefix == 0 ? 0 : ~0u << (32 - prefix));
        if (::ioctl(sock, SIOCSIFNETMASK, &addr) != 0)
            error = "cannot set the netmask of " + iface.guest_name + ": " + std::strerror(errno);
    }
    for (const auto &[address, prefix] : iface.ipv6)
        if (error.empty())
            error = add_ipv6(iface.guest_name, address, prefix);
    if (error.empty() && iface.up)
        error = set_flag_up(sock, iface.guest_name);
    ::close(sock);
    // Routes need the link up and its addresses in place.
    if (error.empty() && !iface.ipv4_gateway.empty())
        error = add_default_route(iface.guest_name, iface.ipv4_gateway, false);
    if (error.empty() && !iface.ipv6_gateway.empty())
        error = add_default_route(iface.guest_name, iface.ipv6_gateway, true);
    return error;
}

}  // namespace virtkit::lxc
