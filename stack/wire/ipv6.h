// IPv6 (RFC 8200): the fixed header, its extension-header chain (§4) and
// the Fragment header (§4.5). Views borrow the caller's bytes; no parse
// allocates. Ipv6Addr and Ipv6Cidr live in bytes.h beside Ipv4Addr.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "stack/wire/bytes.h"
#include "stack/wire/ip_proto.h"

namespace dpdkudp::wire {

class Ipv6Packet {
 public:
  static constexpr size_t kHeaderLen = 40;
  static constexpr size_t kVersionClassFlowOffset = 0;  // version(4) traffic class(8) flow label(20)
  static constexpr size_t kPayloadLenOffset = 4;
  static constexpr size_t kNextHeaderOffset = 6;
  static constexpr size_t kHopLimitOffset = 7;
  static constexpr size_t kSrcOffset = 8;
  static constexpr size_t kDstOffset = 24;
  static constexpr uint32_t kFlowLabelMask = 0x000fffff;

  enum class Error { kTruncated, kBadVersion };

  // RFC 8200 §3: version 6 and a payload length that fits the bytes given.
  // Bytes past it (Ethernet padding) are excluded from payload(). A payload
  // length of 0 is an empty payload: Jumbograms (RFC 2675) are not taken
  // (no link here carries 64 KiB), and their Hop-by-Hop header then fails
  // the chain walk as truncated. On failure `error` (when given) says why.
  static std::optional<Ipv6Packet> parse(std::span<const uint8_t> bytes, Error* error = nullptr) {
    if (bytes.size() < kHeaderLen) return fail(error, Error::kTruncated);
    const uint8_t* p = bytes.data();
    if ((p[kVersionClassFlowOffset] >> 4) != 6) return fail(error, Error::kBadVersion);
    size_t payload_len = load_be16(p + kPayloadLenOffset);
    if (payload_len > bytes.size() - kHeaderLen) return fail(error, Error::kTruncated);
    return Ipv6Packet(p, payload_len);
  }

  // The packet quoted in an ICMPv6 error is cut to fit the message (RFC
  // 4443 §2.4(c)): this accepts a payload length past the bytes, and
  // payload() is what is there (is_complete() says whether that is all).
  static std::optional<Ipv6Packet> parse_quoted(std::span<const uint8_t> bytes, Error* error = nullptr);

  uint8_t traffic_class() const { return static_cast<uint8_t>((load_be32(p_) >> 20) & 0xff); }
  uint32_t flow_label() const { return load_be32(p_) & kFlowLabelMask; }
  uint16_t payload_len() const { return load_be16(p_ + kPayloadLenOffset); }
  uint8_t next_header() const { return p_[kNextHeaderOffset]; }
  uint8_t hop_limit() const { return p_[kHopLimitOffset]; }
  Ipv6Addr src() const { return Ipv6Addr::load(p_ + kSrcOffset); }
  Ipv6Addr dst() const { return Ipv6Addr::load(p_ + kDstOffset); }

  std::span<const uint8_t> header() const { return {p_, kHeaderLen}; }
  std::span<const uint8_t> payload() const { return {p_ + kHeaderLen, payload_size_}; }
  // The header and payload together (offsets in the chain are into this).
  std::span<const uint8_t> bytes() const { return {p_, kHeaderLen + payload_size_}; }
  bool is_complete() const { return payload_size_ == payload_len(); }

 private:
  Ipv6Packet(const uint8_t* p, size_t payload_size) : p_(p), payload_size_(payload_size) {}
  static std::optional<Ipv6Packet> fail(Error* error, Error e) {
    if (error) *error = e;
    return std::nullopt;
  }
  const uint8_t* p_;
  size_t payload_size_;
};

// A fixed header the stack emits (extension headers, if any, follow it and
// are counted in payload_len).
struct Ipv6Repr {
  Ipv6Addr src;
  Ipv6Addr dst;
  uint8_t next_header = 0;
  uint16_t payload_len = 0;
  uint8_t hop_limit = 64;
  uint8_t traffic_class = 0;
  uint32_t flow_label = 0;  // 20 bits; higher bits are dropped

  static constexpr size_t kBufferLen = Ipv6Packet::kHeaderLen;
  static Ipv6Repr parse(const Ipv6Packet& packet);
  void emit(std::span<uint8_t> out) const;  // out.size() >= kBufferLen
};

// Field offsets inside the extension headers the chain walk reads.
namespace ipv6_ext {
inline constexpr size_t kNextHeaderOffset = 0;  // every extension header
inline constexpr size_t kLengthOffset = 1;      // 8-octet units past the first 8 (§4.3, §4.4, §4.6)
inline constexpr size_t kLengthUnit = 8;
inline constexpr size_t kOptionsOffset = 2;  // Hop-by-Hop and Destination Options
inline constexpr size_t kRoutingTypeOffset = 2;
inline constexpr size_t kSegmentsLeftOffset = 3;
inline constexpr uint8_t kOptionPad1 = 0;  // §4.2
inline constexpr uint8_t kOptionPadN = 1;
}  // namespace ipv6_ext

// The Fragment header (RFC 8200 §4.5): next header, reserved, offset(13)
// res(2) M(1), identification(32).
struct Ipv6FragmentRepr {
  static constexpr size_t kLen = 8;
  static constexpr size_t kNextHeaderOffset = 0;
  static constexpr size_t kOffsetFlagsOffset = 2;
  static constexpr size_t kIdentOffset = 4;
  static constexpr uint16_t kMoreFragments = 0x0001;
  static constexpr uint16_t kOffsetShift = 3;

  uint8_t next_header = 0;
  uint16_t offset = 0;  // in 8-octet units, 13 bits
  bool more_fragments = false;
  uint32_t ident = 0;

  // bytes.size() >= kLen; the caller has made sure of it.
  static Ipv6FragmentRepr parse(std::span<const uint8_t> bytes);
  void emit(std::span<uint8_t> out) const;  // out.size() >= kLen
};

// Where a packet's extension-header chain (RFC 8200 §4) leads: the
// upper-layer header, or nothing (No Next Header, §4.7). Offsets are from
// the start of the IPv6 header, as an ICMPv6 Parameter Problem pointer is.
struct Ipv6HeaderChain {
  // RFC 8200 sets no limit; a legitimate chain has at most one of each
  // header and two Destination Options (§4.1): 5. Eight leaves room.
  static constexpr size_t kMaxExtensionHeaders = 8;

  enum class Error {
    kTruncated,           // a header runs past the payload (RFC 7112 for a first fragment)
    kHopByHopNotFirst,    // §4: Next Header 0 anywhere but in the fixed header
    kTooManyHeaders,      // more than kMaxExtensionHeaders
    kBadOption,           // an option runs past its header (§4.2)
    kUnrecognizedOption,  // an option whose action bits say discard (§4.2)
    kUnsupportedRouting,  // a Routing header with Segments Left != 0 (§4.4)
    kRepeatedFragment,    // a second Fragment header (§4.1: at most once)
  };

  uint8_t upper_protocol = ip_proto::kNoNextHeader;
  size_t upper_offset = 0;
  uint8_t extension_headers = 0;  // how many were walked

  // The Fragment header, if one was seen. A fragment whose offset is not 0
  // ends the walk there: its upper_protocol is the Fragment header's Next
  // Header and upper_offset where its fragment data starts (no header).
  bool fragment = false;
  bool first_fragment = false;   // offset 0: the upper-layer header is here
  bool atomic_fragment = false;  // offset 0 and M clear: a whole packet (RFC 6946)
  size_t fragment_header_offset = 0;
  Ipv6FragmentRepr fragment_header;

  // The upper-layer header is in this packet (not No Next Header, and not a
  // later fragment's data).
  bool has_upper_header() const { return upper_protocol != ip_proto::kNoNextHeader && (!fragment || first_fragment); }

  // Walks Hop-by-Hop (0, first only), Routing (43), Fragment (44) and
  // Destination Options (60) headers; any other Next Header ends the chain
  // (AH and ESP included: the stack does not do IPsec). Never reads past
  // packet.bytes(). On failure `error` says why and `pointer` (both
  // optional) the offset of the offending field, for an ICMPv6 Parameter
  // Problem (RFC 4443 §3.4): the Next Header naming a misplaced Hop-by-Hop
  // or the header past the limit, the option type, the Routing Type.
  static std::optional<Ipv6HeaderChain> walk(const Ipv6Packet& packet, Error* error = nullptr,
                                             size_t* pointer = nullptr);
};

}  // namespace dpdkudp::wire
