#include "qmp/monitor_connect.hpp"

#include <fstream>
#include <iterator>

#include <virtkit/error.hpp>

namespace virtkit::qemu {

std::string log_tail(const std::string &path)
{
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    return text.size() > 400 ? "..." + text.substr(text.size() - 400) : text;
}

std::unique_ptr<QmpClient> connect_to_started_qemu(ChildProcess &qemu, const std::string &socket,
                                                   const std::string &stderr_log, QmpClient::Options options,
                                                   std::chrono::steady_clock::time_point deadline)
{
    for (;;) {
        if (qemu.has_exited())
            throw Error(VIRTKIT_ERR_OPERATION_FAILED,
                        "QEMU exited before its monitor came up: " + log_tail(stderr_log));
        if (std::chrono::steady_clock::now() >= deadline)
            throw Error(VIRTKIT_ERR_TIMEOUT, "QEMU did not open its monitor in time");
        try {
            options.handshake_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            return std::make_unique<QmpClient>(UnixStream::connect(socket, std::chrono::milliseconds(20)), options);
        } catch (const Error &e) {
            if (e.code() != VIRTKIT_ERR_NO_CONNECT)
                throw;
        }
    }
}

}  // namespace virtkit::qemu
