// Loads the built test plugin with dlopen and drives it through the C ABI
// only, with a fake host services table that records every event.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <virtkit/plugin.h>

namespace testplugin {

struct RecordedEvent {
    virtkit_conn *conn = nullptr;
    std::string name, uuid;
    int32_t type = -1, detail = -1;
};

// The outcome of one C call: code 0 (VIRTKIT_OK) or the error and its sentence.
struct Outcome {
    int32_t code = VIRTKIT_OK;
    std::string message;
    bool ok() const { return code == VIRTKIT_OK; }
};

void *pluginHandle();  // dlopen'ed once, never closed (as the registry does)
const virtkit_plugin_descriptor &descriptor();
const virtkit_driver_ops &ops();  // init'ed once with the recording host

// Events recorded since the last call, oldest first; clears the record.
std::vector<RecordedEvent> takeEvents();
// Called from inside emit_event, on the emitting thread, when set.
void setEmitHook(void (*hook)(const virtkit_event &));

// Runs `call(err)` with a fresh error struct.
template <typename Call>
Outcome attempt(Call &&call)
{
    virtkit_error err{};
    err.struct_size = sizeof err;
    const int32_t code = call(&err);
    return Outcome{code, code == VIRTKIT_OK ? std::string() : std::string(err.message)};
}

std::string domainXml(const std::string &name, const std::string &uuid, const std::string &extra = "");

// One open connection; closed by the destructor.
class Connection {
public:
    explicit Connection(const std::string &uri = "test:///default");
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    virtkit_conn *handle() const { return conn_; }

    virtkit_domain_ident define(const std::string &xml);  // REQUIREs success
    virtkit_domain_ident create(const std::string &xml);  // REQUIREs success
    Outcome tryDefine(const std::string &xml);
    Outcome tryCreate(const std::string &xml);

    Outcome start(const std::string &uuid);
    Outcome shutdown(const std::string &uuid);
    Outcome reboot(const std::string &uuid);
    Outcome destroy(const std::string &uuid);
    Outcome suspend(const std::string &uuid);
    Outcome resume(const std::string &uuid);
    Outcome undefine(const std::string &uuid);

    virtkit_domain_info info(const std::string &uuid);  // REQUIREs success
    Outcome tryInfo(const std::string &uuid);
    std::string xml(const std::string &uuid, uint32_t flags = 0);  // REQUIREs success
    virtkit_domain_ident lookupByName(const std::string &name);  // REQUIREs success
    Outcome tryLookupByUuid(const std::string &uuid);
    std::vector<virtkit_domain_ident> list(uint32_t flags = 0);
    std::vector<std::string> names(uint32_t flags = 0);  // sorted
    std::string capabilities();

private:
    virtkit_conn *conn_ = nullptr;
};

// Opens expecting failure; closes if it unexpectedly succeeds.
Outcome tryOpen(const std::string &uri);

}  // namespace testplugin
