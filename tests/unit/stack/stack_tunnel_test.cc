// Overlay endpoints in the stack: two stacks talking through each tunnel
// kind over IPv4 and IPv6 outer headers (inner ARP, echo, MTU), the frames
// a stack sends checked field by field, and every malformed or unmatched
// encapsulation dropped and counted under its reason.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "stack/net/tunnel.h"
#include "stack/wire/checksum.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/tunnel.h"
#include "stack/wire/udp.h"
#include "tests/unit/stack/stack_fixture.h"

namespace dpdkudp::test {
namespace {

using stack::DropReason;
using stack::Endpoint;
using stack::TunnelConfig;
using stack::TunnelDrop;
using stack::TunnelKind;
using stack::UdpSocket;
using wire::Ipv6Addr;

constexpr Ipv4Addr kInnerA{198, 19, 1, 1};
constexpr Ipv4Addr kInnerB{198, 19, 1, 2};
constexpr uint32_t kVni = 100;
const Ipv6Addr kIp6A(0x2001, 2, 0, 0, 0, 0, 0, 0xa);
const Ipv6Addr kIp6B(0x2001, 2, 0, 0, 0, 0, 0, 0xb);
const Ipv6Addr kInner6A(0x2001, 2, 0, 0x100, 0, 0, 0, 1);
const Ipv6Addr kInner6B(0x2001, 2, 0, 0x100, 0, 0, 0, 2);

struct Case {
  TunnelKind kind;
  bool outer_v6;
};
std::string case_name(const ::testing::TestParamInfo<Case>& i) {
  return std::string(stack::tunnel_kind_name(i.param.kind)) + (i.param.outer_v6 ? "_outer6" : "_outer4");
}
const Case kCases[] = {{TunnelKind::kVxlan, false}, {TunnelKind::kGeneve, false}, {TunnelKind::kGue, false},
                       {TunnelKind::kVxlan, true},  {TunnelKind::kGeneve, true},  {TunnelKind::kGue, true}};

TunnelConfig tunnel(const Case& c, bool side_a) {
  TunnelConfig t;
  t.kind = c.kind;
  t.vni = kVni;
  t.outer_v6 = c.outer_v6;
  t.remote = side_a ? kIpB : kIpA;
  t.remote6 = side_a ? kIp6B : kIp6A;
  t.inner = wire::Ipv4Cidr{side_a ? kInnerA : kInnerB, 24};
  t.inner6 = wire::Ipv6Cidr{side_a ? kInner6A : kInner6B, 64};
  return t;
}

stack::StackConfig config_with(const Case& c, bool side_a) {
  stack::StackConfig s = config_for(side_a ? kIpA : kIpB);
  if (c.outer_v6) s.addresses6 = {wire::Ipv6Cidr{side_a ? kIp6A : kIp6B, 64}};
  s.tunnels = {tunnel(c, side_a)};
  return s;
}

class TunnelPair : public TwoStacks, public ::testing::WithParamInterface<Case> {
 protected:
  TunnelPair() : TwoStacks(pair_config(), config_with(GetParam(), true), config_with(GetParam(), false)) {
    a_->start();
    b_->start();
    pump();
  }
};

TEST_P(TunnelPair, EchoesThroughTheTunnelAtEverySizeUpToItsMtu) {
  UdpSocket* server = b_->open_udp();
  ASSERT_EQ(server->bind({Ipv4Addr::any(), 7}), 0);
  UdpSocket* client = a_->open_udp();
  ASSERT_EQ(client->connect({kInnerB, 7}), 0);
  // getsockname after connect: the inner address the route chose.
  EXPECT_EQ(client->local()->addr, kInnerA);
  const size_t max_payload = a_->tunnel(0).mtu() - 28;
  for (size_t size = 1; size <= max_payload; size += 61) {
    std::string payload(size, '\0');
    for (size_t i = 0; i < size; ++i) payload[i] = static_cast<char>((i * 13 + size) & 0xff);
    ASSERT_EQ(send_string(client, payload), static_cast<int64_t>(size));
    pump();
    Received got = recv_string(server);
    ASSERT_EQ(got.data, payload) << "size " << size;
    EXPECT_EQ(got.info.source.addr, kInnerA);
    EXPECT_EQ(got.info.destination, kInnerB);
    ASSERT_EQ(send_string(server, got.data, &got.info.source), static_cast<int64_t>(size));
    pump();
    ASSERT_EQ(recv_string(client).data, payload) << "size " << size;
  }
  // One byte more than the tunnel's MTU does not fit (no fragmentation).
  EXPECT_EQ(send_string(client, std::string(max_payload + 1, 'x')), -EMSGSIZE);
  // Nothing dropped (but the other side's duplicate-address probes, to a
  // solicited-node group that is not ours, with IPv6 on).
  for (auto* st : {a_.get(), b_.get()}) {
    stack::CounterSnapshot c = st->counters();
    c.drops[static_cast<size_t>(DropReason::kIpNotOurs)] = 0;
    EXPECT_EQ(c.drops, (stack::CounterSnapshot{}.drops));
  }
  const stack::TunnelCounterSnapshot ta = a_->tunnel(0).counters();
  EXPECT_GT(ta.tx_frames, 0u);
  EXPECT_GT(ta.rx_frames, 0u);
  EXPECT_EQ(ta.drops[static_cast<size_t>(TunnelDrop::kMalformed)], 0u);
}

// One sendmmsg batch mixing the tunnel and the interface, to two sockets:
// the next hops dispatch() keeps for the burst never leak from one link to
// the other.
TEST_P(TunnelPair, ABatchMixingTheTunnelAndTheInterfaceReachesBoth) {
  UdpSocket* inner = b_->open_udp();
  ASSERT_EQ(inner->bind({kInnerB, 7}), 0);
  UdpSocket* outer = b_->open_udp();
  ASSERT_EQ(outer->bind({kIpB, 8}), 0);
  UdpSocket* client = a_->open_udp();
  // Resolve both next hops first (the batch then measures the cached path).
  Endpoint to_inner{kInnerB, 7}, to_outer{kIpB, 8};
  ASSERT_EQ(send_string(client, "i", &to_inner), 1);
  ASSERT_EQ(send_string(client, "o", &to_outer), 1);
  pump();
  ASSERT_EQ(recv_string(inner).data, "i");
  ASSERT_EQ(recv_string(outer).data, "o");
  std::vector<std::string> payloads;
  std::vector<iovec> iovs(16);
  std::vector<stack::SendSlot> slots(16);
  for (size_t i = 0; i < 16; ++i) payloads.push_back("datagram " + std::to_string(i));
  for (size_t i = 0; i < 16; ++i) {
    iovs[i] = {payloads[i].data(), payloads[i].size()};
    slots[i].iov = {&iovs[i], 1};
    slots[i].dst = (i % 3 == 0) ? &to_outer : &to_inner;
  }
  ASSERT_EQ(client->send_batch(slots), 16);
  pump();
  for (size_t i = 0; i < 16; ++i) {
    Received r = recv_string(i % 3 == 0 ? outer : inner);
    EXPECT_EQ(r.data, payloads[i]);
    EXPECT_EQ(r.info.source.addr, i % 3 == 0 ? kIpA : kInnerA);
  }
}

// The tunnel counts per thread: what several threads sent adds up exactly.
TEST_P(TunnelPair, CountsFromSeveralThreadsAddUp) {
  UdpSocket* server = b_->open_udp();
  ASSERT_EQ(server->bind({Ipv4Addr::any(), 7}), 0);
  UdpSocket* client = a_->open_udp();
  Endpoint dst{kInnerB, 7};
  ASSERT_EQ(send_string(client, "resolve", &dst), 7);
  pump();
  const stack::TunnelCounterSnapshot before = a_->tunnel(0).counters();
  constexpr int kThreads = 4;
  constexpr int kEach = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) EXPECT_EQ(send_string(client, "0123456789", &dst), 10);
    });
  }
  for (auto& th : threads) th.join();
  const stack::TunnelCounterSnapshot after = a_->tunnel(0).counters();
  EXPECT_EQ(after.tx_frames - before.tx_frames, uint64_t{kThreads * kEach});
  // Inner bytes: the inner IPv4 + UDP headers, the payload, and the inner
  // Ethernet header for the Ethernet kinds.
  const uint64_t inner = 20 + 8 + 10 + (GetParam().kind == TunnelKind::kGue ? 0 : 14);
  EXPECT_EQ(after.tx_bytes - before.tx_bytes, uint64_t{kThreads * kEach} * inner);
}

// IPv6 inside: an AF_INET6 socket on the inner IPv6 address, NDP inside
// the Ethernet overlays, every size up to the tunnel's MTU, ping.
TEST_P(TunnelPair, EchoesOverIpv6InsideAtEverySizeUpToItsMtu) {
  UdpSocket* server = b_->open_udp(true);
  ASSERT_EQ(server->bind(Endpoint::ipv6(Ipv6Addr(), 7)), 0);
  UdpSocket* client = a_->open_udp(true);
  ASSERT_EQ(client->connect(Endpoint::ipv6(kInner6B, 7)), 0);
  EXPECT_EQ(client->local()->addr6, kInner6A);  // the route chose the inner address
  const size_t max_payload = a_->tunnel(0).mtu() - 48;
  for (size_t size = 1; size <= max_payload; size += 97) {
    std::string payload(size, '\0');
    for (size_t i = 0; i < size; ++i) payload[i] = static_cast<char>((i * 7 + size) & 0xff);
    ASSERT_EQ(send_string(client, payload), static_cast<int64_t>(size));
    pump();
    Received got = recv_string(server);
    ASSERT_EQ(got.data, payload) << "size " << size;
    EXPECT_EQ(got.info.source.addr6, kInner6A);
    ASSERT_EQ(send_string(server, got.data, &got.info.source), static_cast<int64_t>(size));
    pump();
    ASSERT_EQ(recv_string(client).data, payload) << "size " << size;
  }
  EXPECT_EQ(send_string(client, std::string(max_payload + 1, 'x')), -EMSGSIZE);
  if (GetParam().kind != TunnelKind::kGue) {
    // Resolved by NDP inside the overlay, in the tunnel's own table.
    EXPECT_TRUE(a_->tunnel(0).neighbors6().lookup(kInner6B, clock_.monotonic_ns()));
    EXPECT_FALSE(a_->neighbors6().lookup(kInner6B, clock_.monotonic_ns()));
  }
  // A closed port inside answers port-unreachable through the tunnel.
  UdpSocket* probe = a_->open_udp(true);
  Endpoint closed = Endpoint::ipv6(kInner6B, 9999);
  ASSERT_EQ(probe->connect(closed), 0);
  ASSERT_EQ(send_string(probe, "anyone?"), 7);
  pump();
  EXPECT_EQ(recv_string(probe).rc, -ECONNREFUSED);
  for (auto* st : {a_.get(), b_.get()}) {
    stack::CounterSnapshot c = st->counters();
    c.drops[static_cast<size_t>(DropReason::kIpNotOurs)] = 0;
    c.drops[static_cast<size_t>(DropReason::kUdpNoSocket)] = 0;  // the probe
    EXPECT_EQ(c.drops, (stack::CounterSnapshot{}.drops));
  }
}

TEST_P(TunnelPair, TheMtuIsTheUnderlaysLessTheOverhead) {
  // Linux's vxlan over IPv4 on a 1500-byte link: 1450; GUE: 1468.
  const uint32_t want = 1500 - static_cast<uint32_t>(stack::tunnel_overhead(tunnel(GetParam(), true)));
  EXPECT_EQ(a_->tunnel(0).mtu(), want);
  if (!GetParam().outer_v6) {
    EXPECT_EQ(want, GetParam().kind == TunnelKind::kGue ? 1468u : 1450u);
  } else {
    EXPECT_EQ(want, GetParam().kind == TunnelKind::kGue ? 1448u : 1430u);
  }
}

// VXLAN and GENEVE carry Ethernet (GUE carries IP: no link layer inside).
class EthernetTunnelPair : public TunnelPair {};

TEST_P(EthernetTunnelPair, InnerArpIsAnsweredInsideTheOverlay) {
  UdpSocket* server = b_->open_udp();
  ASSERT_EQ(server->bind({kInnerB, 9}), 0);
  UdpSocket* client = a_->open_udp();
  Endpoint dst{kInnerB, 9};
  ASSERT_EQ(send_string(client, "x", &dst), 1);
  pump();
  EXPECT_EQ(recv_string(server).data, "x");
  // Each side knows the other's inner address in its tunnel's table, not
  // the interface's.
  EXPECT_EQ(a_->tunnel(0).config().inner.addr, kInnerA);
  EXPECT_TRUE(a_->tunnel(0).neighbors().lookup(kInnerB, clock_.monotonic_ns()));
  EXPECT_FALSE(a_->neighbors().lookup(kInnerB, clock_.monotonic_ns()));
}

TEST_P(TunnelPair, BindingTheInnerAddressWorksAndAForeignOneDoesNot) {
  UdpSocket* s = b_->open_udp();
  EXPECT_EQ(s->bind({kInnerB, 5000}), 0);
  UdpSocket* t = b_->open_udp();
  EXPECT_EQ(t->bind({Ipv4Addr{198, 19, 1, 9}, 5000}), -EADDRNOTAVAIL);
}

TEST_P(TunnelPair, TheInterfaceAddressStillWorksBesideTheTunnel) {
  UdpSocket* server = b_->open_udp();
  ASSERT_EQ(server->bind({Ipv4Addr::any(), 7}), 0);
  UdpSocket* client = a_->open_udp();
  Endpoint plain{kIpB, 7};
  ASSERT_EQ(send_string(client, "plain", &plain), 5);
  pump();
  Received r = recv_string(server);
  EXPECT_EQ(r.data, "plain");
  EXPECT_EQ(r.info.destination, kIpB);
  EXPECT_EQ(a_->tunnel(0).counters().tx_frames, GetParam().kind == TunnelKind::kGue ? 0u : 1u);  // (the GARP)
}

INSTANTIATE_TEST_SUITE_P(Kinds, TunnelPair, ::testing::ValuesIn(kCases), case_name);
INSTANTIATE_TEST_SUITE_P(Kinds, EthernetTunnelPair,
                         ::testing::Values(Case{TunnelKind::kVxlan, false}, Case{TunnelKind::kGeneve, false},
                                           Case{TunnelKind::kVxlan, true}, Case{TunnelKind::kGeneve, true}),
                         case_name);

// ---- one stack, the test plays the far end ----

const MacAddr kPeerMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x77};
constexpr uint16_t kPeerSport = 51000;

// An inner Ethernet + IPv4 + UDP frame from kInnerB to kInnerA.
Bytes inner_udp(uint16_t dport, std::string_view payload) {
  return FrameBuilder()
      .src_mac(kPeerMac)
      .dst_mac(kMacA)
      .src_ip(kInnerB)
      .dst_ip(kInnerA)
      .src_port(40000)
      .dst_port(dport)
      .payload(payload)
      .udp();
}

// Outer Ethernet + IPv4 + UDP(port) around `body` (tunnel header + inner).
Bytes outer4(uint16_t port, const Bytes& body, bool checksum = false) {
  return FrameBuilder()
      .src_mac(kMacB)
      .dst_mac(kMacA)
      .src_ip(kIpB)
      .dst_ip(kIpA)
      .src_port(kPeerSport)
      .dst_port(port)
      .udp_checksum(checksum ? wire::ChecksumMode::kFull : wire::ChecksumMode::kNone)
      .payload(body)
      .udp();
}

Bytes vxlan(uint32_t vni, const Bytes& inner) {
  Bytes b(8);
  wire::emit_vxlan(b.data(), vni);
  b.insert(b.end(), inner.begin(), inner.end());
  return b;
}

Bytes geneve(uint32_t vni, const Bytes& options, const Bytes& inner, uint8_t flags = 0) {
  Bytes b(8 + options.size());
  wire::emit_geneve(b.data(), vni, wire::kEtherTypeTeb, options);
  b[1] = flags;
  b.insert(b.end(), inner.begin(), inner.end());
  return b;
}

// The IP packet inside an inner Ethernet frame (GUE's payload).
Bytes ip_of(const Bytes& frame) { return Bytes(frame.begin() + 14, frame.end()); }

class TunnelOnWire : public StackOnWire {
 protected:
  static stack::StackConfig config() {
    stack::StackConfig c = config_for(kIpA);
    TunnelConfig v;  // VXLAN 100 and GENEVE 100 to b; GUE to b on 6080
    v.kind = TunnelKind::kVxlan;
    v.vni = kVni;
    v.remote = kIpB;
    v.inner = wire::Ipv4Cidr{kInnerA, 24};
    c.tunnels.push_back(v);
    TunnelConfig g = v;
    g.kind = TunnelKind::kGeneve;
    g.inner = wire::Ipv4Cidr{Ipv4Addr{198, 19, 2, 1}, 24};
    c.tunnels.push_back(g);
    TunnelConfig u = v;
    u.kind = TunnelKind::kGue;
    u.inner = wire::Ipv4Cidr{Ipv4Addr{198, 19, 3, 1}, 24};
    c.tunnels.push_back(u);
    return c;
  }
  TunnelOnWire() : StackOnWire(config()) {
    answer_arp(kIpB, kMacB);  // the outer peer is known
    drain_wire();
    server_ = stack_->open_udp();
    EXPECT_EQ(server_->bind({Ipv4Addr::any(), 7}), 0);
  }
  uint64_t drops(DropReason r) const { return stack_->counters().drop(r); }
  uint64_t tunnel_drops(size_t t, TunnelDrop d) const {
    return stack_->tunnel(t).counters().drops[static_cast<size_t>(d)];
  }
  UdpSocket* server_ = nullptr;
};

TEST_F(TunnelOnWire, DecapsulatesEachKindToTheServedInnerAddress) {
  feed(outer4(4789, vxlan(kVni, inner_udp(7, "vx"))));
  Received r = recv_string(server_);
  EXPECT_EQ(r.data, "vx");
  EXPECT_EQ(r.info.source.addr, kInnerB);
  EXPECT_EQ(r.info.destination, kInnerA);

  // GENEVE with two (non-critical) options, parsed and stepped over.
  Bytes options = {0x01, 0x02, 0x03, 0x01, 0xaa, 0xbb, 0xcc, 0xdd, 0x01, 0x02, 0x04, 0x00};
  Bytes inner_g = FrameBuilder()
                      .src_mac(kPeerMac)
                      .dst_mac(kMacA)
                      .src_ip(Ipv4Addr{198, 19, 2, 2})
                      .dst_ip(Ipv4Addr{198, 19, 2, 1})
                      .src_port(40000)
                      .dst_port(7)
                      .payload("gen")
                      .udp();
  feed(outer4(6081, geneve(kVni, options, inner_g), true));
  EXPECT_EQ(recv_string(server_).data, "gen");

  // GUE variant 0 (Linux fou's header) and variant 1 (direct IPv4).
  Bytes inner_u = ip_of(FrameBuilder()
                            .src_ip(Ipv4Addr{198, 19, 3, 2})
                            .dst_ip(Ipv4Addr{198, 19, 3, 1})
                            .src_port(40000)
                            .dst_port(7)
                            .payload("gue0")
                            .udp());
  Bytes gue0 = {0x00, 0x04, 0x00, 0x00};
  gue0.insert(gue0.end(), inner_u.begin(), inner_u.end());
  feed(outer4(6080, gue0));
  EXPECT_EQ(recv_string(server_).data, "gue0");
  Bytes gue1 = ip_of(FrameBuilder()
                         .src_ip(Ipv4Addr{198, 19, 3, 2})
                         .dst_ip(Ipv4Addr{198, 19, 3, 1})
                         .src_port(40000)
                         .dst_port(7)
                         .payload("gue1")
                         .udp());
  feed(outer4(6080, gue1));
  EXPECT_EQ(recv_string(server_).data, "gue1");

  for (size_t t = 0; t < 3; ++t) EXPECT_EQ(stack_->tunnel(t).counters().rx_frames, t == 2 ? 2u : 1u);
  EXPECT_EQ(stack_->counters().drops, (stack::CounterSnapshot{}.drops));
}

TEST_F(TunnelOnWire, TheEncapsulatedReplyIsRightFieldByField) {
  feed(outer4(4789, vxlan(kVni, inner_udp(7, "ping"))));
  Received r = recv_string(server_);
  ASSERT_EQ(r.data, "ping");
  // The inner peer is unknown: the reply waits for ARP inside the overlay.
  ASSERT_EQ(send_string(server_, "pong", &r.info.source), 4);
  std::vector<Bytes> out = wire_frames();
  ASSERT_EQ(out.size(), 1u);
  const Bytes& arp = out[0];
  // Outer: to b's MAC, IPv4 198.18.0.1 -> .2, UDP to 4789, checksum 0.
  ASSERT_GE(arp.size(), 14u + 20 + 8 + 8 + 14 + 28);
  EXPECT_EQ(wire::load_mac(arp.data()), kMacB);
  EXPECT_EQ(wire::load_be16(arp.data() + 12), wire::ethertype::kIpv4);
  auto ip = wire::Ipv4Packet::parse({arp.data() + 14, arp.size() - 14});
  ASSERT_TRUE(ip);
  EXPECT_TRUE(ip->verify_checksum());
  EXPECT_EQ(ip->src(), kIpA);
  EXPECT_EQ(ip->dst(), kIpB);
  EXPECT_EQ(ip->ttl(), 64);
  const uint8_t* udp = arp.data() + 34;
  EXPECT_EQ(wire::load_be16(udp + 2), 4789);
  EXPECT_EQ(wire::load_be16(udp + 6), 0) << "RFC 7348: zero checksum over IPv4 by default";
  EXPECT_GE(wire::load_be16(udp), 32768);
  auto vx = wire::VxlanHeader::parse({udp + 8, 8});
  ASSERT_TRUE(vx);
  EXPECT_EQ(vx->vni(), kVni);
  // Inner: a broadcast ARP request for b's inner address from ours.
  const uint8_t* inner = udp + 16;
  EXPECT_EQ(wire::load_mac(inner), wire::kBroadcastMac);
  EXPECT_EQ(wire::load_be16(inner + 12), wire::ethertype::kArp);
  EXPECT_EQ(Ipv4Addr::load(inner + 14 + 14), kInnerA);
  EXPECT_EQ(Ipv4Addr::load(inner + 14 + 24), kInnerB);

  // b answers inside the overlay; the held datagram leaves.
  Bytes reply =
      FrameBuilder().src_mac(kPeerMac).dst_mac(kMacA).src_ip(kInnerB).dst_ip(kInnerA).arp(wire::ArpOp::kReply);
  feed(outer4(4789, vxlan(kVni, reply)));
  out = wire_frames();
  ASSERT_EQ(out.size(), 1u);
  const Bytes& f = out[0];
  const uint8_t* in = f.data() + 14 + 20 + 8 + 8;
  EXPECT_EQ(wire::load_mac(in), kPeerMac);
  EXPECT_EQ(wire::load_mac(in + 6), kMacA);
  auto inner_ip = wire::Ipv4Packet::parse({in + 14, static_cast<size_t>(f.data() + f.size() - in - 14)});
  ASSERT_TRUE(inner_ip);
  EXPECT_TRUE(inner_ip->verify_checksum());
  EXPECT_EQ(inner_ip->src(), kInnerA);
  EXPECT_EQ(inner_ip->dst(), kInnerB);
  auto inner_udp_view = wire::UdpDatagram::parse(inner_ip->payload());
  ASSERT_TRUE(inner_udp_view);
  EXPECT_TRUE(inner_udp_view->verify_checksum(kInnerA, kInnerB));
  EXPECT_EQ(std::string(inner_udp_view->payload().begin(), inner_udp_view->payload().end()), "pong");
  // The outer lengths add up.
  auto outer_ip = wire::Ipv4Packet::parse({f.data() + 14, f.size() - 14});
  ASSERT_TRUE(outer_ip);
  EXPECT_EQ(outer_ip->total_len(), f.size() - 14);
  EXPECT_EQ(wire::load_be16(f.data() + 34 + 4), f.size() - 34);
  EXPECT_EQ(stack_->tunnel(0).counters().tx_frames, 2u);
}

TEST_F(TunnelOnWire, TheOuterSourcePortFollowsTheInnerFlow) {
  auto sport_of = [&](uint16_t inner_sport) {
    UdpSocket* c = stack_->open_udp();
    EXPECT_EQ(c->bind({Ipv4Addr::any(), inner_sport}), 0);
    Endpoint dst{Ipv4Addr{198, 19, 3, 2}, 9};  // GUE: no inner ARP
    EXPECT_EQ(send_string(c, "e", &dst), 1);
    EXPECT_EQ(send_string(c, "e", &dst), 1);
    std::vector<Bytes> out = wire_frames();
    EXPECT_EQ(out.size(), 2u);
    if (out.size() != 2) return uint16_t{0};
    EXPECT_EQ(wire::load_be16(out[0].data() + 34), wire::load_be16(out[1].data() + 34)) << "stable per flow";
    EXPECT_EQ(wire::load_be16(out[0].data() + 36), 6080);
    c->close();
    return wire::load_be16(out[0].data() + 34);
  };
  std::set<uint16_t> ports;
  for (uint16_t p = 20000; p < 20016; ++p) ports.insert(sport_of(p));
  EXPECT_GE(ports.size(), 12u) << "16 flows should spread over the range";
  for (uint16_t p : ports) {
    EXPECT_GE(p, 32768);
    EXPECT_LE(p, 60999);
  }
}

TEST_F(TunnelOnWire, PingThroughTheOverlayIsAnswered) {
  Bytes echo = FrameBuilder()
                   .src_mac(kPeerMac)
                   .dst_mac(kMacA)
                   .src_ip(kInnerB)
                   .dst_ip(kInnerA)
                   .echo_ident(7)
                   .echo_seq(1)
                   .payload("abc")
                   .icmp_echo_request();
  feed(outer4(4789, vxlan(kVni, echo)));
  std::vector<Bytes> out = wire_frames();
  ASSERT_EQ(out.size(), 1u);
  const uint8_t* in = out[0].data() + 14 + 20 + 8 + 8;
  EXPECT_EQ(wire::load_mac(in), kPeerMac);  // answered to the inner sender's MAC
  auto ip = wire::Ipv4Packet::parse({in + 14, static_cast<size_t>(out[0].data() + out[0].size() - in - 14)});
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->src(), kInnerA);
  EXPECT_EQ(ip->dst(), kInnerB);
  EXPECT_EQ(ip->protocol(), wire::ip_proto::kIcmp);
  EXPECT_EQ(ip->payload()[0], 0);  // echo reply
  EXPECT_EQ(stack_->counters().icmp_echo_replies, 1u);
}

TEST_F(TunnelOnWire, AClosedInnerPortGetsPortUnreachableInsideTheOverlay) {
  feed(outer4(4789, vxlan(kVni, inner_udp(9999, "x"))));
  std::vector<Bytes> out = wire_frames();
  ASSERT_EQ(out.size(), 1u);
  const uint8_t* in = out[0].data() + 14 + 20 + 8 + 8;
  auto ip = wire::Ipv4Packet::parse({in + 14, static_cast<size_t>(out[0].data() + out[0].size() - in - 14)});
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->src(), kInnerA);
  EXPECT_EQ(ip->payload()[0], 3);  // destination unreachable
  EXPECT_EQ(ip->payload()[1], 3);  // port
  EXPECT_EQ(drops(DropReason::kUdpNoSocket), 1u);
  EXPECT_EQ(tunnel_drops(0, TunnelDrop::kInner), 1u);
}

TEST_F(TunnelOnWire, WrongVniTruncatedAndMalformedAreDroppedAndCounted) {
  feed(outer4(4789, vxlan(kVni + 1, inner_udp(7, "x"))));
  EXPECT_EQ(drops(DropReason::kTunnelNoMatch), 1u);
  EXPECT_EQ(tunnel_drops(0, TunnelDrop::kNoMatch), 1u);

  feed(outer4(4789, Bytes{0x08, 0, 0}));  // 3 bytes of VXLAN header
  Bytes no_i = vxlan(kVni, inner_udp(7, "x"));
  no_i[0] = 0;  // the I flag clear
  feed(outer4(4789, no_i));
  EXPECT_EQ(drops(DropReason::kTunnelMalformed), 2u);
  EXPECT_EQ(tunnel_drops(0, TunnelDrop::kMalformed), 2u);

  // GENEVE: an option running past opt_len; version 1; a critical option;
  // OAM; a protocol other than Ethernet.
  Bytes bad_opt = geneve(kVni, {0x01, 0x02, 0x03, 0x02}, inner_udp(7, "x"));
  feed(outer4(6081, bad_opt));
  Bytes v1 = geneve(kVni, {}, inner_udp(7, "x"));
  v1[0] |= 0x40;
  feed(outer4(6081, v1));
  Bytes wrong_proto = geneve(kVni, {}, inner_udp(7, "x"));
  wrong_proto[2] = 0x08;
  wrong_proto[3] = 0x00;
  feed(outer4(6081, wrong_proto));
  EXPECT_EQ(tunnel_drops(1, TunnelDrop::kMalformed), 3u);
  feed(outer4(6081, geneve(kVni, {0x01, 0x02, 0x83, 0x00}, inner_udp(7, "x"), wire::GeneveHeader::kFlagCritical)));
  feed(outer4(6081, geneve(kVni, {}, inner_udp(7, "x"), wire::GeneveHeader::kFlagOam)));
  EXPECT_EQ(tunnel_drops(1, TunnelDrop::kUnsupported), 2u);

  // GUE: a control message, an unknown inner protocol, a header longer
  // than the datagram.
  feed(outer4(6080, Bytes{0x20, 0x00, 0x00, 0x00}));
  feed(outer4(6080, Bytes{0x00, 0x11, 0x00, 0x00, 0x45}));
  feed(outer4(6080, Bytes{0x02, 0x04, 0x00, 0x00, 0x00}));
  EXPECT_EQ(tunnel_drops(2, TunnelDrop::kUnsupported), 2u);
  EXPECT_EQ(tunnel_drops(2, TunnelDrop::kMalformed), 1u);
  EXPECT_EQ(drops(DropReason::kTunnelMalformed), 6u);
  EXPECT_EQ(drops(DropReason::kTunnelUnsupported), 4u);

  // An inner frame with a bad inner checksum: the inner reason, counted on
  // the tunnel as an inner drop.
  Bytes inner = inner_udp(7, "bad");
  inner[inner.size() - 1] ^= 0xff;
  feed(outer4(4789, vxlan(kVni, inner)));
  EXPECT_EQ(drops(DropReason::kUdpChecksum), 1u);
  EXPECT_EQ(tunnel_drops(0, TunnelDrop::kInner), 1u);

  // Nothing reached the socket, nothing was answered.
  EXPECT_EQ(recv_string(server_).rc, -EAGAIN);
  EXPECT_TRUE(wire_frames().empty());
}

TEST_F(TunnelOnWire, AnInnerFrameCarryingAVlanTagIsNotOurs) {
  Bytes tagged = FrameBuilder()
                     .src_mac(kPeerMac)
                     .dst_mac(kMacA)
                     .vlan_tci(5)
                     .src_ip(kInnerB)
                     .dst_ip(kInnerA)
                     .dst_port(7)
                     .payload("t")
                     .udp();
  feed(outer4(4789, vxlan(kVni, tagged)));
  EXPECT_EQ(drops(DropReason::kVlanMismatch), 1u);
  EXPECT_EQ(recv_string(server_).rc, -EAGAIN);
}

TEST_F(TunnelOnWire, ASocketOnTheInnerAddressIsReachedByLoopback) {
  UdpSocket* inner = stack_->open_udp();
  ASSERT_EQ(inner->bind({kInnerA, 6000}), 0);
  UdpSocket* c = stack_->open_udp();
  Endpoint dst{kInnerA, 6000};
  ASSERT_EQ(send_string(c, "self", &dst), 4);
  while (stack_->poll(0) != 0) {}
  EXPECT_EQ(recv_string(inner).data, "self");
  EXPECT_TRUE(wire_frames().empty());
}

}  // namespace
}  // namespace dpdkudp::test
