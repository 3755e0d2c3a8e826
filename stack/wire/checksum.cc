#include "stack/wire/checksum.h"

#include <bit>
#include <cstring>

namespace dpdkudp::wire {

static_assert(std::endian::native == std::endian::little, "checksum_fold assumes little-endian");

// One's-complement addition is byte-order independent (RFC 1071 §2(B)), so
// the data is summed in native order and byte-swapped once at the end.
// 32-bit words go into 64-bit accumulators: no carry handling is needed
// until the end (2^32 words would be needed to overflow), and four
// independent accumulators let the adds run in parallel (the compiler
// vectorises the 32-byte loop).
namespace {
inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
}  // namespace

uint16_t checksum_fold(const uint8_t* data, size_t len, uint32_t initial) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  while (len >= 32) {
    // Scalar 64-bit loads split into 32-bit halves (a local array would be
    // spilled and reloaded through the stack).
    uint64_t w0 = load64(data), w1 = load64(data + 8), w2 = load64(data + 16), w3 = load64(data + 24);
    a += (w0 & 0xffffffffu) + (w0 >> 32);
    b += (w1 & 0xffffffffu) + (w1 >> 32);
    c += (w2 & 0xffffffffu) + (w2 >> 32);
    d += (w3 & 0xffffffffu) + (w3 >> 32);
    data += 32;
    len -= 32;
  }
  while (len >= 4) {
    uint32_t w;
    std::memcpy(&w, data, 4);
    a += w;
    data += 4;
    len -= 4;
  }
  if (len >= 2) {
    uint16_t w;
    std::memcpy(&w, data, 2);
    b += w;
    data += 2;
    len -= 2;
  }
  if (len == 1) {
    // The odd byte is the high byte of a big-endian word padded with zero;
    // in little-endian native order that is the low byte.
    c += *data;
  }
  uint64_t sum = a + b + c + d;  // each is < 2^62: no overflow
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffffffu) + (sum >> 32);
  uint16_t native = fold32(static_cast<uint32_t>(sum));
  uint16_t be = static_cast<uint16_t>((native >> 8) | (native << 8));
  return fold32(uint32_t{be} + fold32(initial));
}

}  // namespace dpdkudp::wire
