// The packet descriptor every backend hands to the stack and takes back.
//
// A Packet describes one frame in a buffer that belongs to a backend (an
// mbuf, a UMEM frame, a slot of an in-memory pool). The descriptor itself is
// backend memory too: backends embed it next to their buffer (DPDK: the mbuf
// private area) so handing a frame to the stack costs no allocation.
//
// Ownership is by reference and explicit: whoever holds a Packet* owns it
// until it gives it back with Backend::release() or Backend::tx_burst().
#pragma once

#include <cstdint>

namespace dpdkudp {

// Facts the backend (or the NIC) established about a received frame.
enum RxFlags : uint32_t {
  kRxIpv4CsumGood = 1u << 0,  // hardware verified the IPv4 header checksum
  kRxIpv4CsumBad = 1u << 1,   // hardware found it wrong
  kRxL4CsumGood = 1u << 2,    // hardware verified the UDP/ICMP checksum
  kRxL4CsumBad = 1u << 3,     // hardware found it wrong
  kRxVlanStripped = 1u << 4,  // an 802.1Q tag was removed into vlan_tci
  // The sender's kernel left the L4 checksum partial (local veth/tap
  // traffic, TP_STATUS_CSUMNOTREADY): the payload is intact, the checksum
  // field holds only the pseudo-header sum.
  kRxL4CsumPartial = 1u << 5,
  // Set by the stack alone, on the frames it loops back into its own
  // receive path (its own sends, copies from other processes): no backend
  // sets it.
  kRxLooped = 1u << 6,
};

// Work the stack asks the backend (or NIC) to do on a frame it transmits.
enum TxFlags : uint32_t {
  kTxIpv4Csum = 1u << 0,    // fill the IPv4 header checksum
  kTxUdpCsum = 1u << 1,     // finish the UDP checksum (field holds the
                            // pseudo-header sum, not inverted)
  kTxVlanInsert = 1u << 2,  // insert an 802.1Q tag carrying vlan_tci
  // The frame is IPv6 (l3_len is its IPv6 header): with kTxUdpCsum, the
  // checksum is over IPv6's pseudo-header.
  kTxIpv6 = 1u << 3,
};

// Receive-side metadata the stack fills in while it owns the packet, so a
// datagram can sit on a socket queue with no side allocation.
//
// These are socket facts (ports, the receive-buffer charge) in the device
// interface, on purpose: the alternative, a per-datagram record the stack
// allocates or an opaque area it casts, costs an allocation or a cast on
// every received datagram for no gain in layering (decision 5). The rule
// that keeps the layers apart instead: no backend reads or writes meta; a
// backend that recycles descriptors may only reset it to {} (the pool's
// alloc, DPDK's and the software offloads' RX preparation do). Only stack/
// gives it meaning.
struct PacketRxMeta {
  uint64_t timestamp_ns;  // CLOCK_REALTIME when the burst was received
  uint32_t src_addr;      // IPv4, host byte order
  uint32_t dst_addr;
  uint16_t src_port;
  uint16_t dst_port;
  uint16_t payload_offset;  // from data
  uint16_t payload_len;     // (the receive-buffer charge follows from it)
  uint16_t l3_offset;       // from data: the IP header
  uint8_t tos;              // IPv4 TOS or IPv6 traffic class
  uint8_t ttl;              // IPv4 TTL or IPv6 hop limit
  // IPv6: the datagram came over IPv6 and its addresses are read from the
  // header at l3_offset (src_addr and dst_addr are unused). 32 bytes in
  // all: a larger descriptor cost the IPv4 RX path 6% (pair backend).
  uint8_t ipv6;
};
static_assert(sizeof(PacketRxMeta) == 32);

struct Packet {
  uint8_t* data = nullptr;  // first byte of the frame
  uint32_t len = 0;         // bytes of frame at data
  uint32_t room = 0;        // bytes writable from data (TX buffers)
  uint32_t rx_flags = 0;    // RxFlags
  uint32_t tx_flags = 0;    // TxFlags
  uint16_t vlan_tci = 0;    // with kRxVlanStripped / kTxVlanInsert
  uint16_t l2_len = 0;      // header lengths, for TX offloads
  uint16_t l3_len = 0;
  uint16_t queue = 0;      // RX queue it arrived on
  Packet* next = nullptr;  // link for the holder's intrusive queues
  PacketRxMeta meta{};
  uintptr_t backend_cookie = 0;  // private to the backend
};

}  // namespace dpdkudp
