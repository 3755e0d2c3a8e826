// The NIC's share of the work, done in software. The in-memory backend does
// all of it so stack tests exercise the offload paths truthfully (what a
// side advertises in its Capabilities, it really does to the bytes); the
// DPDK backend does the TX part for frames its port cannot offload.
//
// TX (honouring Packet::tx_flags, located by l2_len/l3_len as a NIC does):
//   kTxIpv4Csum    fill the IPv4 header checksum;
//   kTxUdpCsum     finish the UDP checksum from the pseudo-header sum the
//                  stack left in the field (0 becomes 0xffff, RFC 768);
//   kTxVlanInsert  insert an 802.1Q tag carrying vlan_tci after the MACs.
// RX (on the receiving side, for every frame, including injected ones):
//   rx_vlan_strip  move an outer 802.1Q tag into vlan_tci, kRxVlanStripped;
//   rx_ipv4_csum   verify the IPv4 header checksum: kRxIpv4CsumGood/Bad;
//   rx_l4_csum     verify the UDP checksum (IPv4 unfragmented, IPv6 with no
//                  extension header): kRxL4CsumGood/Bad. An IPv4 UDP
//                  checksum of 0 means "none" (RFC 768) and sets neither
//                  flag; anything the NIC cannot parse sets neither flag.
//
// No dependency on stack/: a backend sits below the stack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "backends/api/packet.h"

namespace dpdkudp {

// The offloads one side of a pair advertises (and performs).
struct PairOffloads {
  bool rx_ipv4_csum = false;
  bool rx_l4_csum = false;
  bool tx_ipv4_csum = false;
  bool tx_udp_csum = false;
  bool rx_vlan_strip = false;
  bool tx_vlan_insert = false;

  static constexpr PairOffloads all() { return {true, true, true, true, true, true}; }
};

namespace common {

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;  // IEEE 802.1Q
inline constexpr size_t kEthHeaderLen = 14;
inline constexpr uint32_t kVlanTagLen = 4;

// The tx_flags of pkt this side will act on (the rest it ignores, as a NIC
// without the feature would).
uint32_t effective_tx_flags(const Packet& pkt, const PairOffloads& offloads);

// Whether the requested TX offloads can be done on this frame: the headers
// l2_len/l3_len describe lie inside it, the UDP length fits, and there are
// headroom bytes in front of data for a tag. Reads only; call it before
// committing the frame anywhere.
bool tx_offloads_feasible(const Packet& pkt, uint32_t flags, size_t headroom);

// Performs the offloads (checksums first, at the untagged offsets, then the
// tag). Only after tx_offloads_feasible() said yes.
void apply_tx_offloads(Packet& pkt, uint32_t flags);

// Turns a frame that arrived on the wire into what this side's NIC hands
// the stack: clears the sender's descriptor fields, sets queue and room,
// and applies the RX offloads. buffer_end bounds room.
void receive_frame(Packet& pkt, uint16_t queue, const PairOffloads& offloads, const uint8_t* buffer_end);

// RSS-style hash of the IPv4/IPv6 addresses and UDP ports (0 for anything
// else, e.g. ARP), for spreading frames over RX queues.
uint32_t flow_hash(std::span<const uint8_t> frame);

}  // namespace common
}  // namespace dpdkudp
