// Readers for the kernel's view of the host's network, from /proc. Every
// reader takes the path so tests feed it fixtures.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stack/net/route.h"

namespace dpdkudp::stack {

struct ProcArpEntry {
  Ipv4Addr ip;
  MacAddr mac{};
  std::string device;
};

// /proc/net/route rows for `device` (all devices when empty), as routes.
// Rows that do not parse are skipped; a missing file yields nullopt.
std::optional<std::vector<Route>> read_proc_net_route(const std::string& path, std::string_view device);

// /proc/net/arp complete entries (flag ATF_COM) for `device` (all when
// empty). Incomplete entries (00:00:00:00:00:00) are skipped.
std::optional<std::vector<ProcArpEntry>> read_proc_net_arp(const std::string& path, std::string_view device);

// One /proc/net/if_inet6 row: an IPv6 address the kernel holds.
struct ProcInet6Address {
  wire::Ipv6Cidr address;
  int ifindex = 0;
  uint8_t scope = 0;  // RFC 4291 scope as the kernel prints it: 0x00 global, 0x20 link, 0x10 host
  uint8_t flags = 0;  // IFA_F_*: 0x40 tentative (DAD running), 0x08 DAD failed, 0x20 deprecated
  std::string device;
  // Usable as a source: neither still under duplicate-address detection,
  // nor failed it.
  bool usable() const { return (flags & (0x40 | 0x08)) == 0; }
};

// /proc/net/if_inet6 rows for `device` (all when empty), in file order.
// Rows that do not parse are skipped; a missing file (no IPv6 in the
// kernel) yields nullopt.
std::optional<std::vector<ProcInet6Address>> read_proc_net_if_inet6(const std::string& path, std::string_view device);

// One /proc/net/ipv6_route row: a usable route (RTF_UP, not
// RTF_REJECT), on-link unless it has a gateway (RTF_GATEWAY).
struct ProcIpv6Route {
  wire::Ipv6Cidr destination;
  std::optional<wire::Ipv6Addr> gateway;
  uint32_t metric = 0;
  std::string device;
};

// /proc/net/ipv6_route rows for `device` (all when empty). The kernel's
// local and multicast table entries (on "lo", or RTF_REJECT) are skipped
// with the unusable ones; a missing file yields nullopt.
std::optional<std::vector<ProcIpv6Route>> read_proc_net_ipv6_route(const std::string& path, std::string_view device);

// /proc/sys/net/ipv4/ip_local_port_range: "low high". nullopt when missing
// or malformed (callers default to 32768..60999, Linux's default).
std::optional<std::pair<uint16_t, uint16_t>> read_port_range(const std::string& path);

}  // namespace dpdkudp::stack
