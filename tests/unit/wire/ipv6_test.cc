// IPv6 (stack/wire/ipv6.h): the fixed header, the Fragment header and the
// extension-header chain walk.
#include "stack/wire/ipv6.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <span>
#include <vector>

#include "stack/wire/udp.h"
#include "tests/unit/wire/ipv6_vectors.h"
#include "tests/unit/wire/vectors.h"

namespace dpdkudp::wire {
namespace {

using Bytes = std::vector<uint8_t>;
using Error = Ipv6Packet::Error;
using ChainError = Ipv6HeaderChain::Error;
using namespace vectors;

constexpr Ipv6Addr kSrc(0x2001, 2, 0, 0, 0, 0, 0, 1);
constexpr Ipv6Addr kDst(0x2001, 2, 0, 0, 0, 0, 0, 2);
constexpr size_t kIp6Len = Ipv6Packet::kHeaderLen;

Bytes copy(std::span<const uint8_t> bytes) { return first_bytes(bytes, bytes.size()); }

// Parses and returns the error, or nullopt when the packet was accepted.
std::optional<Error> parse_error(std::span<const uint8_t> bytes) {
  Error error{};
  if (Ipv6Packet::parse(bytes, &error)) return std::nullopt;
  return error;
}

struct ChainFailure {
  ChainError error;
  size_t pointer;
  friend bool operator==(const ChainFailure&, const ChainFailure&) = default;
};
std::ostream& operator<<(std::ostream& os, const ChainFailure& f) {
  return os << "error " << static_cast<int>(f.error) << " pointer " << f.pointer;
}

// Walks a packet that must parse; returns how the walk failed, or nullopt.
std::optional<ChainFailure> walk_failure(std::span<const uint8_t> bytes) {
  auto packet = Ipv6Packet::parse(bytes);
  EXPECT_TRUE(packet);
  if (!packet) return std::nullopt;
  ChainFailure failure{ChainError::kTruncated, 9999};
  if (Ipv6HeaderChain::walk(*packet, &failure.error, &failure.pointer)) return std::nullopt;
  return failure;
}

Ipv6HeaderChain walk_ok(std::span<const uint8_t> bytes) {
  auto packet = Ipv6Packet::parse(bytes);
  EXPECT_TRUE(packet);
  if (!packet) return {};
  auto chain = Ipv6HeaderChain::walk(*packet);
  EXPECT_TRUE(chain);
  return chain.value_or(Ipv6HeaderChain{});
}

// The packet cut to `payload` bytes after the fixed header, with its
// payload length saying so: the fixed header parses, the chain may not.
Bytes cut_payload(std::span<const uint8_t> packet, size_t payload) {
  Bytes out = first_bytes(packet, kIp6Len + payload);
  store_be16(&out[Ipv6Packet::kPayloadLenOffset], static_cast<uint16_t>(payload));
  return out;
}

TEST(Ipv6Packet, Deconstruct) {
  Bytes bytes = copy(kUdp6Packet);
  auto packet = Ipv6Packet::parse(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->traffic_class(), 0xb8);
  EXPECT_EQ(packet->flow_label(), 0x12345u);
  EXPECT_EQ(packet->payload_len(), 20);
  EXPECT_EQ(packet->next_header(), ip_proto::kUdp);
  EXPECT_EQ(packet->hop_limit(), 64);
  EXPECT_EQ(packet->src(), kSrc);
  EXPECT_EQ(packet->dst(), kDst);
  EXPECT_EQ(packet->header().data(), bytes.data());
  EXPECT_EQ(packet->header().size(), 40u);
  EXPECT_EQ(packet->payload().data(), bytes.data() + 40);
  EXPECT_EQ(packet->payload().size(), 20u);
  EXPECT_EQ(packet->bytes().size(), 60u);
  EXPECT_TRUE(packet->is_complete());
}

TEST(Ipv6Repr, Deconstruct) {
  auto packet = Ipv6Packet::parse(kUdp6Packet);
  ASSERT_TRUE(packet);
  Ipv6Repr repr = Ipv6Repr::parse(*packet);
  EXPECT_EQ(repr.src, kSrc);
  EXPECT_EQ(repr.dst, kDst);
  EXPECT_EQ(repr.next_header, ip_proto::kUdp);
  EXPECT_EQ(repr.payload_len, 20);
  EXPECT_EQ(repr.hop_limit, 64);
  EXPECT_EQ(repr.traffic_class, 0xb8);
  EXPECT_EQ(repr.flow_label, 0x12345u);
}

Ipv6Repr captured_repr() {
  return {.src = kSrc,
          .dst = kDst,
          .next_header = ip_proto::kUdp,
          .payload_len = 20,
          .hop_limit = 64,
          .traffic_class = 0xb8,
          .flow_label = 0x12345};
}

TEST(Ipv6Repr, Construct) {
  Bytes out(Ipv6Repr::kBufferLen, 0xcc);  // junk every byte must overwrite
  captured_repr().emit(out);
  EXPECT_EQ(out, first_bytes(kUdp6Packet, kIp6Len));
}

TEST(Ipv6Repr, ConstructHeaderOnly) {
  // The scapy defaults: traffic class 0, flow label 0, hop limit 64.
  Ipv6Repr repr{.src = kSrc, .dst = kDst, .next_header = ip_proto::kNoNextHeader, .payload_len = 0};
  Bytes out(Ipv6Repr::kBufferLen, 0xcc);
  repr.emit(out);
  EXPECT_EQ(out, copy(kHeaderOnlyPacket));
}

TEST(Ipv6Repr, FlowLabelIsTwentyBits) {
  Ipv6Repr repr = captured_repr();
  repr.flow_label = 0xfff12345;  // the high bits must not reach the traffic class or version
  Bytes out(Ipv6Repr::kBufferLen + repr.payload_len);
  repr.emit(out);
  auto packet = Ipv6Packet::parse(out);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->flow_label(), 0x12345u);
  EXPECT_EQ(packet->traffic_class(), 0xb8);
}

TEST(Ipv6Repr, EmitThenParseRoundTrips) {
  Ipv6Repr repr{.src = Ipv6Addr(0xfe80, 0, 0, 0, 0, 0, 0, 1),
                .dst = Ipv6Addr::all_nodes(),
                .next_header = ip_proto::kIcmpv6,
                .payload_len = 1460,
                .hop_limit = 255,
                .traffic_class = 0xff,
                .flow_label = 0xfffff};
  Bytes out(Ipv6Repr::kBufferLen + repr.payload_len);
  repr.emit(out);
  auto packet = Ipv6Packet::parse(out);
  ASSERT_TRUE(packet);
  Ipv6Repr parsed = Ipv6Repr::parse(*packet);
  EXPECT_EQ(parsed.src, repr.src);
  EXPECT_EQ(parsed.dst, repr.dst);
  EXPECT_EQ(parsed.next_header, repr.next_header);
  EXPECT_EQ(parsed.payload_len, repr.payload_len);
  EXPECT_EQ(parsed.hop_limit, repr.hop_limit);
  EXPECT_EQ(parsed.traffic_class, repr.traffic_class);
  EXPECT_EQ(parsed.flow_label, repr.flow_label);
}

TEST(Ipv6Packet, TruncatedHeaderRejected) {
  for (size_t len = 0; len < kIp6Len; ++len) {
    EXPECT_EQ(parse_error(first_bytes(kUdp6Packet, len)), Error::kTruncated) << "len " << len;
  }
}

TEST(Ipv6Packet, PayloadLengthPastBufferRejected) {
  // RFC 8200 §3: the payload length counts what follows the header; a
  // packet shorter than that was cut.
  for (size_t len = kIp6Len; len < sizeof kUdp6Packet; ++len) {
    EXPECT_EQ(parse_error(first_bytes(kUdp6Packet, len)), Error::kTruncated) << "len " << len;
  }
  EXPECT_EQ(parse_error(copy(kUdp6Packet)), std::nullopt);
  Bytes bytes = copy(kUdp6Packet);
  store_be16(&bytes[Ipv6Packet::kPayloadLenOffset], 0xffff);
  EXPECT_EQ(parse_error(bytes), Error::kTruncated);
  store_be16(&bytes[Ipv6Packet::kPayloadLenOffset], 21);
  EXPECT_EQ(parse_error(bytes), Error::kTruncated);
}

TEST(Ipv6Packet, WrongVersionRejected) {
  for (uint8_t first : std::initializer_list<uint8_t>{0x0b, 0x4b, 0x45, 0x5b, 0x7b, 0xfb}) {
    Bytes bytes = copy(kUdp6Packet);
    bytes[Ipv6Packet::kVersionClassFlowOffset] = first;
    EXPECT_EQ(parse_error(bytes), Error::kBadVersion) << std::hex << int{first};
  }
}

TEST(Ipv6Packet, ErrorOutParameterIsOptional) {
  EXPECT_FALSE(Ipv6Packet::parse(first_bytes(kUdp6Packet, 10)));
  EXPECT_FALSE(Ipv6Packet::parse(first_bytes(kUdp6Packet, 50)));
}

TEST(Ipv6Packet, EthernetPaddingExcludedFromPayload) {
  Bytes bytes = copy(kPaddedUdp6Packet);
  ASSERT_EQ(bytes.size(), 58u);
  auto packet = Ipv6Packet::parse(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->payload_len(), 10);
  EXPECT_EQ(packet->payload().size(), 10u);  // UDP header + "hi", no zeros
  EXPECT_EQ(packet->bytes().size(), 50u);
}

TEST(Ipv6Packet, HeaderOnlyPacketHasEmptyPayload) {
  Bytes bytes = copy(kHeaderOnlyPacket);
  auto packet = Ipv6Packet::parse(bytes);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->payload().empty());
  EXPECT_EQ(packet->next_header(), ip_proto::kNoNextHeader);
  auto chain = Ipv6HeaderChain::walk(*packet);
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->upper_protocol, ip_proto::kNoNextHeader);
  EXPECT_EQ(chain->upper_offset, 40u);
  EXPECT_FALSE(chain->has_upper_header());
}

TEST(Ipv6Packet, ParseQuotedAcceptsACutPayload) {
  // RFC 4443 §2.4(c): an error quotes as much of the packet as fits.
  Bytes bytes = first_bytes(kUdp6Packet, 48);  // header + the UDP header only
  EXPECT_EQ(parse_error(bytes), Error::kTruncated);
  auto packet = Ipv6Packet::parse_quoted(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->payload_len(), 20);
  EXPECT_EQ(packet->payload().size(), 8u);
  EXPECT_FALSE(packet->is_complete());
  EXPECT_EQ(packet->src(), kSrc);

  auto whole = Ipv6Packet::parse_quoted(kPaddedUdp6Packet);  // padding still excluded
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->payload().size(), 10u);
  EXPECT_TRUE(whole->is_complete());
}

TEST(Ipv6Packet, ParseQuotedStillNeedsTheHeader) {
  Error error{};
  for (size_t len = 0; len < kIp6Len; ++len) {
    EXPECT_FALSE(Ipv6Packet::parse_quoted(first_bytes(kUdp6Packet, len), &error)) << "len " << len;
    EXPECT_EQ(error, Error::kTruncated);
  }
  Bytes bytes = copy(kUdp6Packet);
  bytes[0] = 0x4b;
  EXPECT_FALSE(Ipv6Packet::parse_quoted(bytes, &error));
  EXPECT_EQ(error, Error::kBadVersion);
}

TEST(Ipv6FragmentRepr, Deconstruct) {
  Ipv6FragmentRepr first = Ipv6FragmentRepr::parse(std::span(kFirstFragmentPacket).subspan(kIp6Len, 8));
  EXPECT_EQ(first.next_header, ip_proto::kUdp);
  EXPECT_EQ(first.offset, 0);
  EXPECT_TRUE(first.more_fragments);
  EXPECT_EQ(first.ident, 0xabcdu);
  Ipv6FragmentRepr later = Ipv6FragmentRepr::parse(std::span(kLaterFragmentPacket).subspan(kIp6Len, 8));
  EXPECT_EQ(later.offset, 185);  // 1480 / 8
  EXPECT_FALSE(later.more_fragments);
}

TEST(Ipv6FragmentRepr, Construct) {
  Bytes out(Ipv6FragmentRepr::kLen, 0xcc);
  Ipv6FragmentRepr{.next_header = ip_proto::kUdp, .offset = 0, .more_fragments = true, .ident = 0xabcd}.emit(out);
  EXPECT_EQ(out, first_bytes(std::span(kFirstFragmentPacket).subspan(kIp6Len), 8));
  Ipv6FragmentRepr{.next_header = ip_proto::kUdp, .offset = 185, .more_fragments = false, .ident = 0xabcd}.emit(out);
  EXPECT_EQ(out, first_bytes(std::span(kLaterFragmentPacket).subspan(kIp6Len), 8));
}

TEST(Ipv6FragmentRepr, EmitThenParseRoundTrips) {
  Ipv6FragmentRepr repr{.next_header = 58, .offset = 0x1fff, .more_fragments = true, .ident = 0xffffffff};
  Bytes out(Ipv6FragmentRepr::kLen);
  repr.emit(out);
  Ipv6FragmentRepr parsed = Ipv6FragmentRepr::parse(out);
  EXPECT_EQ(parsed.next_header, 58);
  EXPECT_EQ(parsed.offset, 0x1fff);
  EXPECT_TRUE(parsed.more_fragments);
  EXPECT_EQ(parsed.ident, 0xffffffffu);
  EXPECT_EQ(out[1], 0);  // reserved
}

TEST(Ipv6HeaderChain, NoExtensionHeaders) {
  Ipv6HeaderChain chain = walk_ok(kUdp6Packet);
  EXPECT_EQ(chain.upper_protocol, ip_proto::kUdp);
  EXPECT_EQ(chain.upper_offset, 40u);
  EXPECT_EQ(chain.extension_headers, 0);
  EXPECT_FALSE(chain.fragment);
  EXPECT_TRUE(chain.has_upper_header());
}

TEST(Ipv6HeaderChain, HopByHopFirst) {
  Ipv6HeaderChain chain = walk_ok(kHopByHopUdp6Packet);
  EXPECT_EQ(chain.upper_protocol, ip_proto::kUdp);
  EXPECT_EQ(chain.upper_offset, 48u);
  EXPECT_EQ(chain.extension_headers, 1);
}

TEST(Ipv6HeaderChain, EveryKindOfHeaderToTheUdpDatagram) {
  Bytes bytes = copy(kExtChainPacket);
  Ipv6HeaderChain chain = walk_ok(bytes);
  EXPECT_EQ(chain.upper_protocol, ip_proto::kUdp);
  EXPECT_EQ(chain.upper_offset, 80u);
  EXPECT_EQ(chain.extension_headers, 5);
  EXPECT_TRUE(chain.fragment);
  EXPECT_TRUE(chain.first_fragment);
  EXPECT_TRUE(chain.atomic_fragment);  // offset 0, M clear (RFC 6946)
  EXPECT_EQ(chain.fragment_header_offset, 64u);
  EXPECT_EQ(chain.fragment_header.ident, 0x12345678u);
  EXPECT_TRUE(chain.has_upper_header());

  // The offset leads to the datagram scapy built, checksum and all (the
  // pseudo-header's length is the UDP length, not the payload length).
  auto udp = UdpDatagram::parse(std::span(bytes).subspan(chain.upper_offset));
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->src_port(), 49152);
  EXPECT_EQ(udp->length(), 10);
  EXPECT_TRUE(udp->verify_checksum(kSrc, kDst));
}

TEST(Ipv6HeaderChain, FirstFragment) {
  Ipv6HeaderChain chain = walk_ok(kFirstFragmentPacket);
  EXPECT_EQ(chain.upper_protocol, ip_proto::kUdp);
  EXPECT_EQ(chain.upper_offset, 48u);
  EXPECT_TRUE(chain.fragment);
  EXPECT_TRUE(chain.first_fragment);
  EXPECT_FALSE(chain.atomic_fragment);
  EXPECT_TRUE(chain.fragment_header.more_fragments);
  EXPECT_EQ(chain.fragment_header.ident, 0xabcdu);
  EXPECT_EQ(chain.fragment_header_offset, 40u);
  EXPECT_TRUE(chain.has_upper_header());
}

TEST(Ipv6HeaderChain, LaterFragmentStopsAtItsData) {
  Ipv6HeaderChain chain = walk_ok(kLaterFragmentPacket);
  EXPECT_EQ(chain.upper_protocol, ip_proto::kUdp);
  EXPECT_EQ(chain.upper_offset, 48u);  // where the fragment's data starts
  EXPECT_TRUE(chain.fragment);
  EXPECT_FALSE(chain.first_fragment);
  EXPECT_FALSE(chain.atomic_fragment);
  EXPECT_EQ(chain.fragment_header.offset, 185);
  EXPECT_FALSE(chain.has_upper_header());
}

TEST(Ipv6HeaderChain, LaterFragmentDataIsNotWalked) {
  // Data that looks like a Hop-by-Hop header is still data: change the
  // later fragment's Next Header to 0 and its data to a bogus header.
  Bytes bytes = copy(kLaterFragmentPacket);
  bytes[kIp6Len] = ip_proto::kHopByHop;
  bytes[kIp6Len + 9] = 0xff;  // "length" 2048 octets
  Ipv6HeaderChain chain = walk_ok(bytes);
  EXPECT_EQ(chain.upper_protocol, ip_proto::kHopByHop);
  EXPECT_FALSE(chain.has_upper_header());
}

TEST(Ipv6HeaderChain, NoNextHeaderEndsTheChain) {
  Ipv6HeaderChain chain = walk_ok(kNoNextHeaderPacket);
  EXPECT_EQ(chain.upper_protocol, ip_proto::kNoNextHeader);
  EXPECT_EQ(chain.upper_offset, 48u);
  EXPECT_EQ(chain.extension_headers, 1);
  EXPECT_FALSE(chain.has_upper_header());
}

TEST(Ipv6HeaderChain, LongestChainAccepted) {
  Ipv6HeaderChain chain = walk_ok(kLongestChainPacket);
  EXPECT_EQ(chain.extension_headers, Ipv6HeaderChain::kMaxExtensionHeaders);
  EXPECT_EQ(chain.upper_protocol, ip_proto::kUdp);
  EXPECT_EQ(chain.upper_offset, 40u + 8 * 8);
}

TEST(Ipv6HeaderChain, TooLongChainRejected) {
  // The pointer is the eighth header's Next Header, which names the ninth.
  EXPECT_EQ(walk_failure(copy(kTooLongChainPacket)), (ChainFailure{ChainError::kTooManyHeaders, 40 + 7 * 8}));
}

TEST(Ipv6HeaderChain, HopByHopNotFirstRejected) {
  // RFC 8200 §4: Next Header 0 outside the fixed header is unrecognized;
  // the pointer is the Destination Options header's Next Header field.
  EXPECT_EQ(walk_failure(copy(kHopByHopNotFirstPacket)), (ChainFailure{ChainError::kHopByHopNotFirst, 40}));
}

TEST(Ipv6HeaderChain, RepeatedFragmentRejected) {
  EXPECT_EQ(walk_failure(copy(kRepeatedFragmentPacket)), (ChainFailure{ChainError::kRepeatedFragment, 40}));
}

TEST(Ipv6HeaderChain, RoutingWithSegmentsLeftRejected) {
  // RFC 8200 §4.4: an unrecognized Routing Type with Segments Left != 0;
  // the pointer is the Routing Type.
  EXPECT_EQ(walk_failure(copy(kRoutingSegmentsLeftPacket)), (ChainFailure{ChainError::kUnsupportedRouting, 42}));
  Bytes bytes = copy(kRoutingSegmentsLeftPacket);
  bytes[kIp6Len + ipv6_ext::kSegmentsLeftOffset] = 0;  // the same header with none left is ignored
  Ipv6HeaderChain chain = walk_ok(bytes);
  EXPECT_EQ(chain.upper_protocol, ip_proto::kUdp);
  EXPECT_EQ(chain.upper_offset, 64u);
}

TEST(Ipv6HeaderChain, OptionsWithSkipBitsAreSkipped) {
  Ipv6HeaderChain chain = walk_ok(kSkippableOptionPacket);
  EXPECT_EQ(chain.upper_protocol, ip_proto::kUdp);
  EXPECT_EQ(chain.upper_offset, 48u);
}

TEST(Ipv6HeaderChain, OptionsWithDiscardBitsRejected) {
  // RFC 8200 §4.2: action 01, 10, 11 all discard; the pointer is the option
  // type, whose bits tell the caller whether to send a Parameter Problem.
  EXPECT_EQ(walk_failure(copy(kDiscardOptionPacket)), (ChainFailure{ChainError::kUnrecognizedOption, 42}));
  for (uint8_t type : std::initializer_list<uint8_t>{0x5e, 0xde, 0x40, 0xc2}) {  // 0xc2: Jumbo Payload
    Bytes bytes = copy(kSkippableOptionPacket);
    bytes[42] = type;
    EXPECT_EQ(walk_failure(bytes), (ChainFailure{ChainError::kUnrecognizedOption, 42})) << int{type};
  }
}

TEST(Ipv6HeaderChain, RouterAlertInHopByHopIsSkipped) {
  // kExtChainPacket's Hop-by-Hop carries Router Alert (type 5, action 00)
  // and PadN: both pass (EveryKindOfHeaderToTheUdpDatagram); Pad1s too.
  Bytes bytes = copy(kSkippableOptionPacket);
  for (size_t i = 42; i < 48; ++i) bytes[i] = ipv6_ext::kOptionPad1;
  EXPECT_EQ(walk_ok(bytes).upper_offset, 48u);
}

TEST(Ipv6HeaderChain, OptionPastItsHeaderRejected) {
  // The option at 42 claims 2 + 5 octets; its header ends at 48.
  Bytes bytes = copy(kSkippableOptionPacket);
  bytes[43] = 5;
  EXPECT_EQ(walk_failure(bytes), (ChainFailure{ChainError::kBadOption, 42}));
  // Its type octet last, with no room for the length.
  bytes = copy(kSkippableOptionPacket);
  for (size_t i = 42; i < 47; ++i) bytes[i] = ipv6_ext::kOptionPad1;
  bytes[47] = ipv6_ext::kOptionPadN;
  EXPECT_EQ(walk_failure(bytes), (ChainFailure{ChainError::kBadOption, 47}));
}

TEST(Ipv6HeaderChain, TruncatedAtEveryHeaderBoundaryAndInside) {
  // kExtChainPacket's headers start at 40, 48, 56, 64 and 72 and the UDP
  // header at 80: any payload shorter than 40 octets cuts one of them, and
  // the pointer is where that one starts.
  for (size_t payload = 0; payload < 40; ++payload) {
    EXPECT_EQ(walk_failure(cut_payload(kExtChainPacket, payload)),
              (ChainFailure{ChainError::kTruncated, 40 + payload / 8 * 8}))
        << "payload " << payload;
  }
  // Cut right after the chain: the walk is done, the upper layer is UDP's
  // to check.
  Ipv6HeaderChain chain = walk_ok(cut_payload(kExtChainPacket, 40));
  EXPECT_EQ(chain.upper_offset, 80u);
}

TEST(Ipv6HeaderChain, TruncatedLongHeaderRejected) {
  // The Routing header is 24 octets (length 2): each cut inside it fails.
  for (size_t payload = 8; payload < 24; ++payload) {
    EXPECT_EQ(walk_failure(cut_payload(kRoutingSegmentsLeftPacket, payload)),
              (ChainFailure{ChainError::kTruncated, 40}))
        << "payload " << payload;
  }
}

TEST(Ipv6HeaderChain, TruncatedFragmentHeaderRejected) {
  for (size_t payload = 0; payload < 8; ++payload) {
    EXPECT_EQ(walk_failure(cut_payload(kFirstFragmentPacket, payload)), (ChainFailure{ChainError::kTruncated, 40}))
        << "payload " << payload;
  }
}

TEST(Ipv6HeaderChain, JumbogramRejectedAsTruncated) {
  // RFC 2675: payload length 0 with a Hop-by-Hop header. Nothing of the
  // payload is counted, so the Hop-by-Hop header is cut.
  Bytes bytes = copy(kHopByHopUdp6Packet);
  store_be16(&bytes[Ipv6Packet::kPayloadLenOffset], 0);
  EXPECT_EQ(walk_failure(bytes), (ChainFailure{ChainError::kTruncated, 40}));
}

TEST(Ipv6HeaderChain, ErrorOutParametersAreOptional) {
  auto packet = Ipv6Packet::parse(kTooLongChainPacket);
  ASSERT_TRUE(packet);
  EXPECT_FALSE(Ipv6HeaderChain::walk(*packet));
}

}  // namespace
}  // namespace dpdkudp::wire
