// <virtkit/sdk_uri.hpp>: the URI helpers a driver uses to find its state,
// as qemu:///embed?root=DIR does.  Each refusal is INVALID_ARG naming the URI.
#include <catch2/catch.hpp>

#include <string>

#include <virtkit/sdk_uri.hpp>

using virtkit::sdk::localInstance;
using virtkit::sdk::parseLocalUri;
using virtkit::sdk::percentDecoded;

namespace {

// The message of the INVALID_ARG refusal of `uri`.
std::string refusal(const std::string &uri, std::initializer_list<std::string_view> names = {"system", "session"})
{
    try {
        localInstance(uri, "my", names);
    } catch (const virtkit::Error &e) {
        CHECK(e.code() == VIRTKIT_ERR_INVALID_ARG);
        CHECK_THAT(e.what(), Catch::Contains("'" + uri + "'"));
        return e.what();
    }
    FAIL("'" << uri << "' was accepted");
    return {};
}

}  // namespace

TEST_CASE("percent escapes decode, and malformed ones or a NUL are refused", "[sdk][uri]")
{
    CHECK(percentDecoded("/tmp/a%20b%2Fc%7e") == "/tmp/a b/c~");
    CHECK(percentDecoded("plain") == "plain");
    CHECK(percentDecoded("") == "");
    CHECK_FALSE(percentDecoded("100%"));
    CHECK_FALSE(percentDecoded("%4"));
    CHECK_FALSE(percentDecoded("%zz"));
    CHECK_FALSE(percentDecoded("a%00b"));
}

TEST_CASE("a local URI splits into a decoded path and query", "[sdk][uri]")
{
    const auto local = parseLocalUri("my:///embed?root=%2Ftmp%2Fx&flag&k=a%3Db", "my");
    CHECK(local.path == "embed");
    REQUIRE(local.query.size() == 3);
    CHECK(local.param("root") == "/tmp/x");
    CHECK(local.param("flag") == "");
    CHECK(local.param("k") == "a=b");
    CHECK_FALSE(local.param("missing"));
    CHECK(parseLocalUri("my:///", "my").path.empty());
    CHECK(parseLocalUri("my:///system?", "my").query.empty());
}

TEST_CASE("scheme:///NAME and scheme:///embed?root=DIR name a driver instance", "[sdk][uri]")
{
    CHECK(localInstance("my:///system", "my", {"system", "session"}).name == "system");
    CHECK(localInstance("my:///session", "my", {"system", "session"}).embedRoot.empty());
    CHECK(localInstance("my:///", "my", {"", "system"}).name.empty());
    const auto embed = localInstance("my:///embed?root=/tmp/a%20b", "my", {"system"});
    CHECK(embed.name == "embed");
    CHECK(embed.embedRoot == "/tmp/a b");
}

TEST_CASE("a URI that names no instance is refused, saying what would do", "[sdk][uri]")
{
    CHECK_THAT(refusal("other:///system"), Catch::Contains("is not a local my:/// URI"));
    CHECK_THAT(refusal("my://host/system"), Catch::Contains("is not a local my:/// URI"));
    CHECK_THAT(refusal("my+ssh:///system"), Catch::Contains("is not a local my:/// URI"));
    CHECK_THAT(refusal("my:///nothing"),
               Catch::Contains("names no my instance; use my:///system, my:///session, or my:///embed?root=DIR"));
    CHECK_THAT(refusal("my:///system?x=1"), Catch::Contains("takes no parameters"));
    CHECK_THAT(refusal("my:///embed"), Catch::Contains("needs exactly one parameter, root=DIR"));
    CHECK_THAT(refusal("my:///embed?root=/a&root=/b"), Catch::Contains("needs exactly one parameter, root=DIR"));
    CHECK_THAT(refusal("my:///embed?dir=/a"), Catch::Contains("needs exactly one parameter, root=DIR"));
    CHECK_THAT(refusal("my:///embed?root=relative"), Catch::Contains("must be an absolute path"));
    CHECK_THAT(refusal("my:///embed?root="), Catch::Contains("must be an absolute path"));
    CHECK_THAT(refusal("my:///embed?root=/a&"), Catch::Contains("without a name"));
    CHECK_THAT(refusal("my:///embed?root=/a%zz"), Catch::Contains("malformed %-escape"));
    CHECK_THAT(refusal("my:///embed?root=/a%00b"), Catch::Contains("%00"));
    CHECK_THAT(refusal("my:///system#frag"), Catch::Contains("fragment"));
}
