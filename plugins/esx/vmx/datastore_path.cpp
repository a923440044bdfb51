// The default mapping between VMX fileName values and datastore paths: the
// purely syntactic part of what libvirt's ESX driver does.  Whether the
// datastore exists is for a context's own parseFileName to decide.
#include <string>

#include "vmx.hpp"

namespace virtkit::esx {

namespace {
constexpr std::string_view volumes = "/vmfs/volumes/";
}

std::string defaultParseFileName(const std::string &fileName, const VmxContext &context)
{
    if (fileName.compare(0, volumes.size(), volumes) == 0) {
        const std::string rest = fileName.substr(volumes.size());
        const std::size_t slash = rest.find('/');
        if (slash == 0 || slash == std::string::npos || slash + 1 == rest.size())
            throw Error(VIRTKIT_ERR_CONFIG, "VMX file name '" + fileName +
                                                "' is not of the form /vmfs/volumes/<datastore>/<path>");
        return "[" + rest.substr(0, slash) + "] " + rest.substr(slash + 1);
    }
    if (!fileName.empty() && fileName.front() == '/')
        return fileName;
    if (fileName.empty() || fileName.find('/') != std::string::npos)
        throw Error(VIRTKIT_ERR_CONFIG, "VMX file name '" + fileName +
                                            "' is a relative path; only bare file names and absolute paths are understood");
    return "[" + context.vmxDatastore + "] " + (context.vmxDirectory.empty() ? "" : context.vmxDirectory + "/") +
           fileName;
}

std::string defaultFormatFileName(const std::string &path)
{
    if (!path.empty() && path.front() == '[') {
        const std::size_t close = path.find("] ");
        if (close == std::string::npos || close == 1 || close + 2 == path.size())
            throw Error(VIRTKIT_ERR_CONFIG, "datastore path '" + path + "' is not of the form '[datastore] path'");
        return std::string(volumes) + path.substr(1, close - 1) + "/" + path.substr(close + 2);
    }
    if (!path.empty() && path.front() == '/')
        return path;
    throw Error(VIRTKIT_ERR_CONFIG,
                "path '" + path + "' is neither a datastore path ('[datastore] path') nor an absolute path");
}

}  // namespace virtkit::esx
