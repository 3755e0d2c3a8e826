// The Internet checksum (RFC 1071), its IPv4 (RFC 768) and IPv6 (RFC 8200
// §8.1) pseudo-headers and its incremental form (RFC 1624).
#pragma once

#include <cstddef>
#include <cstdint>

#include "stack/wire/bytes.h"

namespace dpdkudp::wire {

// One's-complement sum of data folded to 16 bits, NOT inverted. `initial`
// carries a partial sum from a previous call (e.g. the pseudo-header); data
// is taken as big-endian 16-bit words, an odd last byte padded with zero.
// Only chain calls whose earlier pieces have an even length.
uint16_t checksum_fold(const uint8_t* data, size_t len, uint32_t initial = 0);

// The checksum to put in a header: ~fold. A header whose checksum field is
// already filled verifies when internet_checksum() over it is 0.
inline uint16_t internet_checksum(const uint8_t* data, size_t len, uint32_t initial = 0) {
  return static_cast<uint16_t>(~checksum_fold(data, len, initial));
}

// Partial sum of the IPv4 pseudo-header (RFC 768): src, dst, zero, proto,
// length. Feed it as `initial` to checksum_fold().
constexpr uint32_t ipv4_pseudo_header_sum(Ipv4Addr src, Ipv4Addr dst, uint8_t protocol, uint16_t length) {
  uint32_t sum =
      (src.value >> 16) + (src.value & 0xffff) + (dst.value >> 16) + (dst.value & 0xffff) + protocol + length;
  return sum;
}

// Partial sum of the IPv6 pseudo-header (RFC 8200 §8.1): src, dst, the
// upper-layer packet length as 32 bits, three zero octets and the next
// header (the upper-layer protocol, not an extension header's number).
// Feed it as `initial` to checksum_fold().
constexpr uint32_t ipv6_pseudo_header_sum(const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t next_header,
                                          uint32_t length) {
  uint32_t sum = (length >> 16) + (length & 0xffff) + next_header;
  for (size_t i = 0; i < 8; ++i) sum += uint32_t{src.group(i)} + dst.group(i);  // < 2^21: no overflow
  return sum;
}

// Folds a 32-bit partial sum to 16 bits (end-around carry).
constexpr uint16_t fold32(uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') when one 16-bit field changes
// from old_word to new_word.
constexpr uint16_t checksum_update16(uint16_t checksum, uint16_t old_word, uint16_t new_word) {
  uint32_t sum = uint32_t{static_cast<uint16_t>(~checksum)} + uint32_t{static_cast<uint16_t>(~old_word)} + new_word;
  return static_cast<uint16_t>(~fold32(sum));
}

// The same for a 32-bit field (an address).
constexpr uint16_t checksum_update32(uint16_t checksum, uint32_t old_value, uint32_t new_value) {
  checksum =
      checksum_update16(checksum, static_cast<uint16_t>(old_value >> 16), static_cast<uint16_t>(new_value >> 16));
  return checksum_update16(checksum, static_cast<uint16_t>(old_value & 0xffff),
                           static_cast<uint16_t>(new_value & 0xffff));
}

// A one's-complement sum built from pieces of any length, in order (an
// iovec). A piece that starts at an odd offset contributes its sum
// byte-swapped (RFC 1071 §2(B)).
class PartialChecksum {
 public:
  void add(const uint8_t* data, size_t len) {
    uint16_t s = checksum_fold(data, len);
    if (len_ & 1) s = static_cast<uint16_t>((s >> 8) | (s << 8));
    sum_ += s;
    len_ += len;
  }
  uint16_t folded() const { return fold32(sum_); }
  size_t length() const { return len_; }

 private:
  uint32_t sum_ = 0;  // up to 65535 pieces before it could overflow
  size_t len_ = 0;
};

}  // namespace dpdkudp::wire
