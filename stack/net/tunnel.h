// Overlay endpoints: the stack's address inside a VXLAN, GENEVE or GUE
// tunnel. A tunnel is a second link of the one stack: its inner address
// takes sockets (bound to it or to the wildcard) like the stack's own, its
// subnet is routed into it, and inside an Ethernet overlay (VXLAN, GENEVE)
// it answers ARP and resolves its inner neighbours through the tunnel. The
// stack encapsulates on the way out and decapsulates on the way in.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stack/net/counters.h"
#include "stack/net/neighbor.h"
#include "stack/net/thread_slot.h"
#include "stack/net/tunnel_config.h"
#include "stack/wire/bytes.h"

namespace dpdkudp::stack {

class Stack;

// What a tunnel dropped on the way in, each also counted under the stack's
// drop reason.
enum class TunnelDrop : uint8_t {
  kMalformed,    // truncated or invalid encapsulation header
  kNoMatch,      // this tunnel's port, another VNI (counted on the port's first tunnel)
  kUnsupported,  // control/OAM, a critical GENEVE option, GUE carrying neither IPv4 nor IPv6
  kInner,        // the inner frame was dropped (the stack's reason says why)
  kCount,
};
inline constexpr size_t kTunnelDropCount = static_cast<size_t>(TunnelDrop::kCount);
std::string_view tunnel_drop_name(TunnelDrop d);

struct TunnelCounterSnapshot {
  uint64_t rx_frames = 0;  // decapsulated
  uint64_t rx_bytes = 0;   // inner bytes
  uint64_t tx_frames = 0;  // encapsulated and handed to the link
  uint64_t tx_bytes = 0;
  uint64_t drops[kTunnelDropCount] = {};
};

// One configured tunnel, owned by the stack. The inner neighbour cache
// resolves inner addresses with ARP inside the overlay (Ethernet kinds).
class Tunnel final : private NeighborHooks, private NeighborHooks6 {
 public:
  Tunnel(Stack& stack, const TunnelConfig& config, size_t index, uint32_t underlay_mtu, size_t underlay_l2,
         const NeighborConfig& neighbor);

  // The outer source address, fixed when the stack starts.
  wire::Ipv4Addr outer_src;
  wire::Ipv6Addr outer_src6;

  const TunnelConfig& config() const { return config_; }
  size_t index() const { return index_; }
  bool ethernet() const { return config_.kind != TunnelKind::kGue; }
  // Bytes in front of the inner IP header in a frame we build: the outer
  // link, IP, UDP and tunnel headers and, for Ethernet kinds, the inner
  // Ethernet header.
  size_t encap_len() const { return encap_len_; }
  size_t outer_l2_len() const { return outer_l2_; }
  uint32_t mtu() const { return mtu_; }
  NeighborCache& neighbors() { return neighbors_; }
  NeighborCache6& neighbors6() { return neighbors6_; }
  // The inner IPv6 address, if the tunnel has one.
  bool has_inner6() const { return config_.inner6.has_value(); }
  const wire::Ipv6Addr& inner6() const { return config_.inner6->addr; }

  TunnelCounterSnapshot counters() const;
  // Counting writes no shared cache line: the RX side per queue (one
  // poller at a time each), the TX side per thread (thread_slot.h, as the
  // stack's TxCounters), where the outer IPv4 identification runs too.
  void count_rx(uint64_t bytes, uint16_t queue) {
    RxBlock& b = rx_[queue];
    b.frames.add();
    b.bytes.add(bytes);
  }
  void count_drop(TunnelDrop d, uint16_t queue) { rx_[queue].drops[static_cast<size_t>(d)].add(); }
  // Counts one frame out and returns the outer IPv4 identification for it.
  uint16_t count_tx(uint64_t bytes);

 private:
  // NeighborHooks and NeighborHooks6: ARP and NDP inside the overlay.
  void send_request(wire::Ipv4Addr target, const MacAddr* unicast_to, uint16_t vlan) override;
  void send_request(wire::Ipv6Addr target, const MacAddr* unicast_to, uint16_t vlan) override;
  void transmit_resolved(Packet* pkt, const MacAddr& mac, uint16_t vlan) override;
  void drop_unresolved(Packet* pkt, wire::Ipv4Addr target) override;
  void drop_unresolved(Packet* pkt, wire::Ipv6Addr target) override;

  Stack& stack_;
  TunnelConfig config_;
  size_t index_;
  size_t outer_l2_;
  size_t encap_len_;
  uint32_t mtu_;
  NeighborCache neighbors_;
  NeighborCache6 neighbors6_;
  struct alignas(64) RxBlock {
    LocalCounter frames, bytes;
    LocalCounter drops[kTunnelDropCount];
  };
  // Each thread's identifications start apart (slot * 2^10) so that two
  // threads' frames to the remote seldom share one within a wrap.
  struct alignas(64) TxBlock {
    LocalCounter frames, bytes;
    uint16_t ident = 0;
  };
  std::unique_ptr<RxBlock[]> rx_;  // one per RX queue
  std::unique_ptr<TxBlock[]> tx_;  // kThreadSlots, then the overflow block
  std::mutex tx_overflow_lock_;    // threads beyond kThreadSlots share the last
  size_t rx_queues_;
};

// Overhead in front of the inner IP header, outer link header excluded.
size_t tunnel_overhead(const TunnelConfig& config);

}  // namespace dpdkudp::stack
