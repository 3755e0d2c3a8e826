// ARP for IPv4 over Ethernet (stack/wire/arp.h).
#include "stack/wire/arp.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <span>
#include <vector>

#include "stack/wire/ethernet.h"
#include "tests/unit/wire/vectors.h"

namespace dpdkudp::wire {
namespace {

using Bytes = std::vector<uint8_t>;
using namespace vectors;

constexpr MacAddr kMac1 = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
constexpr MacAddr kMac2 = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
constexpr Ipv4Addr kIp1(198, 18, 0, 1);
constexpr Ipv4Addr kIp2(198, 18, 0, 2);

std::span<const uint8_t> arp_part(std::span<const uint8_t> frame) { return frame.subspan(kEthLen); }

TEST(ArpPacket, DeconstructRequest) {
  auto packet = ArpPacket::parse(arp_part(kArpRequestFrame));
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->oper(), 1);
  EXPECT_EQ(packet->sender_mac(), kMac1);
  EXPECT_EQ(packet->sender_ip(), kIp1);
  EXPECT_EQ(packet->target_mac(), kZeroMac);
  EXPECT_EQ(packet->target_ip(), kIp2);

  auto repr = ArpRepr::parse(*packet);
  ASSERT_TRUE(repr);
  EXPECT_EQ(repr->op, ArpOp::kRequest);
  EXPECT_EQ(repr->sender_mac, kMac1);
  EXPECT_EQ(repr->sender_ip, kIp1);
  EXPECT_EQ(repr->target_mac, kZeroMac);
  EXPECT_EQ(repr->target_ip, kIp2);
}

TEST(ArpPacket, DeconstructReply) {
  auto packet = ArpPacket::parse(arp_part(kArpReplyFrame));
  ASSERT_TRUE(packet);
  auto repr = ArpRepr::parse(*packet);
  ASSERT_TRUE(repr);
  EXPECT_EQ(repr->op, ArpOp::kReply);
  EXPECT_EQ(repr->sender_mac, kMac2);
  EXPECT_EQ(repr->sender_ip, kIp2);
  EXPECT_EQ(repr->target_mac, kMac1);
  EXPECT_EQ(repr->target_ip, kIp1);
}

TEST(ArpRepr, ConstructRequest) {
  ArpRepr repr{
      .op = ArpOp::kRequest, .sender_mac = kMac1, .sender_ip = kIp1, .target_mac = kZeroMac, .target_ip = kIp2};
  Bytes out(ArpRepr::kBufferLen, 0xcc);
  repr.emit(out);
  EXPECT_EQ(out, first_bytes(arp_part(kArpRequestFrame), ArpPacket::kLen));
}

TEST(ArpRepr, ConstructReply) {
  ArpRepr repr{.op = ArpOp::kReply, .sender_mac = kMac2, .sender_ip = kIp2, .target_mac = kMac1, .target_ip = kIp1};
  Bytes out(ArpRepr::kBufferLen, 0xcc);
  repr.emit(out);
  EXPECT_EQ(out, first_bytes(arp_part(kArpReplyFrame), ArpPacket::kLen));
}

TEST(ArpPacket, TruncatedRejected) {
  for (size_t len = 0; len < ArpPacket::kLen; ++len) {
    Bytes cut = first_bytes(arp_part(kArpRequestFrame), len);
    EXPECT_FALSE(ArpPacket::parse(cut)) << "len " << len;
  }
}

TEST(ArpPacket, TrailingPaddingIgnored) {
  // A 42-byte ARP frame arrives padded to 60 bytes.
  Bytes padded(kArpRequestFrame + kEthLen, kArpRequestFrame + sizeof kArpRequestFrame);
  padded.resize(60 - kEthLen, 0);
  auto packet = ArpPacket::parse(padded);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->target_ip(), kIp2);
}

// Each mutation makes the packet something other than Ethernet/IPv4 ARP.
TEST(ArpPacket, NonEthernetIpv4Rejected) {
  struct Mutation {
    const char* what;
    size_t offset;
    uint8_t value;
  };
  for (const Mutation& m :
       {Mutation{"htype 6 (IEEE 802)", ArpPacket::kHtypeOffset + 1, 6},
        Mutation{"htype high byte", ArpPacket::kHtypeOffset, 1}, Mutation{"ptype IPv6", ArpPacket::kPtypeOffset, 0x86},
        Mutation{"ptype low byte", ArpPacket::kPtypeOffset + 1, 0x06}, Mutation{"hlen 8", ArpPacket::kHlenOffset, 8},
        Mutation{"plen 16", ArpPacket::kPlenOffset, 16}}) {
    Bytes packet = first_bytes(arp_part(kArpRequestFrame), ArpPacket::kLen);
    packet[m.offset] = m.value;
    EXPECT_FALSE(ArpPacket::parse(packet)) << m.what;
  }
}

TEST(ArpRepr, UnknownOpcodeRejected) {
  for (uint16_t op : std::initializer_list<uint16_t>{0, 3, 4, 8, 0x0101}) {  // 3/4 RARP, 8 InARP
    Bytes packet = first_bytes(arp_part(kArpRequestFrame), ArpPacket::kLen);
    store_be16(&packet[ArpPacket::kOperOffset], op);
    auto view = ArpPacket::parse(packet);
    ASSERT_TRUE(view) << "the header is fine, only the opcode is unknown";
    EXPECT_EQ(view->oper(), op);
    EXPECT_FALSE(ArpRepr::parse(*view)) << "op " << op;
  }
}

TEST(ArpRepr, EmitThenParseRoundTrips) {
  ArpRepr repr{.op = ArpOp::kReply,
               .sender_mac = {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff},
               .sender_ip = Ipv4Addr(10, 0, 0, 1),
               .target_mac = kBroadcastMac,
               .target_ip = Ipv4Addr(10, 255, 255, 254)};
  Bytes out(ArpRepr::kBufferLen);
  repr.emit(out);
  auto packet = ArpPacket::parse(out);
  ASSERT_TRUE(packet);
  auto parsed = ArpRepr::parse(*packet);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->op, repr.op);
  EXPECT_EQ(parsed->sender_mac, repr.sender_mac);
  EXPECT_EQ(parsed->sender_ip, repr.sender_ip);
  EXPECT_EQ(parsed->target_mac, repr.target_mac);
  EXPECT_EQ(parsed->target_ip, repr.target_ip);
}

}  // namespace
}  // namespace dpdkudp::wire
