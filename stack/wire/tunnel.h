// The three UDP encapsulations a tunnel endpoint speaks: VXLAN (RFC 7348),
// GENEVE (RFC 8926) and GUE (variant 0 and 1 of the IETF draft Linux's fou
// implements). Each is the header that follows the outer UDP header; the
// outer IP and UDP headers are the usual ones. Views borrow the caller's
// bytes; no parse allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "stack/wire/bytes.h"
#include "stack/wire/ip_proto.h"

namespace dpdkudp::wire {

namespace tunnel_detail {
template <typename E>
std::nullopt_t fail(E* error, E e) {
  if (error) *error = e;
  return std::nullopt;
}
}  // namespace tunnel_detail

namespace tunnel_port {
inline constexpr uint16_t kVxlan = 4789;   // IANA
inline constexpr uint16_t kGeneve = 6081;  // IANA
inline constexpr uint16_t kGue = 6080;     // Linux's fou examples; no IANA port
}  // namespace tunnel_port

// GENEVE's protocol type for an inner Ethernet frame ("Transparent Ethernet
// Bridging").
inline constexpr uint16_t kEtherTypeTeb = 0x6558;

// VXLAN: flags(8, I = 0x08) reserved(24) VNI(24) reserved(8).
class VxlanHeader {
 public:
  static constexpr size_t kLen = 8;
  static constexpr uint8_t kFlagVni = 0x08;

  enum class Error { kTruncated, kNoVni };
  // RFC 7348 §5: the I flag must be set; the reserved fields are ignored
  // on receive.
  static std::optional<VxlanHeader> parse(std::span<const uint8_t> bytes, Error* error = nullptr);
  uint32_t vni() const { return load_be32(p_ + 4) >> 8; }

 private:
  explicit VxlanHeader(const uint8_t* p) : p_(p) {}
  const uint8_t* p_;
};

// Writes the 8 bytes (reserved fields zero).
void emit_vxlan(uint8_t* out, uint32_t vni);

// GENEVE: ver(2) opt_len(6) O(1) C(1) rsvd(6) protocol(16) VNI(24)
// rsvd(8), then opt_len * 4 bytes of options, each class(16) type(8)
// rsvd(3) length(5) and length * 4 bytes of data.
class GeneveHeader {
 public:
  static constexpr size_t kFixedLen = 8;
  static constexpr size_t kMaxOptionsLen = 63 * 4;
  static constexpr uint8_t kFlagOam = 0x80;       // O: control packet
  static constexpr uint8_t kFlagCritical = 0x40;  // C: a critical option is present

  enum class Error { kTruncated, kBadVersion, kBadOptions };
  // Version 0 only (§3.4: others are dropped); the header and every option
  // inside opt_len.
  static std::optional<GeneveHeader> parse(std::span<const uint8_t> bytes, Error* error = nullptr);

  size_t header_len() const { return kFixedLen + options_len(); }
  size_t options_len() const { return size_t{static_cast<uint8_t>(p_[0] & 0x3f)} * 4; }
  bool oam() const { return (p_[1] & kFlagOam) != 0; }
  bool critical() const { return (p_[1] & kFlagCritical) != 0; }
  uint16_t protocol() const { return load_be16(p_ + 2); }
  uint32_t vni() const { return load_be32(p_ + 4) >> 8; }
  std::span<const uint8_t> options() const { return {p_ + kFixedLen, options_len()}; }

  struct Option {
    uint16_t option_class = 0;
    uint8_t type = 0;  // the high bit marks a critical option (§3.5)
    std::span<const uint8_t> data;
  };
  // Calls f(const Option&) for each option, in order (parse() checked them).
  template <typename F>
  void for_each_option(F&& f) const {
    std::span<const uint8_t> o = options();
    while (o.size() >= 4) {
      size_t len = size_t{static_cast<uint8_t>(o[3] & 0x1f)} * 4;
      f(Option{load_be16(o.data()), o[2], o.subspan(4, len)});
      o = o.subspan(4 + len);
    }
  }

 private:
  explicit GeneveHeader(const uint8_t* p) : p_(p) {}
  const uint8_t* p_;
};

// Writes the fixed 8 bytes followed by `options` (a multiple of 4 bytes,
// at most kMaxOptionsLen, already in wire form).
void emit_geneve(uint8_t* out, uint32_t vni, uint16_t protocol, std::span<const uint8_t> options);

// GUE. Variant 0: ver(2)=0 C(1) hlen(5) proto/ctype(8) flags(16), then
// hlen * 4 bytes of extension fields. Variant 1 (first two bits 01) is no
// header at all: the UDP payload is an IPv4 or IPv6 packet.
class GueHeader {
 public:
  static constexpr size_t kLen = 4;

  enum class Error { kTruncated, kBadVersion, kControl, kBadProtocol };
  // A data message carrying IPv4 (protocol 4) or IPv6 (41); variant 1 is
  // read from the inner version nibble. Control messages are not ours.
  static std::optional<GueHeader> parse(std::span<const uint8_t> bytes, Error* error = nullptr);

  // Bytes before the inner packet (0 for variant 1).
  size_t header_len() const { return header_len_; }
  uint8_t protocol() const { return protocol_; }  // ip_proto::kIpip or kIpv6

 private:
  GueHeader(size_t header_len, uint8_t protocol) : header_len_(header_len), protocol_(protocol) {}
  size_t header_len_;
  uint8_t protocol_;
};

// Writes a variant-0 header with no extension fields.
void emit_gue(uint8_t* out, uint8_t protocol);

// The outer UDP source port for a flow: a hash of the inner flow scaled
// into [low, high], as Linux's udp_flow_src_port() spreads tunnels over
// ECMP paths and RSS queues.
inline uint16_t flow_source_port(uint32_t flow_hash, uint16_t low, uint16_t high) {
  uint32_t range = uint32_t{high} - low + 1;
  return static_cast<uint16_t>(low + ((uint64_t{flow_hash} * range) >> 32));
}

// A flow hash of an inner flow's addresses and ports (murmur3's finaliser
// over the folded words: cheap, and every input bit reaches the top bits
// flow_source_port() uses).
inline uint32_t flow_hash(uint32_t a, uint32_t b, uint32_t ports) {
  uint32_t h = a * 0x9e3779b1u ^ (b + 0x7f4a7c15u) ^ (ports * 0x85ebca6bu);
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

// The parsers are inline: an optional returned across a call costs a
// store-forwarding stall on the receive path.
inline std::optional<VxlanHeader> VxlanHeader::parse(std::span<const uint8_t> bytes, Error* error) {
  if (bytes.size() < kLen) return tunnel_detail::fail(error, Error::kTruncated);
  if ((bytes[0] & kFlagVni) == 0) return tunnel_detail::fail(error, Error::kNoVni);
  return VxlanHeader(bytes.data());
}

inline std::optional<GeneveHeader> GeneveHeader::parse(std::span<const uint8_t> bytes, Error* error) {
  if (bytes.size() < kFixedLen) return tunnel_detail::fail(error, Error::kTruncated);
  if ((bytes[0] >> 6) != 0) return tunnel_detail::fail(error, Error::kBadVersion);
  size_t opt_len = size_t{static_cast<uint8_t>(bytes[0] & 0x3f)} * 4;
  if (bytes.size() < kFixedLen + opt_len) return tunnel_detail::fail(error, Error::kTruncated);
  // Every option's length must end inside opt_len exactly (§3.5).
  std::span<const uint8_t> o = bytes.subspan(kFixedLen, opt_len);
  while (!o.empty()) {
    if (o.size() < 4) return tunnel_detail::fail(error, Error::kBadOptions);
    size_t len = 4 + size_t{static_cast<uint8_t>(o[3] & 0x1f)} * 4;
    if (len > o.size()) return tunnel_detail::fail(error, Error::kBadOptions);
    o = o.subspan(len);
  }
  return GeneveHeader(bytes.data());
}

inline std::optional<GueHeader> GueHeader::parse(std::span<const uint8_t> bytes, Error* error) {
  if (bytes.empty()) return tunnel_detail::fail(error, Error::kTruncated);
  switch (bytes[0] >> 6) {
    case 0: {
      if (bytes.size() < kLen) return tunnel_detail::fail(error, Error::kTruncated);
      if ((bytes[0] & 0x20) != 0) return tunnel_detail::fail(error, Error::kControl);
      size_t len = kLen + size_t{static_cast<uint8_t>(bytes[0] & 0x1f)} * 4;
      if (bytes.size() < len) return tunnel_detail::fail(error, Error::kTruncated);
      uint8_t proto = bytes[1];
      if (proto != ip_proto::kIpip && proto != ip_proto::kIpv6) return tunnel_detail::fail(error, Error::kBadProtocol);
      return GueHeader(len, proto);
    }
    case 1:  // direct IP: the version nibble is 4 (0100) or 6 (0110)
      switch (bytes[0] >> 4) {
        case 4: return GueHeader(0, ip_proto::kIpip);
        case 6: return GueHeader(0, ip_proto::kIpv6);
        default: return tunnel_detail::fail(error, Error::kBadProtocol);
      }
    default: return tunnel_detail::fail(error, Error::kBadVersion);
  }
}

}  // namespace dpdkudp::wire
