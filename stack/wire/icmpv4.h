// ICMP for IPv4 (RFC 792, RFC 1191 for the next-hop MTU).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "stack/wire/bytes.h"

namespace dpdkudp::wire {

namespace icmp_type {
inline constexpr uint8_t kEchoReply = 0;
inline constexpr uint8_t kDestUnreachable = 3;
inline constexpr uint8_t kRedirect = 5;
inline constexpr uint8_t kEchoRequest = 8;
inline constexpr uint8_t kTimeExceeded = 11;
inline constexpr uint8_t kParameterProblem = 12;
}  // namespace icmp_type

namespace icmp_unreach {
inline constexpr uint8_t kNet = 0;
inline constexpr uint8_t kHost = 1;
inline constexpr uint8_t kProtocol = 2;
inline constexpr uint8_t kPort = 3;
inline constexpr uint8_t kFragNeeded = 4;
inline constexpr uint8_t kNetUnknown = 6;
inline constexpr uint8_t kHostUnknown = 7;
inline constexpr uint8_t kNetProhibited = 9;
inline constexpr uint8_t kHostProhibited = 10;
inline constexpr uint8_t kAdminProhibited = 13;
}  // namespace icmp_unreach

class Icmpv4Packet {
 public:
  static constexpr size_t kHeaderLen = 8;
  static constexpr size_t kTypeOffset = 0;
  static constexpr size_t kCodeOffset = 1;
  static constexpr size_t kChecksumOffset = 2;
  static constexpr size_t kRestOffset = 4;  // id/seq, unused/MTU, pointer

  static std::optional<Icmpv4Packet> parse(std::span<const uint8_t> bytes);

  uint8_t type() const { return bytes_[kTypeOffset]; }
  uint8_t code() const { return bytes_[kCodeOffset]; }
  uint16_t checksum() const { return load_be16(bytes_.data() + kChecksumOffset); }
  uint16_t echo_ident() const { return load_be16(bytes_.data() + kRestOffset); }
  uint16_t echo_seq() const { return load_be16(bytes_.data() + kRestOffset + 2); }
  uint16_t next_hop_mtu() const { return load_be16(bytes_.data() + kRestOffset + 2); }
  uint8_t pointer() const { return bytes_[kRestOffset]; }
  std::span<const uint8_t> data() const { return bytes_.subspan(kHeaderLen); }
  std::span<const uint8_t> bytes() const { return bytes_; }

  bool verify_checksum() const;

 private:
  explicit Icmpv4Packet(std::span<const uint8_t> b) : bytes_(b) {}
  std::span<const uint8_t> bytes_;
};

// An ICMP message the stack emits. `data` is the echo payload, or for
// errors the offending IP header plus the first 8 bytes of its payload
// (RFC 792); the caller trims it.
struct Icmpv4Repr {
  uint8_t type = 0;
  uint8_t code = 0;
  uint16_t ident = 0;         // echo
  uint16_t seq = 0;           // echo
  uint16_t next_hop_mtu = 0;  // dest-unreachable/frag-needed
  std::span<const uint8_t> data;

  size_t buffer_len() const { return Icmpv4Packet::kHeaderLen + data.size(); }
  // Writes header + data + checksum. `data` may alias out's tail (the echo
  // reply is built in place of the request).
  void emit(std::span<uint8_t> out) const;
};

}  // namespace dpdkudp::wire
