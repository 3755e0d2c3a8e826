// IPv6 multicast on one stack with the test playing the wire: the MLD a
// join, a leave and a query put on the wire (the IPv6 header with its
// Hop-by-Hop Router Alert, the link-local source, the records), which
// sockets take group traffic (memberships, source filters,
// IPV6_MULTICAST_ALL), the sending side (IPV6_MULTICAST_HOPS, the group's
// MAC, IPV6_MULTICAST_LOOP), an MLDv1 querier, and Linux's errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stack/wire/icmpv6.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/mld.h"
#include "tests/unit/stack/stack_fixture.h"

namespace dpdkudp::test {
namespace {

using stack::DropReason;
using stack::Endpoint;
using stack::UdpSocket;
using wire::Ipv6Addr;
using wire::MldRecordType;

const Ipv6Addr kIp6A(0x2001, 2, 0, 0, 0, 0, 0, 0xa);
const Ipv6Addr kPeer(0x2001, 2, 0, 0, 0, 0, 0, 0x77);
const Ipv6Addr kOtherSource(0x2001, 2, 0, 0, 0, 0, 0, 0x78);
const Ipv6Addr kRouterLl(0xfe80, 0, 0, 0, 0, 0, 0, 1);
// Unicast-prefix-based, link scope (RFC 3306): under 2001:2::/48.
const Ipv6Addr kGroup(0xff32, 0x30, 0x2001, 2, 0, 0, 0, 1);
const Ipv6Addr kGroup2(0xff32, 0x30, 0x2001, 2, 0, 0, 0, 2);
const MacAddr kPeerMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x77};
constexpr uint16_t kPort = 5000;
constexpr uint64_t kSecond = 1'000'000'000;

stack::StackConfig config6() {
  stack::StackConfig c = config_for(kIpA);
  c.addresses6 = {wire::Ipv6Cidr{kIp6A, 64}};
  return c;
}

// The stack's EUI-64 link-local address (dedicated mode adds it).
Ipv6Addr link_local_of(const MacAddr& m) {
  Ipv6Addr ll(0xfe80, 0, 0, 0, 0, 0, 0, 0);
  ll.octets[8] = static_cast<uint8_t>(m[0] ^ 0x02);
  ll.octets[9] = m[1];
  ll.octets[10] = m[2];
  ll.octets[11] = 0xff;
  ll.octets[12] = 0xfe;
  ll.octets[13] = m[3];
  ll.octets[14] = m[4];
  ll.octets[15] = m[5];
  return ll;
}

Bytes frame6(const MacAddr& dst_mac, const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t next_header, const Bytes& l4,
             uint8_t hop_limit) {
  Bytes f(14 + 40 + l4.size());
  wire::EthernetRepr{dst_mac, kPeerMac, wire::ethertype::kIpv6, std::nullopt}.emit({f.data(), 14});
  wire::Ipv6Repr{src, dst, next_header, static_cast<uint16_t>(l4.size()), hop_limit, 0, 0}.emit({f.data() + 14, 40});
  std::copy(l4.begin(), l4.end(), f.begin() + 54);
  return f;
}

// One MLD message seen on the wire, with what its IPv6 header said.
struct SeenMld {
  MacAddr eth_dst{};
  Ipv6Addr src, dst;
  uint8_t hop_limit = 0;
  bool router_alert = false;  // Hop-by-Hop with Router Alert (MLD) first
  bool checksum_ok = false;
  uint8_t type = 0;
  Ipv6Addr v1_group;
  std::vector<wire::MldGroupRecord> records;
};

std::vector<SeenMld> mld_in(const std::vector<Bytes>& frames) {
  std::vector<SeenMld> out;
  for (const Bytes& f : frames) {
    if (f.size() < 14 + 48 || wire::load_be16(f.data() + 12) != 0x86dd) continue;
    const uint8_t* ip = f.data() + 14;
    if (ip[6] != 0 || ip[40] != wire::ip_proto::kIcmpv6) continue;  // Hop-by-Hop, then ICMPv6
    SeenMld s;
    std::copy(f.begin(), f.begin() + 6, s.eth_dst.begin());
    s.hop_limit = ip[7];
    s.src = Ipv6Addr::load(ip + 8);
    s.dst = Ipv6Addr::load(ip + 24);
    s.router_alert = ip[41] == 0 && ip[42] == 0x05 && ip[43] == 0x02 && ip[44] == 0 && ip[45] == 0;
    const size_t len = wire::load_be16(ip + 4) - 8;
    const std::span<const uint8_t> msg{ip + 48, len};
    s.checksum_ok = wire::mld_message_type(msg, s.src, s.dst).has_value();
    s.type = msg[0];
    if (s.type == wire::mld_type::kV2Report) {
      size_t off = 8;
      for (uint16_t r = 0; r < wire::load_be16(msg.data() + 6); ++r) {
        wire::MldGroupRecord rec;
        rec.type = static_cast<MldRecordType>(msg[off]);
        const uint16_t n = wire::load_be16(msg.data() + off + 2);
        rec.group = Ipv6Addr::load(msg.data() + off + 4);
        for (uint16_t i = 0; i < n; ++i) rec.sources.push_back(Ipv6Addr::load(msg.data() + off + 20 + 16 * i));
        off += 20 + 16 * size_t{n};
        s.records.push_back(rec);
      }
    } else {
      s.v1_group = Ipv6Addr::load(msg.data() + 8);
    }
    out.push_back(s);
  }
  return out;
}

// A query from the router's link-local address: v1 (24 octets) when
// `v2` is false.
Bytes query(const Ipv6Addr& group, uint16_t max_resp_ms, bool v2, const Ipv6Addr& dst, uint8_t hop_limit = 1,
            const Ipv6Addr& src = kRouterLl) {
  Bytes m(v2 ? 28 : 24, 0);
  m[0] = wire::mld_type::kQuery;
  m[4] = static_cast<uint8_t>(max_resp_ms >> 8);
  m[5] = static_cast<uint8_t>(max_resp_ms);
  std::copy(group.octets.begin(), group.octets.end(), m.begin() + 8);
  if (v2) {
    m[24] = 2;    // QRV
    m[25] = 125;  // QQIC
  }
  const uint16_t c = wire::internet_checksum(
      m.data(), m.size(),
      wire::ipv6_pseudo_header_sum(src, dst, wire::ip_proto::kIcmpv6, static_cast<uint32_t>(m.size())));
  m[2] = static_cast<uint8_t>(c >> 8);
  m[3] = static_cast<uint8_t>(c);
  return frame6(dst.multicast_mac(), src, dst, wire::ip_proto::kIcmpv6, m, hop_limit);
}

class StackMulticast6 : public StackOnWire {
 protected:
  StackMulticast6() : StackOnWire(config6()) { drain_wire(); }
  UdpSocket* bound(uint16_t port = kPort) {
    UdpSocket* s = stack_->open_udp(true);
    s->set_reuse_addr(true);
    EXPECT_EQ(s->bind(Endpoint::ipv6(Ipv6Addr(), port, 0)), 0);
    return s;
  }
  int join(UdpSocket* s, const Ipv6Addr& g, const Ipv6Addr* src = nullptr) {
    return stack_->multicast6_membership(*s, g, src, true);
  }
  int leave(UdpSocket* s, const Ipv6Addr& g, const Ipv6Addr* src = nullptr) {
    return stack_->multicast6_membership(*s, g, src, false);
  }
  void group_datagram(const Ipv6Addr& g, std::string_view text, const Ipv6Addr& from = kPeer) {
    Bytes d(8 + text.size());
    std::copy(text.begin(), text.end(), d.begin() + 8);
    wire::UdpRepr{40000, kPort}.emit(d, from, g, wire::ChecksumMode::kFull);
    feed(frame6(g.multicast_mac(), from, g, wire::ip_proto::kUdp, d, 1));
  }
  void tick(uint64_t ns) {
    clock_.advance(ns);
    stack_->on_timer();
  }
  uint64_t dropped(DropReason r) { return stack_->counters().drop(r); }
};

TEST_F(StackMulticast6, JoinSendsAnMldV2ReportFromTheLinkLocalAddress) {
  UdpSocket* s = bound();
  ASSERT_EQ(join(s, kGroup), 0);
  auto seen = mld_in(wire_frames());
  ASSERT_EQ(seen.size(), 1u);
  const SeenMld& r = seen[0];
  EXPECT_EQ(r.eth_dst, (MacAddr{0x33, 0x33, 0x00, 0x00, 0x00, 0x16}));
  EXPECT_EQ(r.src, link_local_of(kMacA));
  EXPECT_EQ(r.dst, wire::kMldV2Routers);
  EXPECT_EQ(r.hop_limit, 1);
  EXPECT_TRUE(r.router_alert);
  EXPECT_TRUE(r.checksum_ok);
  EXPECT_EQ(r.type, wire::mld_type::kV2Report);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].type, MldRecordType::kChangeToExclude);
  EXPECT_EQ(r.records[0].group, kGroup);
  EXPECT_TRUE(r.records[0].sources.empty());
  EXPECT_EQ(pair_.a->multicast_macs(), std::vector<MacAddr>{kGroup.multicast_mac()});
  EXPECT_EQ(stack_->counters().mld_sent, 1u);
  tick(kSecond + 1);  // robustness 2: once more
  EXPECT_EQ(mld_in(wire_frames()).size(), 1u);
  tick(5 * kSecond);
  EXPECT_TRUE(mld_in(wire_frames()).empty());
}

TEST_F(StackMulticast6, MembersGetACopyByTheirFilterAndMulticastAll) {
  UdpSocket* any = bound();
  UdpSocket* ssm = bound();
  UdpSocket* bystander = bound();
  UdpSocket* quiet = bound();
  quiet->set_multicast_all6(false);
  ASSERT_EQ(join(any, kGroup), 0);
  ASSERT_EQ(join(ssm, kGroup, &kPeer), 0);
  group_datagram(kGroup, "from the peer");
  group_datagram(kGroup, "from another", kOtherSource);
  for (const char* want : {"from the peer", "from another"}) {
    Received r = recv_string(any);
    EXPECT_EQ(r.data, want);
    EXPECT_EQ(r.info.destination6, kGroup);
  }
  EXPECT_EQ(recv_string(ssm).data, "from the peer");
  EXPECT_LT(recv_string(ssm).rc, 0);
  EXPECT_EQ(recv_string(bystander).data, "from the peer");  // IPV6_MULTICAST_ALL on, Linux's default
  EXPECT_LT(recv_string(quiet).rc, 0);
  // A group nobody joined: dropped at L3.
  group_datagram(kGroup2, "not ours");
  EXPECT_EQ(dropped(DropReason::kIpNotOurs), 1u);
}

TEST_F(StackMulticast6, LeaveSendsChangeToIncludeAndStopsDelivery) {
  UdpSocket* s = bound();
  ASSERT_EQ(join(s, kGroup), 0);
  drain_wire();
  ASSERT_EQ(leave(s, kGroup), 0);
  auto seen = mld_in(wire_frames());
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_EQ(seen[0].records.size(), 1u);
  EXPECT_EQ(seen[0].records[0].type, MldRecordType::kChangeToInclude);
  EXPECT_TRUE(pair_.a->multicast_macs().empty());
  group_datagram(kGroup, "after the leave");
  EXPECT_LT(recv_string(s).rc, 0);
  EXPECT_TRUE(stack_->multicast6().groups().empty());
}

TEST_F(StackMulticast6, AQueryIsAnsweredWithTheCurrentStateAndBadOnesAreNot) {
  UdpSocket* s = bound();
  UdpSocket* t = bound(kPort + 1);
  ASSERT_EQ(join(s, kGroup), 0);
  ASSERT_EQ(join(t, kGroup2, &kPeer), 0);
  tick(2 * kSecond);
  drain_wire();
  // Not queries: hop limit 2, a global source. Seen, never answered.
  feed(query(Ipv6Addr(), 1000, true, wire::kAllNodes, 2));
  feed(query(Ipv6Addr(), 1000, true, wire::kAllNodes, 1, kPeer));
  tick(2 * kSecond);
  EXPECT_TRUE(mld_in(wire_frames()).empty());
  EXPECT_EQ(dropped(DropReason::kMldMalformed), 1u);  // the global source
  feed(query(Ipv6Addr(), 1000, true, wire::kAllNodes));
  EXPECT_EQ(stack_->counters().mld_received, 3u);
  tick(kSecond + 1);
  auto seen = mld_in(wire_frames());
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_EQ(seen[0].records.size(), 2u);
  EXPECT_EQ(seen[0].records[0].type, MldRecordType::kModeIsExclude);
  EXPECT_EQ(seen[0].records[0].group, kGroup);
  EXPECT_EQ(seen[0].records[1].type, MldRecordType::kModeIsInclude);
  EXPECT_EQ(seen[0].records[1].sources, std::vector<Ipv6Addr>{kPeer});
  // A group-specific query, to the group.
  feed(query(kGroup2, 1000, true, kGroup2));
  tick(kSecond + 1);
  seen = mld_in(wire_frames());
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_EQ(seen[0].records.size(), 1u);
  EXPECT_EQ(seen[0].records[0].group, kGroup2);
}

TEST_F(StackMulticast6, AnMldV1QuerierMakesTheInterfaceSpeakVersion1) {
  UdpSocket* s = bound();
  ASSERT_EQ(join(s, kGroup), 0);
  tick(2 * kSecond);
  drain_wire();
  feed(query(Ipv6Addr(), 1000, false, wire::kAllNodes));
  EXPECT_EQ(stack_->multicast6().version(clock_.monotonic_ns()), 1);
  tick(kSecond + 1);
  auto seen = mld_in(wire_frames());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].type, wire::mld_type::kV1Report);
  EXPECT_EQ(seen[0].v1_group, kGroup);
  EXPECT_EQ(seen[0].dst, kGroup);
  EXPECT_TRUE(seen[0].checksum_ok);
  ASSERT_EQ(leave(s, kGroup), 0);
  seen = mld_in(wire_frames());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].type, wire::mld_type::kV1Done);
  EXPECT_EQ(seen[0].dst, wire::kAllRouters6);
  tick(261 * kSecond);
  EXPECT_EQ(stack_->multicast6().version(clock_.monotonic_ns()), 2);
}

TEST_F(StackMulticast6, LinuxErrors) {
  UdpSocket* s = bound();
  EXPECT_EQ(join(s, kPeer), -EINVAL);
  ASSERT_EQ(join(s, kGroup), 0);
  EXPECT_EQ(join(s, kGroup), -EADDRINUSE);
  EXPECT_EQ(leave(s, kGroup2), -EADDRNOTAVAIL);
  EXPECT_EQ(leave(s, kGroup2, &kPeer), -EINVAL);  // a source leave needs a prior join
  EXPECT_EQ(stack_->multicast6_block(*s, kGroup2, kPeer, true), -EINVAL);
  ASSERT_EQ(stack_->multicast6_block(*s, kGroup, kOtherSource, true), 0);
  EXPECT_EQ(stack_->multicast6_block(*s, kGroup, kOtherSource, true), -EADDRNOTAVAIL);
  EXPECT_EQ(join(s, kGroup, &kPeer), -EINVAL);  // over an any-source membership with a blocked source
  // With no blocked source, Linux switches the empty filter's mode:
  // EXCLUDE {} becomes INCLUDE {source}.
  ASSERT_EQ(join(s, kGroup2), 0);
  drain_wire();
  ASSERT_EQ(join(s, kGroup2, &kPeer), 0);
  auto seen = mld_in(wire_frames());
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_EQ(seen[0].records.size(), 1u);
  EXPECT_EQ(seen[0].records[0].type, MldRecordType::kChangeToInclude);
  EXPECT_EQ(seen[0].records[0].sources, std::vector<Ipv6Addr>{kPeer});
  group_datagram(kGroup2, "from another", kOtherSource);
  EXPECT_LT(recv_string(s).rc, 0);
}

TEST_F(StackMulticast6, SendingUsesMulticastHopsAndLoopsToMembers) {
  UdpSocket* sender = bound(kPort + 7);
  UdpSocket* member = bound();
  ASSERT_EQ(join(member, kGroup), 0);
  drain_wire();
  sender->set_hop_limit(33);  // the unicast hop limit: not for groups
  const Endpoint to = Endpoint::ipv6(kGroup, kPort, 0);
  // A link-scope group names its interface: by scope id or IPV6_MULTICAST_IF.
  EXPECT_EQ(send_string(sender, "no interface", &to), -EADDRNOTAVAIL);
  sender->set_multicast_ifindex6(1);
  ASSERT_EQ(send_string(sender, "to the group", &to), 12);
  stack_->poll(0);
  auto frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);
  const MacAddr mac = kGroup.multicast_mac();
  EXPECT_EQ(Bytes(frames[0].begin(), frames[0].begin() + 6), Bytes(mac.begin(), mac.end()));
  EXPECT_EQ(frames[0][14 + 7], 1);  // IPV6_MULTICAST_HOPS defaults to 1
  EXPECT_EQ(recv_string(member).data, "to the group");
  sender->set_multicast_hops(16);
  sender->set_multicast_loop6(false);
  ASSERT_EQ(send_string(sender, "not looped", &to), 10);
  stack_->poll(0);
  frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0][14 + 7], 16);
  EXPECT_LT(recv_string(member).rc, 0);
}

}  // namespace
}  // namespace dpdkudp::test
