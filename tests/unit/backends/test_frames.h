// Frames for the backend tests, and a checksum verifier written apart from
// the backend's own (summing 16-bit words with a carry fold per addition,
// the textbook RFC 1071 loop), so a shared mistake cannot hide.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <vector>

namespace dpdkudp::test {

inline constexpr size_t kEthLen = 14;
inline constexpr size_t kIpv4Len = 20;
inline constexpr size_t kIpv6Len = 40;
inline constexpr size_t kUdpLen = 8;

inline uint16_t get16(std::span<const uint8_t> f, size_t at) { return static_cast<uint16_t>(f[at] << 8 | f[at + 1]); }
// Checked (at()) writes: also keeps GCC's -Wnull-dereference quiet about
// vectors it cannot prove non-empty.
inline void put16(std::vector<uint8_t>& f, size_t at, uint16_t v) {
  f.at(at) = static_cast<uint8_t>(v >> 8);
  f.at(at + 1) = static_cast<uint8_t>(v & 0xff);
}

// One's-complement addition of a 16-bit word, carry folded at once.
inline uint16_t ones_add(uint16_t a, uint16_t b) {
  uint32_t s = uint32_t{a} + b;
  return static_cast<uint16_t>((s & 0xffff) + (s >> 16));
}

inline uint16_t ones_sum(std::span<const uint8_t> bytes, uint16_t acc = 0) {
  for (size_t i = 0; i < bytes.size(); i += 2) {
    const uint16_t hi = bytes[i];
    const uint16_t lo = i + 1 < bytes.size() ? bytes[i + 1] : 0;
    acc = ones_add(acc, static_cast<uint16_t>(hi << 8 | lo));
  }
  return acc;
}

struct Udp4Spec {
  uint32_t src_ip = 0xc6120001;  // 198.18.0.1
  uint32_t dst_ip = 0xc6120002;  // 198.18.0.2
  uint16_t src_port = 40000;
  uint16_t dst_port = 5353;
  std::vector<uint8_t> payload = {'h', 'e', 'l', 'l', 'o', '!', '!'};  // odd length
  uint16_t vlan_tci = 0;                                               // non-zero: an 802.1Q tag after the MACs
  bool partial = false;                                                // leave checksums for the NIC (see below)
};

// Ethernet (02:..:0b <- 02:..:0a) + IPv4 + UDP. Complete checksums, or
// with partial: IPv4 checksum 0 and the UDP field holding the
// pseudo-header sum, not inverted — what the stack hands a NIC with
// kTxIpv4Csum | kTxUdpCsum.
inline std::vector<uint8_t> udp4_frame(const Udp4Spec& s) {
  const size_t l2 = kEthLen + (s.vlan_tci != 0 ? 4 : 0);
  const size_t udp_len = kUdpLen + s.payload.size();
  std::vector<uint8_t> f(l2 + kIpv4Len + udp_len, 0);
  const uint8_t macs[12] = {2, 0, 0, 0, 0, 0x0b, 2, 0, 0, 0, 0, 0x0a};
  for (size_t i = 0; i < sizeof(macs); ++i) {
    f.at(i) = macs[i];
  }
  if (s.vlan_tci != 0) {
    put16(f, 12, 0x8100);
    put16(f, 14, s.vlan_tci);
  }
  put16(f, l2 - 2, 0x0800);
  const size_t ip = l2;
  f.at(ip) = 0x45;
  put16(f, ip + 2, static_cast<uint16_t>(kIpv4Len + udp_len));
  put16(f, ip + 4, 0x1234);  // identification
  f[ip + 8] = 64;            // TTL
  f[ip + 9] = 17;            // UDP
  put16(f, ip + 12, static_cast<uint16_t>(s.src_ip >> 16));
  put16(f, ip + 14, static_cast<uint16_t>(s.src_ip & 0xffff));
  put16(f, ip + 16, static_cast<uint16_t>(s.dst_ip >> 16));
  put16(f, ip + 18, static_cast<uint16_t>(s.dst_ip & 0xffff));
  const size_t udp = ip + kIpv4Len;
  put16(f, udp, s.src_port);
  put16(f, udp + 2, s.dst_port);
  put16(f, udp + 4, static_cast<uint16_t>(udp_len));
  for (size_t i = 0; i < s.payload.size(); ++i) {
    f.at(udp + kUdpLen + i) = s.payload[i];
  }

  uint16_t pseudo = ones_sum(std::span<const uint8_t>(f).subspan(ip + 12, 8));
  pseudo = ones_add(pseudo, 17);
  pseudo = ones_add(pseudo, static_cast<uint16_t>(udp_len));
  if (s.partial) {
    put16(f, udp + 6, pseudo);
    return f;
  }
  put16(f, ip + 10, static_cast<uint16_t>(~ones_sum(std::span<const uint8_t>(f).subspan(ip, kIpv4Len))));
  uint16_t csum = static_cast<uint16_t>(~ones_sum(std::span<const uint8_t>(f).subspan(udp, udp_len), pseudo));
  put16(f, udp + 6, csum == 0 ? 0xffff : csum);
  return f;
}

// Ethernet + IPv6 (2001:db8::1 -> 2001:db8::2) + UDP with a complete checksum.
inline std::vector<uint8_t> udp6_frame(std::vector<uint8_t> payload) {
  const size_t udp_len = kUdpLen + payload.size();
  std::vector<uint8_t> f(kEthLen + kIpv6Len + udp_len, 0);
  put16(f, 12, 0x86dd);
  const size_t ip = kEthLen;
  f[ip] = 0x60;
  put16(f, ip + 4, static_cast<uint16_t>(udp_len));
  f[ip + 6] = 17;
  f[ip + 7] = 64;
  for (size_t a : {ip + 8, ip + 24}) {
    put16(f, a, 0x2001);
    put16(f, a + 2, 0x0db8);
  }
  f[ip + 23] = 1;
  f[ip + 39] = 2;
  const size_t udp = ip + kIpv6Len;
  put16(f, udp, 1000);
  put16(f, udp + 2, 2000);
  put16(f, udp + 4, static_cast<uint16_t>(udp_len));
  for (size_t i = 0; i < payload.size(); ++i) {
    f.at(udp + kUdpLen + i) = payload[i];
  }
  uint16_t sum = ones_sum(std::span<const uint8_t>(f).subspan(ip + 8, 32));
  sum = ones_add(sum, static_cast<uint16_t>(udp_len));
  sum = ones_add(sum, 17);
  sum = ones_sum(std::span<const uint8_t>(f).subspan(udp, udp_len), sum);
  const uint16_t csum = static_cast<uint16_t>(~sum);
  put16(f, udp + 6, csum == 0 ? 0xffff : csum);
  return f;
}

// A broadcast ARP request (no IP header: not hashable, goes to queue 0).
inline std::vector<uint8_t> arp_frame() {
  std::vector<uint8_t> f(42, 0);
  for (size_t i = 0; i < 6; ++i) {
    f[i] = 0xff;
  }
  f[6] = 2;
  f[11] = 0x0a;
  put16(f, 12, 0x0806);
  put16(f, 14, 1);       // Ethernet
  put16(f, 16, 0x0800);  // IPv4
  f[18] = 6;
  f[19] = 4;
  put16(f, 20, 1);  // request
  return f;
}

// Offset of the IPv4 header, looking through one 802.1Q tag.
inline size_t ipv4_offset(std::span<const uint8_t> f) { return get16(f, 12) == 0x8100 ? kEthLen + 4 : kEthLen; }

inline bool ipv4_header_checksum_ok(std::span<const uint8_t> f) {
  const size_t ip = ipv4_offset(f);
  const size_t ihl = size_t{f[ip] & 0x0fu} * 4;
  return ones_sum(f.subspan(ip, ihl)) == 0xffff;
}

inline bool udp4_checksum_ok(std::span<const uint8_t> f) {
  const size_t ip = ipv4_offset(f);
  const size_t ihl = size_t{f[ip] & 0x0fu} * 4;
  const size_t udp = ip + ihl;
  const uint16_t udp_len = get16(f, udp + 4);
  if (get16(f, udp + 6) == 0) {
    return false;  // "no checksum" is not a verified checksum
  }
  uint16_t sum = ones_sum(f.subspan(ip + 12, 8));
  sum = ones_add(sum, 17);
  sum = ones_add(sum, udp_len);
  return ones_sum(f.subspan(udp, udp_len), sum) == 0xffff;
}

}  // namespace dpdkudp::test
