// Whole frames: tests/support's FrameBuilder (which layers the wire Reprs'
// emit functions) must reproduce the scapy frames byte for byte, and its
// checkers must accept those frames and name each thing that is wrong.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <span>
#include <string>
#include <vector>

#include "tests/support/packets.h"
#include "tests/unit/wire/vectors.h"

namespace dpdkudp::test {
namespace {

using ::testing::HasSubstr;
using namespace wire::vectors;

Bytes to_vector(std::span<const uint8_t> bytes) { return Bytes(bytes.begin(), bytes.end()); }

// The IP_ fields the scapy vectors use (see vectors.h).
FrameBuilder scapy_defaults() { return FrameBuilder().tos(0x10).ident(0x1234); }

Bytes echo_data() {
  Bytes data;
  for (uint8_t b = 32; b < 64; ++b) data.push_back(b);
  return data;
}

TEST(FrameBuilder, UdpMatchesScapy) {
  EXPECT_EQ(scapy_defaults().payload("hello, world").udp(), to_vector(kUdpFrame));
  EXPECT_EQ(scapy_defaults().payload("odd").udp(), to_vector(kUdpOddFrame));
}

TEST(FrameBuilder, VlanTaggedUdpMatchesScapy) {
  EXPECT_EQ(scapy_defaults().vlan_tci(0xa064).payload("hello, world").udp(), to_vector(kVlanUdpFrame));
}

TEST(FrameBuilder, UdpChecksumModes) {
  EXPECT_EQ(scapy_defaults().payload("hello, world").udp_checksum(wire::ChecksumMode::kNone).udp(),
            to_vector(kUdpZeroChecksumFrame));
  const uint8_t forces_zero[] = {0xb3, 0xaa};
  EXPECT_EQ(scapy_defaults().payload(forces_zero).udp(), to_vector(kUdpComputedZeroFrame));
}

TEST(FrameBuilder, PadsShortFrames) {
  EXPECT_EQ(scapy_defaults().payload("hi").pad_to(60).udp(), to_vector(kPaddedUdpFrame));
  EXPECT_EQ(scapy_defaults().payload("hello, world").pad_to(20).udp(), to_vector(kUdpFrame));
}

TEST(FrameBuilder, FragmentMatchesScapy) {
  Bytes frame = FrameBuilder()
                    .ident(0x1234)
                    .dont_fragment(false)
                    .fragment(false, 185)
                    .payload(std::string(16, 'B'))
                    .ipv4(wire::ip_proto::kUdp);
  EXPECT_EQ(frame, to_vector(kLastFragmentFrame));
}

TEST(FrameBuilder, EchoRequestMatchesScapy) {
  Bytes frame = FrameBuilder().ident(0x1234).echo_ident(0xbeef).echo_seq(1).payload(echo_data()).icmp_echo_request();
  EXPECT_EQ(frame, to_vector(kEchoRequestFrame));
}

TEST(FrameBuilder, ArpMatchesScapy) {
  EXPECT_EQ(FrameBuilder().dst_mac(wire::kBroadcastMac).arp(wire::ArpOp::kRequest), to_vector(kArpRequestFrame));
  Bytes reply = FrameBuilder().src_mac(kDstMac).dst_mac(kSrcMac).src_ip(kDstIp).dst_ip(kSrcIp).arp(wire::ArpOp::kReply);
  EXPECT_EQ(reply, to_vector(kArpReplyFrame));
}

TEST(CheckUdpFrame, AcceptsEveryFieldOfTheCapturedFrame) {
  EXPECT_TRUE(check_udp_frame(
      kUdpFrame, {eth::Src(kSrcMac), eth::Dst(kDstMac), eth::EtherType(0x0800), eth::Untagged(), ipv4::Src(kSrcIp),
                  ipv4::Dst(kDstIp), ipv4::Protocol(17), ipv4::Ttl(64), ipv4::Tos(0x10), ipv4::Ident(0x1234),
                  ipv4::DontFragment(true), ipv4::TotalLen(40), udp::SrcPort(kSrcPort), udp::DstPort(kDstPort),
                  udp::Length(20), Payload("hello, world")}));
  EXPECT_TRUE(check_udp_frame(kVlanUdpFrame, {eth::VlanTci(0xa064), eth::EtherType(0x0800)}));
  EXPECT_TRUE(check_udp_frame(kPaddedUdpFrame, {Payload("hi")}));
  EXPECT_TRUE(check_udp_frame(kUdpZeroChecksumFrame, {udp::NoChecksum()}));
}

TEST(CheckUdpFrame, NamesEachMismatch) {
  struct Case {
    FrameCheck check;
    const char* names;
  };
  const Case cases[] = {
      {eth::Src(kDstMac), "eth.src"},
      {eth::Dst(kSrcMac), "eth.dst"},
      {eth::EtherType(0x86dd), "eth.ethertype"},
      {eth::VlanTci(5), "eth.vlan_tci"},
      {ipv4::Src(kDstIp), "ipv4.src"},
      {ipv4::Dst(kSrcIp), "ipv4.dst"},
      {ipv4::Ttl(63), "ipv4.ttl"},
      {ipv4::Tos(0), "ipv4.tos"},
      {ipv4::Ident(1), "ipv4.ident"},
      {ipv4::DontFragment(false), "ipv4.dont_fragment"},
      {ipv4::TotalLen(41), "ipv4.total_len"},
      {ipv4::Protocol(1), "ipv4.protocol"},
      {udp::SrcPort(1), "udp.src_port"},
      {udp::DstPort(1), "udp.dst_port"},
      {udp::Length(21), "udp.length"},
      {udp::NoChecksum(), "udp.checksum"},
      {Payload("hello"), "payload"},
      {icmp::Type(0), "icmp.type"},
      {arp::Op(wire::ArpOp::kReply), "arp.op"},
  };
  for (const Case& c : cases) {
    auto result = check_udp_frame(kUdpFrame, {c.check});
    EXPECT_FALSE(result) << c.names;
    EXPECT_THAT(result.message(), HasSubstr(c.names));
  }
}

TEST(CheckUdpFrame, ReportsAllFailuresWithAHexDump) {
  auto result = check_udp_frame(kUdpFrame, {ipv4::Ttl(1), udp::DstPort(2)});
  ASSERT_FALSE(result);
  EXPECT_THAT(result.message(), HasSubstr("ipv4.ttl: want 1, got 64"));
  EXPECT_THAT(result.message(), HasSubstr("udp.dst_port: want 2 (0x0002), got 7 (0x0007)"));
  EXPECT_THAT(result.message(), HasSubstr("0000  02 00 00 00 00 02 02 00"));
}

TEST(CheckUdpFrame, RejectsBadChecksums) {
  Bytes bad_ip = to_vector(kUdpFrame);
  bad_ip[kEthLen + 8] = 63;  // TTL changed without fixing the checksum
  EXPECT_THAT(check_udp_frame(bad_ip).message(), HasSubstr("ipv4: header checksum"));

  Bytes bad_udp = to_vector(kUdpFrame);
  bad_udp.back() ^= 0x20;
  EXPECT_THAT(check_udp_frame(bad_udp).message(), HasSubstr("udp: checksum"));
}

TEST(CheckUdpFrame, OffloadedChecksumsNeedTheirWaiver) {
  Bytes frame =
      FrameBuilder().ipv4_checksum(false).udp_checksum(wire::ChecksumMode::kPseudoHeader).payload("offload").udp();
  EXPECT_FALSE(check_udp_frame(frame));
  EXPECT_FALSE(check_udp_frame(frame, {ipv4::ChecksumLeftToDevice()}));
  EXPECT_FALSE(check_udp_frame(frame, {udp::PseudoHeaderChecksum()}));
  EXPECT_TRUE(check_udp_frame(frame, {ipv4::ChecksumLeftToDevice(), udp::PseudoHeaderChecksum()}));
  // The waivers still assert what the field holds.
  EXPECT_FALSE(check_udp_frame(kUdpFrame, {ipv4::ChecksumLeftToDevice()}));
  EXPECT_FALSE(check_udp_frame(kUdpFrame, {udp::PseudoHeaderChecksum()}));
}

TEST(CheckUdpFrame, RejectsOtherFrames) {
  EXPECT_THAT(check_udp_frame(kEchoRequestFrame).message(), HasSubstr("ipv4.protocol"));
  EXPECT_THAT(check_udp_frame(kFirstFragmentFrame).message(), HasSubstr("fragment"));
  EXPECT_THAT(check_udp_frame(kArpRequestFrame).message(), HasSubstr("eth.ethertype"));
  EXPECT_THAT(check_udp_frame(kQinQFrame).message(), HasSubstr("eth: does not parse"));
  Bytes short_ip = first_bytes(kUdpFrame, sizeof kUdpFrame - 1);
  EXPECT_THAT(check_udp_frame(short_ip).message(), HasSubstr("ipv4: does not parse"));
}

TEST(CheckIcmpFrame, AcceptsEchoRequest) {
  EXPECT_TRUE(check_icmp_frame(kEchoRequestFrame, {icmp::Type(8), icmp::Code(0), icmp::EchoIdent(0xbeef),
                                                   icmp::EchoSeq(1), Payload(echo_data()), ipv4::Protocol(1)}));
  EXPECT_FALSE(check_icmp_frame(kEchoRequestFrame, {icmp::EchoSeq(2)}));
  EXPECT_FALSE(check_icmp_frame(kUdpFrame));
}

TEST(CheckIcmpFrame, BuilderOutputPasses) {
  Bytes reply = FrameBuilder().vlan_tci(7).echo_ident(9).echo_seq(10).payload("ping").icmp_echo_reply();
  EXPECT_TRUE(check_icmp_frame(
      reply, {eth::VlanTci(7), icmp::Type(0), icmp::EchoIdent(9), icmp::EchoSeq(10), Payload("ping")}));
  const uint8_t quoted[28] = {0x45};
  Bytes too_big = FrameBuilder().icmp({.type = wire::icmp_type::kDestUnreachable,
                                       .code = wire::icmp_unreach::kFragNeeded,
                                       .next_hop_mtu = 1400,
                                       .data = quoted});
  EXPECT_TRUE(check_icmp_frame(too_big, {icmp::Type(3), icmp::Code(4), icmp::NextHopMtu(1400)}));
}

TEST(CheckArpFrame, AcceptsRequestAndReply) {
  EXPECT_TRUE(check_arp_frame(kArpRequestFrame,
                              {eth::Dst(wire::kBroadcastMac), arp::Op(wire::ArpOp::kRequest), arp::SenderMac(kSrcMac),
                               arp::SenderIp(kSrcIp), arp::TargetMac(wire::kZeroMac), arp::TargetIp(kDstIp)}));
  EXPECT_TRUE(check_arp_frame(kArpReplyFrame, {arp::Op(wire::ArpOp::kReply), arp::TargetMac(kSrcMac)}));
  EXPECT_THAT(check_arp_frame(kArpReplyFrame, {arp::SenderIp(kSrcIp)}).message(), HasSubstr("arp.sender_ip"));
  EXPECT_FALSE(check_arp_frame(kUdpFrame));
}

TEST(CheckArpFrame, PaddedBuilderOutputPasses) {
  Bytes frame = FrameBuilder().arp_target_mac(wire::kBroadcastMac).pad_to(60).arp(wire::ArpOp::kRequest);
  EXPECT_EQ(frame.size(), 60u);
  EXPECT_TRUE(check_arp_frame(frame, {arp::TargetMac(wire::kBroadcastMac)}));
}

TEST(ParseFrame, StopsWhereTheFrameStops) {
  ParsedFrame f = parse_frame(kLastFragmentFrame);
  EXPECT_TRUE(f.eth);
  EXPECT_TRUE(f.ipv4);
  EXPECT_FALSE(f.udp) << "fragments are not parsed past IPv4";
  EXPECT_FALSE(parse_frame(first_bytes(kUdpFrame, 13)).eth);
}

}  // namespace
}  // namespace dpdkudp::test
