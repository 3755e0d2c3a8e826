// The batch interface every packet backend implements.
//
// One virtual call moves a burst. Ownership is stated per call:
//  - rx_burst():  the returned packets become the caller's.
//  - alloc():     the returned buffers become the caller's (empty, len 0,
//                 data positioned after the backend's headroom, at least
//                 kMinTxHeadroom bytes: the stack inserts 802.1Q tags
//                 there).
//  - tx_burst():  the first N (the return value) packets become the
//                 backend's; the rest stay the caller's, who retries or
//                 releases them.
//  - release():   the packets become the backend's again.
// Threading: rx_burst(q) and tx_burst(q) are called by one thread at a time
// per queue (the stack serialises them); alloc() and release() may be called
// from any thread concurrently.
#pragma once

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "backends/api/packet.h"
#include "base/addr.h"

namespace dpdkudp {

// How a socket lets other processes' sockets share its port (the
// steering calls' `share`): SO_REUSEPORT (flows spread by a hash of the
// source), SO_REUSEADDR (Linux gives unicast to the socket bound last,
// and every member of a group its copy). A plain bool true is
// kShareReusePort.
enum PortShare : uint32_t {
  kShareReusePort = 1u << 0,
  kShareReuseAddr = 1u << 1,
};

// Bytes every TX buffer from alloc() has in front of its data.
inline constexpr uint32_t kMinTxHeadroom = 64;

// What the device does for the stack. The stack reads this; nothing in the
// stack depends on which backend it runs over.
struct Capabilities {
  uint32_t mtu = 1500;  // L3 MTU
  uint16_t rx_queues = 1;
  uint16_t tx_queues = 1;
  uint32_t max_frame = 1518;    // largest frame a TX buffer can hold
  bool rx_ipv4_csum = false;    // sets kRxIpv4CsumGood/Bad
  bool rx_l4_csum = false;      // sets kRxL4CsumGood/Bad
  bool tx_ipv4_csum = false;    // honours kTxIpv4Csum
  bool tx_udp_csum = false;     // honours kTxUdpCsum
  bool rx_vlan_strip = false;   // may set kRxVlanStripped
  bool tx_vlan_insert = false;  // honours kTxVlanInsert
  // rx_burst costs a system call even when it finds nothing (a plain
  // packet socket): spinning on it burns system calls, so the engine
  // sleeps on wait_fd instead of busy-polling.
  bool rx_costs_syscall = false;
  // Frames to a joined IPv4/IPv6 group reach rx_burst (set_multicast_mac
  // works). Without it the shim leaves group memberships to the kernel.
  bool rx_multicast = false;
};

// Counters the backend owns (NIC level of the drop hierarchy).
struct BackendStats {
  uint64_t rx_packets = 0;
  uint64_t tx_packets = 0;
  uint64_t rx_missed = 0;     // ring full: the device had nowhere to put it
  uint64_t rx_no_buffer = 0;  // no free buffer to refill the ring
  uint64_t rx_errors = 0;
  uint64_t tx_errors = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual std::string_view name() const = 0;
  virtual MacAddr mac() const = 0;
  virtual const Capabilities& capabilities() const = 0;

  virtual size_t rx_burst(uint16_t queue, std::span<Packet*> out) = 0;
  virtual size_t alloc(std::span<Packet*> out) = 0;
  virtual size_t tx_burst(uint16_t queue, std::span<Packet* const> pkts) = 0;
  virtual void release(std::span<Packet* const> pkts) = 0;

  // A file descriptor that becomes readable when queue has frames, for a
  // poller to sleep on; -1 when the backend has none (poll with back-off).
  virtual int wait_fd(uint16_t /*queue*/) const { return -1; }
  // Re-arms whatever wait_fd needs before sleeping (e.g. interrupts).
  virtual void arm_wait(uint16_t /*queue*/) {}

  virtual BackendStats stats() const = 0;

  // From now on (on) or no longer, also receive frames sent to this
  // link-layer multicast address (an IPv4 group's 01:00:5e:..., RFC 1112
  // 6.4; an IPv6 group's 33:33:..., RFC 2464 7). Counted: every on is
  // undone by one off. Returns 0 or a negative errno; -EOPNOTSUPP when the
  // backend cannot receive group traffic. Any app thread; not the RX path.
  virtual int set_multicast_mac(const MacAddr& /*mac*/, bool /*on*/) { return -EOPNOTSUPP; }
};

}  // namespace dpdkudp
