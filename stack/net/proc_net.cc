#include "stack/net/proc_net.h"

#include <array>
#include <bit>
#include <charconv>
#include <cstring>
#include <fstream>

namespace dpdkudp::stack {
namespace {

// Route flags from <linux/route.h>.
constexpr uint32_t kRtfUp = 0x0001;
constexpr uint32_t kRtfGateway = 0x0002;
constexpr uint32_t kRtfReject = 0x0200;
// ARP flags from <linux/if_arp.h>.
constexpr uint32_t kAtfComplete = 0x02;

// Splits on runs of whitespace (the kernel pads rows with tabs and spaces).
template <size_t N>
size_t split_fields(std::string_view line, std::array<std::string_view, N>& out) {
  size_t count = 0;
  size_t pos = 0;
  while (count < N) {
    pos = line.find_first_not_of(" \t\r\n", pos);
    if (pos == std::string_view::npos) {
      break;
    }
    size_t end = line.find_first_of(" \t\r\n", pos);
    out[count++] = line.substr(pos, end == std::string_view::npos ? end : end - pos);
    pos = end;
  }
  return count;
}

// The whole field must be a number in `base` that fits T.
template <typename T>
std::optional<T> parse_number(std::string_view text, int base = 10) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

// The kernel prints a __be32 with %08X, so the text is the address's bytes
// in memory order read as a host integer ("0100A8C0" is 192.168.0.1 on x86).
std::optional<Ipv4Addr> parse_proc_addr(std::string_view hex) {
  if (hex.size() != 8) {
    return std::nullopt;
  }
  auto raw = parse_number<uint32_t>(hex, 16);
  if (!raw) {
    return std::nullopt;
  }
  uint8_t bytes[4];
  std::memcpy(bytes, &*raw, sizeof bytes);
  return Ipv4Addr::load(bytes);
}

// A mask's prefix length; nullopt unless its ones are contiguous from the top.
std::optional<uint8_t> prefix_length(Ipv4Addr mask) {
  uint32_t inverted = ~mask.value;
  if ((inverted & (inverted + 1)) != 0) {
    return std::nullopt;
  }
  return static_cast<uint8_t>(std::popcount(mask.value));
}

// "0x2" as the ARP table prints flags and hardware types.
std::optional<uint32_t> parse_prefixed_hex(std::string_view text) {
  if (text.size() < 3 || text.substr(0, 2) != "0x") {
    return std::nullopt;
  }
  return parse_number<uint32_t>(text.substr(2), 16);
}

// Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT
std::optional<std::pair<std::string_view, Route>> parse_route_row(std::string_view line) {
  std::array<std::string_view, 11> f;
  if (split_fields(line, f) != f.size()) {
    return std::nullopt;
  }
  auto destination = parse_proc_addr(f[1]);
  auto gateway = parse_proc_addr(f[2]);
  auto flags = parse_number<uint32_t>(f[3], 16);
  auto metric = parse_number<uint32_t>(f[6]);
  auto mask = parse_proc_addr(f[7]);
  // Linux prints advmss + 40 here (0: unset); it is the best path MTU hint
  // the text interface offers.
  auto mtu = parse_number<uint32_t>(f[8]);
  if (!destination || !gateway || !flags || !metric || !mask || !mtu) {
    return std::nullopt;
  }
  auto len = prefix_length(*mask);
  if (!len || (*flags & kRtfUp) == 0 || (*flags & kRtfReject) != 0) {
    return std::nullopt;  // unusable: not contiguous, down, or unreachable/prohibit
  }
  Route route;
  route.destination = Ipv4Cidr{*destination, *len};
  if ((*flags & kRtfGateway) != 0) {
    route.gateway = *gateway;
  }
  route.mtu = *mtu;
  route.metric = *metric;
  return std::pair{f[0], route};
}

// IP address, HW type, Flags, HW address, Mask, Device
std::optional<ProcArpEntry> parse_arp_row(std::string_view line) {
  std::array<std::string_view, 6> f;
  if (split_fields(line, f) != f.size()) {
    return std::nullopt;
  }
  auto ip = Ipv4Addr::parse(f[0]);
  auto flags = parse_prefixed_hex(f[2]);
  auto mac = wire::parse_mac(f[3]);
  if (!ip || !flags || !mac || (*flags & kAtfComplete) == 0 || *mac == wire::kZeroMac) {
    return std::nullopt;
  }
  return ProcArpEntry{*ip, *mac, std::string(f[5])};
}

// 32 hex digits, the address's bytes in order (the kernel's %pi6).
std::optional<wire::Ipv6Addr> parse_proc_addr6(std::string_view hex) {
  if (hex.size() != 32) {
    return std::nullopt;
  }
  uint8_t bytes[16];
  for (size_t i = 0; i < 16; ++i) {
    auto b = parse_number<uint8_t>(hex.substr(2 * i, 2), 16);
    if (!b) {
      return std::nullopt;
    }
    bytes[i] = *b;
  }
  return wire::Ipv6Addr::load(bytes);
}

// A two-digit hex prefix length, 0..128.
std::optional<uint8_t> parse_prefix6(std::string_view hex) {
  auto len = hex.size() == 2 ? parse_number<uint8_t>(hex, 16) : std::nullopt;
  if (!len || *len > 128) {
    return std::nullopt;
  }
  return len;
}

// address ifindex prefix_len scope flags device (all hex but the name)
std::optional<ProcInet6Address> parse_if_inet6_row(std::string_view line) {
  std::array<std::string_view, 6> f;
  if (split_fields(line, f) != f.size()) {
    return std::nullopt;
  }
  auto addr = parse_proc_addr6(f[0]);
  auto ifindex = parse_number<int>(f[1], 16);
  auto len = parse_prefix6(f[2]);
  auto scope = parse_number<uint8_t>(f[3], 16);
  auto flags = parse_number<uint8_t>(f[4], 16);
  if (!addr || !ifindex || !len || !scope || !flags) {
    return std::nullopt;
  }
  return ProcInet6Address{wire::Ipv6Cidr{*addr, *len}, *ifindex, *scope, *flags, std::string(f[5])};
}

// dest dest_len src src_len next_hop metric refcnt use flags device
std::optional<ProcIpv6Route> parse_ipv6_route_row(std::string_view line) {
  std::array<std::string_view, 10> f;
  if (split_fields(line, f) != f.size()) {
    return std::nullopt;
  }
  if (f[5].size() != 8 || f[8].size() != 8) {
    return std::nullopt;
  }
  auto destination = parse_proc_addr6(f[0]);
  auto len = parse_prefix6(f[1]);
  auto next_hop = parse_proc_addr6(f[4]);
  auto metric = parse_number<uint32_t>(f[5], 16);
  auto flags = parse_number<uint32_t>(f[8], 16);
  if (!destination || !len || !next_hop || !metric || !flags) {
    return std::nullopt;
  }
  const uint32_t fl = *flags;
  if ((fl & kRtfUp) == 0 || (fl & kRtfReject) != 0 || f[9] == "lo") {
    return std::nullopt;  // down, unreachable/prohibit, or the kernel's own local routes
  }
  ProcIpv6Route route{wire::Ipv6Cidr{*destination, *len}, std::nullopt, *metric, std::string(f[9])};
  if ((fl & kRtfGateway) != 0 && !next_hop->is_unspecified()) {
    route.gateway = *next_hop;
  }
  return route;
}

// Reads every row of a header-less /proc table through parse, keeping
// those of `device` (all when empty).
template <typename Row, typename Parse>
std::optional<std::vector<Row>> read_rows(const std::string& path, std::string_view device, Parse parse) {
  std::ifstream in(path);
  if (!in) {
    return std::nullopt;
  }
  std::vector<Row> rows;
  std::string line;
  while (std::getline(in, line)) {
    auto row = parse(line);
    if (row && (device.empty() || row->device == device)) {
      rows.push_back(std::move(*row));
    }
  }
  return rows;
}

}  // namespace

std::optional<std::vector<ProcInet6Address>> read_proc_net_if_inet6(const std::string& path, std::string_view device) {
  return read_rows<ProcInet6Address>(path, device, parse_if_inet6_row);
}

std::optional<std::vector<ProcIpv6Route>> read_proc_net_ipv6_route(const std::string& path, std::string_view device) {
  return read_rows<ProcIpv6Route>(path, device, parse_ipv6_route_row);
}

std::optional<std::vector<Route>> read_proc_net_route(const std::string& path, std::string_view device) {
  std::ifstream in(path);
  if (!in) {
    return std::nullopt;
  }
  std::vector<Route> routes;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    auto row = parse_route_row(line);
    if (row && (device.empty() || row->first == device)) {
      routes.push_back(row->second);
    }
  }
  return routes;
}

std::optional<std::vector<ProcArpEntry>> read_proc_net_arp(const std::string& path, std::string_view device) {
  std::ifstream in(path);
  if (!in) {
    return std::nullopt;
  }
  std::vector<ProcArpEntry> entries;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    auto entry = parse_arp_row(line);
    if (entry && (device.empty() || entry->device == device)) {
      entries.push_back(std::move(*entry));
    }
  }
  return entries;
}

std::optional<std::pair<uint16_t, uint16_t>> read_port_range(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return std::nullopt;
  }
  std::string text(4096, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  std::array<std::string_view, 3> f;
  if (split_fields(std::string_view(text), f) != 2) {
    return std::nullopt;
  }
  auto low = parse_number<uint16_t>(f[0]);
  auto high = parse_number<uint16_t>(f[1]);
  if (!low || !high || *low < 1 || *low > *high) {
    return std::nullopt;
  }
  return std::pair{*low, *high};
}

}  // namespace dpdkudp::stack
