// One stack with the test playing the wire: exact frames in, exact frames
// out, every malformed input dropped under its reason.
#include <gtest/gtest.h>

#include <iterator>
#include <random>
#include <string>

#include "stack/wire/checksum.h"
#include "tests/unit/stack/stack_fixture.h"

namespace dpdkudp::test {
namespace {

using stack::DropReason;
using stack::Endpoint;
using stack::UdpSocket;

const MacAddr kPeerMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x77};
const wire::Ipv4Addr kPeerIp{198, 18, 0, 77};

FrameBuilder from_peer() { return FrameBuilder().src_mac(kPeerMac).dst_mac(kMacA).src_ip(kPeerIp).dst_ip(kIpA); }

class StackWire : public StackOnWire {
 protected:
  uint64_t dropped(DropReason r) { return stack_->counters().drop(r); }
  UdpSocket* bound(uint16_t port) {
    UdpSocket* s = stack_->open_udp();
    EXPECT_EQ(s->bind({Ipv4Addr::any(), port}), 0);
    return s;
  }
};

TEST_F(StackWire, AnswersArpForItsAddressAndLearnsTheAsker) {
  feed(from_peer().dst_mac(wire::kBroadcastMac).arp(wire::ArpOp::kRequest));
  auto frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);
  ParsedFrame f = parse_frame(frames[0]);
  ASSERT_TRUE(f.arp);
  EXPECT_EQ(f.eth->dst, kPeerMac);
  EXPECT_EQ(f.eth->src, kMacA);
  EXPECT_EQ(f.arp->op, wire::ArpOp::kReply);
  EXPECT_EQ(f.arp->sender_mac, kMacA);
  EXPECT_EQ(f.arp->sender_ip, kIpA);
  EXPECT_EQ(f.arp->target_mac, kPeerMac);
  EXPECT_EQ(f.arp->target_ip, kPeerIp);
  EXPECT_EQ(stack_->neighbors().lookup(kPeerIp, clock_.monotonic_ns()), kPeerMac);
}

TEST_F(StackWire, IgnoresArpForOthersAndLearnsNothingFromProbes) {
  feed(from_peer().dst_mac(wire::kBroadcastMac).dst_ip(Ipv4Addr(198, 18, 0, 99)).arp(wire::ArpOp::kRequest));
  feed(from_peer().src_ip(Ipv4Addr::any()).dst_mac(wire::kBroadcastMac).arp(wire::ArpOp::kRequest));
  // The probe (sender 0.0.0.0) for our address is still answered.
  EXPECT_EQ(wire_frames().size(), 1u);
  EXPECT_FALSE(stack_->neighbors().lookup(kPeerIp, clock_.monotonic_ns()));
}

TEST_F(StackWire, MalformedArpIsCounted) {
  Bytes arp = from_peer().arp(wire::ArpOp::kRequest);
  arp.resize(14 + 20);
  feed(arp);
  EXPECT_EQ(dropped(DropReason::kArpMalformed), 1u);
}

TEST_F(StackWire, GratuitousArpOnStart) {
  stack_->start();
  auto frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);
  ParsedFrame f = parse_frame(frames[0]);
  ASSERT_TRUE(f.arp);
  EXPECT_EQ(f.eth->dst, wire::kBroadcastMac);
  EXPECT_EQ(f.arp->sender_ip, kIpA);
  EXPECT_EQ(f.arp->target_ip, kIpA);
}

TEST_F(StackWire, AnswersPing) {
  feed(from_peer().echo_ident(0x1234).echo_seq(7).payload("ping-data-0123456789").icmp_echo_request());
  auto frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(check_icmp_frame(
      frames[0], {eth::Dst(kPeerMac), eth::Src(kMacA), ipv4::Src(kIpA), ipv4::Dst(kPeerIp), icmp::Type(0),
                  icmp::Code(0), icmp::EchoIdent(0x1234), icmp::EchoSeq(7), Payload("ping-data-0123456789")}));
  EXPECT_EQ(stack_->counters().icmp_echo_replies, 1u);
}

TEST_F(StackWire, PortUnreachableQuotesTheDatagram) {
  Bytes frame = from_peer().dst_port(4000).payload("nobody home").udp();
  feed(frame);
  auto frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(check_icmp_frame(frames[0], {eth::Dst(kPeerMac), ipv4::Dst(kPeerIp), icmp::Type(3), icmp::Code(3),
                                           Payload(std::span<const uint8_t>(frame).subspan(14))}));
  EXPECT_EQ(dropped(DropReason::kUdpNoSocket), 1u);
}

TEST_F(StackWire, DeliversWithMetadata) {
  UdpSocket* s = bound(5353);
  feed(from_peer().dst_port(5353).src_port(1234).tos(0x10).ttl(17).payload("meta").udp());
  Received r = recv_string(s);
  ASSERT_EQ(r.data, "meta");
  EXPECT_EQ(r.info.source, (Endpoint{kPeerIp, 1234}));
  EXPECT_EQ(r.info.destination, kIpA);
  EXPECT_EQ(r.info.tos, 0x10);
  EXPECT_EQ(r.info.ttl, 17);
  EXPECT_EQ(r.info.timestamp_ns, clock_.realtime_ns());
}

TEST_F(StackWire, ZeroUdpChecksumMeansNone) {
  UdpSocket* s = bound(5000);
  feed(from_peer().dst_port(5000).udp_checksum(wire::ChecksumMode::kNone).payload("no csum").udp());
  EXPECT_EQ(recv_string(s).data, "no csum");
}

TEST_F(StackWire, EthernetPaddingIsNotPayload) {
  UdpSocket* s = bound(5001);
  feed(from_peer().dst_port(5001).payload("ab").pad_to(60).udp());
  Received r = recv_string(s);
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.data, "ab");
}

TEST_F(StackWire, Ipv4OptionsAreSkipped) {
  UdpSocket* s = bound(5002);
  Bytes plain = from_peer().dst_port(5002).payload("opts").udp();
  // Insert 4 bytes of options (NOP NOP NOP EOL): IHL 6, total length + 4.
  Bytes frame(plain.begin(), plain.begin() + 34);
  frame.insert(frame.end(), {0x01, 0x01, 0x01, 0x00});
  frame.insert(frame.end(), plain.begin() + 34, plain.end());
  frame[14] = 0x46;
  wire::store_be16(&frame[16], static_cast<uint16_t>(wire::load_be16(&frame[16]) + 4));
  wire::store_be16(&frame[24], 0);
  wire::store_be16(&frame[24], wire::internet_checksum(&frame[14], 24));
  feed(frame);
  EXPECT_EQ(recv_string(s).data, "opts");
}

struct MalformedCase {
  const char* name;
  DropReason reason;
  std::function<Bytes()> make;
};

Bytes good_udp() { return from_peer().dst_port(6000).payload("payload").udp(); }
Bytes mutate(Bytes b, size_t at, uint8_t v) {
  b[at] = v;
  return b;
}

class StackMalformed : public StackWire, public ::testing::WithParamInterface<MalformedCase> {};

TEST_P(StackMalformed, IsDroppedUnderItsReason) {
  UdpSocket* s = bound(6000);
  feed(GetParam().make());
  EXPECT_EQ(dropped(GetParam().reason), 1u) << GetParam().name;
  EXPECT_EQ(recv_string(s).rc, -EAGAIN);
  uint64_t total = 0;
  for (uint64_t d : stack_->counters().drops) total += d;
  EXPECT_EQ(total, 1u) << "exactly one drop counted";
}

INSTANTIATE_TEST_SUITE_P(
    Frames, StackMalformed,
    ::testing::Values(MalformedCase{"runt", DropReason::kEthTruncated, [] { return Bytes(13, 0); }},
                      MalformedCase{"other_mac", DropReason::kEthNotForUs,
                                    [] {
  return from_peer().dst_mac({0x02, 0, 0, 0, 0, 0x55}).dst_port(6000).udp();
                                    }},
                      MalformedCase{"ipv4_as_ipv6", DropReason::kIpMalformed,
                                    [] { return mutate(mutate(good_udp(), 12, 0x86), 13, 0xdd); }},
                      MalformedCase{"lldp", DropReason::kEthUnsupported,
                                    [] { return mutate(mutate(good_udp(), 12, 0x88), 13, 0xcc); }},
                      MalformedCase{"tagged_but_untagged_config", DropReason::kVlanMismatch,
                                    [] { return from_peer().vlan_tci(100).dst_port(6000).udp(); }},
                      MalformedCase{"ip_truncated", DropReason::kIpMalformed,
                                    [] {
  Bytes b = good_udp();
  b.resize(14 + 19);
  return b;
                                    }},
    MalformedCase{"ip_version_6", DropReason::kIpMalformed, [] { return mutate(good_udp(), 14, 0x65); }},
    MalformedCase{"ip_ihl_4", DropReason::kIpMalformed, [] { return mutate(good_udp(), 14, 0x44); }},
    MalformedCase{"ip_total_len_past_frame", DropReason::kIpMalformed, [] { return mutate(good_udp(), 16, 0x7f); }},
    MalformedCase{"ip_checksum", DropReason::kIpChecksum, [] { return mutate(good_udp(), 24, 0x00); }},
    MalformedCase{"fragment", DropReason::kIpFragment,
                  [] { return from_peer().fragment(true, 0).dst_port(6000).payload("frag").udp(); }},
    MalformedCase{"not_our_ip", DropReason::kIpNotOurs,
                  [] { return from_peer().dst_ip(Ipv4Addr(198, 18, 0, 9)).dst_port(6000).udp(); }},
    MalformedCase{"broadcast_source", DropReason::kIpMartianSource,
                  [] { return from_peer().src_ip(Ipv4Addr::broadcast()).dst_port(6000).udp(); }},
    MalformedCase{"unknown_protocol", DropReason::kIpUnknownProtocol,
                  [] { return from_peer().payload("tcp?").ipv4(6); }},
    MalformedCase{"udp_truncated", DropReason::kUdpMalformed,
                  [] {
  return from_peer().payload(Bytes{1, 2, 3, 4, 5}).ipv4(17);
                  }},
    MalformedCase{"udp_length_past_ip", DropReason::kUdpMalformed,
                  [] { return mutate(good_udp(), 14 + 20 + 4, 0x40); }},
    MalformedCase{"udp_checksum", DropReason::kUdpChecksum,
                  [] {
  Bytes b = good_udp();
  b.back() ^= 0xff;
  return b;
                  }},
    MalformedCase{"icmp_truncated", DropReason::kIcmpMalformed,
                  [] {
  return from_peer().payload(Bytes{8, 0, 0}).ipv4(1);
                  }},
    MalformedCase{"icmp_checksum", DropReason::kIcmpChecksum,
                  [] {
  Bytes b = from_peer().payload("x").icmp_echo_request();
  b.back() ^= 1;
  return b;
                  }},
    MalformedCase{"icmp_echo_reply_unsolicited", DropReason::kIcmpUnhandled,
                  [] { return from_peer().icmp_echo_reply(); }}),
    [](const ::testing::TestParamInfo<MalformedCase>& param) { return std::string(param.param.name); });

// Every frame the stack takes ends in exactly one place: a socket, an
// answer (ARP, ICMP echo), an ICMP error for a socket, or a drop under its
// reason; and every buffer goes back to the pool. The mix: datagrams to a
// bound and to an unbound port, a bad checksum, truncated frames, another
// MAC, a VLAN tag, ARP and ICMP echo, each fed as is or randomly corrupted.
TEST_F(StackWire, RandomlyCorruptedFramesNeverCrashAndAreAllAccounted) {
  UdpSocket* s = bound(6000);
  std::mt19937 rng(12345);  // fixed seed: reproducible
  const Bytes seeds[] = {
      good_udp(),
      from_peer().dst_port(6001).payload("nobody home").udp(),
      [] {
    Bytes b = good_udp();
    b.back() ^= 0xff;
    return b;
      }(),  // UDP checksum
      [] {
    Bytes b = good_udp();
    b.resize(14 + 19);
    return b;
  }(),               // IP header cut
      Bytes(13, 0),  // runt
      from_peer().dst_mac({0x02, 0, 0, 0, 0, 0x55}).dst_port(6000).udp(), from_peer().vlan_tci(5).dst_port(6000).udp(),
              from_peer().dst_mac(wire::kBroadcastMac).arp(wire::ArpOp::kRequest),
              from_peer().payload("echo").icmp_echo_request(),
              };
  constexpr size_t kSeeds = std::size(seeds);
  const uint64_t kFrames = 20000;
  uint64_t read = 0;
  for (uint64_t i = 0; i < kFrames; ++i) {
    Bytes f = seeds[rng() % kSeeds];
    if (rng() % 2 == 0) {
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; ++k) f[rng() % f.size()] = static_cast<uint8_t>(rng());
      if (rng() % 8 == 0) f.resize(rng() % f.size());
      if (f.empty()) f.push_back(0);
    }
    feed(f);
    while (recv_string(s).rc >= 0) ++read;  // empty datagrams too (rc 0)
    drain_wire();
  }

  const stack::CounterSnapshot c = stack_->counters();
  EXPECT_EQ(pair_.a->stats().rx_packets, kFrames);
  EXPECT_EQ(c.rx_frames, kFrames);
  uint64_t dropped = 0;
  std::string breakdown;
  for (size_t i = 0; i < stack::kDropReasonCount; ++i) {
    dropped += c.drops[i];
    if (c.drops[i] != 0) {
      breakdown +=
          std::string(stack::drop_reason_name(static_cast<DropReason>(i))) + "=" + std::to_string(c.drops[i]) + " ";
    }
  }
  EXPECT_EQ(c.udp_delivered + c.arp_received + c.icmp_echo_replies + c.icmp_errors_received + dropped, c.rx_frames)
      << "delivered " << c.udp_delivered << ", arp " << c.arp_received << ", echo " << c.icmp_echo_replies
      << ", icmp errors " << c.icmp_errors_received << ", drops: " << breakdown;
  EXPECT_EQ(read, c.udp_delivered);
  // Every kind of the mix was seen.
  EXPECT_GT(c.udp_delivered, 0u);
  EXPECT_GT(c.arp_received, 0u);
  EXPECT_GT(c.icmp_echo_replies, 0u);
  for (DropReason r : {DropReason::kUdpNoSocket, DropReason::kUdpChecksum, DropReason::kIpMalformed,
                       DropReason::kEthTruncated, DropReason::kEthNotForUs, DropReason::kVlanMismatch}) {
    EXPECT_GT(c.drop(r), 0u) << stack::drop_reason_name(r);
  }
  // Nothing held: every datagram read, every frame on the wire drained.
  EXPECT_EQ(pair_.a->pool().in_use(), 0u);
}

TEST_F(StackWire, UnresolvedNextHopIsRetriedThenDroppedAndCounted) {
  UdpSocket* s = stack_->open_udp();
  Endpoint dst{kPeerIp, 53};
  ASSERT_EQ(send_string(s, "q", &dst), 1);
  for (int i = 0; i < 5; ++i) {
    clock_.advance(1'000'000'000);
    stack_->on_timer();
  }
  auto frames = wire_frames();
  EXPECT_EQ(frames.size(), 3u);  // three broadcast requests, no datagram
  for (auto& f : frames) EXPECT_TRUE(parse_frame(f).arp);
  EXPECT_EQ(dropped(DropReason::kArpUnresolved), 1u);
}

TEST_F(StackWire, ArpReplyReleasesHeldDatagramsInOrder) {
  UdpSocket* s = stack_->open_udp();
  Endpoint dst{kPeerIp, 53};
  for (char c : std::string("abc")) ASSERT_EQ(send_string(s, std::string(1, c), &dst), 1);
  ASSERT_EQ(wire_frames().size(), 1u);  // one request for three datagrams
  answer_arp(kPeerIp, kPeerMac);
  auto frames = wire_frames();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_TRUE(check_udp_frame(frames[0], {eth::Dst(kPeerMac), Payload("a")}));
  EXPECT_TRUE(check_udp_frame(frames[1], {Payload("b")}));
  EXPECT_TRUE(check_udp_frame(frames[2], {Payload("c")}));
}

TEST_F(StackWire, SentFramesCarryTheSocketsOptions) {
  answer_arp(kPeerIp, kPeerMac);
  drain_wire();
  UdpSocket* s = stack_->open_udp();
  ASSERT_EQ(s->bind({Ipv4Addr::any(), 4321}), 0);
  s->set_ttl(9);
  s->set_tos(0xb8);
  Endpoint dst{kPeerIp, 53};
  ASSERT_EQ(send_string(s, "opts", &dst), 4);
  auto frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(check_udp_frame(frames[0], {eth::Src(kMacA), eth::Dst(kPeerMac), eth::Untagged(), ipv4::Src(kIpA),
                                          ipv4::Dst(kPeerIp), ipv4::Ttl(9), ipv4::Tos(0xb8), ipv4::DontFragment(true),
                                          udp::SrcPort(4321), udp::DstPort(53), Payload("opts")}));
}

TEST_F(StackWire, ScatteredOddPiecesAreGatheredWithTheRightChecksum) {
  answer_arp(kPeerIp, kPeerMac);
  drain_wire();
  UdpSocket* s = stack_->open_udp();
  std::string a = "abc", b = "", c = "defgh", d = "i";
  iovec iov[4] = {{a.data(), a.size()}, {b.data(), b.size()}, {c.data(), c.size()}, {d.data(), d.size()}};
  Endpoint dst{kPeerIp, 53};
  ASSERT_EQ(s->send(iov, &dst), 9);
  auto frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(check_udp_frame(frames[0], {Payload("abcdefghi")}));  // verifies the checksum
}

TEST(StackSharedMode, LeavesArpIcmpAndUnreachableToTheKernel) {
  auto pair = make_pair(pair_config());
  stack::ManualClock clock;
  auto config = config_for(kIpA);
  config.dedicated = false;
  stack::Stack s(*pair.a, config, clock);
  s.start();
  auto feed = [&](const Bytes& f) {
    ASSERT_TRUE(pair.a->inject(f));
    s.poll(0);
  };
  feed(from_peer().dst_mac(wire::kBroadcastMac).arp(wire::ArpOp::kRequest));
  feed(from_peer().payload("x").icmp_echo_request());
  feed(from_peer().dst_port(4000).udp());
  EXPECT_EQ(pair.b->rx_pending(0), 0u);
  // It still learns the neighbour from the request addressed to us.
  EXPECT_EQ(s.neighbors().lookup(kPeerIp, clock.monotonic_ns()), kPeerMac);
}

// ---- offloads: the device (the pair, in software) does the work

class StackWithOffloads : public StackOnWire {
 protected:
  StackWithOffloads() : StackOnWire(config_for(kIpA), offload_config()) {}
  static PairConfig offload_config() {
    PairConfig c = pair_config();
    c.a.offloads = PairOffloads::all();
    return c;
  }
};

TEST_F(StackWithOffloads, TxChecksumsAreLeftToTheDeviceAndComeOutRight) {
  answer_arp(kPeerIp, kPeerMac);
  drain_wire();
  UdpSocket* s = stack_->open_udp();
  Endpoint dst{kPeerIp, 53};
  ASSERT_EQ(send_string(s, "offloaded", &dst), 9);
  auto frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(check_udp_frame(frames[0], {Payload("offloaded")}));  // verifies both checksums
}

TEST_F(StackWithOffloads, RxChecksumVerdictOfTheDeviceIsUsed) {
  UdpSocket* s = stack_->open_udp();
  ASSERT_EQ(s->bind({Ipv4Addr::any(), 6000}), 0);
  feed(good_udp());
  EXPECT_EQ(recv_string(s).data, "payload");
  Bytes bad = good_udp();
  bad.back() ^= 0xff;
  feed(bad);
  EXPECT_EQ(stack_->counters().drop(DropReason::kUdpChecksum), 1u);
}

// ---- VLAN

class StackOnVlan : public StackOnWire {
 protected:
  explicit StackOnVlan(PairConfig pc = pair_config()) : StackOnWire(vlan_config(), pc) {}
  static stack::StackConfig vlan_config() {
    auto c = config_for(kIpA);
    c.vlan.vid = 100;
    return c;
  }
};

TEST_F(StackOnVlan, TagsWhatItSendsAndAcceptsOnlyItsVid) {
  UdpSocket* s = stack_->open_udp();
  ASSERT_EQ(s->bind({Ipv4Addr::any(), 6000}), 0);
  feed(from_peer().vlan_tci(100).dst_port(6000).payload("tagged").udp());
  Received r = recv_string(s);
  EXPECT_EQ(r.data, "tagged");
  feed(from_peer().vlan_tci(200).dst_port(6000).udp());
  feed(from_peer().dst_port(6000).udp());
  EXPECT_EQ(stack_->counters().drop(DropReason::kVlanMismatch), 2u);

  // The reply goes out tagged, after a tagged ARP exchange.
  ASSERT_EQ(send_string(s, "back", &r.info.source), 4);
  auto requests = wire_frames();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_TRUE(parse_frame(requests[0]).arp);
  EXPECT_EQ(parse_frame(requests[0]).eth->vlan_tci, 100);
  feed(from_peer().vlan_tci(100).arp(wire::ArpOp::kReply));
  auto frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(check_udp_frame(frames[0], {eth::VlanTci(100), Payload("back")}));
}

class StackOnVlanOffload : public StackOnVlan {
 protected:
  StackOnVlanOffload() : StackOnVlan(offload_config()) {}
  static PairConfig offload_config() {
    PairConfig c = pair_config();
    c.a.offloads = PairOffloads::all();
    return c;
  }
};

TEST_F(StackOnVlanOffload, DeviceInsertsAndStripsTheTag) {
  UdpSocket* s = stack_->open_udp();
  ASSERT_EQ(s->bind({Ipv4Addr::any(), 6000}), 0);
  feed(from_peer().vlan_tci(100).dst_port(6000).payload("stripped").udp());
  Received r = recv_string(s);
  EXPECT_EQ(r.data, "stripped");
  feed(from_peer().vlan_tci(100).arp(wire::ArpOp::kReply));
  ASSERT_EQ(send_string(s, "inserted", &r.info.source), 8);
  auto frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(check_udp_frame(frames[0], {eth::VlanTci(100), Payload("inserted")}));
}

}  // namespace
}  // namespace dpdkudp::test
