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
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", value >> 24, (value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff);
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

std::string Ipv4Cidr::to_string() const { return addr.to_string() + "/" + std::to_string(prefix_len); }

namespace {

// One hex group of 1 to 4 digits (RFC 4291 §2.2), nothing else.
std::optional<uint16_t> parse_hex_group(std::string_view text) {
  if (text.empty() || text.size() > 4) return std::nullopt;
  unsigned v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return static_cast<uint16_t>(v);
}

}  // namespace

std::optional<Ipv6Addr> Ipv6Addr::parse(std::string_view text) {
  // The groups before "::" go to the front, those after it to the back; the
  // gap between them is zeros. A dotted quad may only end the text.
  std::array<uint16_t, 8> groups{};
  size_t count = 0;   // groups written so far
  size_t gap_at = 8;  // index in groups where "::" stood; 8 = none
  size_t pos = 0;
  if (text.starts_with("::")) {
    gap_at = 0;
    pos = 2;
  } else if (text.starts_with(":")) {
    return std::nullopt;
  }
  while (pos < text.size()) {
    size_t colon = text.find(':', pos);
    size_t end = colon == std::string_view::npos ? text.size() : colon;
    std::string_view field = text.substr(pos, end - pos);
    if (field.find('.') != std::string_view::npos) {
      auto v4 = Ipv4Addr::parse(field);
      if (!v4 || end != text.size() || count + 2 > 8) return std::nullopt;
      groups[count++] = static_cast<uint16_t>(v4->value >> 16);
      groups[count++] = static_cast<uint16_t>(v4->value & 0xffff);
      break;
    }
    auto group = parse_hex_group(field);  // an empty field (":::", "1::2::3", "1:") fails here
    if (!group || count == 8) return std::nullopt;
    groups[count++] = *group;
    if (end == text.size()) break;
    pos = end + 1;
    if (pos < text.size() && text[pos] == ':') {  // "::" after a group
      if (gap_at != 8) return std::nullopt;       // only one "::" (§2.2)
      gap_at = count;
      ++pos;
    } else if (pos == text.size()) {
      return std::nullopt;  // a trailing single ':'
    }
  }
  // "::" stands for one or more zero groups (§2.2): with it, at most 7
  // were written; without it, exactly 8.
  if (gap_at == 8 ? count != 8 : count > 7) return std::nullopt;
  std::array<uint16_t, 8> full{};
  size_t tail = count - (gap_at == 8 ? count : gap_at);  // groups after the gap
  for (size_t i = 0; i < count - tail; ++i) full[i] = groups[i];
  for (size_t i = 0; i < tail; ++i) full[8 - tail + i] = groups[count - tail + i];
  return Ipv6Addr(full[0], full[1], full[2], full[3], full[4], full[5], full[6], full[7]);
}

std::string Ipv6Addr::to_string() const {
  if (auto v4 = mapped_v4()) return "::ffff:" + v4->to_string();  // RFC 5952 §5
  // The longest run of zero groups, the first one on a tie, if >= 2
  // (RFC 5952 §4.2.1-§4.2.3).
  size_t best_start = 8, best_len = 0;
  for (size_t i = 0; i < 8;) {
    if (group(i) != 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < 8 && group(j) == 0) ++j;
    if (j - i > best_len) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best_start = 8;
  char buf[64];  // 8 * "ffff:" at most
  size_t n = 0;
  for (size_t i = 0; i < 8; ++i) {
    if (i == best_start) {
      buf[n++] = ':';
      if (i == 0) buf[n++] = ':';
      i += best_len - 1;
      continue;
    }
    int written = std::snprintf(buf + n, sizeof buf - n, "%x", unsigned{group(i)});  // §4.1, §4.3
    n += static_cast<size_t>(written);
    if (i != 7) buf[n++] = ':';
  }
  return std::string(buf, n);
}

std::optional<Ipv6Cidr> Ipv6Cidr::parse(std::string_view text) {
  size_t slash = text.find('/');
  auto addr = Ipv6Addr::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  if (slash == std::string_view::npos) return Ipv6Cidr{*addr, 128};
  auto len = parse_decimal(text.substr(slash + 1), 128);
  if (!len) return std::nullopt;
  return Ipv6Cidr{*addr, static_cast<uint8_t>(*len)};
}

std::string Ipv6Cidr::to_string() const { return addr.to_string() + "/" + std::to_string(prefix_len); }

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
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return buf;
}

}  // namespace dpdkudp::wire
