// IPv4 (stack/wire/ipv4.h).
#include "stack/wire/ipv4.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <span>
#include <vector>

#include "tests/unit/wire/vectors.h"

namespace dpdkudp::wire {
namespace {

using Bytes = std::vector<uint8_t>;
using Error = Ipv4Packet::Error;
using namespace vectors;

constexpr Ipv4Addr kSrc(198, 18, 0, 1);
constexpr Ipv4Addr kDst(198, 18, 0, 2);

// The IPv4 packet inside a captured untagged frame (padding included).
Bytes ip_part(std::span<const uint8_t> frame) { return first_bytes(frame.subspan(kEthLen), frame.size() - kEthLen); }

// Parses and returns the error, or nullopt when the packet was accepted.
std::optional<Error> parse_error(std::span<const uint8_t> bytes) {
  Error error{};
  if (Ipv4Packet::parse(bytes, &error)) return std::nullopt;
  return error;
}

TEST(Ipv4Packet, Deconstruct) {
  Bytes bytes = ip_part(kUdpFrame);
  auto packet = Ipv4Packet::parse(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->header_len(), 20u);
  EXPECT_EQ(packet->total_len(), 40);
  EXPECT_EQ(packet->tos(), 0x10);
  EXPECT_EQ(packet->ident(), 0x1234);
  EXPECT_EQ(packet->flags_frag(), 0x4000);
  EXPECT_TRUE(packet->dont_fragment());
  EXPECT_FALSE(packet->more_fragments());
  EXPECT_EQ(packet->frag_offset(), 0);
  EXPECT_FALSE(packet->is_fragment());
  EXPECT_EQ(packet->ttl(), 64);
  EXPECT_EQ(packet->protocol(), ip_proto::kUdp);
  EXPECT_EQ(packet->checksum(), 0x9c59);
  EXPECT_EQ(packet->src(), kSrc);
  EXPECT_EQ(packet->dst(), kDst);
  EXPECT_TRUE(packet->verify_checksum());
  EXPECT_EQ(packet->header().data(), bytes.data());
  EXPECT_EQ(packet->header().size(), 20u);
  EXPECT_TRUE(packet->options().empty());
  EXPECT_EQ(packet->payload().data(), bytes.data() + 20);
  EXPECT_EQ(packet->payload().size(), 20u);
}

TEST(Ipv4Repr, Deconstruct) {
  Bytes bytes = ip_part(kUdpFrame);
  auto packet = Ipv4Packet::parse(bytes);
  ASSERT_TRUE(packet);
  Ipv4Repr repr = Ipv4Repr::parse(*packet);
  EXPECT_EQ(repr.src, kSrc);
  EXPECT_EQ(repr.dst, kDst);
  EXPECT_EQ(repr.protocol, ip_proto::kUdp);
  EXPECT_EQ(repr.payload_len, 20);
  EXPECT_EQ(repr.ttl, 64);
  EXPECT_EQ(repr.tos, 0x10);
  EXPECT_EQ(repr.ident, 0x1234);
  EXPECT_TRUE(repr.dont_fragment);
}

Ipv4Repr captured_repr() {
  return {.src = kSrc,
          .dst = kDst,
          .protocol = ip_proto::kUdp,
          .payload_len = 20,
          .ttl = 64,
          .tos = 0x10,
          .ident = 0x1234,
          .dont_fragment = true};
}

TEST(Ipv4Repr, Construct) {
  Bytes out(Ipv4Repr::kBufferLen, 0xcc);
  captured_repr().emit(out);
  EXPECT_EQ(out, first_bytes(ip_part(kUdpFrame), kIpLen));
}

TEST(Ipv4Repr, ConstructLeavesChecksumZeroForOffload) {
  Bytes out(Ipv4Repr::kBufferLen, 0xcc);
  captured_repr().emit(out, /*fill_checksum=*/false);
  Bytes want = first_bytes(ip_part(kUdpFrame), kIpLen);
  want[Ipv4Packet::kChecksumOffset] = 0;
  want[Ipv4Packet::kChecksumOffset + 1] = 0;
  EXPECT_EQ(out, want);
}

TEST(Ipv4Repr, ConstructWithoutDontFragment) {
  Ipv4Repr repr = captured_repr();
  repr.dont_fragment = false;
  Bytes out(Ipv4Repr::kBufferLen + repr.payload_len);
  repr.emit(out);
  auto packet = Ipv4Packet::parse(out);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->flags_frag(), 0);
  EXPECT_TRUE(packet->verify_checksum());
}

TEST(Ipv4Repr, EmitThenParseRoundTrips) {
  Ipv4Repr repr{.src = Ipv4Addr(10, 0, 0, 1),
                .dst = Ipv4Addr::broadcast(),
                .protocol = ip_proto::kIcmp,
                .payload_len = 1480,
                .ttl = 1,
                .tos = 0xb8,
                .ident = 0xffff,
                .dont_fragment = false};
  Bytes out(Ipv4Repr::kBufferLen + repr.payload_len);
  repr.emit(out);
  auto packet = Ipv4Packet::parse(out);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->verify_checksum());
  Ipv4Repr parsed = Ipv4Repr::parse(*packet);
  EXPECT_EQ(parsed.src, repr.src);
  EXPECT_EQ(parsed.dst, repr.dst);
  EXPECT_EQ(parsed.protocol, repr.protocol);
  EXPECT_EQ(parsed.payload_len, repr.payload_len);
  EXPECT_EQ(parsed.ttl, repr.ttl);
  EXPECT_EQ(parsed.tos, repr.tos);
  EXPECT_EQ(parsed.ident, repr.ident);
  EXPECT_EQ(parsed.dont_fragment, repr.dont_fragment);
}

TEST(Ipv4Packet, TruncatedHeaderRejected) {
  for (size_t len = 0; len < Ipv4Packet::kMinHeaderLen; ++len) {
    EXPECT_EQ(parse_error(first_bytes(ip_part(kUdpFrame), len)), Error::kTruncated) << "len " << len;
  }
}

TEST(Ipv4Packet, TotalLengthPastBufferRejected) {
  Bytes bytes = ip_part(kUdpFrame);
  for (size_t len = Ipv4Packet::kMinHeaderLen; len < bytes.size(); ++len) {
    EXPECT_EQ(parse_error(first_bytes(bytes, len)), Error::kTruncated) << "len " << len;
  }
  EXPECT_EQ(parse_error(bytes), std::nullopt);
}

TEST(Ipv4Packet, OptionsPastBufferRejected) {
  // IHL 15 claims 60 header bytes; total_len agrees, but only 40 arrived.
  Bytes bytes = ip_part(kUdpFrame);
  bytes[Ipv4Packet::kVerIhlOffset] = 0x4f;
  store_be16(&bytes[Ipv4Packet::kTotalLenOffset], 60);
  EXPECT_EQ(parse_error(bytes), Error::kTruncated);
}

TEST(Ipv4Packet, ErrorOutParameterIsOptional) { EXPECT_FALSE(Ipv4Packet::parse(first_bytes(ip_part(kUdpFrame), 10))); }

TEST(Ipv4Packet, WrongVersionRejected) {
  for (uint8_t ver_ihl : std::initializer_list<uint8_t>{0x05, 0x35, 0x55, 0x65, 0xf5}) {
    Bytes bytes = ip_part(kUdpFrame);
    bytes[Ipv4Packet::kVerIhlOffset] = ver_ihl;
    EXPECT_EQ(parse_error(bytes), Error::kBadVersion) << std::hex << int{ver_ihl};
  }
}

TEST(Ipv4Packet, HeaderLengthBelowFiveWordsRejected) {
  for (uint8_t ihl = 0; ihl < 5; ++ihl) {
    Bytes bytes = ip_part(kUdpFrame);
    bytes[Ipv4Packet::kVerIhlOffset] = static_cast<uint8_t>(0x40 | ihl);
    EXPECT_EQ(parse_error(bytes), Error::kBadHeaderLen) << "ihl " << int{ihl};
  }
}

TEST(Ipv4Packet, TotalLengthBelowHeaderLengthRejected) {
  Bytes bytes = ip_part(kUdpFrame);
  for (uint16_t total_len : std::initializer_list<uint16_t>{0, 1, 19}) {
    store_be16(&bytes[Ipv4Packet::kTotalLenOffset], total_len);
    EXPECT_EQ(parse_error(bytes), Error::kBadTotalLen) << total_len;
  }
  Bytes with_options = ip_part(kRouterAlertFrame);  // IHL 6
  for (uint16_t total_len : std::initializer_list<uint16_t>{20, 21, 23}) {
    store_be16(&with_options[Ipv4Packet::kTotalLenOffset], total_len);
    EXPECT_EQ(parse_error(with_options), Error::kBadTotalLen) << total_len;
  }
}

TEST(Ipv4Packet, HeaderOnlyPacketHasEmptyPayload) {
  Bytes bytes = first_bytes(ip_part(kUdpFrame), kIpLen);
  store_be16(&bytes[Ipv4Packet::kTotalLenOffset], 20);
  auto packet = Ipv4Packet::parse(bytes);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->payload().empty());
}

TEST(Ipv4Packet, OptionsAreSkipped) {
  Bytes bytes = ip_part(kRouterAlertFrame);
  auto packet = Ipv4Packet::parse(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->header_len(), 24u);
  EXPECT_TRUE(packet->verify_checksum());  // the checksum covers the options
  EXPECT_EQ(Bytes(packet->options().begin(), packet->options().end()), (Bytes{0x94, 0x04, 0x00, 0x00}));
  EXPECT_EQ(packet->payload().data(), bytes.data() + 24);
  EXPECT_EQ(packet->payload().size(), 20u);
  EXPECT_EQ(load_be16(packet->payload().data()), 49152);  // the UDP source port
  EXPECT_EQ(Ipv4Repr::parse(*packet).payload_len, 20);
}

TEST(Ipv4Packet, MaximumOptionsAreSkipped) {
  Bytes bytes(kMaxOptionsPacket, kMaxOptionsPacket + sizeof kMaxOptionsPacket);
  auto packet = Ipv4Packet::parse(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->header_len(), 60u);
  EXPECT_EQ(packet->options().size(), 40u);
  EXPECT_EQ(packet->options().back(), 0x00);  // EOL
  EXPECT_TRUE(packet->verify_checksum());
  EXPECT_EQ(packet->payload().data(), bytes.data() + 60);
  EXPECT_EQ(packet->payload().size(), 20u);
}

TEST(Ipv4Packet, OptionBytesAreCoveredByTheChecksum) {
  Bytes bytes = ip_part(kRouterAlertFrame);
  bytes[22] ^= 0x01;  // inside the router alert value
  auto packet = Ipv4Packet::parse(bytes);
  ASSERT_TRUE(packet);
  EXPECT_FALSE(packet->verify_checksum());
}

TEST(Ipv4Packet, EthernetPaddingExcludedFromPayload) {
  Bytes bytes = ip_part(kPaddedUdpFrame);
  ASSERT_EQ(bytes.size(), 46u);  // 60-byte frame minus the Ethernet header
  auto packet = Ipv4Packet::parse(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->total_len(), 30);
  EXPECT_EQ(packet->payload().size(), 10u);  // UDP header + "hi", no zeros
  EXPECT_TRUE(packet->verify_checksum());
}

TEST(Ipv4Packet, FirstFragmentDetected) {
  Bytes bytes = ip_part(kFirstFragmentFrame);
  auto packet = Ipv4Packet::parse(bytes);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->more_fragments());
  EXPECT_FALSE(packet->dont_fragment());
  EXPECT_EQ(packet->frag_offset(), 0);
  EXPECT_TRUE(packet->is_fragment());
  EXPECT_TRUE(packet->verify_checksum());
}

TEST(Ipv4Packet, LastFragmentDetected) {
  Bytes bytes = ip_part(kLastFragmentFrame);
  auto packet = Ipv4Packet::parse(bytes);
  ASSERT_TRUE(packet);
  EXPECT_FALSE(packet->more_fragments());
  EXPECT_EQ(packet->frag_offset(), 185);  // 1480 / 8
  EXPECT_TRUE(packet->is_fragment());
  EXPECT_TRUE(packet->verify_checksum());
}

TEST(Ipv4Packet, DontFragmentAloneIsNotAFragment) {
  Bytes bytes = ip_part(kUdpFrame);
  store_be16(&bytes[Ipv4Packet::kFlagsFragOffset], Ipv4Packet::kFlagDontFragment);
  auto packet = Ipv4Packet::parse(bytes);
  ASSERT_TRUE(packet);
  EXPECT_FALSE(packet->is_fragment());
}

TEST(Ipv4Packet, OffsetAloneMakesAFragment) {
  Bytes bytes = ip_part(kUdpFrame);
  store_be16(&bytes[Ipv4Packet::kFlagsFragOffset], Ipv4Packet::kFlagDontFragment | 1);
  auto packet = Ipv4Packet::parse(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->frag_offset(), 1);
  EXPECT_TRUE(packet->is_fragment());
}

TEST(Ipv4Packet, CorruptedHeaderFailsChecksum) {
  for (size_t offset : {1u, 4u, 5u, 8u, 9u, 10u, 11u, 12u, 15u, 16u, 19u}) {
    Bytes bytes = ip_part(kUdpFrame);
    bytes[offset] ^= 0x40;
    auto packet = Ipv4Packet::parse(bytes);
    ASSERT_TRUE(packet) << "offset " << offset;
    EXPECT_FALSE(packet->verify_checksum()) << "offset " << offset;
  }
}

TEST(Ipv4Packet, PayloadIsNotCoveredByTheHeaderChecksum) {
  Bytes bytes = ip_part(kUdpFrame);
  bytes.back() ^= 0xff;
  auto packet = Ipv4Packet::parse(bytes);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->verify_checksum());
}

}  // namespace
}  // namespace dpdkudp::wire
