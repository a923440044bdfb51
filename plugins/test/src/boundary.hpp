// Helpers for the C boundary: every entry point runs its body through
// `guarded`, so no exception ever crosses into the host.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include <virtkit/plugin.h>

#include "plugin_error.hpp"

namespace virtkit::testdriver {

template <typename Body>
int32_t guarded(virtkit_error *err, Body &&body) noexcept
{
    try {
        body();
        return VIRTKIT_OK;
    } catch (const PluginError &e) {
        return virtkit_set_error(err, e.code(), e.what());
    } catch (const std::bad_alloc &) {
        return virtkit_set_error(err, VIRTKIT_ERR_INTERNAL, "the test driver ran out of memory");
    } catch (const std::exception &e) {
        return virtkit_set_error(err, VIRTKIT_ERR_INTERNAL, (std::string("internal error in the test driver: ") + e.what()).c_str());
    } catch (...) {
        return virtkit_set_error(err, VIRTKIT_ERR_INTERNAL, "internal error in the test driver: unknown exception");
    }
}

template <typename T>
T *required(T *pointer, const char *what)
{
    if (!pointer)
        throw PluginError(VIRTKIT_ERR_INVALID_ARG, std::string(what) + " must not be NULL");
    return pointer;
}

inline void checkFlags(uint32_t flags, uint32_t supported, const char *operation)
{
    if (flags & ~supported) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "0x%x", flags & ~supported);
        throw PluginError(VIRTKIT_ERR_INVALID_ARG,
                          std::string("unsupported flags (") + hex + ") in '" + operation + "'");
    }
}

// Copies min(out->struct_size, sizeof(T)) bytes, as the ABI's versioning rule says.
template <typename T>
void copyOut(const T &value, T *out, const char *what)
{
    required(out, what);
    if (out->struct_size < sizeof(uint32_t))
        throw PluginError(VIRTKIT_ERR_INVALID_ARG, std::string(what) + " has no struct_size set");
    T sized = value;
    sized.struct_size = out->struct_size;
    std::memcpy(out, &sized, std::min<std::size_t>(out->struct_size, sizeof(T)));
}

// A string the host releases through free_string.
inline char *hostString(const std::string &text)
{
    char *copy = static_cast<char *>(std::malloc(text.size() + 1));
    if (!copy)
        throw std::bad_alloc();
    std::memcpy(copy, text.c_str(), text.size() + 1);
    return copy;
}

}  // namespace virtkit::testdriver
