// Byte order helpers, addresses and their text forms (stack/wire/bytes.h).
#include "stack/wire/bytes.h"

#include <gtest/gtest.h>

namespace dpdkudp::wire {
namespace {

TEST(ByteOrder, LoadsAndStoresBigEndian) {
  const uint8_t bytes[] = {0x12, 0x34, 0x56, 0x78};
  EXPECT_EQ(load_be16(bytes), 0x1234);
  EXPECT_EQ(load_be32(bytes), 0x12345678u);

  uint8_t out[4] = {};
  store_be16(out, 0xabcd);
  EXPECT_EQ(out[0], 0xab);
  EXPECT_EQ(out[1], 0xcd);
  store_be32(out, 0x01020304);
  EXPECT_EQ(out[0], 0x01);
  EXPECT_EQ(out[3], 0x04);
}

TEST(ByteOrder, UnalignedAccess) {
  // Fields sit at odd offsets behind a VLAN tag or IP options.
  uint8_t buf[9] = {};
  store_be32(buf + 1, 0xdeadbeef);
  EXPECT_EQ(load_be32(buf + 1), 0xdeadbeefu);
  store_be16(buf + 7, 0x0102);
  EXPECT_EQ(load_be16(buf + 7), 0x0102);
}

TEST(Ipv4Addr, OctetsAreNetworkOrder) {
  Ipv4Addr addr(198, 18, 0, 1);
  EXPECT_EQ(addr.value, 0xc6120001u);
  uint8_t out[4];
  addr.store(out);
  EXPECT_EQ(out[0], 198);
  EXPECT_EQ(out[3], 1);
  EXPECT_EQ(Ipv4Addr::load(out), addr);
}

TEST(Ipv4Addr, Classification) {
  EXPECT_TRUE(Ipv4Addr::any().is_unspecified());
  EXPECT_TRUE(Ipv4Addr::broadcast().is_broadcast());
  EXPECT_TRUE(Ipv4Addr(224, 0, 0, 1).is_multicast());
  EXPECT_TRUE(Ipv4Addr(239, 255, 255, 255).is_multicast());
  EXPECT_FALSE(Ipv4Addr(240, 0, 0, 1).is_multicast());
  EXPECT_FALSE(Ipv4Addr(223, 255, 255, 255).is_multicast());
  EXPECT_TRUE(Ipv4Addr(127, 0, 0, 1).is_loopback());
  EXPECT_TRUE(Ipv4Addr(127, 255, 0, 9).is_loopback());
  EXPECT_FALSE(Ipv4Addr(128, 0, 0, 1).is_loopback());
  EXPECT_FALSE(Ipv4Addr(198, 18, 0, 1).is_unspecified());
}

TEST(Ipv4Addr, ParsesDottedQuad) {
  EXPECT_EQ(Ipv4Addr::parse("198.18.0.1"), Ipv4Addr(198, 18, 0, 1));
  EXPECT_EQ(Ipv4Addr::parse("0.0.0.0"), Ipv4Addr::any());
  EXPECT_EQ(Ipv4Addr::parse("255.255.255.255"), Ipv4Addr::broadcast());
  EXPECT_EQ(Ipv4Addr::parse("1.2.3.4"), Ipv4Addr(1, 2, 3, 4));
}

TEST(Ipv4Addr, RejectsMalformedText) {
  for (const char* text : {"", "1", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.256", "1..2.3",
                           ".1.2.3", "1.2.3.", "1.2.3.4.", "a.b.c.d", "1.2.3.4 ", " 1.2.3.4",
                           "+1.2.3.4", "-1.2.3.4", "1.2.3.-4", "1.2.3.4/24", "1000.1.1.1", "1.2.3.0x4",
                           "::1"}) {
    EXPECT_EQ(Ipv4Addr::parse(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(Ipv4Addr, PrintsDottedQuad) {
  EXPECT_EQ(Ipv4Addr(198, 18, 0, 1).to_string(), "198.18.0.1");
  EXPECT_EQ(Ipv4Addr::any().to_string(), "0.0.0.0");
  EXPECT_EQ(Ipv4Addr::broadcast().to_string(), "255.255.255.255");
}

TEST(Ipv4Addr, TextRoundTrips) {
  for (uint32_t value : {0u, 1u, 0x7f000001u, 0xc6120001u, 0x0a00ff00u, 0xfffffffeu}) {
    Ipv4Addr addr(value);
    EXPECT_EQ(Ipv4Addr::parse(addr.to_string()), addr) << addr.to_string();
  }
}

TEST(PrefixMask, Edges) {
  EXPECT_EQ(prefix_mask(0), 0u);
  EXPECT_EQ(prefix_mask(1), 0x80000000u);
  EXPECT_EQ(prefix_mask(24), 0xffffff00u);
  EXPECT_EQ(prefix_mask(31), 0xfffffffeu);
  EXPECT_EQ(prefix_mask(32), 0xffffffffu);
}

TEST(Ipv4Cidr, ParsesWithAndWithoutPrefix) {
  EXPECT_EQ(Ipv4Cidr::parse("198.18.0.2/24"), (Ipv4Cidr{Ipv4Addr(198, 18, 0, 2), 24}));
  EXPECT_EQ(Ipv4Cidr::parse("10.0.0.1"), (Ipv4Cidr{Ipv4Addr(10, 0, 0, 1), 32}));
  EXPECT_EQ(Ipv4Cidr::parse("0.0.0.0/0"), (Ipv4Cidr{Ipv4Addr::any(), 0}));
  EXPECT_EQ(Ipv4Cidr::parse("1.2.3.4/32"), (Ipv4Cidr{Ipv4Addr(1, 2, 3, 4), 32}));
}

TEST(Ipv4Cidr, RejectsMalformedText) {
  for (const char* text : {"", "/24", "1.2.3.4/", "1.2.3.4/33", "1.2.3.4/-1", "1.2.3.4/+8",
                           "1.2.3.4/24/8", "1.2.3.4/ 8", "1.2.3.4/8 ", "1.2.3/8", "1.2.3.4/1000"}) {
    EXPECT_EQ(Ipv4Cidr::parse(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(Ipv4Cidr, NetworkArithmetic) {
  Ipv4Cidr cidr{Ipv4Addr(198, 18, 0, 2), 24};
  EXPECT_EQ(cidr.network(), Ipv4Addr(198, 18, 0, 0));
  EXPECT_EQ(cidr.directed_broadcast(), Ipv4Addr(198, 18, 0, 255));
  EXPECT_TRUE(cidr.contains(Ipv4Addr(198, 18, 0, 0)));
  EXPECT_TRUE(cidr.contains(Ipv4Addr(198, 18, 0, 255)));
  EXPECT_FALSE(cidr.contains(Ipv4Addr(198, 18, 1, 0)));
  EXPECT_FALSE(cidr.contains(Ipv4Addr(198, 17, 255, 255)));
}

TEST(Ipv4Cidr, ZeroAndFullPrefix) {
  Ipv4Cidr default_route{Ipv4Addr(10, 1, 2, 3), 0};
  EXPECT_TRUE(default_route.contains(Ipv4Addr::broadcast()));
  EXPECT_TRUE(default_route.contains(Ipv4Addr::any()));
  EXPECT_EQ(default_route.network(), Ipv4Addr::any());

  Ipv4Cidr host{Ipv4Addr(10, 1, 2, 3), 32};
  EXPECT_TRUE(host.contains(Ipv4Addr(10, 1, 2, 3)));
  EXPECT_FALSE(host.contains(Ipv4Addr(10, 1, 2, 4)));
  EXPECT_EQ(host.directed_broadcast(), Ipv4Addr(10, 1, 2, 3));
}

TEST(Ipv4Cidr, Prints) {
  EXPECT_EQ((Ipv4Cidr{Ipv4Addr(198, 18, 0, 2), 24}).to_string(), "198.18.0.2/24");
  EXPECT_EQ((Ipv4Cidr{Ipv4Addr::any(), 0}).to_string(), "0.0.0.0/0");
}

TEST(MacAddr, ParsesColonHex) {
  EXPECT_EQ(parse_mac("02:00:00:00:00:01"), (MacAddr{0x02, 0, 0, 0, 0, 0x01}));
  EXPECT_EQ(parse_mac("ff:ff:ff:ff:ff:ff"), kBroadcastMac);
  EXPECT_EQ(parse_mac("AA:bb:Cc:dD:0e:F0"), (MacAddr{0xaa, 0xbb, 0xcc, 0xdd, 0x0e, 0xf0}));
}

TEST(MacAddr, RejectsMalformedText) {
  for (const char* text : {"", "02:00:00:00:00", "02:00:00:00:00:01:02", "02-00-00-00-00-01",
                           "02:00:00:00:00:0g", "2:00:00:00:00:001", "02:00:00:00:00:1",
                           " 2:00:00:00:00:01", "+2:00:00:00:00:01", "02:00:00:00:00:01 ",
                           "0200.0000.0001", "02::00:00:00:001"}) {
    EXPECT_EQ(parse_mac(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(MacAddr, PrintsLowerCase) {
  EXPECT_EQ(mac_to_string({0xaa, 0xbb, 0xcc, 0x0d, 0x0e, 0xf0}), "aa:bb:cc:0d:0e:f0");
  EXPECT_EQ(mac_to_string(kZeroMac), "00:00:00:00:00:00");
  EXPECT_EQ(parse_mac(mac_to_string(kBroadcastMac)), kBroadcastMac);
}

TEST(MacAddr, LoadsAndStores) {
  const uint8_t bytes[] = {0x02, 0x00, 0x5e, 0x10, 0x20, 0x30};
  MacAddr mac = load_mac(bytes);
  EXPECT_EQ(mac, (MacAddr{0x02, 0x00, 0x5e, 0x10, 0x20, 0x30}));
  uint8_t out[6] = {};
  store_mac(out, mac);
  EXPECT_EQ(load_mac(out), mac);
}

}  // namespace
}  // namespace dpdkudp::wire
