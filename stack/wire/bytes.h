// Byte-order helpers and address types shared by every wire format.
// Loads and stores go through memcpy so no field is read through a cast to
// a packed struct (alignment-safe, and the compiler emits one mov + bswap).
#pragma once

#include <array>
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
constexpr uint32_t prefix_mask(unsigned prefix_len) {
  return prefix_len == 0 ? 0u : ~uint32_t{0} << (32 - prefix_len);
}

// An address with its prefix ("198.18.0.2/24").
struct Ipv4Cidr {
  Ipv4Addr addr;
  uint8_t prefix_len = 32;

  static std::optional<Ipv4Cidr> parse(std::string_view text);
  constexpr bool contains(Ipv4Addr a) const {
    return ((a.value ^ addr.value) & prefix_mask(prefix_len)) == 0;
  }
  constexpr Ipv4Addr network() const { return Ipv4Addr(addr.value & prefix_mask(prefix_len)); }
  constexpr Ipv4Addr directed_broadcast() const {
    return Ipv4Addr(addr.value | ~prefix_mask(prefix_len));
  }
  std::string to_string() const;
  friend constexpr bool operator==(const Ipv4Cidr&, const Ipv4Cidr&) = default;
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
