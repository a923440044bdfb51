// Loading the remote driver library on demand: it is found beside the core
// library itself (a build tree and an install prefix look the same), so no
// search path or environment decides which copy a program gets.
#include "remote_connection.hpp"

#include <dlfcn.h>

#include <filesystem>

#include <virtkit/error.hpp>
#include <virtkit/log.hpp>

namespace virtkit::remote {
namespace {

// Where this code (libvirtkit-core.so.N) was loaded from.
std::filesystem::path coreLibraryDir()
{
    Dl_info info{};
    if (::dladdr(reinterpret_cast<const void *>(&coreLibraryDir), &info) == 0 || !info.dli_fname)
        return {};
    return std::filesystem::path(info.dli_fname).lexically_normal().parent_path();  // "bin/../lib" reads badly
}

const RemoteDriver &loadDriver()
{
    const std::string path = (coreLibraryDir() / kRemoteDriverFile).string();
    void *handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle)
        throw Error(VIRTKIT_ERR_NO_CONNECT, std::string("remote driver not installed: ") + ::dlerror());
    using Entry = const RemoteDriver *(*)();
    const auto entry = reinterpret_cast<Entry>(::dlsym(handle, kRemoteDriverEntry));
    if (!entry)
        throw Error(VIRTKIT_ERR_NO_CONNECT, "remote driver " + path + " is broken: it exports no " +
                                                kRemoteDriverEntry + "()");
    const RemoteDriver *driver = entry();
    if (!driver || std::string(driver->version) != VIRTKIT_VERSION)
        throw Error(VIRTKIT_ERR_NO_CONNECT, "remote driver " + path + " is version " +
                                                (driver ? driver->version : "?") + ", the core " + VIRTKIT_VERSION +
                                                ": install both from the same build");
    log::get("core")->debug("loaded the remote driver {}", path);
    return *driver;
}

}  // namespace

std::shared_ptr<Connection> RemoteConnection::open(Context &ctx, const std::string &clientUri, Endpoint endpoint)
{
    const RemoteDriver *driver = nullptr;
    try {
        static const RemoteDriver &loaded = loadDriver();  // a failed load is retried next time
        driver = &loaded;
    } catch (const Error &e) {
        throw Error(e.code(), std::string(e.what()) + " (needed for '" + clientUri + "', which goes to virtkitd at " +
                                  endpoint.describe() + ")");
    }
    return driver->open(ctx, clientUri, std::move(endpoint));
}

RemoteConnection::~RemoteConnection() = default;

}  // namespace virtkit::remote
