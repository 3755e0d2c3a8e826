#include "engine/config.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "engine/config_text.h"

extern char** environ;

namespace dpdkudp::engine {
namespace {

constexpr std::string_view kPrefix = "DPDKUDP_";
constexpr std::string_view kConfigVar = "DPDKUDP_CONFIG";  // environment only
constexpr std::string_view kRequireVar = "DPDKUDP_REQUIRE";
constexpr std::string_view kEnvironment = "environment";
constexpr size_t kMaxFileBytes = 1 << 20;  // an env file is a few lines
constexpr size_t kMaxQuotedValue = 200;    // keeps the error line readable

// ---------------------------------------------------------------- text helpers

using text::is_space;
using text::parse_number;
using text::split;
using text::trim;
using text::words;

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), ascii_upper);
  return out;
}

// "value" with quotes and backslashes escaped, control bytes as \xNN and
// long values cut, so a hostile or binary value cannot break the one-line
// error message.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == kMaxQuotedValue) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// ---------------------------------------------------------------- value parsers
// Each returns false and fills `reason` (the text after "KEY=VALUE: ").

// Decimal digits only: no sign, no 0x, no spaces, no suffix.

std::string range_reason(uint64_t lo, uint64_t hi, std::string_view unit) {
  std::string r = "must be a number ";
  if (!unit.empty()) r += "of " + std::string(unit) + " ";
  return r + "from " + std::to_string(lo) + " to " + std::to_string(hi);
}

template <class Int>
bool set_number(std::string_view v, uint64_t lo, uint64_t hi, Int& out, std::string& reason,
                std::string_view unit = {}) {
  auto n = parse_number(v, lo, hi);
  if (!n) {
    reason = range_reason(lo, hi, unit);
    return false;
  }
  out = static_cast<Int>(*n);
  return true;
}

template <class Int>
bool set_number(std::string_view v, uint64_t lo, uint64_t hi, std::optional<Int>& out, std::string& reason) {
  Int n{};
  if (!set_number(v, lo, hi, n, reason)) return false;
  out = n;
  return true;
}

// DPDKUDP_FAULTS: "rx.drop=0.01,tx.corrupt=0.001,dup=0.01,delay_us=500,seed=7";
// a kind without rx./tx. is both directions.
bool set_faults(std::string_view v, FaultSpec& out, std::string& reason) {
  FaultSpec spec;
  const std::string expected =
      "; expected comma-separated [rx.|tx.]KIND=RATE (KIND drop, dup, reorder, delay, truncate or corrupt; RATE "
      "a probability from 0 to 1), delay_us=N, seed=N";
  for (std::string_view piece : split(v, ',')) {
    const std::string_view item = trim(piece);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      reason = quote(item) + " has no '='" + expected;
      return false;
    }
    std::string_view name = trim(item.substr(0, eq));
    const std::string_view value = trim(item.substr(eq + 1));
    if (name == "delay_us" || name == "seed") {
      auto n = parse_number(value, name == "seed" ? 0 : 1, name == "seed" ? 1'000'000'000'000'000'000 : 10'000'000);
      if (!n) {
        reason = quote(item) + ": " + std::string(name) +
                 (name == "seed" ? " must be a number from 0 to 1000000000000000000"
                                 : " must be a number of microseconds from 1 to 10000000");
        return false;
      }
      if (name == "seed") {
        spec.seed = *n;
      } else {
        spec.delay_us = static_cast<uint32_t>(*n);
      }
      continue;
    }
    bool rx = true, tx = true;
    if (name.substr(0, 3) == "rx.") {
      tx = false;
      name.remove_prefix(3);
    } else if (name.substr(0, 3) == "tx.") {
      rx = false;
      name.remove_prefix(3);
    }
    const auto kind = std::find(kFaultKindNames.begin(), kFaultKindNames.end(), name);
    if (kind == kFaultKindNames.end()) {
      reason = quote(item) + ": unknown fault " + quote(name) + expected;
      return false;
    }
    // A plain decimal fraction: 0, 1, 0.5, .001 (no sign, exponent or
    // locale).
    double rate = 0;
    bool ok = !value.empty() && value.size() <= 12;
    double scale = 0;
    for (char c : value) {
      if (c == '.' && scale == 0) {
        scale = 0.1;
      } else if (c >= '0' && c <= '9') {
        if (scale == 0) {
          rate = rate * 10 + (c - '0');
        } else {
          rate += (c - '0') * scale;
          scale /= 10;
        }
      } else {
        ok = false;
      }
    }
    if (!ok || rate > 1 || value == ".") {
      reason = quote(item) + ": the rate must be a probability from 0 to 1 (e.g. 0.01)" + expected;
      return false;
    }
    const size_t k = static_cast<size_t>(kind - kFaultKindNames.begin());
    if (rx) spec.rx.p[k] = rate;
    if (tx) spec.tx.p[k] = rate;
  }
  out = spec;
  return true;
}

bool set_ring(std::string_view v, std::optional<uint32_t>& out, std::string& reason) {
  auto n = parse_number(v, 64, 16384);
  if (!n || (*n & (*n - 1)) != 0) {
    reason = "must be a power of two from 64 to 16384";
    return false;
  }
  out = static_cast<uint32_t>(*n);
  return true;
}

std::optional<bool> parse_bool(std::string_view v) {
  const std::string l = lower(v);
  if (l == "1" || l == "true" || l == "yes" || l == "on") return true;
  if (l == "0" || l == "false" || l == "no" || l == "off") return false;
  return std::nullopt;
}

bool set_bool(std::string_view v, bool& out, std::string& reason) {
  auto b = parse_bool(v);
  if (!b) {
    reason = "must be 0 or 1 (or true/false, yes/no, on/off)";
    return false;
  }
  out = *b;
  return true;
}

template <class E>
struct EnumName {
  std::string_view name;
  E value;
};

constexpr EnumName<BackendKind> kBackendNames[] = {
    {"auto", BackendKind::kAuto},
    {"dpdk", BackendKind::kDpdk},
    {"af_xdp", BackendKind::kAfXdp},
    {"af_packet", BackendKind::kAfPacket},
    {"af_packet_mmap", BackendKind::kAfPacketMmap},
    {"off", BackendKind::kOff},
};
constexpr EnumName<LogLevel> kLogNames[] = {
    {"quiet", LogLevel::kQuiet}, {"error", LogLevel::kError}, {"warn", LogLevel::kWarn},
    {"info", LogLevel::kInfo},   {"debug", LogLevel::kDebug},
};
constexpr EnumName<LogTarget> kLogTargetNames[] = {{"stderr", LogTarget::kStderr}, {"syslog", LogTarget::kSyslog}};
constexpr EnumName<DeploymentMode> kModeNames[] = {{"dedicated", DeploymentMode::kDedicated},
                                                   {"shared", DeploymentMode::kShared}};
constexpr EnumName<XdpMode> kXdpModeNames[] = {
    {"auto", XdpMode::kAuto}, {"native", XdpMode::kNative}, {"generic", XdpMode::kGeneric}};
constexpr EnumName<stack::VlanMode> kVlanModeNames[] = {{"port-tagging", stack::VlanMode::kPortTagging},
                                                        {"access", stack::VlanMode::kAccess},
                                                        {"trunk", stack::VlanMode::kTrunk}};
constexpr EnumName<bool> kVlanOffloadNames[] = {{"auto", false}, {"software", true}};
constexpr EnumName<WaitModel> kWaitNames[] = {{"inline", WaitModel::kInline}, {"thread", WaitModel::kThread}};

template <class E, size_t N>
std::string_view name_of(const EnumName<E> (&names)[N], E value) {
  for (const auto& n : names) {
    if (n.value == value) return n.name;
  }
  return "?";
}

// Case-insensitive: "AF_XDP" is as clear as "af_xdp".
template <class E, size_t N>
bool set_enum(std::string_view v, const EnumName<E> (&names)[N], E& out, std::string& reason) {
  const std::string l = lower(v);
  for (const auto& n : names) {
    if (n.name == l) {
      out = n.value;
      return true;
    }
  }
  reason = "must be one of";
  for (const auto& n : names) reason += (&n == names ? " " : ", ") + std::string(n.name);
  return false;
}

// Linux's dev_valid_name(): shorter than IFNAMSIZ, no '/', ':' or space.
bool set_iface(std::string_view v, std::string& out, std::string& reason) {
  bool ok = v.size() <= 15 && v != "." && v != "..";
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == ':' || u <= 0x20 || u == 0x7f) ok = false;
  }
  if (!ok) {
    reason = "must be an interface name of 1 to 15 characters without '/', ':' or spaces";
    return false;
  }
  out = std::string(v);
  return true;
}

// An address the stack can own or send to as a next hop.
bool is_unicast_host(wire::Ipv4Addr a) {
  return !a.is_unspecified() && !a.is_broadcast() && !a.is_multicast() && !a.is_loopback();
}

bool set_ip(std::string_view v, wire::Ipv4Cidr& out, std::string& reason) {
  // A bare address would silently mean /32 (no on-link neighbours, so
  // nothing reachable without routes): make the prefix explicit instead.
  if (v.find('/') == std::string_view::npos) {
    reason = "needs a prefix length, e.g. 198.18.0.2/24";
    return false;
  }
  auto cidr = wire::Ipv4Cidr::parse(v);
  if (!cidr || cidr->prefix_len == 0) {
    reason = "must be an IPv4 address with a prefix length 1 to 32, e.g. 198.18.0.2/24";
    return false;
  }
  if (!is_unicast_host(cidr->addr)) {
    reason = "must be a unicast address (not 0.0.0.0, 127.x, multicast or broadcast)";
    return false;
  }
  // /31 and /32 have no network or broadcast address (RFC 3021).
  if (cidr->prefix_len <= 30 && (cidr->addr == cidr->network() || cidr->addr == cidr->directed_broadcast())) {
    reason = "is the network or broadcast address of its subnet; use a host address";
    return false;
  }
  out = *cidr;
  return true;
}

std::optional<wire::Ipv4Addr> parse_unicast(std::string_view v) {
  auto a = wire::Ipv4Addr::parse(v);
  if (!a || !is_unicast_host(*a)) return std::nullopt;
  return a;
}

bool set_gateway(std::string_view v, std::optional<wire::Ipv4Addr>& out, std::string& reason) {
  auto a = parse_unicast(v);
  if (!a) {
    reason = "must be a unicast IPv4 address, e.g. 198.18.0.1";
    return false;
  }
  out = a;
  return true;
}

// DPDKUDP_IP6: "off", or address/prefix entries separated by commas.
bool set_ip6(std::string_view v, Config& c, std::string& reason) {
  if (v == "off") {
    c.ip6.clear();
    c.ip6_off = true;
    return true;
  }
  std::vector<wire::Ipv6Cidr> out;
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    std::string_view entry = v.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const std::string where = "address " + std::to_string(out.size() + 1) + " " + quote(entry) + ": ";
    if (entry.find('/') == std::string_view::npos) {
      reason = where + "needs a prefix length, e.g. 2001:2::2/64";
      return false;
    }
    auto cidr = wire::Ipv6Cidr::parse(entry);
    if (!cidr || cidr->prefix_len == 0) {
      reason = where + "must be an IPv6 address with a prefix length 1 to 128, e.g. 2001:2::2/64";
      return false;
    }
    const wire::Ipv6Addr& a = cidr->addr;
    if (a.is_unspecified() || a.is_loopback() || a.is_multicast() || a.is_v4_mapped()) {
      reason = where + "must be a unicast address (not ::, ::1, multicast or v4-mapped)";
      return false;
    }
    for (const wire::Ipv6Cidr& other : out) {
      if (other.addr == a) {
        reason = where + "is given twice";
        return false;
      }
    }
    out.push_back(*cidr);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  c.ip6 = std::move(out);
  c.ip6_off = false;
  return true;
}

bool set_gateway6(std::string_view v, std::optional<wire::Ipv6Addr>& out, std::string& reason) {
  auto a = wire::Ipv6Addr::parse(v);
  if (!a || a->is_unspecified() || a->is_loopback() || a->is_multicast() || a->is_v4_mapped()) {
    reason = "must be a unicast IPv6 address, e.g. fe80::1 or 2001:2::1";
    return false;
  }
  out = a;
  return true;
}

std::string show_ip6(const Config& c) {
  if (c.ip6_off) return "off";
  std::string s;
  for (const wire::Ipv6Cidr& a : c.ip6) {
    if (!s.empty()) s.push_back(',');
    s.append(a.to_string());
  }
  return s;
}

constexpr std::string_view kRouteSyntax = "expected \"CIDR via GATEWAY [mtu N]\" or \"CIDR dev [mtu N]\"";

// One route; "" on success, else why not.
std::string parse_route(std::string_view entry, RouteSpec& route) {
  const auto w = words(entry);
  size_t i = 0;
  if (w[i] == "default") {
    route.destination = wire::Ipv4Cidr{wire::Ipv4Addr::any(), 0};
  } else {
    auto cidr = wire::Ipv4Cidr::parse(w[i]);  // a bare address is a /32, as in `ip route`
    if (!cidr) return quote(w[i]) + " is not a destination CIDR";
    // ip(8) refuses 198.18.1.7/24 too: the user meant a network.
    if (cidr->addr != cidr->network()) {
      return quote(w[i]) + " has host bits set (network is " + cidr->network().to_string() + "/" +
             std::to_string(cidr->prefix_len) + ")";
    }
    route.destination = *cidr;
  }
  ++i;
  if (i < w.size() && w[i] == "via") {
    if (++i == w.size()) return "missing gateway after \"via\"";
    route.gateway = parse_unicast(w[i]);
    if (!route.gateway) return quote(w[i]) + " is not a unicast gateway address";
    ++i;
  } else if (i < w.size() && w[i] == "dev") {
    ++i;
  } else {
    return std::string(kRouteSyntax);
  }
  if (i < w.size() && w[i] == "mtu") {
    if (++i == w.size()) return "missing number after \"mtu\"";
    auto mtu = parse_number(w[i], 68, 9000);
    if (!mtu) return "mtu " + quote(w[i]) + " must be a number from 68 to 9000";
    route.mtu = static_cast<uint32_t>(*mtu);
    ++i;
  }
  if (i != w.size()) return "unexpected " + quote(w[i]) + "; " + std::string(kRouteSyntax);
  return {};
}

bool is_unicast6(const wire::Ipv6Addr& a) {
  return !a.is_unspecified() && !a.is_loopback() && !a.is_multicast() && !a.is_v4_mapped();
}

// One IPv6 route ("::/0" is the default; the MTU at least IPv6's 1280).
std::string parse_route6(std::string_view entry, RouteSpec6& route) {
  const auto w = words(entry);
  size_t i = 0;
  auto cidr = wire::Ipv6Cidr::parse(w[i]);  // a bare address is a /128
  if (!cidr) return quote(w[i]) + " is not a destination CIDR";
  if (cidr->addr != cidr->network()) {
    return quote(w[i]) + " has host bits set (network is " +
           wire::Ipv6Cidr{cidr->network(), cidr->prefix_len}.to_string() + ")";
  }
  route.destination = *cidr;
  ++i;
  if (i < w.size() && w[i] == "via") {
    if (++i == w.size()) return "missing gateway after \"via\"";
    auto gw = wire::Ipv6Addr::parse(w[i]);
    if (!gw || !is_unicast6(*gw)) return quote(w[i]) + " is not a unicast IPv6 gateway address";
    route.gateway = gw;
    ++i;
  } else if (i < w.size() && w[i] == "dev") {
    ++i;
  } else {
    return std::string(kRouteSyntax);
  }
  if (i < w.size() && w[i] == "mtu") {
    if (++i == w.size()) return "missing number after \"mtu\"";
    auto mtu = parse_number(w[i], 1280, 9000);
    if (!mtu) return "mtu " + quote(w[i]) + " must be a number from 1280 to 9000 (IPv6)";
    route.mtu = static_cast<uint32_t>(*mtu);
    ++i;
  }
  if (i != w.size()) return "unexpected " + quote(w[i]) + "; " + std::string(kRouteSyntax);
  return {};
}

// An IPv6 entry names an IPv6 destination (it has a ':').
bool is_ipv6_entry(std::string_view entry) {
  const auto w = words(entry);
  return !w.empty() && w[0].find(':') != std::string_view::npos;
}

bool set_routes(std::string_view v, Config& c, std::string& reason) {
  std::vector<RouteSpec> routes;
  std::vector<RouteSpec6> routes6;
  size_t n = 0;
  for (std::string_view piece : split(v, ';')) {
    const std::string_view entry = trim(piece);
    if (entry.empty()) continue;  // "a; b;" is fine
    const std::string prefix = "route " + std::to_string(++n) + " " + quote(entry) + ": ";
    if (is_ipv6_entry(entry)) {
      RouteSpec6 route;
      const std::string why = parse_route6(entry, route);
      if (!why.empty()) {
        reason = prefix + why;
        return false;
      }
      for (const auto& r : routes6) {
        if (r.destination == route.destination) {
          reason = prefix + "destination " + route.destination.to_string() + " given twice";
          return false;
        }
      }
      routes6.push_back(route);
      continue;
    }
    RouteSpec route;
    const std::string why = parse_route(entry, route);
    if (!why.empty()) {
      reason = prefix + why;
      return false;
    }
    for (const auto& r : routes) {
      if (r.destination == route.destination) {
        reason = prefix + "destination " + route.destination.to_string() + " given twice";
        return false;
      }
    }
    routes.push_back(route);
  }
  c.routes = std::move(routes);
  c.routes6 = std::move(routes6);
  return true;
}

constexpr std::string_view kTunnelSyntax =
    "expected \"vxlan|geneve|gue remote=ADDR inner=CIDR [inner6=CIDR6] [vni=N] [port=N] [local=ADDR] [csum=on|off] "
    "[mtu=N]\"";

// One tunnel; "" on success, else why not (naming the key).
std::string parse_tunnel(std::string_view entry, stack::TunnelConfig& t) {
  const auto w = words(entry);
  if (w[0] == "vxlan") {
    t.kind = stack::TunnelKind::kVxlan;
  } else if (w[0] == "geneve") {
    t.kind = stack::TunnelKind::kGeneve;
  } else if (w[0] == "gue") {
    t.kind = stack::TunnelKind::kGue;
  } else {
    return "kind " + quote(w[0]) + " is not one of vxlan, geneve, gue";
  }
  bool have_vni = false, have_remote = false, have_inner = false, have_local = false, have_csum = false;
  std::string_view local_text;
  for (size_t i = 1; i < w.size(); ++i) {
    const size_t eq = w[i].find('=');
    if (eq == std::string_view::npos) return "unexpected " + quote(w[i]) + "; " + std::string(kTunnelSyntax);
    const std::string_view key = w[i].substr(0, eq);
    const std::string_view val = w[i].substr(eq + 1);
    if (key == "vni") {
      if (t.kind == stack::TunnelKind::kGue) return "vni= does not apply to gue (it has no VNI)";
      auto n = parse_number(val, 0, 0xffffff);
      if (!n) return "vni=" + quote(val) + " must be a number from 0 to 16777215";
      t.vni = static_cast<uint32_t>(*n);
      have_vni = true;
    } else if (key == "remote") {
      if (auto a = parse_unicast(val)) {
        t.remote = *a;
      } else if (auto a6 = wire::Ipv6Addr::parse(val); a6 && is_unicast6(*a6) && !a6->is_link_local()) {
        t.outer_v6 = true;
        t.remote6 = *a6;
      } else {
        return "remote=" + quote(val) + " is not a unicast IPv4 or global IPv6 address";
      }
      have_remote = true;
    } else if (key == "local") {
      local_text = val;
      have_local = true;
    } else if (key == "inner") {
      auto cidr = wire::Ipv4Cidr::parse(val);
      if (!cidr || val.find('/') == std::string_view::npos || !parse_unicast(cidr->addr.to_string())) {
        return "inner=" + quote(val) + " is not an IPv4 address with its prefix (e.g. 198.19.1.2/24)";
      }
      if (cidr->prefix_len == 0 || cidr->prefix_len > 30) {
        return "inner=" + quote(val) + " needs a prefix from /1 to /30 (a subnet that holds the peer)";
      }
      if (cidr->addr == cidr->network() || cidr->addr == cidr->directed_broadcast()) {
        return "inner=" + quote(val) + " is the network or broadcast address of its subnet";
      }
      t.inner = *cidr;
      have_inner = true;
    } else if (key == "inner6") {
      auto cidr = wire::Ipv6Cidr::parse(val);
      if (!cidr || val.find('/') == std::string_view::npos || !is_unicast6(cidr->addr) || cidr->addr.is_link_local()) {
        return "inner6=" + quote(val) + " is not a global IPv6 address with its prefix (e.g. 2001:2:0:100::2/64)";
      }
      if (cidr->prefix_len == 0 || cidr->prefix_len > 126) {
        return "inner6=" + quote(val) + " needs a prefix from /1 to /126 (a subnet that holds the peer)";
      }
      t.inner6 = *cidr;
    } else if (key == "port") {
      auto n = parse_number(val, 1, 65535);
      if (!n) return "port=" + quote(val) + " must be a number from 1 to 65535";
      t.port = static_cast<uint16_t>(*n);
    } else if (key == "csum") {
      if (val != "on" && val != "off") return "csum=" + quote(val) + " must be on or off";
      t.outer_csum = val == "on";
      have_csum = true;
    } else if (key == "mtu") {
      auto n = parse_number(val, 68, 9000);
      if (!n) return "mtu=" + quote(val) + " must be a number from 68 to 9000";
      t.mtu = static_cast<uint32_t>(*n);
    } else {
      return "unknown key " + quote(key) + "; " + std::string(kTunnelSyntax);
    }
  }
  if (!have_remote) return "remote= is missing (the outer peer)";
  if (!have_inner) return "inner= is missing (the stack's address inside the tunnel)";
  if (!have_vni && t.kind != stack::TunnelKind::kGue) return "vni= is missing";
  if (have_local) {
    if (!t.outer_v6) {
      auto a = parse_unicast(local_text);
      if (!a) return "local=" + quote(local_text) + " is not a unicast IPv4 address (remote= is IPv4)";
      t.local = *a;
    } else {
      auto a6 = wire::Ipv6Addr::parse(local_text);
      if (!a6 || !is_unicast6(*a6)) {
        return "local=" + quote(local_text) + " is not a unicast IPv6 address (remote= is IPv6)";
      }
      t.local6 = *a6;
    }
  }
  if (t.outer_v6 && have_csum && !t.outer_csum) return "csum=off: over IPv6 the outer UDP checksum is mandatory";
  if (t.outer_v6) t.outer_csum = true;
  return {};
}

bool set_tunnels(std::string_view v, Config& c, std::string& reason) {
  std::vector<stack::TunnelConfig> tunnels;
  size_t n = 0;
  for (std::string_view piece : split(v, ';')) {
    const std::string_view entry = trim(piece);
    if (entry.empty()) continue;
    const std::string prefix = "tunnel " + std::to_string(++n) + " " + quote(entry) + ": ";
    stack::TunnelConfig t;
    const std::string why = parse_tunnel(entry, t);
    if (!why.empty()) {
      reason = prefix + why;
      return false;
    }
    for (const auto& o : tunnels) {
      // What arrives on one port must name one tunnel: by its VNI, and GUE
      // has none.
      if (o.outer_port() == t.outer_port() && o.outer_v6 == t.outer_v6 &&
          (o.kind != t.kind || o.vni == t.vni || t.kind == stack::TunnelKind::kGue)) {
        reason = prefix + "outer port " + std::to_string(t.outer_port()) + " is already tunnel " +
                 std::to_string(&o - tunnels.data() + 1) + "'s" +
                 (o.kind == t.kind && t.kind != stack::TunnelKind::kGue ? " with the same VNI" : "");
        return false;
      }
      if (o.inner.contains(t.inner.addr) || t.inner.contains(o.inner.addr)) {
        reason = prefix + "inner subnet overlaps tunnel " + std::to_string(&o - tunnels.data() + 1) + "'s";
        return false;
      }
      if (o.inner6 && t.inner6 && (o.inner6->contains(t.inner6->addr) || t.inner6->contains(o.inner6->addr))) {
        reason = prefix + "inner6 subnet overlaps tunnel " + std::to_string(&o - tunnels.data() + 1) + "'s";
        return false;
      }
    }
    tunnels.push_back(t);
  }
  c.tunnels = std::move(tunnels);
  return true;
}

std::string show_tunnels(const std::vector<stack::TunnelConfig>& tunnels) {
  std::string out;
  for (const auto& t : tunnels) {
    if (!out.empty()) out += "; ";
    out += std::string(stack::tunnel_kind_name(t.kind));
    if (t.kind != stack::TunnelKind::kGue) out += " vni=" + std::to_string(t.vni);
    out += " remote=" + (t.outer_v6 ? t.remote6.to_string() : t.remote.to_string());
    out += " inner=" + t.inner.to_string();
    if (t.inner6) out += " inner6=" + t.inner6->to_string();
    if (t.port != 0) out += " port=" + std::to_string(t.port);
    if (t.local) out += " local=" + t.local->to_string();
    if (t.local6) out += " local=" + t.local6->to_string();
    if (!t.outer_v6 && t.outer_csum) out += " csum=on";
    if (t.mtu != 0) out += " mtu=" + std::to_string(t.mtu);
  }
  return out;
}

bool set_neighbors(std::string_view v, Config& c, std::string& reason) {
  std::vector<NeighborSpec> neighbors;
  std::vector<NeighborSpec6> neighbors6;
  size_t n = 0;
  for (std::string_view piece : split(v, ';')) {
    const std::string_view entry = trim(piece);
    if (entry.empty()) continue;
    const std::string prefix = "neighbor " + std::to_string(++n) + " " + quote(entry) + ": ";
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos) {
      reason = prefix + "expected IP=MAC, e.g. 198.18.0.1=02:00:00:00:00:01 or 2001:2::1=02:00:00:00:00:01";
      return false;
    }
    const std::string_view ip_text = trim(entry.substr(0, eq));
    auto mac = wire::parse_mac(trim(entry.substr(eq + 1)));
    // Bit 0 of the first octet marks group (multicast/broadcast) addresses.
    if (!mac || *mac == wire::kZeroMac || ((*mac)[0] & 1) != 0) {
      reason = prefix + "not a unicast MAC address (aa:bb:cc:dd:ee:ff) after '='";
      return false;
    }
    if (ip_text.find(':') != std::string_view::npos) {
      auto ip6 = wire::Ipv6Addr::parse(ip_text);
      if (!ip6 || !is_unicast6(*ip6)) {
        reason = prefix + "not a unicast IPv6 address before '='";
        return false;
      }
      for (const auto& other : neighbors6) {
        if (other.ip == *ip6) {
          reason = prefix + ip6->to_string() + " given twice";
          return false;
        }
      }
      neighbors6.push_back(NeighborSpec6{*ip6, *mac});
      continue;
    }
    auto ip = parse_unicast(ip_text);
    if (!ip) {
      reason = prefix + "not a unicast IPv4 address before '='";
      return false;
    }
    for (const auto& other : neighbors) {
      if (other.ip == *ip) {
        reason = prefix + ip->to_string() + " given twice";
        return false;
      }
    }
    neighbors.push_back(NeighborSpec{*ip, *mac});
  }
  c.neighbors = std::move(neighbors);
  c.neighbors6 = std::move(neighbors6);
  return true;
}

// ---------------------------------------------------------------- value printers

template <class Int>
std::string show(const std::optional<Int>& v) {
  return v ? std::to_string(*v) : std::string();
}

std::string show_routes(const std::vector<RouteSpec>& routes, const std::vector<RouteSpec6>& routes6) {
  std::string out;
  for (const auto& r : routes6) {
    if (!out.empty()) out += "; ";
    out += r.destination.to_string();
    out += r.gateway ? " via " + r.gateway->to_string() : std::string(" dev");
    if (r.mtu != 0) out += " mtu " + std::to_string(r.mtu);
  }
  for (const auto& r : routes) {
    if (!out.empty()) out += "; ";
    out += r.destination.prefix_len == 0 && r.destination.addr.is_unspecified() ? std::string("default")
                                                                                : r.destination.to_string();
    out += r.gateway ? " via " + r.gateway->to_string() : std::string(" dev");
    if (r.mtu != 0) out += " mtu " + std::to_string(r.mtu);
  }
  return out;
}

std::string show_neighbors(const std::vector<NeighborSpec>& neighbors, const std::vector<NeighborSpec6>& neighbors6) {
  std::string out;
  for (const auto& n : neighbors) {
    if (!out.empty()) out += "; ";
    out += n.ip.to_string() + "=" + wire::mac_to_string(n.mac);
  }
  for (const auto& n : neighbors6) {
    if (!out.empty()) out += "; ";
    out += n.ip.to_string() + "=" + wire::mac_to_string(n.mac);
  }
  return out;
}

// DPDKUDP_VLAN_ALLOWED: VIDs and ranges, e.g. "100,200,300-310".
bool set_vlan_list(std::string_view v, std::vector<uint16_t>& out, std::string& reason) {
  std::vector<uint16_t> vids;
  size_t pos = 0;
  while (pos <= v.size()) {
    const size_t end = std::min(v.find(',', pos), v.size());
    const std::string_view item = trim(v.substr(pos, end - pos));
    const size_t dash = item.find('-');
    auto lo = parse_number(item.substr(0, dash), 1, stack::VlanConfig::kMaxVid);
    auto hi = dash == std::string_view::npos ? lo : parse_number(item.substr(dash + 1), 1, stack::VlanConfig::kMaxVid);
    if (!lo || !hi || *hi < *lo) {
      reason = (item.empty() ? std::string("an empty entry") : quote(item) + " is not a VID from 1 to 4094") +
               "; expected VIDs and ranges, e.g. 100,200,300-310";
      return false;
    }
    for (uint64_t id = *lo; id <= *hi; ++id) vids.push_back(static_cast<uint16_t>(id));
    pos = end + 1;
  }
  std::sort(vids.begin(), vids.end());
  vids.erase(std::unique(vids.begin(), vids.end()), vids.end());
  out = std::move(vids);
  return true;
}

std::string show_vlan_list(const std::vector<uint16_t>& vids) {
  std::string out;
  for (size_t i = 0; i < vids.size();) {
    size_t j = i;
    while (j + 1 < vids.size() && vids[j + 1] == vids[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(vids[i]);
    if (j > i) out += "-" + std::to_string(vids[j]);
    i = j + 1;
  }
  return out;
}

// ---------------------------------------------------------------- profiles

// Settings chosen for one aim; every key set in the file or the
// environment still wins.
constexpr std::pair<std::string_view, std::string_view> kLatency[] = {{"DPDKUDP_BUSY_POLL_US", "100000"},
                                                                      {"DPDKUDP_WAIT", "inline"}};
constexpr std::pair<std::string_view, std::string_view> kThroughput[] = {{"DPDKUDP_BUSY_POLL_US", "200"},
                                                                         {"DPDKUDP_RX_RING", "4096"},
                                                                         {"DPDKUDP_TX_RING", "4096"},
                                                                         {"DPDKUDP_RCVBUF_DEFAULT", "4194304"}};
constexpr std::pair<std::string_view, std::string_view> kLowCpu[] = {{"DPDKUDP_BUSY_POLL_US", "0"},
                                                                     {"DPDKUDP_WAIT", "inline"}};
constexpr Profile kProfiles[] = {
    {"latency", "the lowest latency: spin up to 100 ms in a wait (a core busy while traffic flows)", kLatency},
    {"throughput", "bursts: large rings and receive buffers, a short spin", kThroughput},
    {"low-cpu", "the least CPU: never spin, sleep at once as on the kernel", kLowCpu},
};

const Profile* find_profile(std::string_view name) {
  for (const Profile& p : kProfiles) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

bool set_profile(std::string_view v, std::string& out, std::string& reason) {
  const std::string l = lower(v);
  if (find_profile(l) == nullptr) {
    reason = "must be one of";
    for (const Profile& p : kProfiles) {
      reason += (&p == kProfiles ? " " : ", ") + std::string(p.name);
    }
    return false;
  }
  out = l;
  return true;
}

bool set_offload(std::string_view v, OffloadRules& out, std::string& reason) {
  auto rules = OffloadRules::parse(v, &reason);
  if (!rules) return false;
  out = std::move(*rules);
  return true;
}

// A path that must not depend on the program's working directory ("" is
// the default); what: "directory", "file name".
bool set_absolute_path(std::string_view v, std::string& out, std::string& reason, std::string_view what) {
  if (!v.empty() && v.front() != '/') {
    reason.assign("must be an absolute ").append(what);
    return false;
  }
  out = std::string(v);
  return true;
}

// ---------------------------------------------------------------- the key table
// One row per file key: how to parse it and how to print it. describe()
// compares printed values with a default Config, so it cannot drift.

struct KeyDef {
  std::string_view name;
  bool (*parse)(std::string_view value, Config& c, std::string& reason);
  std::string (*show)(const Config& c);
};

using V = std::string_view;
using C = Config;
using R = std::string;

constexpr KeyDef kKeys[] =
    {
        {"DPDKUDP_BACKEND", [](V v, C& c, R& r) { return set_enum(v, kBackendNames, c.backend, r); },
         [](const C& c) { return R(to_string(c.backend)); }},
        {"DPDKUDP_MODE", [](V v, C& c, R& r) { return set_enum(v, kModeNames, c.mode, r); },
         [](const C& c) { return R(to_string(c.mode)); }},
        {"DPDKUDP_IFACE", [](V v, C& c, R& r) { return set_iface(v, c.iface, r); }, [](const C& c) { return c.iface; }},
        {"DPDKUDP_IP",
         [](V v, C& c, R& r) {
  wire::Ipv4Cidr ip;
  if (!set_ip(v, ip, r)) return false;
  c.ip = ip;
  return true;
         },
         [](const C& c) { return c.ip ? c.ip->to_string() : R(); }},
        {"DPDKUDP_GATEWAY", [](V v, C& c, R& r) { return set_gateway(v, c.gateway, r); },
         [](const C& c) { return c.gateway ? c.gateway->to_string() : R(); }},
        {"DPDKUDP_IP6", [](V v, C& c, R& r) { return set_ip6(v, c, r); }, [](const C& c) { return show_ip6(c); }},
        {"DPDKUDP_GATEWAY6", [](V v, C& c, R& r) { return set_gateway6(v, c.gateway6, r); },
         [](const C& c) { return c.gateway6 ? c.gateway6->to_string() : R(); }},
        {"DPDKUDP_MTU", [](V v, C& c, R& r) { return set_number(v, 68, 9000, c.mtu, r); },
         [](const C& c) { return show(c.mtu); }},
        {"DPDKUDP_VLAN", [](V v, C& c, R& r) { return set_number(v, 1, 4094, c.vlan.vid, r); },
         [](const C& c) { return c.vlan.vid != 0 ? std::to_string(c.vlan.vid) : R(); }},
        {"DPDKUDP_VLAN_MODE", [](V v, C& c, R& r) { return set_enum(v, kVlanModeNames, c.vlan.mode, r); },
         [](const C& c) { return R(name_of(kVlanModeNames, c.vlan.mode)); }},
        {"DPDKUDP_VLAN_ALLOWED", [](V v, C& c, R& r) { return set_vlan_list(v, c.vlan.allowed, r); },
         [](const C& c) { return show_vlan_list(c.vlan.allowed); }},
        {"DPDKUDP_VLAN_NATIVE", [](V v, C& c, R& r) { return set_number(v, 1, 4094, c.vlan.native, r); },
         [](const C& c) { return c.vlan.native != 0 ? std::to_string(c.vlan.native) : R(); }},
        {"DPDKUDP_VLAN_PCP", [](V v, C& c, R& r) { return set_number(v, 0, 7, c.vlan.pcp, r); },
         [](const C& c) { return std::to_string(c.vlan.pcp); }},
        {"DPDKUDP_VLAN_OFFLOAD", [](V v, C& c, R& r) { return set_enum(v, kVlanOffloadNames, c.vlan.software, r); },
         [](const C& c) { return R(name_of(kVlanOffloadNames, c.vlan.software)); }},
        {"DPDKUDP_ROUTES", [](V v, C& c, R& r) { return set_routes(v, c, r); },
         [](const C& c) { return show_routes(c.routes, c.routes6); }},
        {"DPDKUDP_NEIGHBORS", [](V v, C& c, R& r) { return set_neighbors(v, c, r); },
         [](const C& c) { return show_neighbors(c.neighbors, c.neighbors6); }},
        {"DPDKUDP_TUNNEL", [](V v, C& c, R& r) { return set_tunnels(v, c, r); },
         [](const C& c) { return show_tunnels(c.tunnels); }},
        {"DPDKUDP_QUEUES", [](V v, C& c, R& r) { return set_number(v, 1, 64, c.queues, r); },
         [](const C& c) { return std::to_string(c.queues); }},
        {"DPDKUDP_BUSY_POLL_US",
         [](V v, C& c, R& r) { return set_number(v, 0, 10'000'000, c.busy_poll_us, r, "microseconds"); },
         [](const C& c) { return std::to_string(c.busy_poll_us); }},
        {"DPDKUDP_WAIT", [](V v, C& c, R& r) { return set_enum(v, kWaitNames, c.wait, r); },
         [](const C& c) { return R(to_string(c.wait)); }},
        {"DPDKUDP_RX_RING", [](V v, C& c, R& r) { return set_ring(v, c.rx_ring, r); },
         [](const C& c) { return show(c.rx_ring); }},
        {"DPDKUDP_TX_RING", [](V v, C& c, R& r) { return set_ring(v, c.tx_ring, r); },
         [](const C& c) { return show(c.tx_ring); }},
        {"DPDKUDP_RCVBUF_DEFAULT",
         [](V v, C& c, R& r) { return set_number(v, 2304, 1u << 30, c.rcvbuf_default, r, "bytes"); },
         [](const C& c) { return std::to_string(c.rcvbuf_default); }},
        {"DPDKUDP_DPDK_PORT", [](V v, C& c, R& r) { return set_number(v, 0, 1023, c.dpdk_port, r); },
         [](const C& c) { return std::to_string(c.dpdk_port); }},
        {"DPDKUDP_EAL_ARGS",
         [](V v, C& c, R&) {
  c.eal_args = R(v);
  return true;
         },
         [](const C& c) {
  return c.eal_args;
        }},
    {"DPDKUDP_MODULE_DIR", [](V v, C& c, R& r) { return set_absolute_path(v, c.module_dir, r, "directory"); },
     [](const C& c) { return c.module_dir; }},
    {"DPDKUDP_XDP_MODE", [](V v, C& c, R& r) { return set_enum(v, kXdpModeNames, c.xdp_mode, r); },
     [](const C& c) { return R(to_string(c.xdp_mode)); }},
    {"DPDKUDP_LOG", [](V v, C& c, R& r) { return set_enum(v, kLogNames, c.log, r); },
     [](const C& c) { return R(to_string(c.log)); }},
    {"DPDKUDP_REQUIRE", [](V v, C& c, R& r) { return set_bool(v, c.require, r); },
     [](const C& c) { return R(c.require ? "1" : "0"); }},
    {"DPDKUDP_STATS", [](V v, C& c, R& r) { return set_bool(v, c.stats, r); },
     [](const C& c) { return R(c.stats ? "1" : "0"); }},
    {"DPDKUDP_FAULTS", [](V v, C& c, R& r) { return set_faults(v, c.faults, r); },
     [](const C& c) { return to_string(c.faults); }},
    {"DPDKUDP_ANNOUNCE", [](V v, C& c, R& r) { return set_bool(v, c.announce, r); },
     [](const C& c) { return R(c.announce ? "1" : "0"); }},
    {"DPDKUDP_PERF_INTERVAL", [](V v, C& c, R& r) { return set_number(v, 0, 3600, c.perf_interval_s, r, "seconds"); },
     [](const C& c) { return std::to_string(c.perf_interval_s); }},
    {"DPDKUDP_LOG_TARGET", [](V v, C& c, R& r) { return set_enum(v, kLogTargetNames, c.log_target, r); },
     [](const C& c) { return R(to_string(c.log_target)); }},
    {"DPDKUDP_PROFILE", [](V v, C& c, R& r) { return set_profile(v, c.profile, r); },
     [](const C& c) { return c.profile; }},
    {"DPDKUDP_OFFLOAD", [](V v, C& c, R& r) { return set_offload(v, c.offload, r); },
     [](const C& c) { return c.offload.to_string(); }},
    {"DPDKUDP_CAPTURE", [](V v, C& c, R& r) { return set_absolute_path(v, c.capture, r, "file name"); },
     [](const C& c) { return c.capture; }},
    {"DPDKUDP_CAPTURE_LIMIT",
     [](V v, C& c, R& r) { return set_number(v, 4096, uint64_t{1} << 40, c.capture_limit, r, "bytes"); },
     [](const C& c) { return std::to_string(c.capture_limit); }},
    };

const KeyDef* find_key(std::string_view name) {
  for (const auto& k : kKeys) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

// "unknown key (did you mean DPDKUDP_MTU?)": the closest known name within
// two edits, ignoring case and a forgotten DPDKUDP_ prefix.
std::string unknown_key_reason(std::string_view key) {
  const std::string u = upper(key);
  const std::string prefixed = std::string(kPrefix) + u;
  std::string_view best;
  size_t best_distance = 3;
  auto consider = [&](std::string_view candidate) {
    size_t d = std::min(edit_distance(u, candidate), edit_distance(prefixed, candidate));
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  };
  for (const auto& k : kKeys) consider(k.name);
  consider(kConfigVar);
  std::string reason = "unknown key";
  if (!best.empty()) reason += " (did you mean " + std::string(best) + "?)";
  return reason;
}

// ---------------------------------------------------------------- gathering
// First every KEY=VALUE is collected (file, then environment on top); only
// then are values parsed, so an environment variable can also repair a bad
// value in a file the user cannot edit.

struct Setting {
  std::string value;
  std::string where;
  size_t line = 0;   // file line, 0 for the environment
  size_t order = 0;  // values are checked in the order they were written
};
using Settings = std::map<std::string, Setting, std::less<>>;

ConfigError make_error(std::string_view key, std::string_view value, std::string reason, std::string where) {
  return ConfigError{std::string(key), std::string(value), std::move(reason), std::move(where)};
}

struct Line {
  std::string key;  // empty: blank or comment
  std::string value;
};

// Lexes one line of the file. On a syntax error fills `reason` (and what
// is known of key/value) and returns false.
bool lex_line(std::string_view text, Line& out, std::string& reason) {
  std::string_view s = trim(text);  // also drops the \r of CRLF files
  if (s.empty() || s.front() == '#') return true;
  if (s.size() > 7 && s.substr(0, 6) == "export" && (s[6] == ' ' || s[6] == '\t')) s = trim(s.substr(7));
  const size_t eq = s.find('=');
  if (eq == std::string_view::npos) {
    out.value = std::string(s);
    reason = "expected KEY=VALUE";
    return false;
  }
  out.key = std::string(trim(s.substr(0, eq)));
  std::string_view rest = trim(s.substr(eq + 1));
  if (out.key.empty()) {
    out.value = std::string(rest);
    reason = "missing key before '='";
    return false;
  }
  if (!rest.empty() && (rest.front() == '"' || rest.front() == '\'')) {
    const size_t close = rest.find(rest.front(), 1);
    if (close == std::string_view::npos) {
      out.value = std::string(rest);
      reason = "unterminated quote";
      return false;
    }
    out.value = std::string(rest.substr(1, close - 1));  // verbatim: no escapes
    const std::string_view after = trim(rest.substr(close + 1));
    if (!after.empty() && after.front() != '#') {
      reason = "unexpected text after the closing quote";
      return false;
    }
    return true;
  }
  // As in the shell, '#' starts a comment only at the start of a word, so
  // "iface=veth#1" keeps its '#'.
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '#' && (i == 0 || is_space(rest[i - 1]))) {
      rest = trim(rest.substr(0, i));
      break;
    }
  }
  out.value = std::string(rest);
  return true;
}

// Calls f(line_number, line) for each line, after a UTF-8 byte-order mark.
template <class F>
void for_each_line(std::string_view text, F&& f) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  size_t number = 0;
  for (std::string_view line : split(text, '\n')) f(++number, line);
}

std::optional<ConfigError> gather_file(std::string_view text, std::string_view file_name, Settings& settings) {
  std::optional<ConfigError> error;
  for_each_line(text, [&](size_t number, std::string_view raw) {
    if (error) return;
    const std::string where = std::string(file_name) + ":" + std::to_string(number);
    Line line;
    std::string reason;
    if (!lex_line(raw, line, reason)) {
      error = make_error(line.key, line.value, reason, where);
    } else if (line.key.empty()) {
      return;
    } else if (line.key == kConfigVar) {
      error = make_error(line.key, line.value, "only works as an environment variable (it names this file)", where);
    } else if (!find_key(line.key)) {
      error = make_error(line.key, line.value, unknown_key_reason(line.key), where);
    } else if (auto it = settings.find(line.key); it != settings.end()) {
      error = make_error(line.key, line.value,
                         "duplicate key (first set at line " + std::to_string(it->second.line) + ")", where);
    } else {
      settings[line.key] = Setting{line.value, where, number, number};
    }
  });
  return error;
}

std::optional<ConfigError> gather_environment(const Environment& env, Settings& settings) {
  size_t order = kMaxFileBytes;  // after every file line
  for (const auto& [name, value] : env) {
    if (name.compare(0, kPrefix.size(), kPrefix) != 0 || name == kConfigVar) continue;
    // An unknown DPDKUDP_ variable is almost always a typo of a known one.
    if (!find_key(name)) return make_error(name, value, unknown_key_reason(name), std::string(kEnvironment));
    settings[name] = Setting{std::string(trim(value)), std::string(kEnvironment), 0, ++order};
  }
  return std::nullopt;
}

// DPDKUDP_PROFILE's settings, under every key already set (order 0: they
// are applied first, so a written key replaces one of them).
std::optional<ConfigError> apply_profile(Settings& settings) {
  const auto it = settings.find("DPDKUDP_PROFILE");
  if (it == settings.end() || it->second.value.empty()) return std::nullopt;
  std::string name;
  std::string reason;
  if (!set_profile(it->second.value, name, reason)) {
    return make_error("DPDKUDP_PROFILE", it->second.value, std::move(reason), it->second.where);
  }
  const Profile* profile = find_profile(name);
  if (profile == nullptr) return std::nullopt;  // set_profile checked it
  for (const auto& [key, value] : profile->settings) {
    settings.try_emplace(std::string(key), Setting{std::string(value), "profile " + name, 0, 0});
  }
  return std::nullopt;
}

std::optional<ConfigError> apply_settings(const Settings& settings, Config& c) {
  std::vector<const Settings::value_type*> ordered;
  for (const auto& entry : settings) ordered.push_back(&entry);
  std::sort(ordered.begin(), ordered.end(), [](auto* a, auto* b) { return a->second.order < b->second.order; });
  for (const auto* entry : ordered) {
    const auto& [name, setting] = *entry;
    if (setting.value.empty()) continue;  // KEY= means "the default"
    std::string reason;
    if (!find_key(name)->parse(setting.value, c, reason)) {
      return make_error(name, setting.value, std::move(reason), setting.where);
    }
  }
  return std::nullopt;
}

// The VLAN keys that only mean something together. Each error names the
// key that is out of place.
template <typename Where>
std::optional<ConfigError> check_vlan(const Config& c, const Where& where) {
  const stack::VlanConfig& v = c.vlan;
  const stack::VlanConfig none;
  auto error = [&](std::string_view key, std::string value, std::string reason) {
    return make_error(key, std::move(value), std::move(reason), where(key));
  };
  if (!v.enabled()) {
    if (v.mode != none.mode) {
      return error("DPDKUDP_VLAN_MODE", R(name_of(kVlanModeNames, v.mode)), "needs DPDKUDP_VLAN (the VID)");
    }
    if (!v.allowed.empty()) {
      return error("DPDKUDP_VLAN_ALLOWED", show_vlan_list(v.allowed), "needs DPDKUDP_VLAN (the VID)");
    }
    if (v.native != 0) return error("DPDKUDP_VLAN_NATIVE", std::to_string(v.native), "needs DPDKUDP_VLAN (the VID)");
    if (v.pcp != 0) return error("DPDKUDP_VLAN_PCP", std::to_string(v.pcp), "needs DPDKUDP_VLAN (the VID)");
    if (v.software) return error("DPDKUDP_VLAN_OFFLOAD", "software", "needs DPDKUDP_VLAN (the VID)");
    return std::nullopt;
  }
  const std::string trunk_only =
      "only a trunk has it (DPDKUDP_VLAN_MODE=trunk; the mode is " + std::string(name_of(kVlanModeNames, v.mode)) + ")";
  if (v.mode != stack::VlanMode::kTrunk && !v.allowed.empty()) {
    return error("DPDKUDP_VLAN_ALLOWED", show_vlan_list(v.allowed), trunk_only);
  }
  if (v.mode != stack::VlanMode::kTrunk && v.native != 0) {
    return error("DPDKUDP_VLAN_NATIVE", std::to_string(v.native), trunk_only);
  }
  if (v.mode == stack::VlanMode::kAccess && v.pcp != 0) {
    return error("DPDKUDP_VLAN_PCP", std::to_string(v.pcp),
                 "access mode sends untagged frames, which carry no priority");
  }
  return std::nullopt;
}

// Checks between keys, after each value is valid on its own. A gateway the
// stack cannot ARP for would make every off-link send fail silently.
std::optional<ConfigError> check_consistency(const Settings& settings, const Config& c) {
  auto on_link = [&](wire::Ipv4Addr a) {
    if (c.ip && c.ip->contains(a)) return true;
    return std::any_of(c.routes.begin(), c.routes.end(),
                       [&](const RouteSpec& r) { return !r.gateway && r.destination.contains(a); });
  };
  auto where = [&](std::string_view key) {
    auto it = settings.find(key);
    return it == settings.end() ? std::string() : it->second.where;
  };
  auto written = [&](std::string_view key) {
    auto it = settings.find(key);
    return it == settings.end() ? std::string() : it->second.value;
  };
  if (auto e = check_vlan(c, where)) return e;
  // Without DPDKUDP_IP the address comes from the interface at start-up,
  // and the engine checks the gateway against it then.
  if (!c.ip) return std::nullopt;
  const std::string not_on_link =
      " is not on-link: outside DPDKUDP_IP " + c.ip->to_string() + " and every \"dev\" route";
  if (c.gateway) {
    const std::string g = c.gateway->to_string();
    if (*c.gateway == c.ip->addr) {
      return make_error("DPDKUDP_GATEWAY", g, "is this host's own address (DPDKUDP_IP)", where("DPDKUDP_GATEWAY"));
    }
    if (!on_link(*c.gateway)) {
      return make_error("DPDKUDP_GATEWAY", g, "gateway" + not_on_link, where("DPDKUDP_GATEWAY"));
    }
  }
  for (const auto& r : c.routes) {
    if (r.gateway && (*r.gateway == c.ip->addr || !on_link(*r.gateway))) {
      const std::string problem = *r.gateway == c.ip->addr ? " is this host's own address" : not_on_link;
      return make_error("DPDKUDP_ROUTES", written("DPDKUDP_ROUTES"), "gateway " + r.gateway->to_string() + problem,
                        where("DPDKUDP_ROUTES"));
    }
  }
  return std::nullopt;
}

// DPDKUDP_REQUIRE as far as it can be read from a configuration that failed:
// the environment wins, then the file's last readable line. Unreadable
// counts as 0: fall back to the kernel, having printed the error.
bool require_hint(std::string_view text, const Environment& env) {
  if (auto it = env.find(kRequireVar); it != env.end()) return parse_bool(trim(it->second)).value_or(false);
  bool require = false;
  for_each_line(text, [&](size_t, std::string_view raw) {
    Line line;
    std::string reason;
    if (lex_line(raw, line, reason) && line.key == kRequireVar) require = parse_bool(line.value).value_or(false);
  });
  return require;
}

enum class ReadStatus { kOk, kMissing, kError };

// stdio rather than open()/read(): glibc's fopen reaches the kernel through
// internal calls the shim's own interposed symbols cannot catch.
ReadStatus read_file(const std::string& path, std::string& out, std::string& reason) {
  std::FILE* f = std::fopen(path.c_str(), "re");
  if (!f) {
    const int err = errno;
    reason = std::string("cannot open: ") + std::strerror(err);
    return err == ENOENT ? ReadStatus::kMissing : ReadStatus::kError;
  }
  // fopen() of a directory succeeds on Linux; the read would fail later
  // with a less helpful EISDIR.
  struct stat st {};
  if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
    std::fclose(f);
    reason = "is a directory, not a file";
    return ReadStatus::kError;
  }
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    out.append(buf, n);
    if (out.size() > kMaxFileBytes) {
      std::fclose(f);
      reason = "larger than 1 MiB; is this the right file?";
      return ReadStatus::kError;
    }
  }
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) {
    reason = std::string("cannot read: ") + std::strerror(err);
    return ReadStatus::kError;
  }
  return ReadStatus::kOk;
}

}  // namespace

std::string_view to_string(BackendKind kind) { return name_of(kBackendNames, kind); }
std::string_view to_string(LogLevel level) { return name_of(kLogNames, level); }
std::string_view to_string(LogTarget target) { return name_of(kLogTargetNames, target); }

std::span<const Profile> profiles() { return kProfiles; }

std::string describe_profiles() {
  std::string out;
  for (const Profile& p : kProfiles) {
    if (!out.empty()) out += '\n';
    out.append(p.name).append(": ").append(p.purpose).append(" (");
    const char* sep = "";
    for (const auto& [key, value] : p.settings) {
      out.append(sep).append(key).append("=").append(value);
      sep = ", ";
    }
    out += ')';
  }
  return out;
}

std::vector<std::string_view> config_keys() {
  std::vector<std::string_view> out;
  for (const auto& k : kKeys) out.push_back(k.name);
  return out;
}
std::string_view to_string(DeploymentMode mode) { return name_of(kModeNames, mode); }
std::string_view to_string(WaitModel model) { return name_of(kWaitNames, model); }

std::string Config::describe_non_defaults() const {
  const Config defaults;
  std::string out;
  for (const auto& k : kKeys) {
    const std::string value = k.show(*this);
    if (value == k.show(defaults)) continue;
    if (!out.empty()) out += ' ';
    out += lower(k.name.substr(kPrefix.size())) + "=";
    const bool needs_quotes = value.empty() || std::any_of(value.begin(), value.end(), is_space);
    out += needs_quotes ? quote(value) : value;
  }
  return out;
}

std::string ConfigError::message() const {
  std::string m = "dpdkudp: config: ";
  if (!where.empty()) m += where + ": ";
  if (!key.empty()) {
    m += key + "=" + quote(value) + ": ";
  } else if (!value.empty()) {
    m += quote(value) + ": ";
  }
  m += reason;
  // One line whatever a path or strerror() contained.
  for (char& ch : m) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
  }
  return m;
}

Result<Config> parse_config_text(std::string_view text, std::string_view file_name, const Environment& env) {
  Settings settings;
  Config config;
  std::optional<ConfigError> error = gather_file(text, file_name, settings);
  if (!error) error = gather_environment(env, settings);
  if (!error) error = apply_profile(settings);
  if (!error) error = apply_settings(settings, config);
  if (!error) error = check_consistency(settings, config);
  if (error) {
    error->require = require_hint(text, env);
    return std::move(*error);
  }
  config.source = std::string(file_name);
  return config;
}

Result<Config> load_config(const Environment& env, const std::string& default_path) {
  auto fail = [&](std::string key, std::string value, std::string reason, std::string where) {
    ConfigError e = make_error(key, value, std::move(reason), std::move(where));
    e.require = require_hint({}, env);
    return e;
  };
  std::string path = default_path;
  const auto explicit_path = env.find(kConfigVar);
  if (explicit_path != env.end()) {
    path = std::string(trim(explicit_path->second));  // "" disables the default file too
  }
  if (path.empty()) return parse_config_text({}, {}, env);

  std::string text;
  std::string reason;
  switch (read_file(path, text, reason)) {
    case ReadStatus::kOk: return parse_config_text(text, path, env);
    case ReadStatus::kMissing:
      if (explicit_path == env.end()) return parse_config_text({}, {}, env);  // optional default
      break;
    case ReadStatus::kError: break;
  }
  if (explicit_path != env.end()) {
    return fail(std::string(kConfigVar), path, std::move(reason), std::string(kEnvironment));
  }
  return fail({}, {}, std::move(reason), path);
}

Environment process_environment() {
  Environment env;
  for (char** p = environ; p != nullptr && *p != nullptr; ++p) {
    const std::string_view entry(*p);
    if (entry.compare(0, kPrefix.size(), kPrefix) != 0) continue;
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(entry.substr(0, eq), entry.substr(eq + 1));  // first wins, as getenv()
  }
  return env;
}

Result<Config> load_config_from_process() noexcept {
  try {
    return load_config(process_environment());
  } catch (...) {
    // Only std::bad_alloc can get here. Short strings fit the small-string
    // buffer, so building this error does not allocate again.
    ConfigError e;
    e.reason = "out of memory";
    e.where = "startup";
    return e;
  }
}

}  // namespace dpdkudp::engine
