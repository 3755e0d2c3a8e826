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

// /proc/sys/net/ipv4/ip_local_port_range: "low high". nullopt when missing
// or malformed (callers default to 32768..60999, Linux's default).
std::optional<std::pair<uint16_t, uint16_t>> read_port_range(const std::string& path);

}  // namespace dpdkudp::stack
