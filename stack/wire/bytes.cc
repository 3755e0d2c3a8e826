#include "stack/wire/bytes.h"

#include <charconv>
#include <cstdio>

namespace dpdkudp::wire {
namespace {

// Parses a decimal number in [0, max] with no sign, spaces or leading junk.
std::optional<unsigned> parse_decimal(std::string_view text, unsigned max) {
  if (text.empty() || text.size() > 3) return std::nullopt;
  unsigned v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v > max) return std::nullopt;
  return v;
}

}  // namespace

std::optional<Ipv4Addr> Ipv4Addr::parse(std::string_view text) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    size_t dot = text.find('.');
    if ((i < 3) != (dot != std::string_view::npos)) return std::nullopt;
    auto octet = parse_decimal(text.substr(0, dot), 255);
    if (!octet) return std::nullopt;
    value = (value << 8) | *octet;
    text = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  }
  return Ipv4Addr(value);
}

std::string Ipv4Addr::to_string() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", value >> 24, (value >> 16) & 0xff,
                (value >> 8) & 0xff, value & 0xff);
  return buf;
}

std::optional<Ipv4Cidr> Ipv4Cidr::parse(std::string_view text) {
  size_t slash = text.find('/');
  auto addr = Ipv4Addr::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  if (slash == std::string_view::npos) return Ipv4Cidr{*addr, 32};
  auto len = parse_decimal(text.substr(slash + 1), 32);
  if (!len) return std::nullopt;
  return Ipv4Cidr{*addr, static_cast<uint8_t>(*len)};
}

std::string Ipv4Cidr::to_string() const {
  return addr.to_string() + "/" + std::to_string(prefix_len);
}

std::optional<MacAddr> parse_mac(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  MacAddr mac{};
  for (size_t i = 0; i < 6; ++i) {
    if (i > 0 && text[i * 3 - 1] != ':') return std::nullopt;
    unsigned v = 0;
    auto first = text.data() + i * 3;
    auto [end, ec] = std::from_chars(first, first + 2, v, 16);
    if (ec != std::errc() || end != first + 2) return std::nullopt;
    mac[i] = static_cast<uint8_t>(v);
  }
  return mac;
}

std::string mac_to_string(const MacAddr& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                m[5]);
  return buf;
}

}  // namespace dpdkudp::wire
