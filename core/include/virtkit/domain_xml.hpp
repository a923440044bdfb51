// libvirt domain XML on libxml2.  Parsing is hardened: no network, no DTD,
// no entity expansion, size bounded.  The whole document is kept, so
// define → dumpxml loses nothing the user wrote.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace virtkit {

class DomainXml {
public:
    static constexpr std::size_t kMaxBytes = 10 * 1024 * 1024;

    // Throws virtkit::Error (VIRTKIT_ERR_XML) with line numbers on malformed
    // or unacceptable input (missing/invalid name, bad uuid, bad memory...).
    static DomainXml parse(const std::string &xml);

    DomainXml(DomainXml &&) noexcept;
    DomainXml &operator=(DomainXml &&) noexcept;
    DomainXml(const DomainXml &);
    ~DomainXml();

    std::string type() const;  // <domain type='...'>
    std::string name() const;
    std::string uuid() const;  // canonical, lowercase; empty if absent
    // Generates and stores a random UUID when the document has none.
    void ensureUuid();
    uint64_t memoryKiB() const;         // <memory> in KiB (units converted)
    uint64_t currentMemoryKiB() const;  // <currentMemory> or memory
    unsigned vcpus() const;             // <vcpu current=...> or <vcpu>
    std::string osType() const;         // <os><type>: "hvm", "exe", ...; "" if absent
    void setId(int id);                 // id attribute on <domain>; -1 removes it

    std::string str() const;  // serialised document, formatted

private:
    struct Impl;
    explicit DomainXml(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace virtkit
