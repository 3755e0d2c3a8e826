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
  for (const char* text : {"",         "1",        "1.2.3",      "1.2.3.4.5",  "256.0.0.1", "1.2.3.256", "1..2.3",
                           ".1.2.3",   "1.2.3.",   "1.2.3.4.",   "a.b.c.d",    "1.2.3.4 ",  " 1.2.3.4",  "+1.2.3.4",
                           "-1.2.3.4", "1.2.3.-4", "1.2.3.4/24", "1000.1.1.1", "1.2.3.0x4", "::1"}) {
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
  for (const char* text : {"", "/24", "1.2.3.4/", "1.2.3.4/33", "1.2.3.4/-1", "1.2.3.4/+8", "1.2.3.4/24/8",
                           "1.2.3.4/ 8", "1.2.3.4/8 ", "1.2.3/8", "1.2.3.4/1000"}) {
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

// IPv6 addresses in tests come from 2001:2::/48 (RFC 5180), fe80::/10 and
// ff02::, plus ::, ::1 and v4-mapped forms of 198.18.0.0/15.
constexpr Ipv6Addr kV6(0x2001, 2, 0, 0, 0, 0, 0, 1);

TEST(Ipv6Addr, GroupsAreNetworkOrder) {
  EXPECT_EQ(kV6.octets[0], 0x20);
  EXPECT_EQ(kV6.octets[1], 0x01);
  EXPECT_EQ(kV6.octets[3], 0x02);
  EXPECT_EQ(kV6.octets[15], 0x01);
  EXPECT_EQ(kV6.group(0), 0x2001);
  EXPECT_EQ(kV6.group(7), 1);
  uint8_t out[17] = {};
  kV6.store(out + 1);  // unaligned
  EXPECT_EQ(out[1], 0x20);
  EXPECT_EQ(out[16], 0x01);
  EXPECT_EQ(Ipv6Addr::load(out + 1), kV6);
}

TEST(Ipv6Addr, Classification) {
  // RFC 4291 §2.5.2, §2.5.3, §2.5.6, §2.7, §2.5.5.2.
  EXPECT_TRUE(Ipv6Addr::unspecified().is_unspecified());
  EXPECT_FALSE(kV6.is_unspecified());
  EXPECT_TRUE(Ipv6Addr::loopback().is_loopback());
  EXPECT_FALSE(Ipv6Addr::unspecified().is_loopback());
  EXPECT_FALSE(Ipv6Addr(0, 0, 0, 0, 0, 0, 1, 1).is_loopback());

  EXPECT_TRUE(Ipv6Addr::all_nodes().is_multicast());
  EXPECT_TRUE(Ipv6Addr(0xff00, 0, 0, 0, 0, 0, 0, 0).is_multicast());
  EXPECT_FALSE(Ipv6Addr(0xfeff, 0, 0, 0, 0, 0, 0, 1).is_multicast());
  EXPECT_EQ(Ipv6Addr::all_nodes().multicast_scope(), 2);

  EXPECT_TRUE(Ipv6Addr(0xfe80, 0, 0, 0, 0, 0, 0, 1).is_link_local());
  EXPECT_TRUE(Ipv6Addr(0xfebf, 0xffff, 0, 0, 0, 0, 0, 1).is_link_local());  // the top of fe80::/10
  EXPECT_FALSE(Ipv6Addr(0xfec0, 0, 0, 0, 0, 0, 0, 1).is_link_local());
  EXPECT_FALSE(Ipv6Addr(0xfe7f, 0, 0, 0, 0, 0, 0, 1).is_link_local());
  EXPECT_FALSE(kV6.is_link_local());

  Ipv6Addr mapped = Ipv6Addr::v4_mapped(Ipv4Addr(198, 18, 0, 1));
  EXPECT_EQ(mapped, Ipv6Addr(0, 0, 0, 0, 0, 0xffff, 0xc612, 0x0001));
  EXPECT_TRUE(mapped.is_v4_mapped());
  EXPECT_EQ(mapped.mapped_v4(), Ipv4Addr(198, 18, 0, 1));
  EXPECT_FALSE(Ipv6Addr(0, 0, 0, 0, 0, 0xfffe, 0xc612, 1).is_v4_mapped());
  EXPECT_FALSE(Ipv6Addr(0, 0, 0, 0, 1, 0xffff, 0xc612, 1).is_v4_mapped());
  EXPECT_EQ(kV6.mapped_v4(), std::nullopt);
}

TEST(Ipv6Addr, SolicitedNodeGroup) {
  // RFC 4291 §2.7.1: ff02::1:ff00:0/104 and the low 24 bits.
  Ipv6Addr addr(0x2001, 2, 0, 0, 0, 0, 0xab12, 0x3456);
  EXPECT_EQ(addr.solicited_node(), Ipv6Addr(0xff02, 0, 0, 0, 0, 1, 0xff12, 0x3456));
  EXPECT_EQ(Ipv6Addr(0xfe80, 0, 0, 0, 0, 0, 0xcd12, 0x3456).solicited_node(), addr.solicited_node());
  EXPECT_TRUE(addr.solicited_node().is_solicited_node());
  EXPECT_TRUE(addr.solicited_node().is_multicast());
  EXPECT_FALSE(addr.is_solicited_node());
  EXPECT_FALSE(Ipv6Addr::all_nodes().is_solicited_node());
  EXPECT_FALSE(Ipv6Addr(0xff02, 0, 0, 0, 0, 1, 0xfe12, 0x3456).is_solicited_node());
  EXPECT_FALSE(Ipv6Addr(0xff05, 0, 0, 0, 0, 1, 0xff12, 0x3456).is_solicited_node());
}

TEST(Ipv6Addr, MulticastMac) {
  // RFC 2464 §7: 33:33 and the last four octets.
  EXPECT_EQ(Ipv6Addr::all_nodes().multicast_mac(), (MacAddr{0x33, 0x33, 0, 0, 0, 1}));
  EXPECT_EQ(Ipv6Addr(0xff02, 0, 0, 0, 0, 1, 0xff12, 0x3456).multicast_mac(),
            (MacAddr{0x33, 0x33, 0xff, 0x12, 0x34, 0x56}));
}

TEST(Ipv6Addr, ParsesTextForms) {
  // RFC 4291 §2.2: full, leading zeros, "::" anywhere, a trailing dotted quad.
  EXPECT_EQ(Ipv6Addr::parse("2001:2:0:0:0:0:0:1"), kV6);
  EXPECT_EQ(Ipv6Addr::parse("2001:0002:0000:0000:0000:0000:0000:0001"), kV6);
  EXPECT_EQ(Ipv6Addr::parse("2001:2::1"), kV6);
  EXPECT_EQ(Ipv6Addr::parse("2001:2::0:1"), kV6);
  EXPECT_EQ(Ipv6Addr::parse("::"), Ipv6Addr::unspecified());
  EXPECT_EQ(Ipv6Addr::parse("::1"), Ipv6Addr::loopback());
  EXPECT_EQ(Ipv6Addr::parse("fe80::"), Ipv6Addr(0xfe80, 0, 0, 0, 0, 0, 0, 0));
  EXPECT_EQ(Ipv6Addr::parse("FE80::AB:Cd"), Ipv6Addr(0xfe80, 0, 0, 0, 0, 0, 0xab, 0xcd));
  EXPECT_EQ(Ipv6Addr::parse("ff02::1:ff00:2"), Ipv6Addr(0xff02, 0, 0, 0, 0, 1, 0xff00, 2));
  EXPECT_EQ(Ipv6Addr::parse("2001:2:1:2:3:4:5::"), Ipv6Addr(0x2001, 2, 1, 2, 3, 4, 5, 0));
  EXPECT_EQ(Ipv6Addr::parse("::2:1:2:3:4:5:6"), Ipv6Addr(0, 2, 1, 2, 3, 4, 5, 6));
  EXPECT_EQ(Ipv6Addr::parse("2001:2:0:1::1"), Ipv6Addr(0x2001, 2, 0, 1, 0, 0, 0, 1));
  EXPECT_EQ(Ipv6Addr::parse("::ffff:198.18.0.1"), Ipv6Addr::v4_mapped(Ipv4Addr(198, 18, 0, 1)));
  EXPECT_EQ(Ipv6Addr::parse("0:0:0:0:0:ffff:198.18.0.1"), Ipv6Addr::v4_mapped(Ipv4Addr(198, 18, 0, 1)));
  EXPECT_EQ(Ipv6Addr::parse("2001:2::198.18.0.1"), Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0xc612, 1));
  EXPECT_EQ(Ipv6Addr::parse("2001:2:0:0:0:0:198.18.0.1"), Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0xc612, 1));
}

TEST(Ipv6Addr, RejectsMalformedText) {
  for (const char* text : {"",
                           ":",
                           ":::",
                           "1:",
                           ":1",
                           "::1:",
                           "1:::2",
                           "2001:2::1::2",
                           "2001:2:0:0:0:0:0:1:2",
                           "2001:2:0:0:0:0:1",
                           "2001:2:0:0::0:0:0:1",  // "::" must stand for at least one group
                           "12345::1",
                           "g::1",
                           "2001:2::-1",
                           "+1::",
                           " ::1",
                           "::1 ",
                           "2001:2::1/48",
                           "fe80::1%eth0",
                           "[::1]",
                           "::1.2.3",
                           "::1.2.3.4.5",
                           "::256.0.0.1",
                           "::198.18.0.1:1",
                           "1:2:3:4:5:6:7:198.18.0.1",
                           "198.18.0.1",
                           "::ffff:198.18.0.1.",
                           "0x1::",
                           "1.2::"}) {
    EXPECT_EQ(Ipv6Addr::parse(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(Ipv6Addr, PrintsRfc5952Form) {
  EXPECT_EQ(kV6.to_string(), "2001:2::1");
  EXPECT_EQ(Ipv6Addr::unspecified().to_string(), "::");
  EXPECT_EQ(Ipv6Addr::loopback().to_string(), "::1");
  EXPECT_EQ(Ipv6Addr(0xfe80, 0, 0, 0, 0, 0, 0, 0).to_string(), "fe80::");
  // §4.1 no leading zeros, §4.3 lower case.
  EXPECT_EQ(Ipv6Addr(0x2001, 2, 0xabcd, 0x00ef, 1, 2, 3, 4).to_string(), "2001:2:abcd:ef:1:2:3:4");
  // §4.2.2: a single zero group is not shortened.
  EXPECT_EQ(Ipv6Addr(0x2001, 2, 0, 1, 1, 1, 1, 1).to_string(), "2001:2:0:1:1:1:1:1");
  // §4.2.1: the longest run is shortened...
  EXPECT_EQ(Ipv6Addr(0x2001, 0, 0, 1, 0, 0, 0, 1).to_string(), "2001:0:0:1::1");
  // §4.2.3: ...and the first of equal runs.
  EXPECT_EQ(Ipv6Addr(0x2001, 2, 0, 0, 1, 0, 0, 1).to_string(), "2001:2::1:0:0:1");
  EXPECT_EQ(Ipv6Addr(0, 0, 1, 0, 0, 1, 0, 0).to_string(), "::1:0:0:1:0:0");
  EXPECT_EQ(Ipv6Addr(0x2001, 2, 1, 1, 1, 1, 0, 0).to_string(), "2001:2:1:1:1:1::");
  EXPECT_EQ(Ipv6Addr(0xff02, 0, 0, 0, 0, 1, 0xff00, 2).to_string(), "ff02::1:ff00:2");
  // §5: v4-mapped with the dotted quad.
  EXPECT_EQ(Ipv6Addr::v4_mapped(Ipv4Addr(198, 18, 0, 1)).to_string(), "::ffff:198.18.0.1");
  EXPECT_EQ(Ipv6Addr(0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff).to_string(),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

TEST(Ipv6Addr, TextRoundTrips) {
  for (const Ipv6Addr& addr : {kV6, Ipv6Addr::unspecified(), Ipv6Addr::loopback(), Ipv6Addr::all_routers(),
                               Ipv6Addr(0xfe80, 0, 0, 0, 0x200, 0xff, 0xfe00, 1), Ipv6Addr(0x2001, 2, 0, 1, 0, 1, 0, 1),
                               Ipv6Addr(1, 0, 0, 0, 0, 0, 0, 0), Ipv6Addr::v4_mapped(Ipv4Addr(198, 19, 255, 254))}) {
    EXPECT_EQ(Ipv6Addr::parse(addr.to_string()), addr) << addr.to_string();
  }
}

TEST(Ipv6Cidr, ParsesWithAndWithoutPrefix) {
  EXPECT_EQ(Ipv6Cidr::parse("2001:2::1/48"), (Ipv6Cidr{kV6, 48}));
  EXPECT_EQ(Ipv6Cidr::parse("2001:2::1"), (Ipv6Cidr{kV6, 128}));
  EXPECT_EQ(Ipv6Cidr::parse("::/0"), (Ipv6Cidr{Ipv6Addr::unspecified(), 0}));
  EXPECT_EQ(Ipv6Cidr::parse("fe80::/10"), (Ipv6Cidr{Ipv6Addr(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10}));
}

TEST(Ipv6Cidr, RejectsMalformedText) {
  for (const char* text : {"", "/48", "2001:2::1/", "2001:2::1/129", "2001:2::1/-1", "2001:2::1/+8", "2001:2::1/48/8",
                           "2001:2::1/ 8", "2001:2::/1000", "2001:2:::/48"}) {
    EXPECT_EQ(Ipv6Cidr::parse(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(Ipv6Cidr, NetworkArithmetic) {
  Ipv6Cidr cidr{Ipv6Addr(0x2001, 2, 0xab, 0, 0, 0, 0, 1), 48};
  EXPECT_EQ(cidr.network(), Ipv6Addr(0x2001, 2, 0xab, 0, 0, 0, 0, 0));
  EXPECT_TRUE(cidr.contains(Ipv6Addr(0x2001, 2, 0xab, 0xffff, 0, 0, 0, 9)));
  EXPECT_FALSE(cidr.contains(Ipv6Addr(0x2001, 2, 0xac, 0, 0, 0, 0, 1)));
  // A prefix that ends inside an octet: fe80::/10 holds febf:: but not fec0::.
  Ipv6Cidr link_local{Ipv6Addr(0xfe80, 0, 0, 0, 0, 0, 0, 1), 10};
  EXPECT_EQ(link_local.network(), Ipv6Addr(0xfe80, 0, 0, 0, 0, 0, 0, 0));
  EXPECT_TRUE(link_local.contains(Ipv6Addr(0xfebf, 0xffff, 0, 0, 0, 0, 0, 1)));
  EXPECT_FALSE(link_local.contains(Ipv6Addr(0xfec0, 0, 0, 0, 0, 0, 0, 1)));
  EXPECT_FALSE(link_local.contains(Ipv6Addr(0xfe40, 0, 0, 0, 0, 0, 0, 1)));
  // /127 differs from /128 in the last bit only.
  Ipv6Cidr pair{Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 2), 127};
  EXPECT_TRUE(pair.contains(Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 3)));
  EXPECT_FALSE(pair.contains(Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 1)));
}

TEST(Ipv6Cidr, ZeroAndFullPrefix) {
  Ipv6Cidr default_route{kV6, 0};
  EXPECT_TRUE(default_route.contains(Ipv6Addr::all_nodes()));
  EXPECT_EQ(default_route.network(), Ipv6Addr::unspecified());
  Ipv6Cidr host{kV6, 128};
  EXPECT_TRUE(host.contains(kV6));
  EXPECT_FALSE(host.contains(Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 2)));
  EXPECT_EQ(host.network(), kV6);
}

TEST(Ipv6Cidr, PrefixPastTheAddressIsAHostRoute) {
  // Only parse() bounds prefix_len; a larger one must not read past the
  // 16 octets (the masks saturate).
  Ipv6Cidr cidr{kV6, 200};
  EXPECT_TRUE(cidr.contains(kV6));
  EXPECT_FALSE(cidr.contains(Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 2)));
  EXPECT_EQ(prefix_octet_mask(10, 1), 0xc0);
  EXPECT_EQ(prefix_octet_mask(10, 0), 0xff);
  EXPECT_EQ(prefix_octet_mask(10, 2), 0);
}

TEST(Ipv6Cidr, Prints) {
  EXPECT_EQ((Ipv6Cidr{kV6, 48}).to_string(), "2001:2::1/48");
  EXPECT_EQ((Ipv6Cidr{Ipv6Addr::unspecified(), 0}).to_string(), "::/0");
}

TEST(MacAddr, ParsesColonHex) {
  EXPECT_EQ(parse_mac("02:00:00:00:00:01"), (MacAddr{0x02, 0, 0, 0, 0, 0x01}));
  EXPECT_EQ(parse_mac("ff:ff:ff:ff:ff:ff"), kBroadcastMac);
  EXPECT_EQ(parse_mac("AA:bb:Cc:dD:0e:F0"), (MacAddr{0xaa, 0xbb, 0xcc, 0xdd, 0x0e, 0xf0}));
}

TEST(MacAddr, RejectsMalformedText) {
  for (const char* text : {"", "02:00:00:00:00", "02:00:00:00:00:01:02", "02-00-00-00-00-01", "02:00:00:00:00:0g",
                           "2:00:00:00:00:001", "02:00:00:00:00:1", " 2:00:00:00:00:01", "+2:00:00:00:00:01",
                           "02:00:00:00:00:01 ", "0200.0000.0001", "02::00:00:00:001"}) {
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
