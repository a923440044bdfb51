// The migration slots of the built plugin, through the C ABI (dlopen'd .so),
// between two qemu:///embed roots with real QEMU: the slots are wired, their
// out-strings and errors cross the boundary, a refusal changes nothing.
#include <catch2/catch.hpp>

#include "plugin_harness.hpp"

using namespace virtkit::qemu::testing;

namespace {

std::string take(char *text)
{
    std::string out = text ? text : "";
    if (text)
        ops().free_string(text);
    return out;
}

}  // namespace

TEST_CASE("the migration slots of the plugin migrate a guest between two roots and refuse bad flags untouched",
          "[migration-real][plugin]")
{
    const TempDir src_root, dst_root;
    const std::string uuid = fresh_uuid();
    const QemuGuard guard(uuid);
    Conn src(src_root.path().string()), dst(dst_root.path().string());
    REQUIRE(src.define(guest_xml("abi-mig", uuid)).code == VIRTKIT_OK);
    REQUIRE(src.run(ops().domain_start, uuid).code == VIRTKIT_OK);

    char *stats = nullptr;
    REQUIRE(attempt([&](virtkit_error *e) { return ops().domain_get_job_stats(src.handle(), uuid.c_str(), 0, &stats, e); })
                .code == VIRTKIT_OK);
    CHECK_THAT(take(stats), Catch::Contains(R"("type":0)"));
    std::uint64_t speed = 0;
    REQUIRE(attempt([&](virtkit_error *e) {
                return ops().domain_migrate_get_max_speed(src.handle(), uuid.c_str(), 0, &speed, e);
            }).code == VIRTKIT_OK);
    CHECK(speed == 8796093022207ull);

    char *xml = nullptr, *cookie = nullptr;
    const Outcome non_live = attempt([&](virtkit_error *e) {
        return ops().domain_migrate_begin(src.handle(), uuid.c_str(), "{}", VIRTKIT_MIGRATE_POSTCOPY, &xml, &cookie, e);
    });
    CHECK(non_live.code == VIRTKIT_ERR_INVALID_ARG);
    CHECK_THAT(non_live.message, Catch::Contains("--live"));
    CHECK(src.info(uuid).state == VIRTKIT_DOMAIN_RUNNING);

    const std::uint32_t flags = VIRTKIT_MIGRATE_LIVE;
    REQUIRE(attempt([&](virtkit_error *e) {
                return ops().domain_migrate_begin(src.handle(), uuid.c_str(), "{}", flags, &xml, &cookie, e);
            }).code == VIRTKIT_OK);
    const std::string dest_xml = take(xml), begin_cookie = take(cookie);
    CHECK_THAT(dest_xml, Catch::Contains(uuid));

    std::string prepare_params = R"({"listen_address":"127.0.0.1","dest_xml":")";
    for (const char c : dest_xml) {
        if (c == '"' || c == '\\')
            prepare_params += '\\';
        prepare_params += c == '\n' ? ' ' : c;
    }
    prepare_params += "\"}";
    char *uri = nullptr, *prepare_cookie = nullptr;
    const Outcome prepared = attempt([&](virtkit_error *e) {
        return ops().domain_migrate_prepare(dst.handle(), prepare_params.c_str(), begin_cookie.c_str(), flags, &uri,
                                            &prepare_cookie, e);
    });
    REQUIRE(prepared.message == "");
    const std::string perform_params = R"({"uri":")" + take(uri) + "\"}";
    take(prepare_cookie);

    char *perform_cookie = nullptr;
    REQUIRE(attempt([&](virtkit_error *e) {
                return ops().domain_migrate_perform(src.handle(), uuid.c_str(), perform_params.c_str(), "", flags,
                                                    &perform_cookie, e);
            }).message == "");
    take(perform_cookie);
    virtkit_domain_ident finished{};
    finished.struct_size = sizeof finished;
    char *finish_cookie = nullptr;
    REQUIRE(attempt([&](virtkit_error *e) {
                return ops().domain_migrate_finish(dst.handle(), R"({"dest_name":"abi-mig"})", "", flags, 0, &finished,
                                                   &finish_cookie, e);
            }).message == "");
    const std::string confirm_cookie = take(finish_cookie);
    CHECK(std::string(finished.uuid) == uuid);
    REQUIRE(attempt([&](virtkit_error *e) {
                return ops().domain_migrate_confirm(src.handle(), uuid.c_str(), "{}", confirm_cookie.c_str(), flags, 0,
                                                    e);
            }).message == "");

    CHECK(dst.info(uuid).state == VIRTKIT_DOMAIN_RUNNING);
    CHECK(dst.info(uuid).reason == 2 /* running, migrated */);
    CHECK(src.info(uuid).state == VIRTKIT_DOMAIN_SHUTOFF);
    CHECK(src.info(uuid).reason == 4 /* shut off, migrated */);
    REQUIRE(attempt([&](virtkit_error *e) {
                return ops().domain_get_job_stats(src.handle(), uuid.c_str(), VIRTKIT_JOB_STATS_COMPLETED, &stats, e);
            }).code == VIRTKIT_OK);
    CHECK_THAT(take(stats), Catch::Contains(R"("success":true)"));
    dst.run(ops().domain_destroy, uuid);
}
