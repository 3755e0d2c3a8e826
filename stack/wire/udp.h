// UDP (RFC 768) over IPv4 and over IPv6 (RFC 8200 §8.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "stack/wire/bytes.h"
#include "stack/wire/checksum.h"

namespace dpdkudp::wire {

class UdpDatagram {
 public:
  static constexpr size_t kHeaderLen = 8;
  static constexpr size_t kSrcPortOffset = 0;
  static constexpr size_t kDstPortOffset = 2;
  static constexpr size_t kLengthOffset = 4;
  static constexpr size_t kChecksumOffset = 6;

  // Checks 8 <= length field <= bytes.size(); payload() ends at length.
  static std::optional<UdpDatagram> parse(std::span<const uint8_t> bytes) {
    if (bytes.size() < kHeaderLen) return std::nullopt;
    uint16_t length = load_be16(bytes.data() + kLengthOffset);
    if (length < kHeaderLen || length > bytes.size()) return std::nullopt;
    return UdpDatagram(bytes.data());
  }

  uint16_t src_port() const { return load_be16(p_ + kSrcPortOffset); }
  uint16_t dst_port() const { return load_be16(p_ + kDstPortOffset); }
  uint16_t length() const { return load_be16(p_ + kLengthOffset); }
  uint16_t checksum() const { return load_be16(p_ + kChecksumOffset); }
  std::span<const uint8_t> payload() const { return {p_ + kHeaderLen, size_t{length()} - kHeaderLen}; }
  std::span<const uint8_t> bytes() const { return {p_, length()}; }

  // RFC 768: a transmitted checksum of zero means the sender computed none.
  bool verify_checksum(Ipv4Addr src, Ipv4Addr dst) const;
  // RFC 8200 §8.1: over IPv6 the checksum is mandatory and receivers
  // discard a datagram whose checksum is zero: it verifies false.
  bool verify_checksum(const Ipv6Addr& src, const Ipv6Addr& dst) const;

 private:
  explicit UdpDatagram(const uint8_t* p) : p_(p) {}
  const uint8_t* p_;
};

enum class ChecksumMode {
  kFull,          // compute the whole checksum in software
  kPseudoHeader,  // write the pseudo-header sum for the device (kTxUdpCsum)
  kNone,          // leave zero (IPv4 only: over IPv6 it is computed as kFull)
};

struct UdpRepr {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;

  static constexpr size_t kHeaderLen = UdpDatagram::kHeaderLen;
  // Writes the header at the front of `datagram`, whose tail (after 8 bytes)
  // already holds the payload; its size is the UDP length.
  void emit(std::span<uint8_t> datagram, Ipv4Addr src, Ipv4Addr dst, ChecksumMode mode) const;

  // The same for kFull when the caller already has the payload's folded
  // sum (taken from the source while copying it): the frame is not read
  // back, which also avoids loads stalling on the stores just made.
  void emit_with_payload_sum(std::span<uint8_t> datagram, Ipv4Addr src, Ipv4Addr dst, uint16_t payload_sum) const;

  // The same over IPv6. RFC 8200 §8.1 forbids a zero checksum, so kNone is
  // computed as kFull, and a computed zero is sent as all ones.
  void emit(std::span<uint8_t> datagram, const Ipv6Addr& src, const Ipv6Addr& dst, ChecksumMode mode) const;
  void emit_with_payload_sum(std::span<uint8_t> datagram, const Ipv6Addr& src, const Ipv6Addr& dst,
                             uint16_t payload_sum) const;
};

}  // namespace dpdkudp::wire
