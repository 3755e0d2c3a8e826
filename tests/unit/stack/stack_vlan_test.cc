// The three 802.1Q modes (vlan_config.h) with the test playing the wire:
// which tags are accepted, which tag every answer carries, and the same
// frames whether the device inserts and strips the tag, the stack does, or
// the stack is told to although the device could.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/stack/stack_fixture.h"

namespace dpdkudp::test {
namespace {

using stack::DropReason;
using stack::Endpoint;
using stack::UdpSocket;
using stack::VlanConfig;
using stack::VlanMode;

const MacAddr kPeerMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x77};
const wire::Ipv4Addr kPeerIp{198, 18, 0, 77};
const MacAddr kPeer2Mac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x78};
const wire::Ipv4Addr kPeer2Ip{198, 18, 0, 78};
const MacAddr kPeer3Mac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x79};
const wire::Ipv4Addr kPeer3Ip{198, 18, 0, 79};

FrameBuilder from(const MacAddr& mac, wire::Ipv4Addr ip) {
  return FrameBuilder().src_mac(mac).dst_mac(kMacA).src_ip(ip).dst_ip(kIpA).dst_port(6000);
}
// A builder tagged with tci, or untagged for std::nullopt.
FrameBuilder tagged(FrameBuilder b, std::optional<uint16_t> tci) { return tci ? b.vlan_tci(*tci) : b; }

// Who does the tagging: the stack (the device has no VLAN offload), the
// device, or the stack although the device could (DPDKUDP_VLAN_OFFLOAD=software).
enum class Tagging { kStack, kDevice, kForcedSoftware };

std::string tagging_name(const ::testing::TestParamInfo<Tagging>& info) {
  switch (info.param) {
    case Tagging::kStack: return "Stack";
    case Tagging::kDevice: return "Device";
    case Tagging::kForcedSoftware: return "ForcedSoftware";
  }
  return "?";
}

PairConfig pair_for(Tagging t) {
  PairConfig c = pair_config();
  if (t != Tagging::kStack) c.a.offloads = PairOffloads::all();
  return c;
}

stack::StackConfig config_with(VlanConfig vlan, Tagging t) {
  stack::StackConfig c = config_for(kIpA);
  vlan.software = t == Tagging::kForcedSoftware;
  c.vlan = std::move(vlan);
  return c;
}

// A stack on the wire in one VLAN mode, over one way of tagging.
class VlanWire : public StackOnWire {
 protected:
  VlanWire(VlanConfig vlan, Tagging t) : StackOnWire(config_with(std::move(vlan), t), pair_for(t)) {}
  uint64_t mismatched() { return stack_->counters().drop(DropReason::kVlanMismatch); }
  UdpSocket* bound() {
    UdpSocket* s = stack_->open_udp();
    EXPECT_EQ(s->bind({Ipv4Addr::any(), 6000}), 0);
    return s;
  }
  // The one frame the stack sent since the last call.
  Bytes one_frame() {
    auto frames = wire_frames();
    EXPECT_EQ(frames.size(), 1u);
    return frames.empty() ? Bytes{} : frames[0];
  }
  // The tag check of one frame: VlanTci(tci) or Untagged().
  static FrameCheck tag(std::optional<uint16_t> tci) { return tci ? eth::VlanTci(*tci) : eth::Untagged(); }
  // A peer's ARP request for us on `tci` is answered on it.
  void expect_arp_answered(const MacAddr& mac, wire::Ipv4Addr ip, std::optional<uint16_t> in,
                           std::optional<uint16_t> out) {
    feed(tagged(from(mac, ip).dst_mac(wire::kBroadcastMac), in).arp(wire::ArpOp::kRequest));
    Bytes f = one_frame();
    EXPECT_TRUE(check_arp_frame(f, {tag(out), eth::Dst(mac)}));
  }
  // A datagram from the peer on `in` is received, and the socket's answer
  // (to the neighbour it learned) goes out on `out`.
  void expect_echo(UdpSocket* s, const MacAddr& mac, wire::Ipv4Addr ip, std::optional<uint16_t> in,
                   std::optional<uint16_t> out) {
    feed(tagged(from(mac, ip), in).payload("hello").udp());
    Received r = recv_string(s);
    ASSERT_EQ(r.data, "hello");
    ASSERT_EQ(send_string(s, "back", &r.info.source), 4);
    Bytes f = one_frame();
    EXPECT_TRUE(check_udp_frame(f, {tag(out), eth::Dst(mac), Payload("back")}));
  }
  // Ping on `in` is answered on `out`; a datagram to a closed port gets
  // its port-unreachable on `out` too.
  void expect_icmp_answers(const MacAddr& mac, wire::Ipv4Addr ip, std::optional<uint16_t> in,
                           std::optional<uint16_t> out) {
    feed(tagged(from(mac, ip), in).payload("ping").icmp_echo_request());
    Bytes echo = one_frame();
    EXPECT_TRUE(check_icmp_frame(echo, {tag(out), icmp::Type(wire::icmp_type::kEchoReply)}));
    feed(tagged(from(mac, ip), in).dst_port(6999).udp());
    Bytes unreach = one_frame();
    EXPECT_TRUE(check_icmp_frame(unreach, {tag(out), icmp::Type(wire::icmp_type::kDestUnreachable)}));
  }
};

// ---- port tagging (Linux's eth0.100): tagged only, both ways

VlanConfig port_tagging() {
  VlanConfig v;
  v.vid = 100;
  v.pcp = 5;
  return v;
}
constexpr uint16_t kTci100Pcp5 = (5 << 13) | 100;

class PortTagging : public VlanWire, public ::testing::WithParamInterface<Tagging> {
 protected:
  PortTagging() : VlanWire(port_tagging(), GetParam()) {}
};

TEST_P(PortTagging, OnlyItsVidIsHeardAndEverythingGoesTagged) {
  UdpSocket* s = bound();
  expect_arp_answered(kPeerMac, kPeerIp, 100, kTci100Pcp5);
  expect_echo(s, kPeerMac, kPeerIp, 100, kTci100Pcp5);
  expect_icmp_answers(kPeerMac, kPeerIp, 100, kTci100Pcp5);
  // A priority bit set by the peer does not change the VLAN.
  expect_echo(s, kPeerMac, kPeerIp, (3 << 13) | 100, kTci100Pcp5);

  feed(from(kPeerMac, kPeerIp).udp());              // untagged
  feed(from(kPeerMac, kPeerIp).vlan_tci(0).udp());  // priority-tagged counts as untagged
  feed(from(kPeerMac, kPeerIp).vlan_tci(200).udp());
  feed(from(kPeerMac, kPeerIp).dst_mac(wire::kBroadcastMac).arp(wire::ArpOp::kRequest));
  EXPECT_EQ(mismatched(), 4u);
  EXPECT_TRUE(wire_frames().empty());
}

TEST_P(PortTagging, ResolutionOfANewNeighbourIsTagged) {
  UdpSocket* s = stack_->open_udp();
  Endpoint dst{kPeer2Ip, 53};
  ASSERT_EQ(send_string(s, "query", &dst), 5);
  Bytes request = one_frame();
  EXPECT_TRUE(check_arp_frame(request, {tag(kTci100Pcp5), eth::Dst(wire::kBroadcastMac)}));
  feed(from(kPeer2Mac, kPeer2Ip).vlan_tci(100).arp(wire::ArpOp::kReply));
  Bytes datagram = one_frame();
  EXPECT_TRUE(check_udp_frame(datagram, {tag(kTci100Pcp5), eth::Dst(kPeer2Mac), Payload("query")}));
}

INSTANTIATE_TEST_SUITE_P(Vlan, PortTagging,
                         ::testing::Values(Tagging::kStack, Tagging::kDevice, Tagging::kForcedSoftware), tagging_name);

// ---- access: untagged and its VID heard, untagged sent

VlanConfig access() {
  VlanConfig v;
  v.vid = 100;
  v.mode = VlanMode::kAccess;
  return v;
}

class Access : public VlanWire, public ::testing::WithParamInterface<Tagging> {
 protected:
  Access() : VlanWire(access(), GetParam()) {}
};

TEST_P(Access, HearsUntaggedAndItsVidAndAnswersUntagged) {
  UdpSocket* s = bound();
  for (std::optional<uint16_t> in :
       {std::optional<uint16_t>(), std::optional<uint16_t>(100), std::optional<uint16_t>(0)}) {
    SCOPED_TRACE(in ? std::to_string(*in) : "untagged");
    expect_arp_answered(kPeerMac, kPeerIp, in, std::nullopt);
    expect_echo(s, kPeerMac, kPeerIp, in, std::nullopt);
    expect_icmp_answers(kPeerMac, kPeerIp, in, std::nullopt);
  }
  feed(from(kPeerMac, kPeerIp).vlan_tci(200).udp());
  feed(from(kPeerMac, kPeerIp).vlan_tci(200).dst_mac(wire::kBroadcastMac).arp(wire::ArpOp::kRequest));
  EXPECT_EQ(mismatched(), 2u);
  EXPECT_TRUE(wire_frames().empty());
}

INSTANTIATE_TEST_SUITE_P(Vlan, Access, ::testing::Values(Tagging::kStack, Tagging::kDevice, Tagging::kForcedSoftware),
                         tagging_name);

// ---- trunk: VID 100 its own, 200 and 300 allowed, native VLAN 10

VlanConfig trunk() {
  VlanConfig v;
  v.vid = 100;
  v.mode = VlanMode::kTrunk;
  v.allowed = {200, 300};
  v.native = 10;
  v.pcp = 2;
  return v;
}
constexpr uint16_t kPcp2 = 2 << 13;

class Trunk : public VlanWire, public ::testing::WithParamInterface<Tagging> {
 protected:
  Trunk() : VlanWire(trunk(), GetParam()) {}
};

TEST_P(Trunk, EachNeighbourIsAnsweredOnTheVlanItWasHeardOn) {
  UdpSocket* s = bound();
  // Peer on VLAN 200, peer 2 on the native VLAN (untagged), peer 3 on 300.
  expect_arp_answered(kPeerMac, kPeerIp, 200, kPcp2 | 200);
  expect_arp_answered(kPeer2Mac, kPeer2Ip, std::nullopt, std::nullopt);
  expect_arp_answered(kPeer3Mac, kPeer3Ip, 300, kPcp2 | 300);
  expect_echo(s, kPeerMac, kPeerIp, 200, kPcp2 | 200);
  expect_echo(s, kPeer2Mac, kPeer2Ip, std::nullopt, std::nullopt);
  expect_echo(s, kPeer3Mac, kPeer3Ip, 300, kPcp2 | 300);
  expect_icmp_answers(kPeerMac, kPeerIp, 200, kPcp2 | 200);
  expect_icmp_answers(kPeer3Mac, kPeer3Ip, 300, kPcp2 | 300);
  expect_icmp_answers(kPeer2Mac, kPeer2Ip, std::nullopt, std::nullopt);
  // The native VLAN tagged is heard too, and answered untagged.
  expect_echo(s, kPeer2Mac, kPeer2Ip, 10, std::nullopt);
  // Its own VID.
  expect_arp_answered(kPeerMac, kPeerIp, 100, kPcp2 | 100);
  expect_echo(s, kPeerMac, kPeerIp, 100, kPcp2 | 100);

  feed(from(kPeerMac, kPeerIp).vlan_tci(400).udp());
  feed(from(kPeerMac, kPeerIp).vlan_tci(400).dst_mac(wire::kBroadcastMac).arp(wire::ArpOp::kRequest));
  EXPECT_EQ(mismatched(), 2u);
  EXPECT_TRUE(wire_frames().empty());
}

// A conversation the stack starts: the neighbour is asked for on every VLAN
// of the trunk (its own first), and the held datagram goes on the VLAN the
// answer came from.
TEST_P(Trunk, NewConversationsResolveOnEveryVlanAndFollowTheAnswer) {
  UdpSocket* s = stack_->open_udp();
  Endpoint dst{kPeer3Ip, 53};
  ASSERT_EQ(send_string(s, "first", &dst), 5);
  auto requests = wire_frames();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_TRUE(check_arp_frame(requests[0], {tag(kPcp2 | 100), eth::Dst(wire::kBroadcastMac)}));
  EXPECT_TRUE(check_arp_frame(requests[1], {eth::Untagged(), eth::Dst(wire::kBroadcastMac)}));  // native 10
  EXPECT_TRUE(check_arp_frame(requests[2], {tag(kPcp2 | 200), eth::Dst(wire::kBroadcastMac)}));
  EXPECT_TRUE(check_arp_frame(requests[3], {tag(kPcp2 | 300), eth::Dst(wire::kBroadcastMac)}));
  feed(from(kPeer3Mac, kPeer3Ip).vlan_tci(300).arp(wire::ArpOp::kReply));
  Bytes held = one_frame();
  EXPECT_TRUE(check_udp_frame(held, {tag(kPcp2 | 300), eth::Dst(kPeer3Mac), Payload("first")}));
  ASSERT_EQ(send_string(s, "second", &dst), 6);
  Bytes next = one_frame();
  EXPECT_TRUE(check_udp_frame(next, {tag(kPcp2 | 300), eth::Dst(kPeer3Mac), Payload("second")}));
}

INSTANTIATE_TEST_SUITE_P(Vlan, Trunk, ::testing::Values(Tagging::kStack, Tagging::kDevice, Tagging::kForcedSoftware),
                         tagging_name);

// A trunk whose own VID is the native one sends its own traffic untagged.
TEST(VlanTrunkNative, OwnVidNativeGoesUntagged) {
  VlanConfig v = trunk();
  v.native = 100;
  class Fixture : public VlanWire {
   public:
    explicit Fixture(VlanConfig c) : VlanWire(std::move(c), Tagging::kStack) {}
    void TestBody() override {
      UdpSocket* s = stack_->open_udp();
      Endpoint dst{kPeer2Ip, 53};
      ASSERT_EQ(send_string(s, "q", &dst), 1);
      auto requests = wire_frames();
      ASSERT_EQ(requests.size(), 3u);  // 100 (native: untagged), 200, 300
      EXPECT_TRUE(check_arp_frame(requests[0], {eth::Untagged(), eth::Dst(wire::kBroadcastMac)}));
      EXPECT_TRUE(check_arp_frame(requests[1], {eth::VlanTci(kPcp2 | 200), eth::Dst(wire::kBroadcastMac)}));
      feed(from(kPeer2Mac, kPeer2Ip).arp(wire::ArpOp::kReply));
      Bytes datagram = one_frame();
      EXPECT_TRUE(check_udp_frame(datagram, {eth::Untagged(), Payload("q")}));
    }
  } fixture(std::move(v));
  fixture.TestBody();
}

// The same exchange over the three ways of tagging leaves the same bytes on
// the wire.
TEST(VlanOffload, DeviceAndSoftwareTaggingSendTheSameFrames) {
  class Run : public VlanWire {
   public:
    explicit Run(Tagging t) : VlanWire(trunk(), t) {}
    void TestBody() override {}
    std::vector<Bytes> exchange() {
      std::vector<Bytes> out;
      UdpSocket* s = bound();
      feed(tagged(from(kPeerMac, kPeerIp).dst_mac(wire::kBroadcastMac), 200).arp(wire::ArpOp::kRequest));
      feed(from(kPeerMac, kPeerIp).vlan_tci(200).payload("data").udp());
      Received r = recv_string(s);
      EXPECT_EQ(send_string(s, "answer", &r.info.source), 6);
      feed(from(kPeerMac, kPeerIp).vlan_tci(200).payload("ping").icmp_echo_request());
      Endpoint dst{kPeer3Ip, 53};
      EXPECT_EQ(send_string(s, "new", &dst), 3);
      feed(from(kPeer3Mac, kPeer3Ip).arp(wire::ArpOp::kReply));
      for (Bytes& f : wire_frames()) out.push_back(std::move(f));
      return out;
    }
  };
  std::vector<Bytes> by_stack = Run(Tagging::kStack).exchange();
  // ARP reply, datagram, echo reply, ARP requests on the trunk's 4 VLANs,
  // the held datagram.
  ASSERT_EQ(by_stack.size(), 8u);
  EXPECT_EQ(Run(Tagging::kDevice).exchange(), by_stack);
  EXPECT_EQ(Run(Tagging::kForcedSoftware).exchange(), by_stack);
}

}  // namespace
}  // namespace dpdkudp::test
