#include "stack/wire/checksum.h"

#include <bit>
#include <cstring>

namespace dpdkudp::wire {

static_assert(std::endian::native == std::endian::little, "checksum_fold assumes little-endian");

// Sums 64-bit native words with end-around carry, then folds. One's-
// complement addition is byte-order independent (RFC 1071 §2(B)), so the
// native-order sum is byte-swapped once at the end instead of per word.
uint16_t checksum_fold(const uint8_t* data, size_t len, uint32_t initial) {
  uint64_t sum = 0;
  while (len >= 32) {
    uint64_t w[4];
    std::memcpy(w, data, 32);
    // Four independent add-with-carry chains keep the adder ports busy.
    for (uint64_t v : w) {
      sum += v;
      sum += sum < v;
    }
    data += 32;
    len -= 32;
  }
  while (len >= 8) {
    uint64_t w;
    std::memcpy(&w, data, 8);
    sum += w;
    sum += sum < w;
    data += 8;
    len -= 8;
  }
  if (len >= 4) {
    uint32_t w;
    std::memcpy(&w, data, 4);
    sum += w;
    sum += sum < w;
    data += 4;
    len -= 4;
  }
  if (len >= 2) {
    uint16_t w;
    std::memcpy(&w, data, 2);
    sum += w;
    sum += sum < w;
    data += 2;
    len -= 2;
  }
  if (len == 1) {
    // The odd byte is the high byte of a big-endian word padded with zero;
    // in little-endian native order that is the low byte.
    uint16_t w = 0;
    std::memcpy(&w, data, 1);
    sum += w;
    sum += sum < w;
  }
  // Fold 64 -> 16 bits in native order, then to network order.
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffffffu) + (sum >> 32);
  uint16_t native = fold32(static_cast<uint32_t>(sum));
  uint16_t be = static_cast<uint16_t>((native >> 8) | (native << 8));
  return fold32(uint32_t{be} + fold32(initial));
}

}  // namespace dpdkudp::wire
