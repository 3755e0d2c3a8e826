// ICMPv6 (stack/wire/icmpv6.h).
#include "stack/wire/icmpv6.h"

#include <gtest/gtest.h>

#include <span>
#include <vector>

#include "stack/wire/ipv6.h"
#include "stack/wire/udp.h"
#include "tests/unit/wire/ipv6_vectors.h"
#include "tests/unit/wire/vectors.h"

namespace dpdkudp::wire {
namespace {

using Bytes = std::vector<uint8_t>;
using namespace vectors;

constexpr Ipv6Addr kA(0x2001, 2, 0, 0, 0, 0, 0, 1);  // the echo's sender, the errors' receiver
constexpr Ipv6Addr kB(0x2001, 2, 0, 0, 0, 0, 0, 2);
constexpr size_t kIp6Len = Ipv6Packet::kHeaderLen;

// The ICMPv6 message inside a scapy IPv6 packet (no extension headers).
Bytes icmp_part(std::span<const uint8_t> packet) {
  return first_bytes(packet.subspan(kIp6Len), packet.size() - kIp6Len);
}
Bytes echo_data() { return first_bytes(std::span(kEcho6RequestPacket).subspan(kIp6Len + 8), 32); }
// The invoking packet the errors quote: the whole of kUdp6Packet.
std::span<const uint8_t> quoted() { return kUdp6Packet; }
Bytes to_vector(std::span<const uint8_t> bytes) { return Bytes(bytes.begin(), bytes.end()); }

// Errors go from B back to A; echo requests from A to B.
Bytes emit(const Icmpv6Repr& repr, const Ipv6Addr& src, const Ipv6Addr& dst) {
  Bytes out(repr.buffer_len(), 0xcc);  // junk every byte must overwrite
  repr.emit(out, src, dst);
  return out;
}

TEST(Icmpv6Packet, DeconstructEchoRequest) {
  Bytes bytes = icmp_part(kEcho6RequestPacket);
  auto packet = Icmpv6Packet::parse(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->type(), icmpv6_type::kEchoRequest);
  EXPECT_EQ(packet->code(), 0);
  EXPECT_EQ(packet->checksum(), load_be16(&bytes[2]));
  EXPECT_EQ(packet->echo_ident(), 0xbeef);
  EXPECT_EQ(packet->echo_seq(), 1);
  EXPECT_FALSE(packet->is_error());
  EXPECT_TRUE(packet->invoking_packet().empty());
  EXPECT_EQ(packet->data().data(), bytes.data() + 8);
  EXPECT_EQ(to_vector(packet->data()), echo_data());
  EXPECT_EQ(packet->bytes().size(), 40u);
  EXPECT_TRUE(packet->verify_checksum(kA, kB));
}

TEST(Icmpv6Repr, ConstructEchoRequest) {
  Bytes data = echo_data();
  Icmpv6Repr repr{.type = icmpv6_type::kEchoRequest, .ident = 0xbeef, .seq = 1, .data = data};
  EXPECT_EQ(repr.buffer_len(), 40u);
  EXPECT_EQ(emit(repr, kA, kB), icmp_part(kEcho6RequestPacket));
}

TEST(Icmpv6Repr, ConstructEchoReply) {
  Bytes data = echo_data();
  Icmpv6Repr repr{.type = icmpv6_type::kEchoReply, .ident = 0xbeef, .seq = 1, .data = data};
  EXPECT_EQ(emit(repr, kB, kA), icmp_part(kEcho6ReplyPacket));
}

TEST(Icmpv6Repr, ConstructEchoReplyInPlaceOfTheRequest) {
  Bytes buffer = icmp_part(kEcho6RequestPacket);
  Icmpv6Repr repr{.type = icmpv6_type::kEchoReply,
                  .ident = 0xbeef,
                  .seq = 1,
                  .data = std::span(buffer).subspan(Icmpv6Packet::kHeaderLen)};
  repr.emit(buffer, kB, kA);
  EXPECT_EQ(buffer, icmp_part(kEcho6ReplyPacket));
}

TEST(Icmpv6Repr, ConstructOddLengthEcho) {
  const uint8_t data[] = {'a', 'b', 'c'};
  Icmpv6Repr repr{.type = icmpv6_type::kEchoRequest, .ident = 0x0102, .seq = 0xfffe, .data = data};
  Bytes out = emit(repr, kA, kB);
  EXPECT_EQ(out, icmp_part(kOddEcho6RequestPacket));
  auto packet = Icmpv6Packet::parse(out);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->verify_checksum(kA, kB));
}

TEST(Icmpv6Packet, DeconstructPacketTooBig) {
  Bytes bytes = icmp_part(kPacketTooBigPacket);
  auto packet = Icmpv6Packet::parse(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->type(), icmpv6_type::kPacketTooBig);
  EXPECT_EQ(packet->mtu(), 1280u);
  EXPECT_TRUE(packet->is_error());
  EXPECT_EQ(to_vector(packet->invoking_packet()), to_vector(quoted()));
  EXPECT_TRUE(packet->verify_checksum(kB, kA));
}

TEST(Icmpv6Packet, InvokingPacketLeadsToTheDatagram) {
  // The stack maps an error to a socket by the quoted addresses and ports,
  // even when the quote is cut short: here to its first 48 octets.
  Bytes bytes = icmp_part(kPortUnreachable6Packet);
  auto packet = Icmpv6Packet::parse(bytes);
  ASSERT_TRUE(packet);
  auto invoking = packet->invoking_packet().first(48);
  auto quoted_ip = Ipv6Packet::parse_quoted(invoking);
  ASSERT_TRUE(quoted_ip);
  EXPECT_EQ(quoted_ip->src(), kA);
  EXPECT_EQ(quoted_ip->dst(), kB);
  EXPECT_FALSE(quoted_ip->is_complete());
  auto chain = Ipv6HeaderChain::walk(*quoted_ip);
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->upper_protocol, ip_proto::kUdp);
  ASSERT_EQ(chain->upper_offset, 40u);
  EXPECT_EQ(load_be16(&invoking[chain->upper_offset + UdpDatagram::kSrcPortOffset]), 49152);
  EXPECT_EQ(load_be16(&invoking[chain->upper_offset + UdpDatagram::kDstPortOffset]), 7);
}

TEST(Icmpv6Repr, ConstructPacketTooBig) {
  Icmpv6Repr repr{.type = icmpv6_type::kPacketTooBig, .mtu = 1280, .data = quoted()};
  EXPECT_EQ(emit(repr, kB, kA), icmp_part(kPacketTooBigPacket));
}

TEST(Icmpv6Repr, ConstructPortUnreachableIgnoresOtherFields) {
  Icmpv6Repr repr{.type = icmpv6_type::kDestUnreachable,
                  .code = icmpv6_unreach::kPort,
                  .ident = 0xbeef,
                  .seq = 0x1234,
                  .mtu = 1500,
                  .pointer = 7,
                  .data = quoted()};
  EXPECT_EQ(emit(repr, kB, kA), icmp_part(kPortUnreachable6Packet));
}

TEST(Icmpv6Repr, ConstructTimeExceeded) {
  Icmpv6Repr repr{
      .type = icmpv6_type::kTimeExceeded, .code = icmpv6_time_exceeded::kHopLimit, .mtu = 1500, .data = quoted()};
  EXPECT_EQ(emit(repr, kB, kA), icmp_part(kTimeExceeded6Packet));
}

TEST(Icmpv6Packet, DeconstructParameterProblem) {
  Bytes bytes = icmp_part(kParamProblem6Packet);
  auto packet = Icmpv6Packet::parse(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->type(), icmpv6_type::kParameterProblem);
  EXPECT_EQ(packet->code(), icmpv6_param::kUnrecognizedNextHeader);
  EXPECT_EQ(packet->pointer(), 6u);  // the quoted Next Header
  EXPECT_TRUE(packet->verify_checksum(kB, kA));
}

TEST(Icmpv6Repr, ConstructParameterProblem) {
  Icmpv6Repr repr{.type = icmpv6_type::kParameterProblem,
                  .code = icmpv6_param::kUnrecognizedNextHeader,
                  .pointer = 6,
                  .data = quoted()};
  EXPECT_EQ(emit(repr, kB, kA), icmp_part(kParamProblem6Packet));
}

TEST(Icmpv6Repr, QuoteFitsTheMinimumMtu) {
  // RFC 4443 §2.4(c): the error, IPv6 header included, must not exceed
  // 1280 octets: 40 + 8 + 1232 of the invoking packet.
  Bytes big(1500, 0x5a);
  auto quote = Icmpv6Repr::quote(big);
  EXPECT_EQ(quote.data(), big.data());
  EXPECT_EQ(quote.size(), 1232u);
  Icmpv6Repr repr{.type = icmpv6_type::kDestUnreachable, .code = icmpv6_unreach::kPort, .data = quote};
  EXPECT_EQ(kIp6Len + repr.buffer_len(), Icmpv6Repr::kMinMtu);
  Bytes out = emit(repr, kB, kA);
  auto packet = Icmpv6Packet::parse(out);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->verify_checksum(kB, kA));
  EXPECT_EQ(packet->invoking_packet().size(), 1232u);

  Bytes small = first_bytes(kUdp6Packet, sizeof kUdp6Packet);
  EXPECT_EQ(Icmpv6Repr::quote(small).size(), small.size());  // a short one goes whole
  EXPECT_TRUE(Icmpv6Repr::quote({}).empty());
}

TEST(Icmpv6Packet, ErrorAndInformationalTypes) {
  // RFC 4443 §2.1: types 0-127 are errors, 128-255 informational.
  Bytes bytes = icmp_part(kEcho6RequestPacket);
  for (int type : {0, 1, 4, 127}) {
    bytes[0] = static_cast<uint8_t>(type);
    auto packet = Icmpv6Packet::parse(bytes);
    ASSERT_TRUE(packet);
    EXPECT_TRUE(packet->is_error()) << type;
    EXPECT_EQ(packet->invoking_packet().size(), 32u);
  }
  for (int type : {128, 129, 135, 255}) {
    bytes[0] = static_cast<uint8_t>(type);
    auto packet = Icmpv6Packet::parse(bytes);
    ASSERT_TRUE(packet);
    EXPECT_FALSE(packet->is_error()) << type;
    EXPECT_TRUE(packet->invoking_packet().empty());
  }
}

TEST(Icmpv6Packet, TruncatedHeaderRejected) {
  for (size_t len = 0; len < Icmpv6Packet::kHeaderLen; ++len) {
    EXPECT_FALSE(Icmpv6Packet::parse(first_bytes(icmp_part(kEcho6RequestPacket), len))) << "len " << len;
  }
}

TEST(Icmpv6Packet, HeaderOnlyHasNoData) {
  Icmpv6Repr repr{.type = icmpv6_type::kEchoRequest, .ident = 1, .seq = 2, .data = {}};
  Bytes out = emit(repr, kA, kB);
  auto packet = Icmpv6Packet::parse(out);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->data().empty());
  EXPECT_TRUE(packet->verify_checksum(kA, kB));
}

TEST(Icmpv6Packet, BadChecksumRejected) {
  for (size_t offset : {0u, 1u, 2u, 5u, 7u, 8u, 39u}) {
    Bytes bytes = icmp_part(kEcho6RequestPacket);
    bytes[offset] ^= 0x10;
    auto packet = Icmpv6Packet::parse(bytes);
    ASSERT_TRUE(packet);
    EXPECT_FALSE(packet->verify_checksum(kA, kB)) << "offset " << offset;
  }
}

TEST(Icmpv6Packet, PseudoHeaderIsCovered) {
  // Unlike ICMPv4, the ICMPv6 checksum covers the addresses (RFC 4443 §2.3).
  Bytes bytes = icmp_part(kEcho6RequestPacket);
  auto packet = Icmpv6Packet::parse(bytes);
  ASSERT_TRUE(packet);
  EXPECT_FALSE(packet->verify_checksum(Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 3), kB));
  EXPECT_FALSE(packet->verify_checksum(kA, Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 1, 2)));
  // The length is in it too: the same bytes with one more zero octet (which
  // adds nothing to the sum) fail.
  Bytes longer = bytes;
  longer.push_back(0);
  auto longer_packet = Icmpv6Packet::parse(longer);
  ASSERT_TRUE(longer_packet);
  EXPECT_FALSE(longer_packet->verify_checksum(kA, kB));
}

}  // namespace
}  // namespace dpdkudp::wire
