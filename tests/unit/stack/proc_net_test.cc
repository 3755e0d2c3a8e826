// The /proc readers over fixtures written in the kernel's formats (see
// fixtures/README.md for what each holds).
#include "stack/net/proc_net.h"

#include <gtest/gtest.h>

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
