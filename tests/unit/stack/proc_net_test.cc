// The /proc readers over fixtures written in the kernel's formats (see
// fixtures/README.md for what each holds).
#include "stack/net/proc_net.h"

#include <gtest/gtest.h>

#include <fstream>

namespace dpdkudp::stack {
namespace {

std::string fixture(std::string_view name) { return std::string(FIXTURE_DIR "/") + std::string(name); }
Ipv4Cidr cidr(std::string_view text) { return *Ipv4Cidr::parse(text); }
Ipv4Addr addr(std::string_view text) { return *Ipv4Addr::parse(text); }

TEST(ProcNetRoute, ReadsOneDevicesRoutes) {
  auto routes = read_proc_net_route(fixture("proc_net_route"), "eth0");
  ASSERT_TRUE(routes);
  ASSERT_EQ(routes->size(), 2u);
  const Route& def = (*routes)[0];
  EXPECT_EQ(def.destination, cidr("0.0.0.0/0"));
  EXPECT_EQ(def.gateway, addr("198.18.0.1"));
  EXPECT_EQ(def.metric, 100u);
  EXPECT_EQ(def.mtu, 0u);
  const Route& connected = (*routes)[1];
  EXPECT_EQ(connected.destination, cidr("198.18.0.0/24"));
  EXPECT_EQ(connected.gateway, std::nullopt);
}

TEST(ProcNetRoute, ReadsAllDevicesAndSkipsRejectRoutes) {
  auto routes = read_proc_net_route(fixture("proc_net_route"), "");
  ASSERT_TRUE(routes);
  ASSERT_EQ(routes->size(), 5u);  // the unreachable route is not one we can use
  const Route& host = (*routes)[4];
  EXPECT_EQ(host.destination, cidr("198.19.2.7/32"));
  EXPECT_EQ(host.gateway, addr("198.19.1.254"));
  EXPECT_EQ(host.mtu, 1400u);
}

TEST(ProcNetRoute, FeedsTheRouteTable) {
  auto routes = read_proc_net_route(fixture("proc_net_route"), "");
  ASSERT_TRUE(routes);
  RouteTable table;
  for (const Route& r : *routes) {
    table.add(r);
  }
  EXPECT_EQ(table.lookup(addr("198.19.2.7"))->mtu, 1400u);
  EXPECT_EQ(table.lookup(addr("198.19.2.7"))->next_hop, addr("198.19.1.254"));
  EXPECT_EQ(table.lookup(addr("198.19.1.9"))->next_hop, addr("198.19.1.9"));
  EXPECT_EQ(table.lookup(addr("198.19.200.1"))->next_hop, addr("198.18.0.1"));  // metric 100 < 600
}

TEST(ProcNetRoute, SkipsMalformedRows) {
  auto routes = read_proc_net_route(fixture("proc_net_route_malformed"), "");
  ASSERT_TRUE(routes);
  ASSERT_EQ(routes->size(), 2u);
  EXPECT_EQ((*routes)[0].destination, cidr("198.18.0.0/24"));
  EXPECT_EQ((*routes)[1].destination, cidr("0.0.0.0/0"));
}

TEST(ProcNetRoute, HeaderOnlyAndMissingFile) {
  auto empty = read_proc_net_route(fixture("proc_net_route_header_only"), "");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(read_proc_net_route(fixture("no_such_file"), ""), std::nullopt);
}

TEST(ProcNetArp, ReadsCompleteEntriesOfOneDevice) {
  auto entries = read_proc_net_arp(fixture("proc_net_arp"), "eth0");
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 2u);  // not the incomplete, zero-MAC or eth1 rows
  EXPECT_EQ((*entries)[0].ip, addr("198.18.0.1"));
  EXPECT_EQ((*entries)[0].mac, (MacAddr{0x02, 0x00, 0xc6, 0x12, 0x00, 0x01}));
  EXPECT_EQ((*entries)[0].device, "eth0");
  EXPECT_EQ((*entries)[1].ip, addr("198.18.0.20"));  // permanent counts as complete
}

TEST(ProcNetArp, ReadsAllDevices) {
  auto entries = read_proc_net_arp(fixture("proc_net_arp"), "");
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[2].device, "eth1");
}

TEST(ProcNetArp, SkipsMalformedRowsAndMissingFile) {
  auto entries = read_proc_net_arp(fixture("proc_net_arp_malformed"), "");
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].ip, addr("198.18.0.6"));
  EXPECT_EQ(read_proc_net_arp(fixture("no_such_file"), ""), std::nullopt);
}

wire::Ipv6Cidr cidr6(std::string_view text) { return *wire::Ipv6Cidr::parse(text); }
wire::Ipv6Addr addr6(std::string_view text) { return *wire::Ipv6Addr::parse(text); }

TEST(ProcNetIfInet6, ReadsOneDevicesAddressesInFileOrder) {
  auto rows = read_proc_net_if_inet6(fixture("proc_net_if_inet6"), "veth1");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 4u);
  EXPECT_EQ((*rows)[0].address, cidr6("fe80::dcad:beef:fe00:2/64"));
  EXPECT_EQ((*rows)[0].scope, 0x20);
  EXPECT_EQ((*rows)[0].ifindex, 5);
  EXPECT_EQ((*rows)[1].address, cidr6("2001:2::2/64"));
  EXPECT_EQ((*rows)[1].scope, 0x00);
  EXPECT_TRUE((*rows)[1].usable());
  EXPECT_EQ((*rows)[2].address, cidr6("2001:2::9/64"));
  EXPECT_TRUE((*rows)[2].usable()) << "deprecated is still usable";
  EXPECT_EQ((*rows)[3].address, cidr6("2001:2::aa/64"));
  EXPECT_FALSE((*rows)[3].usable()) << "tentative: duplicate-address detection still running";
  for (const auto& r : *rows) EXPECT_EQ(r.device, "veth1");
}

TEST(ProcNetIfInet6, AllDevicesAndMissingFile) {
  auto rows = read_proc_net_if_inet6(fixture("proc_net_if_inet6"), "");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 6u);
  EXPECT_EQ((*rows)[4].address, cidr6("::1/128"));
  EXPECT_EQ((*rows)[4].device, "lo");
  EXPECT_EQ((*rows)[5].address, cidr6("2001:2:1::5/48"));
  EXPECT_EQ(read_proc_net_if_inet6(fixture("no_such_file"), ""), std::nullopt);
}

TEST(ProcNetIfInet6, SkipsMalformedRows) {
  auto rows = read_proc_net_if_inet6(fixture("proc_net_if_inet6_malformed"), "");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].address, cidr6("2001:2::3/64"));
}

TEST(ProcNetIpv6Route, ReadsUsableRoutesOfOneDevice) {
  auto routes = read_proc_net_ipv6_route(fixture("proc_net_ipv6_route"), "veth1");
  ASSERT_TRUE(routes);
  ASSERT_EQ(routes->size(), 5u);
  EXPECT_EQ((*routes)[0].destination, cidr6("2001:2::/64"));
  EXPECT_EQ((*routes)[0].gateway, std::nullopt);
  EXPECT_EQ((*routes)[0].metric, 256u);
  EXPECT_EQ((*routes)[1].destination, cidr6("fe80::/64"));
  EXPECT_EQ((*routes)[2].destination, cidr6("::/0"));
  EXPECT_EQ((*routes)[2].gateway, addr6("2001:2::1"));
  EXPECT_EQ((*routes)[2].metric, 1024u);
  EXPECT_EQ((*routes)[3].destination, cidr6("2001:2:1::/48"));
  EXPECT_EQ((*routes)[3].gateway, addr6("2001:2::1"));
  EXPECT_EQ((*routes)[4].destination, cidr6("ff00::/8"));
  for (const auto& r : *routes) {
    EXPECT_NE(r.destination, cidr6("2001:2:2::/48")) << "RTF_REJECT must be skipped";
    EXPECT_NE(r.destination, cidr6("2001:2:3::/48")) << "a route without RTF_UP must be skipped";
  }
}

TEST(ProcNetIpv6Route, SkipsTheKernelsLocalTableAndReadsOtherDevices) {
  auto routes = read_proc_net_ipv6_route(fixture("proc_net_ipv6_route"), "");
  ASSERT_TRUE(routes);
  ASSERT_EQ(routes->size(), 6u);
  for (const auto& r : *routes) EXPECT_NE(r.device, "lo");
  EXPECT_EQ(routes->back().destination, cidr6("2001:2:4::/64"));
  EXPECT_EQ(routes->back().device, "eth9");
  EXPECT_EQ(read_proc_net_ipv6_route(fixture("no_such_file"), ""), std::nullopt);
}

TEST(ProcNetIpv6, ThisMachinesOwnTablesParse) {
  // Whatever this kernel prints must parse row for row (the test's only
  // use of the real /proc: a format drift would show here first).
  std::ifstream in("/proc/net/if_inet6");
  if (!in) GTEST_SKIP() << "no IPv6 in this kernel";
  size_t lines = 0;
  for (std::string line; std::getline(in, line);) lines += !line.empty();
  auto rows = read_proc_net_if_inet6("/proc/net/if_inet6", "");
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->size(), lines);
}

TEST(PortRange, ReadsLowAndHigh) {
  EXPECT_EQ(read_port_range(fixture("port_range")), (std::pair<uint16_t, uint16_t>{32768, 60999}));
  EXPECT_EQ(read_port_range(fixture("port_range_one_port")), (std::pair<uint16_t, uint16_t>{5000, 5000}));
}

TEST(PortRange, RejectsMalformedAndMissing) {
  for (const char* name : {"port_range_reversed", "port_range_zero", "port_range_too_big", "port_range_garbage",
                           "port_range_three_fields", "port_range_empty", "no_such_file"}) {
    EXPECT_EQ(read_port_range(fixture(name)), std::nullopt) << name;
  }
}

}  // namespace
}  // namespace dpdkudp::stack
