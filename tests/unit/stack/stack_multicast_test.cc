// IPv4 multicast on one stack with the test playing the wire: the IGMP
// messages a join, a leave and a query put on the wire (byte by byte
// where it matters), which sockets take group traffic (memberships,
// source filters, IP_MULTICAST_ALL), the sending side (TTL, the group's
// MAC, IP_MULTICAST_LOOP), and Linux's errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "stack/wire/checksum.h"
#include "stack/wire/igmp.h"
#include "tests/unit/stack/stack_fixture.h"

namespace dpdkudp::test {
namespace {

using stack::DropReason;
using stack::Endpoint;
using stack::UdpSocket;

const MacAddr kPeerMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x77};
const Ipv4Addr kPeerIp{198, 18, 0, 77};
const Ipv4Addr kOtherSource{198, 18, 0, 78};
const Ipv4Addr kGroup{239, 1, 2, 3};
const Ipv4Addr kGroup2{239, 1, 2, 4};
constexpr uint16_t kPort = 5000;
constexpr uint64_t kSecond = 1'000'000'000;

MacAddr group_mac(Ipv4Addr g) { return stack::ipv4_multicast_mac(g); }

// One IGMP message seen on the wire, with what its IPv4 header said.
struct SeenIgmp {
  MacAddr eth_dst{};
  Ipv4Addr ip_src, ip_dst;
  uint8_t ttl = 0;
  uint8_t tos = 0;
  bool router_alert = false;
  bool ip_checksum_ok = false;
  bool igmp_checksum_ok = false;
  uint8_t type = 0;
  Ipv4Addr v2_group;
  std::vector<wire::IgmpGroupRecord> records;  // a v3 report's
};

std::vector<SeenIgmp> igmp_in(const std::vector<Bytes>& frames) {
  std::vector<SeenIgmp> out;
  for (const Bytes& f : frames) {
    if (f.size() < 14 + 20 || wire::load_be16(f.data() + 12) != 0x0800 || f[14 + 9] != 2) continue;
    SeenIgmp s;
    std::copy(f.begin(), f.begin() + 6, s.eth_dst.begin());
    const uint8_t* ip = f.data() + 14;
    const size_t ihl = size_t{ip[0] & 0x0fu} * 4;
    s.tos = ip[1];
    s.ttl = ip[8];
    s.ip_src = Ipv4Addr::load(ip + 12);
    s.ip_dst = Ipv4Addr::load(ip + 16);
    s.router_alert = ihl == 24 && ip[20] == 0x94 && ip[21] == 0x04 && ip[22] == 0 && ip[23] == 0;
    s.ip_checksum_ok = wire::internet_checksum(ip, ihl) == 0;
    const uint16_t total = wire::load_be16(ip + 2);
    const std::span<const uint8_t> msg{ip + ihl, total - ihl};
    s.igmp_checksum_ok = wire::internet_checksum(msg.data(), msg.size()) == 0;
    s.type = msg[0];
    if (s.type == wire::igmp_type::kV3Report) {
      size_t off = 8;
      for (uint16_t r = 0; r < wire::load_be16(msg.data() + 6); ++r) {
        wire::IgmpGroupRecord rec;
        rec.type = static_cast<wire::IgmpRecordType>(msg[off]);
        const uint16_t n = wire::load_be16(msg.data() + off + 2);
        rec.group = Ipv4Addr::load(msg.data() + off + 4);
        for (uint16_t i = 0; i < n; ++i) rec.sources.push_back(Ipv4Addr::load(msg.data() + off + 8 + 4 * i));
        off += 8 + 4 * size_t{n};
        s.records.push_back(rec);
      }
    } else {
      s.v2_group = Ipv4Addr::load(msg.data() + 4);
    }
    out.push_back(s);
  }
  return out;
}

// An IGMP query from the router (src kGateway) as a frame.
Bytes query_frame(Bytes igmp, Ipv4Addr dst = wire::kAllSystems) {
  return FrameBuilder()
      .src_mac(kPeerMac)
      .dst_mac(group_mac(dst))
      .src_ip(kGateway)
      .dst_ip(dst)
      .ttl(1)
      .payload(igmp)
      .ipv4(2);
}

Bytes with_checksum(Bytes msg) {
  msg[2] = 0;
  msg[3] = 0;
  const uint16_t c = wire::internet_checksum(msg.data(), msg.size());
  msg[2] = static_cast<uint8_t>(c >> 8);
  msg[3] = static_cast<uint8_t>(c);
  return msg;
}

class StackMulticast : public StackOnWire {
 protected:
  StackMulticast() { drain_wire(); }
  // With SO_REUSEADDR, as group receivers sharing a port set it.
  UdpSocket* bound(uint16_t port = kPort) {
    UdpSocket* s = stack_->open_udp();
    s->set_reuse_addr(true);
    EXPECT_EQ(s->bind({Ipv4Addr::any(), port}), 0);
    return s;
  }
  int join(UdpSocket* s, Ipv4Addr g, const Ipv4Addr* src = nullptr) {
    return stack_->multicast_membership(*s, g, src, true);
  }
  int leave(UdpSocket* s, Ipv4Addr g, const Ipv4Addr* src = nullptr) {
    return stack_->multicast_membership(*s, g, src, false);
  }
  void group_datagram(Ipv4Addr g, std::string_view text, Ipv4Addr from = kPeerIp) {
    feed(FrameBuilder()
             .src_mac(kPeerMac)
             .dst_mac(group_mac(g))
             .src_ip(from)
             .dst_ip(g)
             .ttl(1)
             .dst_port(kPort)
             .payload(text)
             .udp());
  }
  void tick(uint64_t ns) {
    clock_.advance(ns);
    stack_->on_timer();
  }
  uint64_t dropped(DropReason r) { return stack_->counters().drop(r); }
};

TEST_F(StackMulticast, JoinSendsAnIgmpV3ReportAndListensAtTheLink) {
  UdpSocket* s = bound();
  ASSERT_EQ(join(s, kGroup), 0);
  auto seen = igmp_in(wire_frames());
  ASSERT_EQ(seen.size(), 1u);
  const SeenIgmp& r = seen[0];
  EXPECT_EQ(r.eth_dst, (MacAddr{0x01, 0x00, 0x5e, 0x00, 0x00, 0x16}));
  EXPECT_EQ(r.ip_src, kIpA);
  EXPECT_EQ(r.ip_dst, Ipv4Addr(224, 0, 0, 22));
  EXPECT_EQ(r.ttl, 1);
  EXPECT_EQ(r.tos, 0xc0);
  EXPECT_TRUE(r.router_alert);
  EXPECT_TRUE(r.ip_checksum_ok);
  EXPECT_TRUE(r.igmp_checksum_ok);
  EXPECT_EQ(r.type, wire::igmp_type::kV3Report);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].type, wire::IgmpRecordType::kChangeToExclude);
  EXPECT_EQ(r.records[0].group, kGroup);
  EXPECT_TRUE(r.records[0].sources.empty());
  EXPECT_EQ(pair_.a->multicast_macs(), std::vector<MacAddr>{group_mac(kGroup)});
  EXPECT_EQ(stack_->counters().igmp_sent, 1u);
  // Robustness 2: the same report once more within a second, then no more.
  tick(kSecond + 1);
  seen = igmp_in(wire_frames());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].records.size(), 1u);
  tick(5 * kSecond);
  EXPECT_TRUE(igmp_in(wire_frames()).empty());
}

TEST_F(StackMulticast, EveryMemberOnThePortGetsACopy) {
  UdpSocket* a = bound();
  UdpSocket* b = bound();
  ASSERT_EQ(join(a, kGroup), 0);
  ASSERT_EQ(join(b, kGroup), 0);
  UdpSocket* other_port = bound(kPort + 1);
  ASSERT_EQ(join(other_port, kGroup), 0);
  group_datagram(kGroup, "tick 1");
  for (UdpSocket* s : {a, b}) {
    Received r = recv_string(s);
    EXPECT_EQ(r.data, "tick 1");
    EXPECT_EQ(r.info.source.addr, kPeerIp);
    EXPECT_EQ(r.info.destination, kGroup);
  }
  EXPECT_LT(recv_string(other_port).rc, 0);
  EXPECT_EQ(stack_->counters().udp_delivered, 2u);
}

TEST_F(StackMulticast, IpMulticastAllDecidesForASocketWithoutAMembership) {
  UdpSocket* member = bound();
  UdpSocket* bystander = bound();  // same port, no membership
  ASSERT_EQ(join(member, kGroup), 0);
  group_datagram(kGroup, "all on");
  EXPECT_EQ(recv_string(bystander).data, "all on");  // Linux's default: mc_all on
  bystander->set_multicast_all(false);
  group_datagram(kGroup, "all off");
  EXPECT_LT(recv_string(bystander).rc, 0);
  EXPECT_EQ(recv_string(member).data, "all on");
  EXPECT_EQ(recv_string(member).data, "all off");
}

TEST_F(StackMulticast, AGroupNobodyJoinedIsDroppedAtL3) {
  UdpSocket* s = bound();
  group_datagram(kGroup2, "not ours");
  EXPECT_LT(recv_string(s).rc, 0);
  EXPECT_EQ(dropped(DropReason::kIpNotOurs), 1u);
}

TEST_F(StackMulticast, LeaveSendsChangeToIncludeAndStopsDelivery) {
  UdpSocket* s = bound();
  ASSERT_EQ(join(s, kGroup), 0);
  drain_wire();
  ASSERT_EQ(leave(s, kGroup), 0);
  auto seen = igmp_in(wire_frames());
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_EQ(seen[0].records.size(), 1u);
  EXPECT_EQ(seen[0].records[0].type, wire::IgmpRecordType::kChangeToInclude);
  EXPECT_TRUE(seen[0].records[0].sources.empty());
  EXPECT_TRUE(pair_.a->multicast_macs().empty());
  group_datagram(kGroup, "after leave");
  EXPECT_LT(recv_string(s).rc, 0);
  // The join's retransmission, still due, must not go out after the leave
  // (it would tell the router we are a member again); the leave's does.
  tick(kSecond + 1);
  seen = igmp_in(wire_frames());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].records[0].type, wire::IgmpRecordType::kChangeToInclude);
}

TEST_F(StackMulticast, TheInterfaceStaysInTheGroupUntilItsLastMemberLeaves) {
  UdpSocket* a = bound();
  UdpSocket* b = bound(kPort + 1);
  ASSERT_EQ(join(a, kGroup), 0);
  ASSERT_EQ(join(b, kGroup), 0);
  auto seen = igmp_in(wire_frames());
  EXPECT_EQ(seen.size(), 1u);  // the second join changes nothing on the wire
  ASSERT_EQ(leave(a, kGroup), 0);
  EXPECT_TRUE(igmp_in(wire_frames()).empty());
  EXPECT_EQ(pair_.a->multicast_macs().size(), 1u);
  stack_->open_udp();  // unrelated
  b->close();          // closing leaves
  seen = igmp_in(wire_frames());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].records[0].type, wire::IgmpRecordType::kChangeToInclude);
  EXPECT_TRUE(stack_->multicast().groups().empty());
}

TEST_F(StackMulticast, SourceSpecificMembershipsFilterBySource) {
  UdpSocket* s = bound();
  ASSERT_EQ(join(s, kGroup, &kPeerIp), 0);
  auto seen = igmp_in(wire_frames());
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_EQ(seen[0].records.size(), 1u);
  EXPECT_EQ(seen[0].records[0].type, wire::IgmpRecordType::kAllowNewSources);
  EXPECT_EQ(seen[0].records[0].sources, std::vector<Ipv4Addr>{kPeerIp});
  group_datagram(kGroup, "from the source", kPeerIp);
  group_datagram(kGroup, "from another", kOtherSource);
  EXPECT_EQ(recv_string(s).data, "from the source");
  EXPECT_LT(recv_string(s).rc, 0);
  // A second source: ALLOW; dropping the first: BLOCK; the last: the
  // membership ends.
  ASSERT_EQ(join(s, kGroup, &kOtherSource), 0);
  ASSERT_EQ(leave(s, kGroup, &kPeerIp), 0);
  seen = igmp_in(wire_frames());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].records[0].type, wire::IgmpRecordType::kAllowNewSources);
  EXPECT_EQ(seen[0].records[0].sources, std::vector<Ipv4Addr>{kOtherSource});
  EXPECT_EQ(seen[1].records[0].type, wire::IgmpRecordType::kBlockOldSources);
  EXPECT_EQ(seen[1].records[0].sources, std::vector<Ipv4Addr>{kPeerIp});
  ASSERT_EQ(leave(s, kGroup, &kOtherSource), 0);
  EXPECT_TRUE(stack_->multicast().groups().empty());
  EXPECT_EQ(leave(s, kGroup), -EADDRNOTAVAIL);
}

TEST_F(StackMulticast, BlockedSourcesAreLeftOutOfAnAnySourceMembership) {
  UdpSocket* s = bound();
  ASSERT_EQ(join(s, kGroup), 0);
  drain_wire();
  ASSERT_EQ(stack_->multicast_block(*s, kGroup, kOtherSource, true), 0);
  EXPECT_TRUE(igmp_in(wire_frames()).empty());  // the interface still wants every source
  group_datagram(kGroup, "wanted", kPeerIp);
  group_datagram(kGroup, "blocked", kOtherSource);
  EXPECT_EQ(recv_string(s).data, "wanted");
  EXPECT_LT(recv_string(s).rc, 0);
  EXPECT_EQ(stack_->multicast_block(*s, kGroup, kOtherSource, true), -EADDRNOTAVAIL);
  ASSERT_EQ(stack_->multicast_block(*s, kGroup, kOtherSource, false), 0);
  group_datagram(kGroup, "unblocked", kOtherSource);
  EXPECT_EQ(recv_string(s).data, "unblocked");
}

TEST_F(StackMulticast, LinuxErrors) {
  UdpSocket* s = bound();
  EXPECT_EQ(join(s, kIpB), -EINVAL);  // not a group
  ASSERT_EQ(join(s, kGroup), 0);
  EXPECT_EQ(join(s, kGroup), -EADDRINUSE);
  ASSERT_EQ(stack_->multicast_block(*s, kGroup, kOtherSource, true), 0);
  EXPECT_EQ(join(s, kGroup, &kPeerIp), -EINVAL);  // a source join over an any-source one with a blocked source
  EXPECT_EQ(leave(s, kGroup2), -EADDRNOTAVAIL);
  EXPECT_EQ(leave(s, kGroup2, &kPeerIp), -EINVAL);  // a source leave needs a prior join
  EXPECT_EQ(stack_->multicast_block(*s, kGroup2, kPeerIp, true), -EINVAL);
  UdpSocket* t = bound(kPort + 1);
  ASSERT_EQ(join(t, kGroup2, &kPeerIp), 0);
  EXPECT_EQ(join(t, kGroup2, &kPeerIp), -EADDRNOTAVAIL);  // that source already
  EXPECT_EQ(join(t, kGroup2), -EADDRINUSE);
  EXPECT_EQ(stack_->multicast_block(*t, kGroup2, kOtherSource, true), -EINVAL);
  for (uint32_t i = 2; i < stack::MulticastGroups::kMaxMembershipsPerSocket + 1; ++i) {
    ASSERT_EQ(join(s, Ipv4Addr(239, 2, 0, static_cast<uint8_t>(i))), 0) << i;
  }
  EXPECT_EQ(join(s, Ipv4Addr(239, 3, 0, 1)), -ENOBUFS);
}

TEST_F(StackMulticast, AGeneralQueryIsAnsweredWithTheCurrentState) {
  UdpSocket* s = bound();
  UdpSocket* t = bound(kPort + 1);
  ASSERT_EQ(join(s, kGroup), 0);
  ASSERT_EQ(join(t, kGroup2, &kPeerIp), 0);
  tick(2 * kSecond);  // past the retransmissions
  drain_wire();
  // v3 general query, max resp 1 s (code 10), QRV 2, QQIC 125.
  feed(query_frame(with_checksum({0x11, 10, 0, 0, 0, 0, 0, 0, 0x02, 125, 0, 0})));
  EXPECT_EQ(stack_->counters().igmp_received, 1u);
  EXPECT_TRUE(igmp_in(wire_frames()).empty());  // answered after a random delay
  tick(kSecond + 1);
  auto seen = igmp_in(wire_frames());
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_EQ(seen[0].records.size(), 2u);
  EXPECT_EQ(seen[0].records[0].type, wire::IgmpRecordType::kModeIsExclude);
  EXPECT_EQ(seen[0].records[0].group, kGroup);
  EXPECT_EQ(seen[0].records[1].type, wire::IgmpRecordType::kModeIsInclude);
  EXPECT_EQ(seen[0].records[1].sources, std::vector<Ipv4Addr>{kPeerIp});
  EXPECT_EQ(stack_->multicast().version(clock_.monotonic_ns()), 3);
}

TEST_F(StackMulticast, AVersion2QuerierMakesTheInterfaceSpeakVersion2) {
  UdpSocket* s = bound();
  ASSERT_EQ(join(s, kGroup), 0);
  tick(2 * kSecond);
  drain_wire();
  feed(query_frame(with_checksum({0x11, 100, 0, 0, 0, 0, 0, 0})));  // v2 general, 10 s
  tick(10 * kSecond + 1);
  auto seen = igmp_in(wire_frames());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].type, wire::igmp_type::kV2Report);
  EXPECT_EQ(seen[0].v2_group, kGroup);
  EXPECT_EQ(seen[0].ip_dst, kGroup);
  EXPECT_EQ(seen[0].eth_dst, group_mac(kGroup));
  // New joins report in v2; the last leave sends a v2 leave to all-routers.
  ASSERT_EQ(join(s, kGroup2), 0);
  ASSERT_EQ(leave(s, kGroup), 0);
  seen = igmp_in(wire_frames());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].type, wire::igmp_type::kV2Report);
  EXPECT_EQ(seen[0].v2_group, kGroup2);
  EXPECT_EQ(seen[1].type, wire::igmp_type::kV2Leave);
  EXPECT_EQ(seen[1].v2_group, kGroup);
  EXPECT_EQ(seen[1].ip_dst, Ipv4Addr(224, 0, 0, 2));
  // 400 s later, version 3 again.
  tick(401 * kSecond);
  EXPECT_EQ(stack_->multicast().version(clock_.monotonic_ns()), 3);
}

TEST_F(StackMulticast, AGroupSpecificQueryIsAnsweredForThatGroupOnly) {
  UdpSocket* s = bound();
  ASSERT_EQ(join(s, kGroup), 0);
  ASSERT_EQ(join(s, kGroup2), 0);
  tick(2 * kSecond);
  drain_wire();
  Bytes q = {0x11, 10, 0, 0, 239, 1, 2, 4, 0x02, 125, 0, 0};
  feed(query_frame(with_checksum(q), kGroup2));
  tick(kSecond + 1);
  auto seen = igmp_in(wire_frames());
  ASSERT_EQ(seen.size(), 1u);
  ASSERT_EQ(seen[0].records.size(), 1u);
  EXPECT_EQ(seen[0].records[0].group, kGroup2);
}

TEST_F(StackMulticast, MalformedIgmpIsCounted) {
  Bytes bad = {0x11, 10, 0x12, 0x34, 0, 0, 0, 0, 0x02, 125, 0, 0};  // wrong checksum
  feed(query_frame(bad));
  EXPECT_EQ(dropped(DropReason::kIgmpMalformed), 1u);
  feed(query_frame({0x11, 10, 0}));  // short
  EXPECT_EQ(dropped(DropReason::kIgmpMalformed), 2u);
}

TEST_F(StackMulticast, SendingToAGroupUsesTtl1TheGroupMacAndLoopsToMembers) {
  UdpSocket* sender = bound(kPort + 7);
  UdpSocket* member = bound();
  ASSERT_EQ(join(member, kGroup), 0);
  drain_wire();
  const Endpoint to{kGroup, kPort};
  ASSERT_EQ(send_string(sender, "to the group", &to), 12);
  stack_->poll(0);  // the looped copy
  auto frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(check_udp_frame(frames[0], {eth::Dst(group_mac(kGroup)), ipv4::Ttl(1), ipv4::Dst(kGroup)}));
  EXPECT_EQ(recv_string(member).data, "to the group");
  // IP_MULTICAST_TTL; IP_MULTICAST_LOOP off: the wire only.
  sender->set_multicast_ttl(16);
  sender->set_multicast_loop(false);
  ASSERT_EQ(send_string(sender, "not looped", &to), 10);
  stack_->poll(0);
  frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(check_udp_frame(frames[0], {ipv4::Ttl(16)}));
  EXPECT_LT(recv_string(member).rc, 0);
}

// Other processes on the interface (stack::GroupPeers) as the test plays
// them: which (group, port) they have members for, and what reached them.
class FakePeers : public stack::GroupPeers {
 public:
  bool member(const stack::GroupKey& key) override {
    return std::find(members.begin(), members.end(), key) != members.end();
  }
  void send_copies(const stack::GroupKey& key, const uint8_t* frame, size_t len) override {
    copies.emplace_back(key, Bytes(frame, frame + len));
  }
  bool forward_received() const override { return forward; }
  void memberships_changed() override { ++changes; }

  std::vector<stack::GroupKey> members;
  std::vector<std::pair<stack::GroupKey, Bytes>> copies;
  bool forward = false;
  int changes = 0;
};

class StackGroupPeers : public StackMulticast {
 protected:
  StackGroupPeers() { stack_->set_group_peers(&peers_); }
  FakePeers peers_;
};

TEST_F(StackGroupPeers, JoinsAndLeavesArePublishedWithTheSocketsPort) {
  UdpSocket* a = bound();
  UdpSocket* b = bound(kPort + 1);
  ASSERT_EQ(join(a, kGroup), 0);
  ASSERT_EQ(join(b, kGroup), 0);
  ASSERT_EQ(join(b, kGroup2), 0);
  EXPECT_EQ(peers_.changes, 3);
  EXPECT_EQ(stack_->group_memberships(),
            (std::vector<stack::GroupKey>{stack::GroupKey::of(kGroup, kPort), stack::GroupKey::of(kGroup, kPort + 1),
                                          stack::GroupKey::of(kGroup2, kPort + 1)}));
  EXPECT_EQ(join(a, kGroup), -EADDRINUSE);  // a failed join changes nothing
  EXPECT_EQ(peers_.changes, 3);
  ASSERT_EQ(leave(b, kGroup2), 0);
  EXPECT_EQ(peers_.changes, 4);
  b->close();  // its memberships go with it (the engine's tick publishes it)
  EXPECT_EQ(stack_->group_memberships(), std::vector<stack::GroupKey>{stack::GroupKey::of(kGroup, kPort)});
  // A socket not bound yet has no port to publish.
  UdpSocket* unbound = stack_->open_udp();
  ASSERT_EQ(join(unbound, kGroup2), 0);
  EXPECT_EQ(stack_->group_memberships().size(), 1u);
}

TEST_F(StackGroupPeers, IpMulticastLoopHandsOtherProcessesTheFrameOnlyWhenTheyAreMembers) {
  UdpSocket* sender = bound(kPort + 7);
  peers_.members = {stack::GroupKey::of(kGroup, kPort)};
  const Endpoint to{kGroup, kPort};
  ASSERT_EQ(send_string(sender, "to the group", &to), 12);
  auto frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);
  ASSERT_EQ(peers_.copies.size(), 1u);
  EXPECT_EQ(peers_.copies[0].first, stack::GroupKey::of(kGroup, kPort));
  // The frame as it went out, link header first.
  EXPECT_EQ(peers_.copies[0].second, frames[0]);
  // Another port, another group, or the loop off: no copy.
  const Endpoint other_port{kGroup, kPort + 1}, other_group{kGroup2, kPort};
  ASSERT_EQ(send_string(sender, "x", &other_port), 1);
  ASSERT_EQ(send_string(sender, "x", &other_group), 1);
  sender->set_multicast_loop(false);
  ASSERT_EQ(send_string(sender, "x", &to), 1);
  EXPECT_EQ(peers_.copies.size(), 1u);
  EXPECT_EQ(wire_frames().size(), 3u);
}

TEST_F(StackGroupPeers, AGroupDatagramFromTheWireIsPassedOnOnceAndACopyInNever) {
  UdpSocket* member = bound();
  ASSERT_EQ(join(member, kGroup), 0);
  peers_.members = {stack::GroupKey::of(kGroup, kPort)};
  // A backend that hands every process the frame (AF_PACKET): nothing to pass on.
  group_datagram(kGroup, "seen by all");
  EXPECT_TRUE(peers_.copies.empty());
  EXPECT_EQ(recv_string(member).data, "seen by all");
  // One that hands it to one process (AF_XDP): a copy for the others.
  peers_.forward = true;
  group_datagram(kGroup, "ours alone");
  ASSERT_EQ(peers_.copies.size(), 1u);
  EXPECT_EQ(recv_string(member).data, "ours alone");
  const Bytes copy = peers_.copies[0].second;
  // That copy, arriving at another process, is delivered there and never
  // passed on again (nor is our own looped send).
  ASSERT_TRUE(stack_->inject_looped_frame(copy.data(), copy.size()));
  stack_->poll(0);
  EXPECT_EQ(recv_string(member).data, "ours alone");
  EXPECT_EQ(peers_.copies.size(), 1u);
  // With no socket of its own taking it (its member of the group is on
  // another port), the process the wire chose still passes it on.
  peers_.members.push_back(stack::GroupKey::of(kGroup2, kPort));
  UdpSocket* other = bound(kPort + 1);
  ASSERT_EQ(join(other, kGroup2), 0);
  member->set_multicast_all(false);
  group_datagram(kGroup2, "theirs");
  EXPECT_EQ(peers_.copies.size(), 2u);
  EXPECT_LT(recv_string(member).rc, 0);
  EXPECT_EQ(dropped(DropReason::kUdpNoSocket), 1u);
}

TEST_F(StackGroupPeers, AnInjectedFrameLargerThanABufferIsCountedNotCopied) {
  const Bytes huge(70000, 0xab);
  EXPECT_FALSE(stack_->inject_looped_frame(huge.data(), huge.size()));
  EXPECT_EQ(stack_->counters().drop(DropReason::kTxNoBuffer), 1u);
}

}  // namespace
}  // namespace dpdkudp::test
