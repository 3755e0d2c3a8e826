// The kernel's IPv6 neighbour table for one interface, read over rtnetlink
// (RTM_GETNEIGH dump; IPv6 has no /proc file as /proc/net/arp is for ARP).
// In shared mode with AF_XDP the kernel keeps NDP, so the stack learns its
// IPv6 neighbours from here, as it learns IPv4 ones from /proc/net/arp.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "stack/wire/bytes.h"

namespace dpdkudp::engine {

struct KernelNeighbor6 {
  wire::Ipv6Addr ip;
  MacAddr mac{};
  friend bool operator==(const KernelNeighbor6&, const KernelNeighbor6&) = default;
};

// The usable entries (reachable, stale, delay, probe, permanent; with a
// link-layer address) of interface `ifindex` in one RTM_GETNEIGH dump's
// bytes (several netlink messages). Malformed messages are skipped; the
// walk stops at NLMSG_DONE or NLMSG_ERROR.
std::vector<KernelNeighbor6> parse_neighbor_dump6(std::span<const uint8_t> bytes, int ifindex);

// Asks the kernel (this network namespace) for them. nullopt when netlink
// fails.
std::optional<std::vector<KernelNeighbor6>> read_kernel_neighbors6(int ifindex);

}  // namespace dpdkudp::engine
