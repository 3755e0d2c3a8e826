// IPv4 (RFC 791).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "stack/wire/bytes.h"
#include "stack/wire/ip_proto.h"

namespace dpdkudp::wire {

class Ipv4Packet {
 public:
  static constexpr size_t kMinHeaderLen = 20;
  static constexpr size_t kVerIhlOffset = 0;
  static constexpr size_t kTosOffset = 1;
  static constexpr size_t kTotalLenOffset = 2;
  static constexpr size_t kIdentOffset = 4;
  static constexpr size_t kFlagsFragOffset = 6;
  static constexpr size_t kTtlOffset = 8;
  static constexpr size_t kProtocolOffset = 9;
  static constexpr size_t kChecksumOffset = 10;
  static constexpr size_t kSrcOffset = 12;
  static constexpr size_t kDstOffset = 16;
  static constexpr uint16_t kFlagDontFragment = 0x4000;
  static constexpr uint16_t kFlagMoreFragments = 0x2000;
  static constexpr uint16_t kFragOffsetMask = 0x1fff;

  enum class Error { kTruncated, kBadVersion, kBadHeaderLen, kBadTotalLen };

  // Checks version 4, IHL >= 5, IHL*4 <= total length <= bytes.size().
  // Bytes past the total length (Ethernet padding) are excluded from
  // payload(). On failure `error` (when given) says why.
  // Inline: it runs per frame and an out-of-line optional<> return goes
  // through memory.
  static std::optional<Ipv4Packet> parse(std::span<const uint8_t> bytes, Error* error = nullptr) {
    auto fail = [error](Error e) -> std::optional<Ipv4Packet> {
      if (error) *error = e;
      return std::nullopt;
    };
    if (bytes.size() < kMinHeaderLen) return fail(Error::kTruncated);
    const uint8_t* p = bytes.data();
    if ((p[kVerIhlOffset] >> 4) != 4) return fail(Error::kBadVersion);
    size_t header_len = size_t{p[kVerIhlOffset] & 0x0fu} * 4;
    if (header_len < kMinHeaderLen) return fail(Error::kBadHeaderLen);
    size_t total_len = load_be16(p + kTotalLenOffset);
    if (total_len < header_len) return fail(Error::kBadTotalLen);
    if (total_len > bytes.size()) return fail(Error::kTruncated);
    return Ipv4Packet(p);
  }

  size_t header_len() const { return size_t{p_[kVerIhlOffset] & 0x0fu} * 4; }
  uint16_t total_len() const { return load_be16(p_ + kTotalLenOffset); }
  uint8_t tos() const { return p_[kTosOffset]; }
  uint16_t ident() const { return load_be16(p_ + kIdentOffset); }
  uint16_t flags_frag() const { return load_be16(p_ + kFlagsFragOffset); }
  bool dont_fragment() const { return (flags_frag() & kFlagDontFragment) != 0; }
  bool more_fragments() const { return (flags_frag() & kFlagMoreFragments) != 0; }
  uint16_t frag_offset() const { return flags_frag() & kFragOffsetMask; }  // in 8-byte units
  bool is_fragment() const { return (flags_frag() & (kFlagMoreFragments | kFragOffsetMask)) != 0; }
  uint8_t ttl() const { return p_[kTtlOffset]; }
  uint8_t protocol() const { return p_[kProtocolOffset]; }
  uint16_t checksum() const { return load_be16(p_ + kChecksumOffset); }
  Ipv4Addr src() const { return Ipv4Addr::load(p_ + kSrcOffset); }
  Ipv4Addr dst() const { return Ipv4Addr::load(p_ + kDstOffset); }

  std::span<const uint8_t> header() const { return {p_, header_len()}; }
  std::span<const uint8_t> options() const { return {p_ + kMinHeaderLen, header_len() - kMinHeaderLen}; }
  std::span<const uint8_t> payload() const { return {p_ + header_len(), total_len() - header_len()}; }

  bool verify_checksum() const;

 private:
  explicit Ipv4Packet(const uint8_t* p) : p_(p) {}
  const uint8_t* p_;
};

// A header the stack emits: always 20 bytes, no options.
struct Ipv4Repr {
  Ipv4Addr src;
  Ipv4Addr dst;
  uint8_t protocol = 0;
  uint16_t payload_len = 0;
  uint8_t ttl = 64;
  uint8_t tos = 0;
  uint16_t ident = 0;
  bool dont_fragment = true;

  static constexpr size_t kBufferLen = Ipv4Packet::kMinHeaderLen;
  static Ipv4Repr parse(const Ipv4Packet& packet);
  // Writes the header; the checksum is computed when fill_checksum, else
  // left 0 for the device to fill (kTxIpv4Csum).
  void emit(std::span<uint8_t> out, bool fill_checksum = true) const;
};

}  // namespace dpdkudp::wire
