// The classic BPF program the kernel runs on every frame before it copies
// the frame to our packet socket (SO_ATTACH_FILTER, see
// Documentation/networking/filter.rst). Written with the <linux/filter.h>
// BPF_STMT/BPF_JUMP macros: no libpcap, nothing compiled at runtime.
//
// Accepted:
//  - ARP;
//  - IPv4 carrying UDP or ICMP whose destination is one of filter.addresses
//    or 255.255.255.255, and IPv4 carrying UDP or IGMP whose destination is
//    multicast (224.0.0.0/4, any group: the stack checks membership itself,
//    and a NIC passes up only the groups in its multicast list, see
//    Backend::set_multicast_mac). ICMP to a group, IGMP to a unicast
//    address, TCP and the rest are dropped. When addresses is empty: every
//    IPv4 frame;
//  - with filter.ipv6, IPv6 whose next header is UDP, ICMPv6 (NDP too) or an
//    extension header the stack walks (Hop-by-Hop, Routing, Fragment,
//    Destination Options); TCP and the rest stay the kernel's alone. The
//    stack checks the IPv6 destination itself.
// Both also inside one 802.1Q tag left in the frame. The kernel strips the
// outer tag before AF_PACKET sees it (and reports it beside the frame), so
// a tag in the data only appears for the inner tag of QinQ traffic.
// Dropped besides: frames the kernel marks PACKET_OUTGOING (our own or
// other local senders' transmissions) and, unless promiscuous, frames to
// another host's MAC (PACKET_OTHERHOST).
#pragma once

#include <linux/filter.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace dpdkudp::af_packet {

// Jump offsets in cBPF are 8 bits; the address list is one compare each,
// and the longest jump (an early accept or drop over the whole IPv4 part,
// IPv6 included) must still reach the end.
inline constexpr size_t kMaxFilterAddresses = 200;

struct FilterSpec {
  std::vector<uint32_t> addresses;  // IPv4, host byte order
  bool promiscuous = false;
  bool ipv6 = false;
};

// The program; empty when spec.addresses has more than kMaxFilterAddresses.
std::vector<sock_filter> build_filter(const FilterSpec& spec);

// SO_ATTACH_FILTER; returns 0 or an errno value.
int attach_filter(int fd, std::span<const sock_filter> program);

}  // namespace dpdkudp::af_packet
