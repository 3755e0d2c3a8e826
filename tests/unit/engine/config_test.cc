// The configuration layer: file syntax, every key's accepted range, where
// values come from (file, environment, defaults) and the one-line errors.
#include "engine/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace dpdkudp::engine {
namespace {

using ::testing::HasSubstr;
using wire::Ipv4Addr;
using wire::Ipv4Cidr;

Result<Config> parse(std::string_view text, const Environment& env = {}) {
  return parse_config_text(text, "t.env", env);
}

// The parsed Config, failing the test (with the error line) if it did not parse.
Config parse_ok(std::string_view text, const Environment& env = {}) {
  auto r = parse(text, env);
  EXPECT_TRUE(r.ok()) << "for " << text << ": " << (r.ok() ? "" : r.error().message());
  return r.ok() ? r.value() : Config{};
}

ConfigError parse_error(std::string_view text, const Environment& env = {}) {
  auto r = parse(text, env);
  EXPECT_FALSE(r.ok()) << "for " << text << " expected an error";
  return r.ok() ? ConfigError{} : r.error();
}

// ------------------------------------------------------------------ defaults

TEST(ConfigDefaults, EmptyTextGivesDefaults) {
  Config c = parse_ok("");
  EXPECT_EQ(c.backend, BackendKind::kAuto);
  EXPECT_EQ(c.iface, "");
  EXPECT_FALSE(c.ip);  // taken from the interface at start-up
  EXPECT_FALSE(c.gateway);
  EXPECT_FALSE(c.mtu);
  EXPECT_EQ(c.busy_poll_us, 50u);
  EXPECT_EQ(c.wait, WaitModel::kInline);
  EXPECT_EQ(c.log, LogLevel::kWarn);
  EXPECT_FALSE(c.require);
  EXPECT_EQ(c.mode, DeploymentMode::kDedicated);
  EXPECT_FALSE(c.vlan.enabled());
  EXPECT_EQ(c.queues, 1);
  EXPECT_EQ(c.dpdk_port, 0);
  EXPECT_EQ(c.eal_args, "");
  EXPECT_EQ(c.xdp_mode, XdpMode::kAuto);
  EXPECT_FALSE(c.rx_ring);
  EXPECT_FALSE(c.tx_ring);
  EXPECT_EQ(c.perf_interval_s, 0u);
  EXPECT_EQ(c.rcvbuf_default, 212992u);
  EXPECT_TRUE(c.routes.empty());
  EXPECT_TRUE(c.neighbors.empty());
  EXPECT_TRUE(c.stats);
  EXPECT_EQ(c.source, "t.env");
  EXPECT_EQ(c.describe_non_defaults(), "");
}

TEST(ConfigDefaults, EveryKeySetsItsField) {
  Config c = parse_ok(
      "DPDKUDP_BACKEND=af_packet_mmap\n"
      "DPDKUDP_IFACE=veth1\n"
      "DPDKUDP_IP=198.18.1.10/16\n"
      "DPDKUDP_GATEWAY=198.18.0.1\n"
      "DPDKUDP_MTU=1400\n"
      "DPDKUDP_BUSY_POLL_US=0\n"
      "DPDKUDP_LOG=debug\n"
      "DPDKUDP_REQUIRE=1\n"
      "DPDKUDP_MODE=shared\n"
      "DPDKUDP_VLAN=100\n"
      "DPDKUDP_QUEUES=4\n"
      "DPDKUDP_DPDK_PORT=2\n"
      "DPDKUDP_EAL_ARGS=--no-huge -m 256 --no-pci\n"
      "DPDKUDP_XDP_MODE=native\n"
      "DPDKUDP_MODULE_DIR=/opt/dpdkudp/lib\n"
      "DPDKUDP_WAIT=thread\n"
      "DPDKUDP_RX_RING=1024\n"
      "DPDKUDP_TX_RING=2048\n"
      "DPDKUDP_PERF_INTERVAL=10\n"
      "DPDKUDP_RCVBUF_DEFAULT=4194304\n"
      "DPDKUDP_ROUTES=198.19.0.0/16 via 198.18.0.1 mtu 1300\n"
      "DPDKUDP_NEIGHBORS=198.18.0.1=02:00:00:00:00:01\n"
      "DPDKUDP_STATS=0\n"
      "DPDKUDP_ANNOUNCE=1\n");
  EXPECT_EQ(c.backend, BackendKind::kAfPacketMmap);
  EXPECT_EQ(c.iface, "veth1");
  EXPECT_EQ(c.ip, (Ipv4Cidr{Ipv4Addr(198, 18, 1, 10), 16}));
  EXPECT_EQ(c.gateway, Ipv4Addr(198, 18, 0, 1));
  EXPECT_EQ(c.mtu, 1400);
  EXPECT_EQ(c.busy_poll_us, 0u);
  EXPECT_EQ(c.wait, WaitModel::kThread);
  EXPECT_EQ(c.log, LogLevel::kDebug);
  EXPECT_TRUE(c.require);
  EXPECT_EQ(c.mode, DeploymentMode::kShared);
  EXPECT_EQ(c.vlan.vid, 100);
  EXPECT_EQ(c.queues, 4);
  EXPECT_EQ(c.dpdk_port, 2);
  EXPECT_EQ(c.eal_args, "--no-huge -m 256 --no-pci");
  EXPECT_EQ(c.xdp_mode, XdpMode::kNative);
  EXPECT_EQ(c.module_dir, "/opt/dpdkudp/lib");
  EXPECT_EQ(c.rx_ring, 1024u);
  EXPECT_EQ(c.tx_ring, 2048u);
  EXPECT_EQ(c.perf_interval_s, 10u);
  EXPECT_EQ(c.rcvbuf_default, 4194304u);
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes[0], (RouteSpec{Ipv4Cidr{Ipv4Addr(198, 19, 0, 0), 16}, Ipv4Addr(198, 18, 0, 1), 1300}));
  ASSERT_EQ(c.neighbors.size(), 1u);
  EXPECT_EQ(c.neighbors[0], (NeighborSpec{Ipv4Addr(198, 18, 0, 1), {2, 0, 0, 0, 0, 1}}));
  EXPECT_FALSE(c.stats);
  EXPECT_TRUE(c.announce);
}

// ------------------------------------------------------------------ every key, boundaries

struct KeyCase {
  std::string key;
  std::vector<std::string> good;
  std::vector<std::string> bad;
  std::string reason;  // a substring of the error's reason
};

void PrintTo(const KeyCase& k, std::ostream* os) { *os << k.key; }

class KeyValues : public ::testing::TestWithParam<KeyCase> {};

TEST_P(KeyValues, AcceptsGoodAndRejectsBadWithTheKeyNamed) {
  const KeyCase& k = GetParam();
  for (const auto& v : k.good) parse_ok(k.key + "=" + v + "\n");
  for (const auto& v : k.bad) {
    ConfigError e = parse_error(k.key + "=" + v + "\n");
    EXPECT_EQ(e.key, k.key) << v;
    EXPECT_EQ(e.value, v);
    EXPECT_EQ(e.where, "t.env:1") << v;
    EXPECT_THAT(e.reason, HasSubstr(k.reason)) << v;
  }
}

const std::vector<std::string> kNotNumbers = {
    "-1", "+1", "0x10", "1.0", "1e3", "12abc", "abc", "1 2", "99999999999999999999999"};

std::vector<std::string> with_non_numbers(std::vector<std::string> bad) {
  bad.insert(bad.end(), kNotNumbers.begin(), kNotNumbers.end());
  return bad;
}

INSTANTIATE_TEST_SUITE_P(
    AllKeys, KeyValues,
    ::testing::Values(
        KeyCase{"DPDKUDP_BACKEND",
                {"auto", "dpdk", "af_xdp", "af_packet", "af_packet_mmap", "off", "AF_XDP"},
                {"xdp", "af-xdp", "kernel", "au to"},
                "must be one of auto, dpdk, af_xdp, af_packet, af_packet_mmap, off"},
        KeyCase{"DPDKUDP_MTU",
                {"68", "1500", "9000"},
                with_non_numbers({"67", "9001", "0"}),
                "must be a number from 68 to 9000"},
        KeyCase{"DPDKUDP_BUSY_POLL_US",
                {"0", "50", "10000000"},
                with_non_numbers({"10000001"}),
                "must be a number of microseconds from 0 to 10000000"},
        KeyCase{"DPDKUDP_LOG",
                {"quiet", "error", "warn", "info", "debug", "DEBUG"},
                {"warning", "trace", "3"},
                "must be one of quiet, error, warn, info, debug"},
        KeyCase{"DPDKUDP_REQUIRE",
                {"0", "1", "true", "FALSE", "Yes", "no", "on", "off"},
                {"2", "y", "enabled", "-1"},
                "must be 0 or 1"},
        KeyCase{"DPDKUDP_STATS", {"0", "1", "true", "no"}, {"2", "maybe"}, "must be 0 or 1"},
        KeyCase{"DPDKUDP_MODE",
                {"dedicated", "shared", "Shared"},
                {"exclusive", "share"},
                "must be one of dedicated, shared"},
        KeyCase{"DPDKUDP_VLAN", {"1", "4094"}, with_non_numbers({"0", "4095"}), "must be a number from 1 to 4094"},
        KeyCase{"DPDKUDP_QUEUES", {"1", "64"}, with_non_numbers({"0", "65"}), "must be a number from 1 to 64"},
        KeyCase{"DPDKUDP_DPDK_PORT", {"0", "1023"}, with_non_numbers({"1024"}), "must be a number from 0 to 1023"},
        KeyCase{"DPDKUDP_WAIT", {"inline", "thread"}, {"poll", "busy"}, "must be one of inline, thread"},
        KeyCase{
            "DPDKUDP_XDP_MODE", {"auto", "native", "generic"}, {"skb", "drv"}, "must be one of auto, native, generic"},
        KeyCase{"DPDKUDP_MODULE_DIR",
                {"/usr/lib/x86_64-linux-gnu", "/"},
                {"lib", "./lib", "~/lib"},
                "must be an absolute directory"},
        KeyCase{"DPDKUDP_RX_RING",
                {"64", "128", "4096", "16384"},
                with_non_numbers({"32", "63", "65", "100", "32768", "0"}),
                "must be a power of two from 64 to 16384"},
        KeyCase{"DPDKUDP_TX_RING", {"64", "16384"}, {"96", "16385", "abc"}, "must be a power of two from 64 to 16384"},
        KeyCase{"DPDKUDP_PERF_INTERVAL",
                {"0", "3600"},
                with_non_numbers({"3601"}),
                "must be a number of seconds from 0 to 3600"},
        KeyCase{"DPDKUDP_RCVBUF_DEFAULT",
                {"2304", "212992", "1073741824"},
                with_non_numbers({"2303", "1073741825", "0"}),
                "must be a number of bytes from 2304 to 1073741824"},
        KeyCase{"DPDKUDP_IFACE",
                {"eth0", "veth1", "a", "enp0s31f6.100", "abcdefghijklmno", "veth#1"},
                {"abcdefghijklmnop", "a/b", "eth0:1", ".", "..", "a\x01", "a b"},
                "must be an interface name of 1 to 15 characters"},
        KeyCase{"DPDKUDP_IP",
                {"198.18.0.2/24", "10.0.0.1/8", "198.18.0.0/31", "198.18.0.1/31", "198.18.0.7/32"},
                {"198.18.0.2/33", "198.18.0.2/", "198.18.0/24", "foo/24", "198.18.0.2/0", "198.18.0.256/24"},
                "must be an IPv4 address with a prefix length 1 to 32"},
        KeyCase{"DPDKUDP_GATEWAY",
                {"198.18.0.1", "198.18.0.254"},
                {"198.18.0.1/24", "0.0.0.0", "255.255.255.255", "224.0.0.1", "127.0.0.1", "x"},
                "must be a unicast IPv4 address"},
        KeyCase{"DPDKUDP_PROFILE",
                {"latency", "throughput", "low-cpu", "LATENCY"},
                {"fast", "low_cpu", "lowcpu"},
                "must be one of latency, throughput, low-cpu"},
        KeyCase{"DPDKUDP_LOG_TARGET", {"stderr", "syslog"}, {"journald", "file"}, "must be one of stderr, syslog"},
        KeyCase{"DPDKUDP_CAPTURE",
                {"/tmp/x.pcap", "/var/tmp/a b.pcap"},
                {"x.pcap", "./x.pcap"},
                "must be an absolute file name"},
        KeyCase{"DPDKUDP_CAPTURE_LIMIT",
                {"4096", "67108864", "1099511627776"},
                with_non_numbers({"4095", "1099511627777", "0"}),
                "must be a number of bytes from 4096 to 1099511627776"},
        KeyCase{"DPDKUDP_OFFLOAD",
                {"all", "offload port=53", "kernel port=514; kernel remote=198.18.9.0/24 remote_port=1-1024",
                 "offload local=2001:2::2 port=5000-5100;kernel", "offload port=53;"},
                {"port=53", "offload port=x", "offload port=9-1", "offload port=65536", "kernel remote=198.18.0.0/33",
                 "offload prot=53", "offload port", ";", "offload port=53; drop"},
                "entry"},
        KeyCase{"DPDKUDP_GATEWAY6",
                {"fe80::1", "2001:2::1"},
                {"::", "::1", "ff02::1", "::ffff:198.18.0.1", "2001:2::1/64", "198.18.0.1", "x"},
                "must be a unicast IPv6 address"}),
    [](const auto& p) { return p.param.key; });

TEST(ConfigKeys, Ip6TakesAListOfAddressesOrOff) {
  Config c = parse_ok("DPDKUDP_IP6=2001:2::2/64,fe80::2/64\n");
  ASSERT_EQ(c.ip6.size(), 2u);
  EXPECT_EQ(c.ip6[0], (wire::Ipv6Cidr{wire::Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 2), 64}));
  EXPECT_EQ(c.ip6[1].addr, wire::Ipv6Addr(0xfe80, 0, 0, 0, 0, 0, 0, 2));
  EXPECT_FALSE(c.ip6_off);
  EXPECT_THAT(c.describe_non_defaults(), HasSubstr("ip6=2001:2::2/64,fe80::2/64"));
  Config off = parse_ok("DPDKUDP_IP6=off\n");
  EXPECT_TRUE(off.ip6_off);
  EXPECT_TRUE(off.ip6.empty());
  struct Bad {
    std::string value;
    std::string reason;
  };
  for (const Bad& b : std::vector<Bad>{
           {"2001:2::2", "address 1 \"2001:2::2\": needs a prefix length"},
           {"2001:2::2/64,2001:2::3", "address 2 \"2001:2::3\": needs a prefix length"},
           {"2001:2::2/129", "prefix length 1 to 128"},
           {"2001:2::2/0", "prefix length 1 to 128"},
           {"::/64", "must be a unicast address"},
           {"::1/128", "must be a unicast address"},
           {"ff02::1/64", "must be a unicast address"},
           {"::ffff:198.18.0.2/120", "must be a unicast address"},
           {"2001:2::2/64,2001:2::2/64", "is given twice"},
           {"2001:2::2/64,", "address 2 \"\""},
           {"198.18.0.2/24", "must be an IPv6 address"},
       }) {
    ConfigError e = parse_error("DPDKUDP_IP6=" + b.value + "\n");
    EXPECT_EQ(e.key, "DPDKUDP_IP6") << b.value;
    EXPECT_THAT(e.reason, HasSubstr(b.reason)) << b.value;
  }
}

TEST(ConfigKeys, RoutesAndNeighborsTakeIpv6EntriesBesideIpv4Ones) {
  Config c = parse_ok(
      "DPDKUDP_ROUTES=198.19.0.0/16 via 198.18.0.1; 2001:2:0:10::/64 via fe80::1 mtu 1400; ::/0 via fe80::1; "
      "2001:2:0:20::/64 dev\n"
      "DPDKUDP_NEIGHBORS=198.18.0.1=02:00:00:00:00:01; fe80::1=02:00:00:00:00:fe\n");
  ASSERT_EQ(c.routes.size(), 1u);
  ASSERT_EQ(c.routes6.size(), 3u);
  const wire::Ipv6Addr router(0xfe80, 0, 0, 0, 0, 0, 0, 1);
  EXPECT_EQ(c.routes6[0],
            (RouteSpec6{wire::Ipv6Cidr{wire::Ipv6Addr(0x2001, 2, 0, 0x10, 0, 0, 0, 0), 64}, router, 1400}));
  EXPECT_EQ(c.routes6[1], (RouteSpec6{wire::Ipv6Cidr{wire::Ipv6Addr(), 0}, router, 0}));
  EXPECT_FALSE(c.routes6[2].gateway);
  ASSERT_EQ(c.neighbors.size(), 1u);
  ASSERT_EQ(c.neighbors6.size(), 1u);
  EXPECT_EQ(c.neighbors6[0], (NeighborSpec6{router, {2, 0, 0, 0, 0, 0xfe}}));
  EXPECT_THAT(c.describe_non_defaults(), HasSubstr("2001:2:0:10::/64 via fe80::1 mtu 1400"));
  EXPECT_THAT(c.describe_non_defaults(), HasSubstr("fe80::1=02:00:00:00:00:fe"));
  struct Bad {
    std::string line;
    std::string reason;
  };
  for (const Bad& b : std::vector<Bad>{
           {"DPDKUDP_ROUTES=2001:2:0:10::1/64 via fe80::1", "has host bits set (network is 2001:2:0:10::/64)"},
           {"DPDKUDP_ROUTES=2001:2:0:10::/64 via 198.18.0.1", "is not a unicast IPv6 gateway address"},
           {"DPDKUDP_ROUTES=2001:2:0:10::/64 via ff02::2", "is not a unicast IPv6 gateway address"},
           {"DPDKUDP_ROUTES=2001:2:0:10::/64 dev mtu 1000", "must be a number from 1280 to 9000 (IPv6)"},
           {"DPDKUDP_ROUTES=2001:2::/48 dev; 2001:2::/48 via fe80::1",
            "route 2 \"2001:2::/48 via fe80::1\": destination"},
           {"DPDKUDP_ROUTES=2001:2:0:10::/64", "expected"},
           {"DPDKUDP_NEIGHBORS=ff02::1=02:00:00:00:00:01", "not a unicast IPv6 address"},
           {"DPDKUDP_NEIGHBORS=fe80::1=02:00:00:00:00:01; fe80::1=02:00:00:00:00:02", "fe80::1 given twice"},
           {"DPDKUDP_NEIGHBORS=fe80::1=33:33:00:00:00:01", "not a unicast MAC address"},
       }) {
    ConfigError e = parse_error(b.line + "\n");
    EXPECT_THAT(e.reason, HasSubstr(b.reason)) << b.line << " -> " << e.reason;
  }
}

TEST(ConfigTunnels, ParsesEachKindWithItsKeys) {
  Config c = parse_ok(
      "DPDKUDP_TUNNEL=vxlan vni=100 remote=198.18.1.1 inner=198.19.1.2/24; "
      "geneve vni=16777215 remote=2001:2::1 inner=198.19.2.2/24 local=2001:2::2 mtu=1400 ;"
      "gue remote=198.18.1.1 inner=198.19.3.2/30 port=5555 csum=on\n");
  ASSERT_EQ(c.tunnels.size(), 3u);
  const stack::TunnelConfig& v = c.tunnels[0];
  EXPECT_EQ(v.kind, stack::TunnelKind::kVxlan);
  EXPECT_EQ(v.vni, 100u);
  EXPECT_FALSE(v.outer_v6);
  EXPECT_EQ(v.remote, Ipv4Addr(198, 18, 1, 1));
  EXPECT_EQ(v.inner, (Ipv4Cidr{Ipv4Addr(198, 19, 1, 2), 24}));
  EXPECT_EQ(v.outer_port(), 4789);
  EXPECT_FALSE(v.outer_csum);
  const stack::TunnelConfig& g = c.tunnels[1];
  EXPECT_EQ(g.kind, stack::TunnelKind::kGeneve);
  EXPECT_EQ(g.vni, 0xffffffu);
  EXPECT_TRUE(g.outer_v6);
  EXPECT_EQ(g.remote6, wire::Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 1));
  EXPECT_EQ(g.local6, wire::Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 2));
  EXPECT_EQ(g.outer_port(), 6081);
  EXPECT_TRUE(g.outer_csum) << "mandatory over IPv6";
  EXPECT_EQ(g.mtu, 1400u);
  const stack::TunnelConfig& u = c.tunnels[2];
  EXPECT_EQ(u.kind, stack::TunnelKind::kGue);
  EXPECT_EQ(u.outer_port(), 5555);
  EXPECT_TRUE(u.outer_csum);
  EXPECT_THAT(c.describe_non_defaults(), HasSubstr("vxlan vni=100 remote=198.18.1.1 inner=198.19.1.2/24"));
  Config six = parse_ok("DPDKUDP_TUNNEL=vxlan vni=7 remote=198.18.1.1 inner=198.19.1.2/24 inner6=2001:2:0:100::2/64\n");
  ASSERT_TRUE(six.tunnels[0].inner6);
  EXPECT_EQ(six.tunnels[0].inner6->addr, wire::Ipv6Addr(0x2001, 2, 0, 0x100, 0, 0, 0, 2));
  EXPECT_EQ(six.tunnels[0].inner6->prefix_len, 64);
  EXPECT_THAT(six.describe_non_defaults(), HasSubstr("inner6=2001:2:0:100::2/64"));
}

TEST(ConfigTunnels, EveryBadLineNamesTheKeyAndTheProblem) {
  struct Bad {
    std::string value;
    std::string reason;
  };
  for (const Bad& b : std::vector<Bad>{
           {"ipip remote=198.18.1.1 inner=198.19.1.2/24", "kind \"ipip\" is not one of vxlan, geneve, gue"},
           {"vxlan remote=198.18.1.1 inner=198.19.1.2/24", "vni= is missing"},
           {"vxlan vni=1 inner=198.19.1.2/24", "remote= is missing"},
           {"vxlan vni=1 remote=198.18.1.1", "inner= is missing"},
           {"vxlan vni=16777216 remote=198.18.1.1 inner=198.19.1.2/24", "vni=\"16777216\" must be a number"},
           {"gue vni=1 remote=198.18.1.1 inner=198.19.1.2/24", "vni= does not apply to gue"},
           {"vxlan vni=1 remote=224.0.0.1 inner=198.19.1.2/24", "remote=\"224.0.0.1\" is not a unicast"},
           {"vxlan vni=1 remote=fe80::1 inner=198.19.1.2/24", "is not a unicast IPv4 or global IPv6 address"},
           {"vxlan vni=1 remote=198.18.1.1 inner=198.19.1.2", "is not an IPv4 address with its prefix"},
           {"vxlan vni=1 remote=198.18.1.1 inner=198.19.1.2/32", "needs a prefix from /1 to /30"},
           {"vxlan vni=1 remote=198.18.1.1 inner=198.19.1.0/24", "is the network or broadcast address"},
           {"vxlan vni=1 remote=198.18.1.1 inner=198.19.1.2/24 port=0", "port=\"0\" must be a number from 1"},
           {"vxlan vni=1 remote=198.18.1.1 inner=198.19.1.2/24 inner6=2001:2:0:100::2", "with its prefix"},
           {"vxlan vni=1 remote=198.18.1.1 inner=198.19.1.2/24 inner6=fe80::2/64", "not a global IPv6 address"},
           {"vxlan vni=1 remote=198.18.1.1 inner=198.19.1.2/24 inner6=198.19.1.2/24", "not a global IPv6 address"},
           {"vxlan vni=1 remote=198.18.1.1 inner=198.19.1.2/24 inner6=2001:2:0:100::2/128",
            "needs a prefix from /1 to /126"},
           {"vxlan vni=1 remote=198.18.1.1 inner=198.19.1.2/24 inner6=2001:2:0:100::2/64; vxlan vni=2 "
            "remote=198.18.1.1 inner=198.19.2.2/24 inner6=2001:2:0:100::9/64",
            "inner6 subnet overlaps tunnel 1's"},
           {"vxlan vni=1 remote=198.18.1.1 inner=198.19.1.2/24 csum=yes", "csum=\"yes\" must be on or off"},
           {"vxlan vni=1 remote=2001:2::1 inner=198.19.1.2/24 csum=off", "mandatory"},
           {"vxlan vni=1 remote=198.18.1.1 inner=198.19.1.2/24 local=2001:2::2", "remote= is IPv4"},
           {"vxlan vni=1 remote=198.18.1.1 inner=198.19.1.2/24 mtu=20", "mtu=\"20\" must be a number from 68"},
           {"vxlan vni=1 remote=198.18.1.1 inner=198.19.1.2/24 colour=red", "unknown key \"colour\""},
           {"vxlan vni=1 remote=198.18.1.1 inner=198.19.1.2/24 oops", "unexpected \"oops\""},
           {"vxlan vni=1 remote=198.18.1.1 inner=198.19.1.2/24; vxlan vni=1 remote=198.18.1.3 inner=198.19.2.2/24",
            "tunnel 2 \"vxlan vni=1 remote=198.18.1.3 inner=198.19.2.2/24\": outer port 4789 is already tunnel 1's "
            "with the same VNI"},
           {"gue remote=198.18.1.1 inner=198.19.1.2/24; gue remote=198.18.1.3 inner=198.19.2.2/24",
            "outer port 6080 is already tunnel 1's"},
           {"vxlan vni=1 remote=198.18.1.1 inner=198.19.1.2/24; vxlan vni=2 remote=198.18.1.1 inner=198.19.1.9/16",
            "inner subnet overlaps tunnel 1's"},
       }) {
    ConfigError e = parse_error("DPDKUDP_TUNNEL=" + b.value + "\n");
    EXPECT_EQ(e.key, "DPDKUDP_TUNNEL") << b.value;
    EXPECT_THAT(e.reason, HasSubstr(b.reason)) << b.value << " -> " << e.reason;
  }
  // Two VNIs on one port are two tunnels.
  EXPECT_EQ(parse_ok("DPDKUDP_TUNNEL=vxlan vni=1 remote=198.18.1.1 inner=198.19.1.2/24;"
                     "vxlan vni=2 remote=198.18.1.1 inner=198.19.2.2/24\n")
                .tunnels.size(),
            2u);
}

TEST(ConfigVlan, ParsesTheThreeModes) {
  Config port = parse_ok("DPDKUDP_VLAN=100\nDPDKUDP_VLAN_PCP=5\n");
  EXPECT_EQ(port.vlan.vid, 100);
  EXPECT_EQ(port.vlan.mode, stack::VlanMode::kPortTagging);
  EXPECT_EQ(port.vlan.pcp, 5);
  EXPECT_FALSE(port.vlan.software);

  Config access = parse_ok("DPDKUDP_VLAN=7\nDPDKUDP_VLAN_MODE=access\nDPDKUDP_VLAN_OFFLOAD=software\n");
  EXPECT_EQ(access.vlan.mode, stack::VlanMode::kAccess);
  EXPECT_TRUE(access.vlan.software);

  Config trunk = parse_ok(
      "DPDKUDP_VLAN=100\nDPDKUDP_VLAN_MODE=trunk\nDPDKUDP_VLAN_ALLOWED=300-302, 200,4094,201\n"
      "DPDKUDP_VLAN_NATIVE=1\n");
  EXPECT_EQ(trunk.vlan.mode, stack::VlanMode::kTrunk);
  EXPECT_EQ(trunk.vlan.allowed, (std::vector<uint16_t>{200, 201, 300, 301, 302, 4094}));
  EXPECT_EQ(trunk.vlan.native, 1);
  EXPECT_TRUE(trunk.vlan.trunk_accepts(100));
  EXPECT_TRUE(trunk.vlan.trunk_accepts(1));
  EXPECT_FALSE(trunk.vlan.trunk_accepts(202));
  EXPECT_THAT(trunk.describe_non_defaults(),
              HasSubstr("vlan=100 vlan_mode=trunk vlan_allowed=200-201,300-302,4094 vlan_native=1"));
}

TEST(ConfigVlan, EveryBadSettingNamesTheKeyAndTheProblem) {
  struct Bad {
    std::string text;
    std::string key;
    std::string reason;
  };
  for (const Bad& b : std::vector<Bad>{
           {"DPDKUDP_VLAN=4095", "DPDKUDP_VLAN", "must be a number from 1 to 4094"},
           {"DPDKUDP_VLAN=100\nDPDKUDP_VLAN_MODE=hybrid", "DPDKUDP_VLAN_MODE", "port-tagging, access, trunk"},
           {"DPDKUDP_VLAN=100\nDPDKUDP_VLAN_PCP=8", "DPDKUDP_VLAN_PCP", "must be a number from 0 to 7"},
           {"DPDKUDP_VLAN=100\nDPDKUDP_VLAN_OFFLOAD=hw", "DPDKUDP_VLAN_OFFLOAD", "auto, software"},
           {"DPDKUDP_VLAN=100\nDPDKUDP_VLAN_MODE=trunk\nDPDKUDP_VLAN_ALLOWED=200,0", "DPDKUDP_VLAN_ALLOWED",
            "\"0\" is not a VID from 1 to 4094"},
           {"DPDKUDP_VLAN=100\nDPDKUDP_VLAN_MODE=trunk\nDPDKUDP_VLAN_ALLOWED=300-200", "DPDKUDP_VLAN_ALLOWED",
            "\"300-200\" is not a VID"},
           {"DPDKUDP_VLAN=100\nDPDKUDP_VLAN_MODE=trunk\nDPDKUDP_VLAN_ALLOWED=200,,300", "DPDKUDP_VLAN_ALLOWED",
            "an empty entry"},
           {"DPDKUDP_VLAN_MODE=trunk", "DPDKUDP_VLAN_MODE", "needs DPDKUDP_VLAN (the VID)"},
           {"DPDKUDP_VLAN_PCP=3", "DPDKUDP_VLAN_PCP", "needs DPDKUDP_VLAN"},
           {"DPDKUDP_VLAN_OFFLOAD=software", "DPDKUDP_VLAN_OFFLOAD", "needs DPDKUDP_VLAN"},
           {"DPDKUDP_VLAN=100\nDPDKUDP_VLAN_ALLOWED=200", "DPDKUDP_VLAN_ALLOWED",
            "only a trunk has it (DPDKUDP_VLAN_MODE=trunk; the mode is port-tagging)"},
           {"DPDKUDP_VLAN=100\nDPDKUDP_VLAN_MODE=access\nDPDKUDP_VLAN_NATIVE=1", "DPDKUDP_VLAN_NATIVE",
            "only a trunk has it"},
           {"DPDKUDP_VLAN=100\nDPDKUDP_VLAN_MODE=access\nDPDKUDP_VLAN_PCP=3", "DPDKUDP_VLAN_PCP",
            "access mode sends untagged frames"},
       }) {
    ConfigError e = parse_error(b.text + "\n");
    EXPECT_EQ(e.key, b.key) << b.text;
    EXPECT_THAT(e.reason, HasSubstr(b.reason)) << b.text << " -> " << e.reason;
  }
}

TEST(ConfigFaults, RatesPerDirectionDelayAndSeed) {
  Config c = parse_ok("DPDKUDP_FAULTS=rx.drop=0.01, tx.corrupt=.5,dup=1,delay=0.25,delay_us=500,seed=42\n");
  const auto k = [](FaultKind kind) { return static_cast<size_t>(kind); };
  EXPECT_DOUBLE_EQ(c.faults.rx.p[k(FaultKind::kDrop)], 0.01);
  EXPECT_DOUBLE_EQ(c.faults.tx.p[k(FaultKind::kDrop)], 0);
  EXPECT_DOUBLE_EQ(c.faults.tx.p[k(FaultKind::kCorrupt)], 0.5);
  EXPECT_DOUBLE_EQ(c.faults.rx.p[k(FaultKind::kCorrupt)], 0);
  EXPECT_DOUBLE_EQ(c.faults.rx.p[k(FaultKind::kDuplicate)], 1);  // no rx./tx.: both
  EXPECT_DOUBLE_EQ(c.faults.tx.p[k(FaultKind::kDuplicate)], 1);
  EXPECT_DOUBLE_EQ(c.faults.tx.p[k(FaultKind::kDelay)], 0.25);
  EXPECT_EQ(c.faults.delay_us, 500u);
  EXPECT_EQ(c.faults.seed, 42u);
  EXPECT_TRUE(c.faults.any());
  // Shown in the banner's settings, and read back the same.
  EXPECT_THAT(c.describe_non_defaults(), HasSubstr("faults=rx.drop=0.01,rx.dup=1,rx.delay=0.25,"));
  EXPECT_EQ(parse_ok("DPDKUDP_FAULTS=" + to_string(c.faults) + "\n").faults, c.faults);
  EXPECT_FALSE(parse_ok("").faults.any());
  EXPECT_FALSE(parse_ok("DPDKUDP_FAULTS=drop=0\n").faults.any());
}

TEST(ConfigFaults, EveryBadSettingNamesTheKeyAndTheProblem) {
  for (const auto& [text, reason] : std::vector<std::pair<std::string, std::string>>{
           {"drop", "\"drop\" has no '='"},
           {"rx.lose=0.1", "unknown fault \"lose\""},
           {"xx.drop=0.1", "unknown fault \"xx.drop\""},
           {"drop=1.5", "a probability from 0 to 1"},
           {"drop=-0.1", "a probability from 0 to 1"},
           {"drop=1e-3", "a probability from 0 to 1"},
           {"drop=", "a probability from 0 to 1"},
           {"drop=.", "a probability from 0 to 1"},
           {"drop=0.1.2", "a probability from 0 to 1"},
           {"delay_us=0", "microseconds from 1 to 10000000"},
           {"seed=abc", "seed must be a number"},
           {"seed=18446744073709551619", "seed must be a number from 0 to 1000000000000000000"},  // not wrapped to 3
       }) {
    ConfigError e = parse_error("DPDKUDP_FAULTS=" + text + "\n");
    EXPECT_EQ(e.key, "DPDKUDP_FAULTS") << text;
    EXPECT_THAT(e.reason, HasSubstr(reason)) << text << " -> " << e.reason;
  }
}

TEST(ConfigKeys, EmptyValueMeansDefault) {
  Config c = parse_ok("DPDKUDP_MTU=\nDPDKUDP_BACKEND=\nDPDKUDP_IP=''\n");
  EXPECT_FALSE(c.mtu);
  EXPECT_EQ(c.backend, BackendKind::kAuto);
  EXPECT_FALSE(c.ip);
}

TEST(ConfigKeys, NumbersAreDecimalWithLeadingZerosAllowed) { EXPECT_EQ(parse_ok("DPDKUDP_MTU=01500").mtu, 1500); }

TEST(ConfigKeys, EalArgsAreKeptVerbatim) {
  EXPECT_EQ(parse_ok("DPDKUDP_EAL_ARGS=\"--no-huge  -m 256 --vdev=net_af_packet0,iface=v#1\"").eal_args,
            "--no-huge  -m 256 --vdev=net_af_packet0,iface=v#1");
}

TEST(ConfigKeys, IpNeedsAPrefixAndSaysSo) {
  ConfigError e = parse_error("DPDKUDP_IP=198.18.0.2");
  EXPECT_EQ(e.reason, "needs a prefix length, e.g. 198.18.0.2/24");
}

TEST(ConfigKeys, IpMustBeAUnicastHostAddress) {
  EXPECT_THAT(parse_error("DPDKUDP_IP=127.0.0.1/8").reason, HasSubstr("must be a unicast address"));
  EXPECT_THAT(parse_error("DPDKUDP_IP=224.0.0.1/4").reason, HasSubstr("must be a unicast address"));
  EXPECT_THAT(parse_error("DPDKUDP_IP=198.18.0.0/24").reason, HasSubstr("network or broadcast"));
  EXPECT_THAT(parse_error("DPDKUDP_IP=198.18.0.255/24").reason, HasSubstr("network or broadcast"));
}

TEST(ConfigKeys, GatewayMustBeOnLink) {
  ConfigError e = parse_error("DPDKUDP_IP=198.18.0.2/24\nDPDKUDP_GATEWAY=198.19.0.1\n");
  EXPECT_EQ(e.key, "DPDKUDP_GATEWAY");
  EXPECT_EQ(e.value, "198.19.0.1");
  EXPECT_EQ(e.where, "t.env:2");
  EXPECT_THAT(e.reason, HasSubstr("not on-link: outside DPDKUDP_IP 198.18.0.2/24"));
  // A "dev" route makes another subnet on-link.
  parse_ok("DPDKUDP_IP=198.18.0.2/24\nDPDKUDP_GATEWAY=198.19.0.1\nDPDKUDP_ROUTES=198.19.0.0/24 dev\n");
  // Without DPDKUDP_IP the address comes from the interface at start-up:
  // nothing to check against yet.
  parse_ok("DPDKUDP_GATEWAY=198.19.0.1");
}

TEST(ConfigKeys, GatewayIsNotOurOwnAddress) {
  EXPECT_THAT(parse_error("DPDKUDP_IP=198.18.0.2/24\nDPDKUDP_GATEWAY=198.18.0.2").reason, HasSubstr("own address"));
}

// ------------------------------------------------------------------ routes

TEST(ConfigRoutes, ParsesBothFormsWithOptionalMtu) {
  Config c = parse_ok(
      "DPDKUDP_ROUTES= 10.0.0.0/8 via 198.18.0.1 ; 198.19.0.0/16 dev mtu 1400;"
      "default via 198.18.0.254 mtu 9000; 198.20.0.5 dev ;\n");
  ASSERT_EQ(c.routes.size(), 4u);
  EXPECT_EQ(c.routes[0], (RouteSpec{Ipv4Cidr{Ipv4Addr(10, 0, 0, 0), 8}, Ipv4Addr(198, 18, 0, 1), 0}));
  EXPECT_EQ(c.routes[1], (RouteSpec{Ipv4Cidr{Ipv4Addr(198, 19, 0, 0), 16}, std::nullopt, 1400}));
  EXPECT_EQ(c.routes[2], (RouteSpec{Ipv4Cidr{Ipv4Addr::any(), 0}, Ipv4Addr(198, 18, 0, 254), 9000}));
  EXPECT_EQ(c.routes[3], (RouteSpec{Ipv4Cidr{Ipv4Addr(198, 20, 0, 5), 32}, std::nullopt, 0}));
}

TEST(ConfigRoutes, GatewayMayBeReachedThroughADevRoute) {
  Config c = parse_ok("DPDKUDP_ROUTES=198.19.0.0/24 dev; 10.0.0.0/8 via 198.19.0.1");
  EXPECT_EQ(c.routes.size(), 2u);
}

TEST(ConfigRoutes, OnlySeparatorsIsNoRoutes) { EXPECT_TRUE(parse_ok("DPDKUDP_ROUTES=' ; ;'").routes.empty()); }

TEST(ConfigRoutes, Errors) {
  struct Case {
    const char* value;
    const char* reason;
  };
  const Case cases[] = {
      {"10.0.0.0/8", "route 1 \"10.0.0.0/8\": expected \"CIDR via GATEWAY [mtu N]\" or \"CIDR dev [mtu N]\""},
      {"10.0.0.0/8 via", "route 1 \"10.0.0.0/8 via\": missing gateway after \"via\""},
      {"10.0.0.0/8 via 198.18.0.1 dev", "unexpected \"dev\""},
      {"10.0.0.0/8 via 224.0.0.1", "\"224.0.0.1\" is not a unicast gateway address"},
      {"10.0.0.0/8 via gw", "\"gw\" is not a unicast gateway address"},
      {"10.0.0.1/8 dev", "has host bits set (network is 10.0.0.0/8)"},
      {"10.0.0/8 dev", "\"10.0.0/8\" is not a destination CIDR"},
      {"10.0.0.0/8 dev mtu", "missing number after \"mtu\""},
      {"10.0.0.0/8 dev mtu 67", "mtu \"67\" must be a number from 68 to 9000"},
      {"10.0.0.0/8 dev mtu 9001", "must be a number from 68 to 9000"},
      {"10.0.0.0/8 dev mtu 1400 extra", "unexpected \"extra\""},
      {"10.0.0.0/8 through 198.18.0.1", "expected \"CIDR via GATEWAY"},
      {"10.0.0.0/8 dev; 198.19.0.0/16 dev; 10.0.0.0/8 via 198.18.0.1",
       "route 3 \"10.0.0.0/8 via 198.18.0.1\": destination 10.0.0.0/8 given twice"},
      {"10.0.0.0/8 via 198.19.0.1", "gateway 198.19.0.1 is not on-link"},
      {"10.0.0.0/8 via 198.18.0.2", "gateway 198.18.0.2 is this host's own address"},
  };
  for (const Case& c : cases) {
    ConfigError e = parse_error(std::string("DPDKUDP_IP=198.18.0.2/24\nDPDKUDP_ROUTES=") + c.value);
    EXPECT_EQ(e.key, "DPDKUDP_ROUTES") << c.value;
    EXPECT_EQ(e.value, c.value);
    EXPECT_THAT(e.reason, HasSubstr(c.reason)) << c.value;
  }
}

// ------------------------------------------------------------------ neighbors

TEST(ConfigNeighbors, ParsesEntries) {
  Config c = parse_ok("DPDKUDP_NEIGHBORS=198.18.0.1=02:00:00:00:00:01; 198.18.0.3 = AA:BB:CC:DD:EE:F0 ;");
  ASSERT_EQ(c.neighbors.size(), 2u);
  EXPECT_EQ(c.neighbors[0], (NeighborSpec{Ipv4Addr(198, 18, 0, 1), {2, 0, 0, 0, 0, 1}}));
  EXPECT_EQ(c.neighbors[1], (NeighborSpec{Ipv4Addr(198, 18, 0, 3), {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xf0}}));
}

TEST(ConfigNeighbors, Errors) {
  struct Case {
    const char* value;
    const char* reason;
  };
  const Case cases[] = {
      {"198.18.0.1", "neighbor 1 \"198.18.0.1\": expected IP=MAC"},
      {"198.18.0.1=02:00:00:00:00", "not a unicast MAC address"},
      {"198.18.0.1=02-00-00-00-00-01", "not a unicast MAC address"},
      {"198.18.0.1=00:00:00:00:00:00", "not a unicast MAC address"},
      {"198.18.0.1=ff:ff:ff:ff:ff:ff", "not a unicast MAC address"},
      {"198.18.0.1=01:00:5e:00:00:01", "not a unicast MAC address"},
      {"198.18.0=02:00:00:00:00:01", "not a unicast IPv4 address"},
      {"224.0.0.1=02:00:00:00:00:01", "not a unicast IPv4 address"},
      {"198.18.0.1=02:00:00:00:00:01;198.18.0.1=02:00:00:00:00:02",
       "neighbor 2 \"198.18.0.1=02:00:00:00:00:02\": 198.18.0.1 given twice"},
  };
  for (const Case& c : cases) {
    ConfigError e = parse_error(std::string("DPDKUDP_NEIGHBORS=") + c.value);
    EXPECT_EQ(e.key, "DPDKUDP_NEIGHBORS") << c.value;
    EXPECT_THAT(e.reason, HasSubstr(c.reason)) << c.value;
  }
}

// ------------------------------------------------------------------ file syntax

TEST(ConfigSyntax, CommentsBlankLinesAndWhitespace) {
  Config c = parse_ok(
      "# a comment\n"
      "\n"
      "   \t\n"
      "   # an indented comment\n"
      "  DPDKUDP_MTU =  1400   \n"
      "\tDPDKUDP_IFACE=veth1 # the server side\n"
      "DPDKUDP_BACKEND=#only a comment: the default\n");
  EXPECT_EQ(c.mtu, 1400);
  EXPECT_EQ(c.iface, "veth1");
  EXPECT_EQ(c.backend, BackendKind::kAuto);
}

TEST(ConfigSyntax, HashInsideAWordIsKept) {
  EXPECT_EQ(parse_ok("DPDKUDP_IFACE=veth#1").iface, "veth#1");
  EXPECT_EQ(parse_error("DPDKUDP_LOG=info#x").value, "info#x");
}

TEST(ConfigSyntax, Quotes) {
  EXPECT_EQ(parse_ok("DPDKUDP_EAL_ARGS=\"-m 256 # not a comment\"").eal_args, "-m 256 # not a comment");
  EXPECT_EQ(parse_ok("DPDKUDP_EAL_ARGS='-m \"256\"'  # comment").eal_args, "-m \"256\"");
  EXPECT_EQ(parse_ok("DPDKUDP_EAL_ARGS=\"a'b\"#comment").eal_args, "a'b");
  EXPECT_EQ(parse_ok("DPDKUDP_IFACE=  \"veth1\"  ").iface, "veth1");
  EXPECT_EQ(parse_ok("DPDKUDP_EAL_ARGS=\"\"").eal_args, "");
  // Quotes inside an unquoted value are ordinary characters.
  EXPECT_EQ(parse_ok("DPDKUDP_EAL_ARGS=a\"b").eal_args, "a\"b");
}

TEST(ConfigSyntax, QuoteErrors) {
  ConfigError e = parse_error("DPDKUDP_EAL_ARGS=\"-m 256\n");
  EXPECT_EQ(e.key, "DPDKUDP_EAL_ARGS");
  EXPECT_EQ(e.reason, "unterminated quote");
  EXPECT_EQ(e.where, "t.env:1");
  EXPECT_EQ(parse_error("DPDKUDP_IFACE='veth1").reason, "unterminated quote");
  EXPECT_EQ(parse_error("DPDKUDP_IFACE=\"veth\"1").reason, "unexpected text after the closing quote");
}

TEST(ConfigSyntax, ExportPrefix) {
  Config c = parse_ok("export DPDKUDP_MTU=1400\nexport\tDPDKUDP_IFACE=veth1\n");
  EXPECT_EQ(c.mtu, 1400);
  EXPECT_EQ(c.iface, "veth1");
  EXPECT_EQ(parse_error("exportDPDKUDP_MTU=1400").reason, "unknown key");
}

TEST(ConfigSyntax, CrlfLineEndingsAndByteOrderMark) {
  Config c = parse_ok("\xEF\xBB\xBF# windows\r\nDPDKUDP_MTU=1400\r\nDPDKUDP_IFACE='veth1'\r\n\r\n");
  EXPECT_EQ(c.mtu, 1400);
  EXPECT_EQ(c.iface, "veth1");
}

TEST(ConfigSyntax, NoTrailingNewline) { EXPECT_EQ(parse_ok("DPDKUDP_MTU=1400").mtu, 1400); }

TEST(ConfigSyntax, LineWithoutEquals) {
  ConfigError e = parse_error("DPDKUDP_MTU=1400\nDPDKUDP_IFACE veth1\n");
  EXPECT_EQ(e.key, "");
  EXPECT_EQ(e.value, "DPDKUDP_IFACE veth1");
  EXPECT_EQ(e.where, "t.env:2");
  EXPECT_EQ(e.message(), "dpdkudp: config: t.env:2: \"DPDKUDP_IFACE veth1\": expected KEY=VALUE");
}

TEST(ConfigSyntax, MissingKey) { EXPECT_EQ(parse_error("  =1400").reason, "missing key before '='"); }

TEST(ConfigSyntax, DuplicateKeyNamesBothLines) {
  ConfigError e = parse_error("DPDKUDP_MTU=1400\n# x\nexport DPDKUDP_MTU=1500\n");
  EXPECT_EQ(e.key, "DPDKUDP_MTU");
  EXPECT_EQ(e.value, "1500");
  EXPECT_EQ(e.where, "t.env:3");
  EXPECT_EQ(e.reason, "duplicate key (first set at line 1)");
}

TEST(ConfigSyntax, UnknownKeyWithSuggestion) {
  ConfigError e = parse_error("DPDKUDP_MTU=1400\nDPDKUDP_BUSYPOLL_US=5\n");
  EXPECT_EQ(e.key, "DPDKUDP_BUSYPOLL_US");
  EXPECT_EQ(e.where, "t.env:2");
  EXPECT_EQ(e.reason, "unknown key (did you mean DPDKUDP_BUSY_POLL_US?)");
  EXPECT_EQ(parse_error("DPDKUDP_IFAEC=x").reason, "unknown key (did you mean DPDKUDP_IFACE?)");
  EXPECT_EQ(parse_error("dpdkudp_mtu=1400").reason, "unknown key (did you mean DPDKUDP_MTU?)");
  EXPECT_EQ(parse_error("MTU=1400").reason, "unknown key (did you mean DPDKUDP_MTU?)");
  EXPECT_EQ(parse_error("BACKEND=dpdk").reason, "unknown key (did you mean DPDKUDP_BACKEND?)");
}

TEST(ConfigSyntax, UnknownKeyWithoutSuggestion) {
  ConfigError e = parse_error("DPDKUDP_FROBNICATE=1");
  EXPECT_EQ(e.reason, "unknown key");
  EXPECT_EQ(e.message(), "dpdkudp: config: t.env:1: DPDKUDP_FROBNICATE=\"1\": unknown key");
  EXPECT_EQ(parse_error("PATH=/bin").reason, "unknown key");
}

TEST(ConfigSyntax, ConfigKeyIsEnvironmentOnly) {
  EXPECT_THAT(parse_error("DPDKUDP_CONFIG=/x.env").reason, HasSubstr("only works as an environment variable"));
}

TEST(ConfigSyntax, FirstErrorInFileOrderIsReported) {
  ConfigError e = parse_error("DPDKUDP_QUEUES=0\nDPDKUDP_BACKEND=nope\n");
  EXPECT_EQ(e.key, "DPDKUDP_QUEUES");
  e = parse_error("DPDKUDP_BACKEND=nope\nDPDKUDP_QUEUES=0\n");
  EXPECT_EQ(e.key, "DPDKUDP_BACKEND");
}

// ------------------------------------------------------------------ environment

TEST(ConfigEnvironment, OverridesTheFile) {
  Config c = parse_ok("DPDKUDP_MTU=1400\nDPDKUDP_IFACE=veth1\n", {{"DPDKUDP_MTU", "9000"}, {"HOME", "/root"}});
  EXPECT_EQ(c.mtu, 9000);
  EXPECT_EQ(c.iface, "veth1");
}

TEST(ConfigEnvironment, EnvironmentOnly) {
  auto r = load_config({{"DPDKUDP_BACKEND", "af_packet"}, {"DPDKUDP_IFACE", " veth2 "}}, "");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->backend, BackendKind::kAfPacket);
  EXPECT_EQ(r->iface, "veth2");  // surrounding whitespace trimmed
  EXPECT_EQ(r->source, "");
}

TEST(ConfigEnvironment, RepairsABadFileValue) {
  EXPECT_EQ(parse_ok("DPDKUDP_MTU=huge\n", {{"DPDKUDP_MTU", "1500"}}).mtu, 1500);
}

TEST(ConfigEnvironment, EmptyVariableRestoresTheDefault) {
  EXPECT_EQ(parse_ok("DPDKUDP_BACKEND=off\n", {{"DPDKUDP_BACKEND", ""}}).backend, BackendKind::kAuto);
}

TEST(ConfigEnvironment, BadValueIsReportedAsEnvironment) {
  ConfigError e = parse_error("", {{"DPDKUDP_MTU", "90000"}});
  EXPECT_EQ(e.where, "environment");
  EXPECT_EQ(e.message(), "dpdkudp: config: environment: DPDKUDP_MTU=\"90000\": must be a number from 68 to 9000");
}

TEST(ConfigEnvironment, UnknownDpdkudpVariableIsAnError) {
  ConfigError e = parse_error("", {{"DPDKUDP_BAKCEND", "dpdk"}});
  EXPECT_EQ(e.key, "DPDKUDP_BAKCEND");
  EXPECT_EQ(e.where, "environment");
  EXPECT_EQ(e.reason, "unknown key (did you mean DPDKUDP_BACKEND?)");
  EXPECT_EQ(parse_error("", {{"DPDKUDP_CONFG", "/x"}}).reason, "unknown key (did you mean DPDKUDP_CONFIG?)");
}

TEST(ConfigEnvironment, OtherVariablesAreIgnored) {
  parse_ok("", {{"MTU", "x"}, {"dpdkudp_mtu", "x"}, {"DPDKUDPX", "x"}, {"DPDKUDP_CONFIG", "/x"}});
}

TEST(ConfigEnvironment, FileGatewayCheckedAgainstEnvironmentIp) {
  parse_ok("DPDKUDP_GATEWAY=10.1.2.1\n", {{"DPDKUDP_IP", "10.1.2.3/24"}});
  EXPECT_EQ(parse_error("DPDKUDP_GATEWAY=198.18.0.1\n", {{"DPDKUDP_IP", "10.1.2.3/24"}}).where, "t.env:1");
}

// ------------------------------------------------------------------ require hint on failure

TEST(ConfigRequireHint, ReadEvenWhenTheConfigFails) {
  EXPECT_FALSE(parse_error("DPDKUDP_MTU=x").require);
  EXPECT_TRUE(parse_error("DPDKUDP_MTU=x\nDPDKUDP_REQUIRE=yes\n").require);
  EXPECT_TRUE(parse_error("garbage line\nexport DPDKUDP_REQUIRE='1'\n").require);
  EXPECT_TRUE(parse_error("DPDKUDP_MTU=x", {{"DPDKUDP_REQUIRE", "1"}}).require);
  EXPECT_FALSE(parse_error("DPDKUDP_REQUIRE=1\nDPDKUDP_MTU=x", {{"DPDKUDP_REQUIRE", "0"}}).require);
  EXPECT_FALSE(parse_error("DPDKUDP_REQUIRE=sure").require);  // unreadable: fall back
  EXPECT_TRUE(parse_error("", {{"DPDKUDP_REQUIRE", "1"}, {"DPDKUDP_TYPO", "1"}}).require);
}

// ------------------------------------------------------------------ messages

TEST(ConfigMessage, ExactFormat) {
  ConfigError e{"DPDKUDP_MTU", "90000", "must be a number from 68 to 9000", "/etc/x.env:12"};
  EXPECT_EQ(e.message(), "dpdkudp: config: /etc/x.env:12: DPDKUDP_MTU=\"90000\": must be a number from 68 to 9000");
}

TEST(ConfigMessage, StaysOneLine) {
  ConfigError e{"DPDKUDP_IFACE", "a\nb\"c\\", "bad", "x\ny.env:1"};
  EXPECT_EQ(e.message(), "dpdkudp: config: x?y.env:1: DPDKUDP_IFACE=\"a\\x0ab\\\"c\\\\\": bad");
}

TEST(ConfigMessage, LongValuesAreCut) {
  ConfigError e{"DPDKUDP_EAL_ARGS", std::string(1000, 'x'), "bad", "environment"};
  EXPECT_LT(e.message().size(), 300u);
  EXPECT_THAT(e.message(), HasSubstr("x...\": bad"));
}

TEST(ConfigMessage, WithoutKeyOrValue) {
  ConfigError e{"", "", "cannot open: Permission denied", "/etc/dpdkudp.env"};
  EXPECT_EQ(e.message(), "dpdkudp: config: /etc/dpdkudp.env: cannot open: Permission denied");
}

// ------------------------------------------------------------------ describe_non_defaults

TEST(ConfigDescribe, ListsOnlyNonDefaultsInKeyOrder) {
  Config c = parse_ok(
      "DPDKUDP_BUSY_POLL_US=0\nDPDKUDP_IFACE=veth1\nDPDKUDP_BACKEND=af_packet\n"
      "DPDKUDP_IP=198.18.0.9/24\nDPDKUDP_LOG=warn\nDPDKUDP_QUEUES=1\n");
  EXPECT_EQ(c.describe_non_defaults(), "backend=af_packet iface=veth1 ip=198.18.0.9/24 busy_poll_us=0");
}

TEST(ConfigDescribe, QuotesValuesWithSpaces) {
  Config c = parse_ok(
      "DPDKUDP_EAL_ARGS='--no-huge -m 256'\n"
      "DPDKUDP_ROUTES=default via 198.18.0.1;198.19.0.0/16 dev mtu 1400\n"
      "DPDKUDP_NEIGHBORS=198.18.0.1=02:00:00:00:00:01\n"
      "DPDKUDP_STATS=0\nDPDKUDP_REQUIRE=yes\nDPDKUDP_RX_RING=512\nDPDKUDP_MODE=shared\n");
  EXPECT_EQ(c.describe_non_defaults(),
            "mode=shared routes=\"default via 198.18.0.1; 198.19.0.0/16 dev mtu 1400\" "
            "neighbors=198.18.0.1=02:00:00:00:00:01 rx_ring=512 eal_args=\"--no-huge -m 256\" "
            "require=1 stats=0");
}

TEST(ConfigDescribe, EnumNames) {
  EXPECT_EQ(to_string(BackendKind::kAfPacketMmap), "af_packet_mmap");
  EXPECT_EQ(to_string(LogLevel::kQuiet), "quiet");
  EXPECT_EQ(to_string(DeploymentMode::kShared), "shared");
  EXPECT_EQ(to_string(XdpMode::kGeneric), "generic");
}

// ------------------------------------------------------------------ files on disk

class ConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dpdkudp_config_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::string dir_;
};

TEST_F(ConfigFiles, ExplicitFile) {
  std::string path = write("a.env", "DPDKUDP_MTU=1400\n");
  auto r = load_config({{"DPDKUDP_CONFIG", path}}, dir_ + "/absent.env");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->mtu, 1400);
  EXPECT_EQ(r->source, path);
}

TEST_F(ConfigFiles, ExplicitFileWinsOverDefault) {
  std::string path = write("a.env", "DPDKUDP_MTU=1400\n");
  std::string def = write("default.env", "DPDKUDP_MTU=1500\n");
  auto r = load_config({{"DPDKUDP_CONFIG", path}}, def);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->mtu, 1400);
}

TEST_F(ConfigFiles, ErrorsNameTheFileAndLine) {
  std::string path = write("a.env", "# x\nDPDKUDP_MTU=90000\n");
  auto r = load_config({{"DPDKUDP_CONFIG", path}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "dpdkudp: config: " + path + ":2: DPDKUDP_MTU=\"90000\": must be a number from 68 to 9000");
}

TEST_F(ConfigFiles, MissingExplicitFileIsAnError) {
  std::string path = dir_ + "/nope.env";
  auto r = load_config({{"DPDKUDP_CONFIG", path}, {"DPDKUDP_REQUIRE", "1"}}, "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().key, "DPDKUDP_CONFIG");
  EXPECT_EQ(r.error().where, "environment");
  EXPECT_TRUE(r.error().require);
  EXPECT_EQ(r.error().message(),
            "dpdkudp: config: environment: DPDKUDP_CONFIG=\"" + path + "\": cannot open: No such file or directory");
}

TEST_F(ConfigFiles, DirectoryIsUnreadable) {
  // Tests run as root, where chmod 000 still reads: a directory cannot be.
  auto r = load_config({{"DPDKUDP_CONFIG", dir_}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "is a directory, not a file");
  auto d = load_config({}, dir_);  // an unreadable default is an error too
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().message(), "dpdkudp: config: " + dir_ + ": is a directory, not a file");
}

TEST_F(ConfigFiles, FileUnderANonDirectoryIsAnError) {
  std::string file = write("a.env", "");
  auto r = load_config({{"DPDKUDP_CONFIG", file + "/x.env"}});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().reason, HasSubstr("Not a directory"));
}

TEST_F(ConfigFiles, AbsentDefaultIsFine) {
  auto r = load_config({{"DPDKUDP_LOG", "info"}}, dir_ + "/absent.env");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->log, LogLevel::kInfo);
  EXPECT_EQ(r->source, "");
}

TEST_F(ConfigFiles, PresentDefaultIsRead) {
  std::string def = write("dpdkudp.env", "DPDKUDP_BACKEND=off\n");
  auto r = load_config({}, def);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->backend, BackendKind::kOff);
  EXPECT_EQ(r->source, def);
}

TEST_F(ConfigFiles, EmptyConfigVariableSkipsTheDefault) {
  std::string def = write("dpdkudp.env", "DPDKUDP_BACKEND=nonsense\n");
  auto r = load_config({{"DPDKUDP_CONFIG", ""}}, def);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->backend, BackendKind::kAuto);
}

TEST_F(ConfigFiles, HugeFileIsRefused) {
  std::string path = write("big.env", std::string((1 << 20) + 1, '#'));
  auto r = load_config({{"DPDKUDP_CONFIG", path}});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().reason, HasSubstr("larger than 1 MiB"));
}

TEST_F(ConfigFiles, FromTheProcessEnvironment) {
  std::string path = write("p.env", "DPDKUDP_MTU=1400\nDPDKUDP_IFACE=veth1\n");
  ASSERT_EQ(setenv("DPDKUDP_CONFIG", path.c_str(), 1), 0);
  ASSERT_EQ(setenv("DPDKUDP_IFACE", "veth9", 1), 0);
  Environment env = process_environment();
  auto r = load_config_from_process();
  unsetenv("DPDKUDP_CONFIG");
  unsetenv("DPDKUDP_IFACE");
  EXPECT_EQ(env.count("DPDKUDP_IFACE"), 1u);
  EXPECT_EQ(env.count("PATH"), 0u);  // only DPDKUDP_* names are collected
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->mtu, 1400);
  EXPECT_EQ(r->iface, "veth9");
}

}  // namespace
}  // namespace dpdkudp::engine

namespace dpdkudp::engine {
namespace {

// ------------------------------------------------------------------ profiles

TEST(ConfigProfiles, AProfileSetsItsKeysAndAnyWrittenKeyWins) {
  Config c = parse_ok("DPDKUDP_PROFILE=throughput\nDPDKUDP_TX_RING=1024\n");
  EXPECT_EQ(c.profile, "throughput");
  EXPECT_EQ(c.rx_ring, 4096u);
  EXPECT_EQ(c.tx_ring, 1024u);  // the file's, over the profile's 4096
  EXPECT_EQ(c.rcvbuf_default, 4194304u);
  EXPECT_EQ(c.busy_poll_us, 200u);
  // From the environment, under a file key too.
  Config l = parse_ok("DPDKUDP_BUSY_POLL_US=7\n", {{"DPDKUDP_PROFILE", "latency"}});
  EXPECT_EQ(l.busy_poll_us, 7u);
  EXPECT_EQ(l.wait, WaitModel::kInline);
  Config z = parse_ok("DPDKUDP_PROFILE=low-cpu\nDPDKUDP_WAIT=thread\n");
  EXPECT_EQ(z.busy_poll_us, 0u);
  EXPECT_EQ(z.wait, WaitModel::kThread);
  EXPECT_EQ(parse_ok("").busy_poll_us, 50u);  // no profile: the defaults
}

TEST(ConfigProfiles, EveryProfileParsesAndIsDescribed) {
  const std::string described = describe_profiles();
  for (const Profile& p : profiles()) {
    Config c = parse_ok("DPDKUDP_PROFILE=" + std::string(p.name) + "\n");
    EXPECT_EQ(c.profile, p.name);
    EXPECT_FALSE(p.settings.empty()) << p.name;
    EXPECT_THAT(described, HasSubstr(std::string(p.name) + ": ")) << p.name;
    for (const auto& [key, value] : p.settings) {
      EXPECT_THAT(described, HasSubstr(std::string(key) + "=" + std::string(value)));
      parse_ok(std::string(key) + "=" + std::string(value) + "\n");  // a valid value of its key
    }
  }
  EXPECT_THAT(parse_ok("DPDKUDP_PROFILE=latency\n").describe_non_defaults(), HasSubstr("profile=latency"));
}

TEST(ConfigKeys, TheKeyListHasEveryKeyOnce) {
  const std::vector<std::string_view> keys = config_keys();
  std::set<std::string_view> unique(keys.begin(), keys.end());
  EXPECT_EQ(unique.size(), keys.size());
  for (const char* k : {"DPDKUDP_BACKEND", "DPDKUDP_PROFILE", "DPDKUDP_OFFLOAD", "DPDKUDP_CAPTURE",
                        "DPDKUDP_CAPTURE_LIMIT", "DPDKUDP_LOG_TARGET"}) {
    EXPECT_EQ(unique.count(k), 1u) << k;
  }
}

// ------------------------------------------------------------------ offload rules

stack::Endpoint v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  return stack::Endpoint{Ipv4Addr(a, b, c, d), port};
}

OffloadRules rules(std::string_view text) {
  std::string why;
  auto r = OffloadRules::parse(text, &why);
  EXPECT_TRUE(r.has_value()) << text << ": " << why;
  return r.value_or(OffloadRules{});
}

TEST(OffloadRules, EmptyOrAllOffloadsEverySocket) {
  EXPECT_TRUE(rules("").empty());
  EXPECT_TRUE(rules("all").empty());
  EXPECT_TRUE(rules("").offload({v4(198, 18, 0, 2, 53), std::nullopt}));
}

TEST(OffloadRules, AListOfOffloadsKeepsTheRestOnTheKernel) {
  OffloadRules r = rules("offload port=53; offload port=5000-5100 local=198.18.0.2");
  EXPECT_TRUE(r.offload({v4(0, 0, 0, 0, 53), std::nullopt}));
  EXPECT_TRUE(r.offload({v4(198, 18, 0, 2, 5050), std::nullopt}));
  EXPECT_FALSE(r.offload({v4(198, 18, 0, 3, 5050), std::nullopt}));  // another local address
  EXPECT_FALSE(r.offload({v4(0, 0, 0, 0, 5050), std::nullopt}));     // the wildcard is not that address
  EXPECT_FALSE(r.offload({v4(0, 0, 0, 0, 514), std::nullopt}));
  // A client placed at connect: no local port known, so no port rule holds.
  EXPECT_FALSE(r.offload({std::nullopt, v4(198, 18, 5, 5, 53)}));
}

TEST(OffloadRules, AListOfKernelsOffloadsTheRest) {
  OffloadRules r = rules("kernel port=514; kernel remote=198.18.9.0/24 remote_port=8125");
  EXPECT_FALSE(r.offload({v4(0, 0, 0, 0, 514), std::nullopt}));
  EXPECT_TRUE(r.offload({v4(0, 0, 0, 0, 53), std::nullopt}));
  EXPECT_FALSE(r.offload({std::nullopt, v4(198, 18, 9, 7, 8125)}));
  EXPECT_TRUE(r.offload({std::nullopt, v4(198, 18, 9, 7, 8126)}));
  EXPECT_TRUE(r.offload({std::nullopt, v4(198, 18, 10, 7, 8125)}));
}

TEST(OffloadRules, TheFirstMatchWinsAndACatchAllEndsTheList) {
  OffloadRules r = rules("kernel port=5353; offload port=5000-6000; kernel");
  EXPECT_FALSE(r.offload({v4(0, 0, 0, 0, 5353), std::nullopt}));
  EXPECT_TRUE(r.offload({v4(0, 0, 0, 0, 5354), std::nullopt}));
  EXPECT_FALSE(r.offload({v4(0, 0, 0, 0, 7000), std::nullopt}));
  EXPECT_EQ(r.to_string(), "kernel port=5353; offload port=5000-6000; kernel");
}

TEST(OffloadRules, Ipv6AndV4MappedEndpointsMatchTheirFamily) {
  OffloadRules r = rules("offload local=2001:2::/48; offload remote=198.18.0.0/15");
  EXPECT_TRUE(r.offload({stack::Endpoint::ipv6(wire::Ipv6Addr(0x2001, 2, 0, 1, 0, 0, 0, 2), 53), std::nullopt}));
  EXPECT_FALSE(r.offload({stack::Endpoint::ipv6(wire::Ipv6Addr(0x2001, 3, 0, 0, 0, 0, 0, 2), 53), std::nullopt}));
  // An AF_INET6 socket's v4-mapped peer is the IPv4 address it names.
  const auto mapped = stack::Endpoint::ipv6(wire::Ipv6Addr(0, 0, 0, 0, 0, 0xffff, 0xc612, 0x0001), 9);
  EXPECT_TRUE(r.offload({std::nullopt, mapped}));
  EXPECT_EQ(r.to_string(), "offload local=2001:2::/48; offload remote=198.18.0.0/15");
}

TEST(OffloadRules, ErrorsNameTheEntry) {
  std::string why;
  EXPECT_FALSE(OffloadRules::parse("offload port=53; kernel prot=7", &why));
  EXPECT_EQ(why, "entry 2 \"kernel prot=7\": unknown condition \"prot\" (port, local, remote, remote_port)");
  EXPECT_FALSE(OffloadRules::parse("offload port=70000", &why));
  EXPECT_THAT(why, HasSubstr("port must be a port or a range"));
  EXPECT_FALSE(OffloadRules::parse("accept port=1", &why));
  EXPECT_THAT(why, HasSubstr("starts with offload or kernel"));
  EXPECT_FALSE(OffloadRules::parse(" ; ", &why));
  EXPECT_THAT(why, HasSubstr("has no entry"));
}

}  // namespace
}  // namespace dpdkudp::engine
