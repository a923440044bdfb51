// Domain XML -> ContainerDefinition: what is honoured is read, the rest refused.
#include <catch2/catch.hpp>

#include <virtkit/error.hpp>

#include "driver/container_definition.hpp"
#include "driver/state_paths.hpp"

using virtkit::lxc::ContainerDefinition;

namespace {

std::string domain(const std::string &inner, const std::string &devices = "")
{
    return "<domain type='lxc'><name>ct1</name><memory unit='MiB'>64</memory>" + inner +
           "<devices><filesystem type='mount'><source dir='/srv/ct1'/><target dir='/'/></filesystem>" + devices +
           "</devices></domain>";
}

const std::string os = "<os><type>exe</type><init>/bin/sh</init></os>";

int error_code(const std::string &xml)
{
    try {
        ContainerDefinition::parse(xml);
    } catch (const virtkit::Error &e) {
        return e.code();
    }
    return 0;
}

}  // namespace

TEST_CASE("an lxc definition reads init, its arguments, environment and directory", "[lxc]")
{
    const auto def = ContainerDefinition::parse(domain(
        "<vcpu>2</vcpu><cputune><shares>512</shares></cputune><resource><partition>/machine/test</partition></resource>"
        "<os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg><initarg>echo hi</initarg>"
        "<initenv name='FOO'>bar</initenv><initdir>/tmp</initdir></os>"
        "<features><privnet/></features><idmap><uid start='0' target='100000' count='65536'/>"
        "<gid start='0' target='100000' count='65536'/></idmap>",
        "<filesystem type='mount'><source dir='/etc'/><target dir='/mnt/etc'/><readonly/></filesystem>"
        "<filesystem type='ram'><source usage='2' units='MiB'/><target dir='/run'/></filesystem>"
        "<console type='pty'><target type='lxc' port='0'/></console>"));
    CHECK(def.name == "ct1");
    CHECK(def.uuid.size() == 36);
    CHECK(def.xml.find("<uuid>" + def.uuid + "</uuid>") != std::string::npos);
    CHECK(def.memory_kib == 65536);
    CHECK(def.vcpus == 2);
    CHECK(def.cpu_shares == 512);
    CHECK(def.partition == "/machine/test");
    CHECK(def.init == "/bin/sh");
    CHECK(def.init_args == std::vector<std::string>{"-c", "echo hi"});
    CHECK(def.init_env.at(0) == std::pair<std::string, std::string>{"FOO", "bar"});
    CHECK(def.init_dir == "/tmp");
    CHECK(def.private_network);
    CHECK(def.uid_map.at(0).target == 100000);
    CHECK(def.root == "/srv/ct1");
    REQUIRE(def.filesystems.size() == 2);
    CHECK(def.filesystems[0].readonly);
    CHECK(def.filesystems[1].kind == virtkit::lxc::Filesystem::Kind::ram);
    CHECK(def.filesystems[1].usage_kib == 2048);
    CHECK(def.consoles == 1);
}

TEST_CASE("an lxc definition refuses what the driver cannot honour", "[lxc]")
{
    CHECK(error_code("<domain type='kvm'><name>x</name></domain>") == VIRTKIT_ERR_XML);
    CHECK(error_code(domain("<os><type>hvm</type></os>")) == VIRTKIT_ERR_XML);
    CHECK(error_code(domain(os + "<memtune><hard_limit>1</hard_limit></memtune>")) == VIRTKIT_ERR_NO_SUPPORT);
    CHECK(error_code(domain(os, "<disk type='file'/>")) == VIRTKIT_ERR_NO_SUPPORT);
    CHECK(error_code(domain(os, "<interface type='network'><source network='default'/></interface>")) ==
          VIRTKIT_ERR_NO_SUPPORT);
    CHECK(error_code(domain(os, "<interface type='bridge'><source bridge='br0'/><ip address='10.0.0.1' family='ipv5'/>"
                                "</interface>")) == VIRTKIT_ERR_XML);
    CHECK(error_code(domain(os, "<interface type='bridge'><source bridge='br0'/>"
                                "<route family='ipv4' address='10.1.0.0' prefix='16' gateway='1.2.3.4'/>"
                                "</interface>")) == VIRTKIT_ERR_NO_SUPPORT);
    CHECK(error_code(domain(os, "<console type='file'/>")) == VIRTKIT_ERR_NO_SUPPORT);
    CHECK(error_code(domain(os + "<on_reboot>restart</on_reboot>")) == VIRTKIT_ERR_NO_SUPPORT);
    CHECK(error_code(domain(os + "<features><capabilities policy='allow'><bogus state='off'/></capabilities>"
                                 "</features>")) == VIRTKIT_ERR_XML);
    CHECK(error_code(domain(os, "<filesystem type='mount'><source dir='/a'/><target dir='/../x'/></filesystem>")) ==
          VIRTKIT_ERR_XML);
    CHECK(error_code("<domain type='lxc'><name>x</name>" + os + "<devices/></domain>") == VIRTKIT_ERR_XML);  // no root
    CHECK(error_code(domain(os + "<idmap><uid start='0' target='1' count='1'/></idmap>")) == VIRTKIT_ERR_XML);
}

TEST_CASE("capability policies become a bounding-set drop list", "[lxc]")
{
    const auto defaults = ContainerDefinition::parse(domain(os));
    CHECK(std::count(defaults.dropped_capabilities.begin(), defaults.dropped_capabilities.end(), 16) == 1);  // sys_module
    const auto allow = ContainerDefinition::parse(
        domain(os + "<features><capabilities policy='allow'><mknod state='off'/></capabilities></features>"));
    CHECK(allow.dropped_capabilities == std::vector<int>{27});
    const auto deny = ContainerDefinition::parse(
        domain(os + "<features><capabilities policy='deny'><chown state='on'/></capabilities></features>"));
    CHECK(deny.dropped_capabilities.size() == 40);
}

TEST_CASE("lxc URIs name the system instance or an embedded root", "[lxc]")
{
    using virtkit::lxc::StatePaths;
    CHECK(StatePaths::from_uri("lxc:///").state == "/var/lib/virtkit/lxc");
    CHECK(StatePaths::from_uri("lxc:///").runtime == "/run/virtkit/lxc");
    CHECK(StatePaths::from_uri("lxc:///embed?root=/tmp/a%20b").runtime == "/tmp/a b/run");
    CHECK_THROWS_AS(StatePaths::from_uri("lxc:///embed?root=rel"), virtkit::Error);
    CHECK_THROWS_AS(StatePaths::from_uri("lxc:///session"), virtkit::Error);
    CHECK_THROWS_AS(StatePaths::from_uri("qemu:///system"), virtkit::Error);
}
