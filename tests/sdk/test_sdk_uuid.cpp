// <virtkit/sdk_uuid.hpp>: canonical and random UUIDs for drivers.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include <virtkit/sdk_uuid.hpp>

using virtkit::sdk::canonicalUuid;
using virtkit::sdk::randomUuid;

TEST_CASE("a UUID is accepted as libvirt does and comes back canonical", "[sdk][uuid]")
{
    const std::string canonical = "c7a5fdbd-edaf-9455-926a-d65c16db1809";
    CHECK(canonicalUuid(canonical) == canonical);
    CHECK(canonicalUuid("C7A5FDBD-EDAF-9455-926A-D65C16DB1809") == canonical);
    CHECK(canonicalUuid("c7a5fdbdedaf9455926ad65c16db1809") == canonical);
    CHECK(canonicalUuid("  c7a5-fdbd-edaf-9455-926a-d65c-16db-1809\n") == canonical);
}

TEST_CASE("what is not a UUID is refused", "[sdk][uuid]")
{
    CHECK_FALSE(canonicalUuid(""));
    CHECK_FALSE(canonicalUuid("c7a5fdbd-edaf-9455-926a-d65c16db180"));     // 31 digits
    CHECK_FALSE(canonicalUuid("c7a5fdbd-edaf-9455-926a-d65c16db18099"));   // 33 digits
    CHECK_FALSE(canonicalUuid("g7a5fdbd-edaf-9455-926a-d65c16db1809"));    // not hex
    CHECK_FALSE(canonicalUuid("-c7a5fdbd-edaf-9455-926a-d65c16db1809"));   // dash before the first digit
    CHECK_FALSE(canonicalUuid("c7a5fdbd-edaf-9455-926a-d65c16db1809-"));   // dash after the last
    CHECK_FALSE(canonicalUuid("c7a5fdbd edaf-9455-926a-d65c16db1809"));    // blank inside
}

TEST_CASE("random UUIDs are canonical version-4 UUIDs and differ", "[sdk][uuid]")
{
    std::set<std::string> seen;
    for (int i = 0; i < 64; ++i) {
        const std::string uuid = randomUuid();
        CHECK(canonicalUuid(uuid) == uuid);
        CHECK(uuid[14] == '4');
        CHECK(std::string("89ab").find(uuid[19]) != std::string::npos);
        seen.insert(uuid);
    }
    CHECK(seen.size() == 64);
}
