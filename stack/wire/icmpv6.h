// ICMPv6 (RFC 4443): echo, the four error messages and the checksum over
// the IPv6 pseudo-header. Neighbor Discovery's messages are ICMPv6 too;
// their bodies are parsed in ndp.h.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "stack/wire/bytes.h"

namespace dpdkudp::wire {

namespace icmpv6_type {
inline constexpr uint8_t kDestUnreachable = 1;          // RFC 4443 §3.1
inline constexpr uint8_t kPacketTooBig = 2;             // RFC 4443 §3.2
inline constexpr uint8_t kTimeExceeded = 3;             // RFC 4443 §3.3
inline constexpr uint8_t kParameterProblem = 4;         // RFC 4443 §3.4
inline constexpr uint8_t kEchoRequest = 128;            // RFC 4443 §4.1
inline constexpr uint8_t kEchoReply = 129;              // RFC 4443 §4.2
inline constexpr uint8_t kRouterSolicitation = 133;     // RFC 4861 §4.1
inline constexpr uint8_t kRouterAdvertisement = 134;    // RFC 4861 §4.2
inline constexpr uint8_t kNeighborSolicitation = 135;   // RFC 4861 §4.3
inline constexpr uint8_t kNeighborAdvertisement = 136;  // RFC 4861 §4.4
inline constexpr uint8_t kRedirect = 137;               // RFC 4861 §4.5
}  // namespace icmpv6_type

namespace icmpv6_unreach {  // RFC 4443 §3.1
inline constexpr uint8_t kNoRoute = 0;
inline constexpr uint8_t kAdminProhibited = 1;
inline constexpr uint8_t kBeyondScope = 2;
inline constexpr uint8_t kAddress = 3;
inline constexpr uint8_t kPort = 4;
inline constexpr uint8_t kSourcePolicy = 5;
inline constexpr uint8_t kRejectRoute = 6;
}  // namespace icmpv6_unreach

namespace icmpv6_time_exceeded {  // RFC 4443 §3.3
inline constexpr uint8_t kHopLimit = 0;
inline constexpr uint8_t kReassembly = 1;
}  // namespace icmpv6_time_exceeded

namespace icmpv6_param {  // RFC 4443 §3.4
inline constexpr uint8_t kErroneousField = 0;
inline constexpr uint8_t kUnrecognizedNextHeader = 1;
inline constexpr uint8_t kUnrecognizedOption = 2;
}  // namespace icmpv6_param

class Icmpv6Packet {
 public:
  static constexpr size_t kHeaderLen = 8;  // type, code, checksum and the 4-octet field after it
  static constexpr size_t kTypeOffset = 0;
  static constexpr size_t kCodeOffset = 1;
  static constexpr size_t kChecksumOffset = 2;
  static constexpr size_t kRestOffset = 4;             // id/seq, unused, MTU, pointer
  static constexpr uint8_t kFirstInformational = 128;  // §2.1: types below are errors

  // `bytes` is the whole ICMPv6 message: the upper-layer bytes of the IPv6
  // packet (its length is the pseudo-header's). Every message RFC 4443 and
  // RFC 4861 define has at least 8 octets.
  static std::optional<Icmpv6Packet> parse(std::span<const uint8_t> bytes) {
    if (bytes.size() < kHeaderLen) return std::nullopt;
    return Icmpv6Packet(bytes);
  }

  uint8_t type() const { return bytes_[kTypeOffset]; }
  uint8_t code() const { return bytes_[kCodeOffset]; }
  uint16_t checksum() const { return load_be16(bytes_.data() + kChecksumOffset); }
  bool is_error() const { return type() < kFirstInformational; }
  uint16_t echo_ident() const { return load_be16(bytes_.data() + kRestOffset); }
  uint16_t echo_seq() const { return load_be16(bytes_.data() + kRestOffset + 2); }
  uint32_t mtu() const { return load_be32(bytes_.data() + kRestOffset); }      // packet too big
  uint32_t pointer() const { return load_be32(bytes_.data() + kRestOffset); }  // parameter problem
  std::span<const uint8_t> data() const { return bytes_.subspan(kHeaderLen); }
  // For an error, the invoking packet from its IPv6 header on, as much of
  // it as the sender fitted (§2.4(c)); parse it with
  // Ipv6Packet::parse_quoted. Empty for informational messages.
  std::span<const uint8_t> invoking_packet() const { return is_error() ? data() : std::span<const uint8_t>{}; }
  std::span<const uint8_t> bytes() const { return bytes_; }

  // RFC 4443 §2.3: over the IPv6 pseudo-header (next header 58) and the
  // whole message.
  bool verify_checksum(const Ipv6Addr& src, const Ipv6Addr& dst) const;

 private:
  explicit Icmpv6Packet(std::span<const uint8_t> b) : bytes_(b) {}
  std::span<const uint8_t> bytes_;
};

// An ICMPv6 message the stack emits. `data` is the echo payload, or for
// errors the invoking packet cut with quote().
struct Icmpv6Repr {
  // RFC 8200 §5: every link carries 1280; an error must fit it (§2.4(c)).
  static constexpr size_t kMinMtu = 1280;
  static constexpr size_t kMaxErrorLen = kMinMtu - 40;  // the ICMPv6 message, after the IPv6 header

  uint8_t type = 0;
  uint8_t code = 0;
  uint16_t ident = 0;    // echo
  uint16_t seq = 0;      // echo
  uint32_t mtu = 0;      // packet too big
  uint32_t pointer = 0;  // parameter problem
  std::span<const uint8_t> data;

  // As much of the invoking packet as an error message may carry.
  static std::span<const uint8_t> quote(std::span<const uint8_t> invoking) {
    return invoking.first(std::min(invoking.size(), kMaxErrorLen - Icmpv6Packet::kHeaderLen));
  }

  size_t buffer_len() const { return Icmpv6Packet::kHeaderLen + data.size(); }
  // Writes header + data + checksum. `data` may alias out's tail (the echo
  // reply is built in place of the request). out.size() >= buffer_len().
  void emit(std::span<uint8_t> out, const Ipv6Addr& src, const Ipv6Addr& dst) const;
};

}  // namespace dpdkudp::wire
