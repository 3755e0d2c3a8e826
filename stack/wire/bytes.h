// Byte-order helpers and address types shared by every wire format.
// Loads and stores go through memcpy so no field is read through a cast to
// a packed struct (alignment-safe, and the compiler emits one mov + bswap).
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "base/addr.h"

namespace dpdkudp::wire {

inline uint16_t load_be16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return __builtin_bswap16(v);
}
inline uint32_t load_be32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline void store_be16(uint8_t* p, uint16_t v) {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, 2);
}
inline void store_be32(uint8_t* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}

// An IPv4 address in host byte order (prefix arithmetic stays readable).
struct Ipv4Addr {
  uint32_t value = 0;

  constexpr Ipv4Addr() = default;
  constexpr explicit Ipv4Addr(uint32_t host_order) : value(host_order) {}
  constexpr Ipv4Addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
      : value((uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d) {}

  static Ipv4Addr load(const uint8_t* p) { return Ipv4Addr(load_be32(p)); }
  void store(uint8_t* p) const { store_be32(p, value); }

  static constexpr Ipv4Addr any() { return Ipv4Addr(0u); }
  static constexpr Ipv4Addr broadcast() { return Ipv4Addr(0xffffffffu); }
  constexpr bool is_unspecified() const { return value == 0; }
  constexpr bool is_broadcast() const { return value == 0xffffffffu; }
  constexpr bool is_multicast() const { return (value >> 28) == 0xe; }
  constexpr bool is_loopback() const { return (value >> 24) == 127; }

  // Parses dotted quad ("198.18.0.1"); nullopt on anything else.
  static std::optional<Ipv4Addr> parse(std::string_view text);
  std::string to_string() const;

  friend constexpr bool operator==(Ipv4Addr, Ipv4Addr) = default;
};

// The network mask for a prefix length 0..32.
constexpr uint32_t prefix_mask(unsigned prefix_len) { return prefix_len == 0 ? 0u : ~uint32_t{0} << (32 - prefix_len); }

// An address with its prefix ("198.18.0.2/24").
struct Ipv4Cidr {
  Ipv4Addr addr;
  uint8_t prefix_len = 32;

  static std::optional<Ipv4Cidr> parse(std::string_view text);
  constexpr bool contains(Ipv4Addr a) const { return ((a.value ^ addr.value) & prefix_mask(prefix_len)) == 0; }
  constexpr Ipv4Addr network() const { return Ipv4Addr(addr.value & prefix_mask(prefix_len)); }
  constexpr Ipv4Addr directed_broadcast() const { return Ipv4Addr(addr.value | ~prefix_mask(prefix_len)); }
  std::string to_string() const;
  friend constexpr bool operator==(const Ipv4Cidr&, const Ipv4Cidr&) = default;
};

// An IPv6 address (RFC 4291), kept as its 16 octets in network order:
// IPv6 prefixes are compared octet by octet, never added to.
struct Ipv6Addr {
  std::array<uint8_t, 16> octets{};

  static constexpr size_t kLen = 16;

  constexpr Ipv6Addr() = default;
  constexpr explicit Ipv6Addr(const std::array<uint8_t, 16>& o) : octets(o) {}
  // From the eight 16-bit groups as written: Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 1).
  constexpr Ipv6Addr(uint16_t g0, uint16_t g1, uint16_t g2, uint16_t g3, uint16_t g4, uint16_t g5, uint16_t g6,
                     uint16_t g7) {
    const uint16_t groups[8] = {g0, g1, g2, g3, g4, g5, g6, g7};
    for (size_t i = 0; i < 8; ++i) {
      octets[2 * i] = static_cast<uint8_t>(groups[i] >> 8);
      octets[2 * i + 1] = static_cast<uint8_t>(groups[i] & 0xff);
    }
  }

  static Ipv6Addr load(const uint8_t* p) {
    Ipv6Addr a;
    std::memcpy(a.octets.data(), p, kLen);
    return a;
  }
  void store(uint8_t* p) const { std::memcpy(p, octets.data(), kLen); }
  // Group i (0..7) in host order.
  constexpr uint16_t group(size_t i) const { return static_cast<uint16_t>((octets[2 * i] << 8) | octets[2 * i + 1]); }

  static constexpr Ipv6Addr unspecified() { return Ipv6Addr(); }
  static constexpr Ipv6Addr loopback() { return Ipv6Addr(0, 0, 0, 0, 0, 0, 0, 1); }
  // RFC 4291 §2.7.1: the link-local all-nodes and all-routers groups.
  static constexpr Ipv6Addr all_nodes() { return Ipv6Addr(0xff02, 0, 0, 0, 0, 0, 0, 1); }
  static constexpr Ipv6Addr all_routers() { return Ipv6Addr(0xff02, 0, 0, 0, 0, 0, 0, 2); }
  // RFC 4291 §2.5.5.2: ::ffff:a.b.c.d.
  static constexpr Ipv6Addr v4_mapped(Ipv4Addr v4) {
    return Ipv6Addr(0, 0, 0, 0, 0, 0xffff, static_cast<uint16_t>(v4.value >> 16),
                    static_cast<uint16_t>(v4.value & 0xffff));
  }

  constexpr bool is_unspecified() const {
    if (std::is_constant_evaluated()) return *this == Ipv6Addr();
    return (half(0) | half(8)) == 0;
  }
  constexpr bool is_loopback() const { return *this == loopback(); }
  constexpr bool is_multicast() const { return octets[0] == 0xff; }  // ff00::/8 (§2.7)
  constexpr bool is_link_local() const {                             // fe80::/10 (§2.5.6)
    return octets[0] == 0xfe && (octets[1] & 0xc0) == 0x80;
  }
  constexpr bool is_v4_mapped() const {  // ::ffff:0:0/96 (§2.5.5.2)
    if (!std::is_constant_evaluated()) {
      uint32_t mid = 0;
      std::memcpy(&mid, octets.data() + 8, 4);
      return half(0) == 0 && mid == kMappedMarker;
    }
    for (size_t i = 0; i < 10; ++i) {
      if (octets[i] != 0) return false;
    }
    return octets[10] == 0xff && octets[11] == 0xff;
  }
  // The IPv4 address inside a v4-mapped address; nullopt for any other.
  constexpr std::optional<Ipv4Addr> mapped_v4() const {
    if (!is_v4_mapped()) return std::nullopt;
    return Ipv4Addr(octets[12], octets[13], octets[14], octets[15]);
  }
  // The scope field of a multicast address (RFC 4291 §2.7: 2 = link-local).
  constexpr uint8_t multicast_scope() const { return octets[1] & 0x0f; }

  // RFC 4291 §2.7.1: ff02::1:ffXX:XXXX, the low 24 bits of this address.
  constexpr Ipv6Addr solicited_node() const {
    Ipv6Addr a(0xff02, 0, 0, 0, 0, 1, 0xff00, 0);
    a.octets[13] = octets[13];
    a.octets[14] = octets[14];
    a.octets[15] = octets[15];
    return a;
  }
  // In ff02::1:ff00:0/104: exactly when it equals the group its own low 24
  // bits make.
  constexpr bool is_solicited_node() const { return *this == solicited_node(); }
  // RFC 2464 §7: a multicast address goes to 33:33 and its low 32 bits.
  constexpr MacAddr multicast_mac() const { return {0x33, 0x33, octets[12], octets[13], octets[14], octets[15]}; }

  // RFC 4291 §2.2 text: hex groups, one "::", an optional dotted quad for
  // the last 32 bits. No zone ("%eth0"), no brackets. nullopt otherwise.
  static std::optional<Ipv6Addr> parse(std::string_view text);
  // RFC 5952: lower case, no leading zeros, the longest (first) run of two
  // or more zero groups as "::", and ::ffff:a.b.c.d for v4-mapped (§5).
  std::string to_string() const;

  // Two 64-bit compares at run time (the defaulted form calls memcmp).
  friend constexpr bool operator==(const Ipv6Addr& a, const Ipv6Addr& b) {
    if (std::is_constant_evaluated()) return a.octets == b.octets;
    return ((a.half(0) ^ b.half(0)) | (a.half(8) ^ b.half(8))) == 0;
  }

  // The address's two halves as numbers (octet 0 most significant).
  uint64_t high64() const { return be64(0); }
  uint64_t low64() const { return be64(8); }

 private:
  uint64_t be64(size_t at) const {
    uint64_t v = half(at);
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
    return v;
  }
  // Octets 8..11 of ::ffff:a.b.c.d as a native-order word.
  static constexpr uint32_t kMappedMarker = std::endian::native == std::endian::little ? 0xffff0000u : 0x0000ffffu;
  uint64_t half(size_t at) const {
    uint64_t v;
    std::memcpy(&v, octets.data() + at, 8);
    return v;
  }
};

// The mask of octet i (0..15) under a prefix length 0..128.
constexpr uint8_t prefix_octet_mask(unsigned prefix_len, size_t i) {
  if (prefix_len >= (i + 1) * 8) return 0xff;
  if (prefix_len <= i * 8) return 0;
  return static_cast<uint8_t>(0xff << (8 - (prefix_len - i * 8)));
}

// An IPv6 address with its prefix ("2001:2::1/48").
struct Ipv6Cidr {
  Ipv6Addr addr;
  uint8_t prefix_len = 128;

  static std::optional<Ipv6Cidr> parse(std::string_view text);
  constexpr bool contains(const Ipv6Addr& a) const {
    if (!std::is_constant_evaluated()) {
      // Two 64-bit compares under the prefix's masks (the TX path's route
      // lookup and source choice run this per datagram).
      const unsigned len = prefix_len > 128 ? 128 : prefix_len;
      const uint64_t mask_hi = len >= 64 ? ~uint64_t{0} : (len == 0 ? 0 : ~uint64_t{0} << (64 - len));
      const uint64_t mask_lo = len <= 64 ? 0 : (len >= 128 ? ~uint64_t{0} : ~uint64_t{0} << (128 - len));
      return ((a.high64() ^ addr.high64()) & mask_hi) == 0 && ((a.low64() ^ addr.low64()) & mask_lo) == 0;
    }
    for (size_t i = 0; i < Ipv6Addr::kLen; ++i) {
      if (((a.octets[i] ^ addr.octets[i]) & prefix_octet_mask(prefix_len, i)) != 0) return false;
    }
    return true;
  }
  constexpr Ipv6Addr network() const {
    Ipv6Addr n = addr;
    for (size_t i = 0; i < Ipv6Addr::kLen; ++i) {
      n.octets[i] = static_cast<uint8_t>(n.octets[i] & prefix_octet_mask(prefix_len, i));
    }
    return n;
  }
  std::string to_string() const;
  friend constexpr bool operator==(const Ipv6Cidr&, const Ipv6Cidr&) = default;
};

inline constexpr MacAddr kBroadcastMac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
inline constexpr MacAddr kZeroMac = {0, 0, 0, 0, 0, 0};

inline MacAddr load_mac(const uint8_t* p) {
  MacAddr m;
  std::memcpy(m.data(), p, 6);
  return m;
}
inline void store_mac(uint8_t* p, const MacAddr& m) { std::memcpy(p, m.data(), 6); }
std::optional<MacAddr> parse_mac(std::string_view text);  // "aa:bb:cc:dd:ee:ff"
std::string mac_to_string(const MacAddr& m);

}  // namespace dpdkudp::wire
