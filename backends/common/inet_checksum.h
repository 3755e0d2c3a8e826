// The Internet checksum (RFC 1071), header-only and independent of stack/:
// the software offloads play the NIC, and a NIC does not link the stack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace dpdkudp::common {

// Adds data to a running one's-complement sum, as big-endian 16-bit words;
// an odd last byte is padded with zero (RFC 1071 section 4.1). Chain calls
// only after pieces of even length. The 64-bit accumulator cannot overflow
// for any frame a buffer can hold.
inline uint64_t csum_add(std::span<const uint8_t> data, uint64_t sum = 0) {
  size_t i = 0;
  for (; i + 1 < data.size(); i += 2) {
    sum += static_cast<uint64_t>(data[i]) << 8 | data[i + 1];
  }
  if (i < data.size()) {
    sum += static_cast<uint64_t>(data[i]) << 8;
  }
  return sum;
}

// Folds the running sum to 16 bits with end-around carry, NOT inverted.
inline uint16_t csum_fold(uint64_t sum) {
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(sum);
}

// The value to store in a checksum field: the complement of the folded sum.
// A header whose field is already filled verifies when the fold is 0xffff.
inline uint16_t csum_finish(uint64_t sum) { return static_cast<uint16_t>(~csum_fold(sum)); }

}  // namespace dpdkudp::common
