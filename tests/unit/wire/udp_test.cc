// UDP over IPv4 and IPv6 (stack/wire/udp.h).
#include "stack/wire/udp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <span>
#include <string_view>
#include <vector>

#include "tests/unit/wire/ipv6_vectors.h"
#include "tests/unit/wire/vectors.h"

namespace dpdkudp::wire {
namespace {

using Bytes = std::vector<uint8_t>;
using namespace vectors;

constexpr Ipv4Addr kSrc(198, 18, 0, 1);
constexpr Ipv4Addr kDst(198, 18, 0, 2);
constexpr UdpRepr kPorts{.src_port = 49152, .dst_port = 7};
constexpr size_t kUdpOffset = kEthLen + kIpLen;

// The UDP datagram inside a captured untagged, option-less frame.
Bytes udp_part(std::span<const uint8_t> frame) {
  return first_bytes(frame.subspan(kUdpOffset), frame.size() - kUdpOffset);
}

// A datagram buffer with the payload already in place, as emit() expects.
Bytes with_payload(std::span<const uint8_t> payload) {
  Bytes out(UdpRepr::kHeaderLen + payload.size(), 0xcc);  // junk the header must overwrite
  std::ranges::copy(payload, out.begin() + UdpRepr::kHeaderLen);
  return out;
}

std::string_view as_text(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

TEST(UdpDatagram, Deconstruct) {
  Bytes bytes = udp_part(kUdpFrame);
  auto datagram = UdpDatagram::parse(bytes);
  ASSERT_TRUE(datagram);
  EXPECT_EQ(datagram->src_port(), 49152);
  EXPECT_EQ(datagram->dst_port(), 7);
  EXPECT_EQ(datagram->length(), 20);
  EXPECT_EQ(datagram->checksum(), 0x734a);
  EXPECT_EQ(datagram->payload().data(), bytes.data() + 8);
  EXPECT_EQ(as_text(datagram->payload()), "hello, world");
  EXPECT_EQ(datagram->bytes().data(), bytes.data());
  EXPECT_EQ(datagram->bytes().size(), 20u);
  EXPECT_TRUE(datagram->verify_checksum(kSrc, kDst));
}

TEST(UdpRepr, Construct) {
  Bytes bytes = udp_part(kUdpFrame);
  Bytes out = with_payload(std::span(bytes).subspan(8));
  kPorts.emit(out, kSrc, kDst, ChecksumMode::kFull);
  EXPECT_EQ(out, bytes);
}

TEST(UdpRepr, ConstructOddLength) {
  Bytes bytes = udp_part(kUdpOddFrame);
  ASSERT_EQ(bytes.size(), 11u);
  Bytes out = with_payload(std::span(bytes).subspan(8));
  kPorts.emit(out, kSrc, kDst, ChecksumMode::kFull);
  EXPECT_EQ(out, bytes);
  auto datagram = UdpDatagram::parse(out);
  ASSERT_TRUE(datagram);
  EXPECT_TRUE(datagram->verify_checksum(kSrc, kDst));
}

TEST(UdpRepr, ConstructEmptyPayload) {
  Bytes out = with_payload({});
  kPorts.emit(out, kSrc, kDst, ChecksumMode::kFull);
  auto datagram = UdpDatagram::parse(out);
  ASSERT_TRUE(datagram);
  EXPECT_EQ(datagram->length(), 8);
  EXPECT_TRUE(datagram->payload().empty());
  EXPECT_TRUE(datagram->verify_checksum(kSrc, kDst));
}

TEST(UdpDatagram, TruncatedHeaderRejected) {
  for (size_t len = 0; len < UdpDatagram::kHeaderLen; ++len) {
    EXPECT_FALSE(UdpDatagram::parse(first_bytes(udp_part(kUdpFrame), len))) << "len " << len;
  }
}

TEST(UdpDatagram, LengthBelowHeaderRejected) {
  for (uint16_t length = 0; length < 8; ++length) {
    Bytes bytes = udp_part(kUdpFrame);
    store_be16(&bytes[UdpDatagram::kLengthOffset], length);
    EXPECT_FALSE(UdpDatagram::parse(bytes)) << "length " << length;
  }
}

TEST(UdpDatagram, LengthPastBufferRejected) {
  Bytes bytes = udp_part(kUdpFrame);
  for (size_t len = UdpDatagram::kHeaderLen; len < bytes.size(); ++len) {
    EXPECT_FALSE(UdpDatagram::parse(first_bytes(bytes, len))) << "len " << len;
  }
  store_be16(&bytes[UdpDatagram::kLengthOffset], 0xffff);
  EXPECT_FALSE(UdpDatagram::parse(bytes));
}

TEST(UdpDatagram, BytesPastLengthExcluded) {
  Bytes bytes = udp_part(kUdpFrame);
  bytes.insert(bytes.end(), {0xde, 0xad, 0xbe, 0xef});
  auto datagram = UdpDatagram::parse(bytes);
  ASSERT_TRUE(datagram);
  EXPECT_EQ(as_text(datagram->payload()), "hello, world");
  EXPECT_EQ(datagram->bytes().size(), 20u);
  EXPECT_TRUE(datagram->verify_checksum(kSrc, kDst));
}

TEST(UdpDatagram, ZeroChecksumAccepted) {
  // RFC 768: "An all zero transmitted checksum value means that the
  // transmitter generated no checksum".
  Bytes bytes = udp_part(kUdpZeroChecksumFrame);
  auto datagram = UdpDatagram::parse(bytes);
  ASSERT_TRUE(datagram);
  EXPECT_EQ(datagram->checksum(), 0);
  EXPECT_TRUE(datagram->verify_checksum(kSrc, kDst));
  EXPECT_TRUE(datagram->verify_checksum(Ipv4Addr(1, 2, 3, 4), kDst));  // nothing to check
}

TEST(UdpRepr, ComputedZeroChecksumSentAsAllOnes) {
  // RFC 768: "If the computed checksum is zero, it is transmitted as all
  // ones" - otherwise the receiver would read it as "no checksum".
  Bytes bytes = udp_part(kUdpComputedZeroFrame);
  Bytes out = with_payload(std::span(bytes).subspan(8));
  kPorts.emit(out, kSrc, kDst, ChecksumMode::kFull);
  EXPECT_EQ(load_be16(&out[UdpDatagram::kChecksumOffset]), 0xffff);
  EXPECT_EQ(out, bytes);
  auto datagram = UdpDatagram::parse(out);
  ASSERT_TRUE(datagram);
  EXPECT_TRUE(datagram->verify_checksum(kSrc, kDst));
}

TEST(UdpDatagram, BadChecksumRejected) {
  for (size_t offset : {0u, 3u, 6u, 7u, 8u, 19u}) {
    Bytes bytes = udp_part(kUdpFrame);
    bytes[offset] ^= 0x01;
    auto datagram = UdpDatagram::parse(bytes);
    ASSERT_TRUE(datagram);
    EXPECT_FALSE(datagram->verify_checksum(kSrc, kDst)) << "offset " << offset;
  }
}

TEST(UdpDatagram, PseudoHeaderIsCovered) {
  Bytes bytes = udp_part(kUdpFrame);
  auto datagram = UdpDatagram::parse(bytes);
  ASSERT_TRUE(datagram);
  EXPECT_FALSE(datagram->verify_checksum(Ipv4Addr(198, 18, 0, 3), kDst));
  EXPECT_FALSE(datagram->verify_checksum(kSrc, Ipv4Addr(198, 18, 1, 2)));
}

TEST(UdpRepr, PseudoHeaderModeWritesUninvertedPseudoSum) {
  Bytes bytes = udp_part(kUdpFrame);
  Bytes out = with_payload(std::span(bytes).subspan(8));
  kPorts.emit(out, kSrc, kDst, ChecksumMode::kPseudoHeader);
  // c612 + 0001 + c612 + 0002 + 0011 (UDP) + 0014 (length) = 1 8c4c -> 8c4d
  EXPECT_EQ(load_be16(&out[UdpDatagram::kChecksumOffset]), 0x8c4d);
  EXPECT_TRUE(std::ranges::equal(std::span(out).first(6), std::span(bytes).first(6)));

  // A device finishing the checksum (kTxUdpCsum) sums the datagram as it
  // stands and inverts; that must give what software would have written.
  uint16_t finished = internet_checksum(out.data(), out.size());
  EXPECT_EQ(finished, 0x734a);
}

TEST(UdpRepr, NoChecksumModeLeavesZero) {
  Bytes bytes = udp_part(kUdpFrame);
  Bytes out = with_payload(std::span(bytes).subspan(8));
  kPorts.emit(out, kSrc, kDst, ChecksumMode::kNone);
  EXPECT_EQ(out, udp_part(kUdpZeroChecksumFrame));
}

TEST(UdpRepr, ConstructWithPayloadSum) {
  // The payload's sum taken while copying it gives the same header.
  Bytes bytes = udp_part(kUdpFrame);
  Bytes out = with_payload(std::span(bytes).subspan(8));
  kPorts.emit_with_payload_sum(out, kSrc, kDst, checksum_fold(out.data() + 8, out.size() - 8));
  EXPECT_EQ(out, bytes);
  Bytes zero = udp_part(kUdpComputedZeroFrame);
  out = with_payload(std::span(zero).subspan(8));
  kPorts.emit_with_payload_sum(out, kSrc, kDst, checksum_fold(out.data() + 8, out.size() - 8));
  EXPECT_EQ(out, zero);  // computed 0 sent as ffff here too
}

// UDP over IPv6 (RFC 8200 §8.1). The vectors are IPv6 packets; the
// datagram follows the 40-byte header.
constexpr Ipv6Addr kSrc6(0x2001, 2, 0, 0, 0, 0, 0, 1);
constexpr Ipv6Addr kDst6(0x2001, 2, 0, 0, 0, 0, 0, 2);
constexpr size_t kIp6Len = 40;

Bytes udp6_part(std::span<const uint8_t> packet) {
  return first_bytes(packet.subspan(kIp6Len), packet.size() - kIp6Len);
}

TEST(UdpDatagram, DeconstructOverIpv6) {
  Bytes bytes = udp6_part(kUdp6Packet);
  auto datagram = UdpDatagram::parse(bytes);
  ASSERT_TRUE(datagram);
  EXPECT_EQ(datagram->src_port(), 49152);
  EXPECT_EQ(datagram->dst_port(), 7);
  EXPECT_EQ(datagram->length(), 20);
  EXPECT_EQ(datagram->checksum(), 0xbf69);  // scapy's
  EXPECT_EQ(as_text(datagram->payload()), "hello, world");
  EXPECT_TRUE(datagram->verify_checksum(kSrc6, kDst6));
}

TEST(UdpRepr, ConstructOverIpv6) {
  for (auto packet : {std::span<const uint8_t>(kUdp6Packet), std::span<const uint8_t>(kUdp6OddPacket)}) {
    Bytes bytes = udp6_part(packet);
    Bytes out = with_payload(std::span(bytes).subspan(8));
    kPorts.emit(out, kSrc6, kDst6, ChecksumMode::kFull);
    EXPECT_EQ(out, bytes);
    auto datagram = UdpDatagram::parse(out);
    ASSERT_TRUE(datagram);
    EXPECT_TRUE(datagram->verify_checksum(kSrc6, kDst6));
  }
}

TEST(UdpRepr, ConstructWithPayloadSumOverIpv6) {
  for (auto packet : {std::span<const uint8_t>(kUdp6Packet), std::span<const uint8_t>(kUdp6OddPacket),
                      std::span<const uint8_t>(kUdp6ComputedZeroPacket)}) {
    Bytes bytes = udp6_part(packet);
    Bytes out = with_payload(std::span(bytes).subspan(8));
    kPorts.emit_with_payload_sum(out, kSrc6, kDst6, checksum_fold(out.data() + 8, out.size() - 8));
    EXPECT_EQ(out, bytes);
  }
}

TEST(UdpDatagram, ZeroChecksumRejectedOverIpv6) {
  // RFC 8200 §8.1: "IPv6 receivers must discard UDP packets containing a
  // zero checksum". The same datagram over IPv4 means "no checksum".
  Bytes bytes = udp6_part(kUdp6ZeroChecksumPacket);
  auto datagram = UdpDatagram::parse(bytes);
  ASSERT_TRUE(datagram);
  EXPECT_EQ(datagram->checksum(), 0);
  EXPECT_FALSE(datagram->verify_checksum(kSrc6, kDst6));
  EXPECT_TRUE(datagram->verify_checksum(kSrc, kDst));
}

TEST(UdpRepr, ComputedZeroChecksumSentAsAllOnesOverIpv6) {
  Bytes bytes = udp6_part(kUdp6ComputedZeroPacket);
  Bytes out = with_payload(std::span(bytes).subspan(8));
  kPorts.emit(out, kSrc6, kDst6, ChecksumMode::kFull);
  EXPECT_EQ(load_be16(&out[UdpDatagram::kChecksumOffset]), 0xffff);
  EXPECT_EQ(out, bytes);
  auto datagram = UdpDatagram::parse(out);
  ASSERT_TRUE(datagram);
  EXPECT_TRUE(datagram->verify_checksum(kSrc6, kDst6));  // ffff is -0: it verifies
}

TEST(UdpRepr, NoChecksumModeIsComputedOverIpv6) {
  // RFC 8200 §8.1: the checksum is not optional over IPv6.
  Bytes bytes = udp6_part(kUdp6Packet);
  Bytes out = with_payload(std::span(bytes).subspan(8));
  kPorts.emit(out, kSrc6, kDst6, ChecksumMode::kNone);
  EXPECT_EQ(out, bytes);
}

TEST(UdpRepr, PseudoHeaderModeOverIpv6) {
  Bytes bytes = udp6_part(kUdp6Packet);
  Bytes out = with_payload(std::span(bytes).subspan(8));
  kPorts.emit(out, kSrc6, kDst6, ChecksumMode::kPseudoHeader);
  // 2001+0002+0001 + 2001+0002+0002 + 0014 (length) + 0011 (UDP) = 402e
  EXPECT_EQ(load_be16(&out[UdpDatagram::kChecksumOffset]), 0x402e);
  // A device finishing it must write what scapy wrote.
  EXPECT_EQ(internet_checksum(out.data(), out.size()), 0xbf69);
}

TEST(UdpDatagram, BadChecksumRejectedOverIpv6) {
  for (size_t offset : {0u, 3u, 6u, 7u, 8u, 19u}) {
    Bytes bytes = udp6_part(kUdp6Packet);
    bytes[offset] ^= 0x01;
    auto datagram = UdpDatagram::parse(bytes);
    ASSERT_TRUE(datagram);
    EXPECT_FALSE(datagram->verify_checksum(kSrc6, kDst6)) << "offset " << offset;
  }
}

TEST(UdpDatagram, Ipv6PseudoHeaderIsCovered) {
  Bytes bytes = udp6_part(kUdp6Packet);
  auto datagram = UdpDatagram::parse(bytes);
  ASSERT_TRUE(datagram);
  EXPECT_FALSE(datagram->verify_checksum(Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 3), kDst6));
  EXPECT_FALSE(datagram->verify_checksum(kSrc6, Ipv6Addr(0x2001, 2, 0, 0, 0, 1, 0, 2)));
  // Swapping src and dst keeps the sum: the checksum cannot tell, which is
  // why the stack matches addresses too.
  EXPECT_TRUE(datagram->verify_checksum(kDst6, kSrc6));
}

}  // namespace
}  // namespace dpdkudp::wire
