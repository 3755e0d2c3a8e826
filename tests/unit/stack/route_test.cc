// RouteTable: longest-prefix match, metric tie-break, MTU and replacement.
#include "stack/net/route.h"

#include <gtest/gtest.h>

namespace dpdkudp::stack {
namespace {

Ipv4Cidr cidr(std::string_view text) { return *Ipv4Cidr::parse(text); }
Ipv4Addr addr(std::string_view text) { return *Ipv4Addr::parse(text); }

Route on_link(std::string_view dst, uint32_t metric = 0, uint32_t mtu = 0) {
  return Route{cidr(dst), std::nullopt, mtu, metric};
}
Route via(std::string_view dst, std::string_view gw, uint32_t metric = 0, uint32_t mtu = 0) {
  return Route{cidr(dst), addr(gw), mtu, metric};
}

TEST(RouteTable, NoRouteIsNullopt) {
  RouteTable table;
  EXPECT_EQ(table.lookup(addr("198.18.0.1")), std::nullopt);
  table.add(on_link("198.18.0.0/24"));
  EXPECT_EQ(table.lookup(addr("198.19.0.1")), std::nullopt);
}

TEST(RouteTable, OnLinkNextHopIsTheDestination) {
  RouteTable table(9000);
  table.add(on_link("198.18.0.0/24"));
  auto r = table.lookup(addr("198.18.0.77"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->next_hop, addr("198.18.0.77"));
  EXPECT_FALSE(r->via_gateway);
  EXPECT_EQ(r->mtu, 9000u);
}

TEST(RouteTable, DefaultRouteGoesViaGateway) {
  RouteTable table;
  table.add(via("0.0.0.0/0", "198.18.0.1"));
  table.add(on_link("198.18.0.0/24"));
  auto r = table.lookup(addr("198.19.200.1"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->next_hop, addr("198.18.0.1"));
  EXPECT_TRUE(r->via_gateway);
  EXPECT_EQ(r->mtu, 1500u);
}

TEST(RouteTable, LongestPrefixWinsWhateverTheInsertOrder) {
  RouteTable table;
  table.add(via("198.18.0.0/15", "198.18.0.1"));
  table.add(via("198.19.2.7/32", "198.18.0.2"));
  table.add(on_link("198.19.2.0/24"));
  table.add(via("0.0.0.0/0", "198.18.0.3"));
  EXPECT_EQ(table.lookup(addr("198.19.2.7"))->next_hop, addr("198.18.0.2"));
  EXPECT_EQ(table.lookup(addr("198.19.2.8"))->next_hop, addr("198.19.2.8"));
  EXPECT_EQ(table.lookup(addr("198.19.3.8"))->next_hop, addr("198.18.0.1"));
  EXPECT_EQ(table.lookup(addr("203.0.113.1"))->next_hop, addr("198.18.0.3"));

  const auto& routes = table.routes();
  ASSERT_EQ(routes.size(), 4u);
  EXPECT_EQ(routes.front().destination.prefix_len, 32);
  EXPECT_EQ(routes.back().destination.prefix_len, 0);
}

TEST(RouteTable, LowestMetricWinsAmongEqualPrefixes) {
  RouteTable table;
  table.add(via("0.0.0.0/0", "198.19.1.1", 600));
  table.add(via("0.0.0.0/0", "198.18.0.1", 100));
  table.add(via("0.0.0.0/0", "198.18.0.9", 300));
  EXPECT_EQ(table.lookup(addr("198.19.9.9"))->next_hop, addr("198.18.0.1"));
}

TEST(RouteTable, PerRouteMtuOverridesTheInterface) {
  RouteTable table(1500);
  table.add(via("198.19.2.7/32", "198.18.0.1", 0, 1400));
  table.add(on_link("198.18.0.0/24"));
  EXPECT_EQ(table.lookup(addr("198.19.2.7"))->mtu, 1400u);
  EXPECT_EQ(table.lookup(addr("198.18.0.5"))->mtu, 1500u);
  table.set_interface_mtu(9000);
  EXPECT_EQ(table.lookup(addr("198.18.0.5"))->mtu, 9000u);
}

TEST(RouteTable, SameDestinationAndGatewayReplaces) {
  RouteTable table;
  table.add(via("0.0.0.0/0", "198.18.0.1", 100));
  table.add(via("0.0.0.0/0", "198.18.0.2", 200));
  table.add(via("0.0.0.0/0", "198.18.0.1", 300, 1280));
  ASSERT_EQ(table.routes().size(), 2u);
  auto r = table.lookup(addr("198.19.0.1"));
  EXPECT_EQ(r->next_hop, addr("198.18.0.2"));  // the replaced route now costs more
  // Host bits in the destination do not make a different route.
  table.add(via("0.0.0.0/0", "198.18.0.2", 50));
  table.add(on_link("198.18.0.9/24"));
  table.add(on_link("198.18.0.0/24", 5));
  EXPECT_EQ(table.routes().size(), 3u);
  EXPECT_EQ(table.routes().front().destination, cidr("198.18.0.0/24"));
  EXPECT_EQ(table.routes().front().metric, 5u);
}

TEST(RouteTable, ClearForgetsEverything) {
  RouteTable table;
  table.add(via("0.0.0.0/0", "198.18.0.1"));
  table.clear();
  EXPECT_TRUE(table.routes().empty());
  EXPECT_EQ(table.lookup(addr("198.18.0.1")), std::nullopt);
}

}  // namespace
}  // namespace dpdkudp::stack
