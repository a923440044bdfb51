// Connecting to the QMP monitor of a QEMU we just started: retries until the
// socket answers, but gives up at once if QEMU has exited meanwhile (its
// stderr then says why) or when the deadline passes.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "process/child_process.hpp"
#include "qmp/qmp_client.hpp"

namespace virtkit::qemu {

std::unique_ptr<QmpClient> connect_to_started_qemu(ChildProcess &qemu, const std::string &socket,
                                                   const std::string &stderr_log, QmpClient::Options options,
                                                   std::chrono::steady_clock::time_point deadline);

// The last few hundred bytes of a log file, for error messages.
std::string log_tail(const std::string &path);

}  // namespace virtkit::qemu
