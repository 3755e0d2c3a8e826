// Stack counters, laid out by the RX drop hierarchy (design.md, decision 8).
//
// Every drop goes through one DropReason. RX counters are written by one
// poller thread per queue (a plain relaxed load+store, no locked
// instruction); readers on other threads (the stats tool) sum the queues.
// TX counters are shared by app threads and use relaxed fetch_add, once per
// burst where the path is batched.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "stack/net/thread_slot.h"

namespace dpdkudp::stack {

enum class DropReason : uint8_t {
  kEthTruncated,    // shorter than an Ethernet header
  kEthUnsupported,  // ethertype we do not handle (LLDP, ...)
  kEthNotForUs,     // unicast to another MAC
  kVlanMismatch,    // tagged with another VID, or tag presence wrong
  kArpMalformed,
  kIpMalformed,  // bad version, header length or total length
  kIpChecksum,
  kIpFragment,       // fragments are not reassembled (as the reference)
  kIpNotOurs,        // destination is not one of our addresses
  kIpMartianSource,  // broadcast/multicast source
  kIpUnknownProtocol,
  kUdpMalformed,
  kUdpChecksum,
  kUdpNoSocket,       // closed port (port-unreachable sent if allowed)
  kSocketBufferFull,  // the socket's SO_RCVBUF was full
  kIcmpMalformed,
  kIcmpChecksum,
  kIcmpUnhandled,  // a type we neither answer nor map to a socket
  kTxNoBuffer,     // backend had no TX buffer
  kTxRingFull,     // backend TX ring stayed full
  kTxNoRoute,
  kArpUnresolved,  // held for resolution and it failed or overflowed
  // Appended (the stats region names them; order is not an interface).
  kIp6ExtensionHeader,  // a malformed or unsupported extension-header chain
  kUdpZeroChecksum,     // UDP over IPv6 with checksum 0 (RFC 8200 §8.1)
  kNdpMalformed,        // NS/NA failing RFC 4861's validity checks
  kNdpUnresolved,       // held for NDP resolution and it failed or overflowed
  kTunnelMalformed,     // a truncated or invalid VXLAN/GENEVE/GUE header
  kTunnelNoMatch,       // a tunnel port, but a VNI (or family) no tunnel serves
  kTunnelUnsupported,   // control/OAM messages, critical GENEVE options, GUE carrying neither IPv4 nor IPv6
  kUdpOtherProcess,     // another process on the interface takes it (its port, or SO_REUSEPORT's hash chose it)
  kIgmpMalformed,       // IGMP too short, a bad checksum, or a query that does not add up
  kMldMalformed,        // MLD too short, or a query that does not add up or comes from no link-local source
  kGroupCopyLost,       // a group datagram's copy between processes on the interface: its inbox was full, or the
                        // copy could not be sent (engine/group_peers.h)
  kCount,
};

std::string_view drop_reason_name(DropReason reason);
inline constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::kCount);

// A counter with a single writer thread.
class LocalCounter {
 public:
  void add(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// A counter shared by writer threads.
class SharedCounter {
 public:
  void add(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

struct alignas(64) RxQueueCounters {
  LocalCounter frames;
  LocalCounter bytes;
  LocalCounter udp_delivered;
  LocalCounter arp_replies_sent;
  LocalCounter arp_received;
  LocalCounter icmp_echo_replies;
  LocalCounter icmp_errors_received;
  LocalCounter icmp_unreach_sent;
  LocalCounter icmp_rate_limited;
  LocalCounter ndp_received;      // NS and NA taken in
  LocalCounter ndp_adverts_sent;  // NA sent in answer
  LocalCounter igmp_received;     // IGMP queries, reports and leaves taken in
  LocalCounter mld_received;      // MLD queries, reports and dones taken in
  std::array<LocalCounter, kDropReasonCount> drops;
};

// TX counters, written by app threads. Each live thread writes its own
// block (thread_slot.h), so counting costs no locked instruction. Threads
// beyond the slot count share one block under a mutex: correct, slower.
struct alignas(64) TxCounterBlock {
  LocalCounter frames;
  LocalCounter bytes;
  LocalCounter udp_datagrams;
  LocalCounter arp_requests;
  LocalCounter ndp_solicits;  // NS sent (resolution, refresh, DAD)
  LocalCounter loopback;      // datagrams to our own address, looped inside
  LocalCounter igmp_sent;     // IGMP reports and leaves
  LocalCounter mld_sent;      // MLD reports and dones
  std::array<LocalCounter, kDropReasonCount> drops;
};

class TxCounters {
 public:
  template <typename F>
  void update(F&& f) {
    size_t slot = this_thread_slot();
    if (slot < kThreadSlots) {
      f(blocks_[slot]);
      return;
    }
    std::lock_guard lock(overflow_lock_);
    f(overflow_);
  }
  void drop(DropReason r, uint64_t n = 1) {
    update([&](TxCounterBlock& b) { b.drops[static_cast<size_t>(r)].add(n); });
  }
  // Sum of one counter over every block.
  template <typename Get>
  uint64_t sum(Get get) const {
    uint64_t total = get(overflow_).get();
    for (const auto& b : blocks_) total += get(b).get();
    return total;
  }

 private:
  std::array<TxCounterBlock, kThreadSlots> blocks_;
  std::mutex overflow_lock_;
  TxCounterBlock overflow_;
};

// A plain-value sum, for tests and the stats tool.
struct CounterSnapshot {
  uint64_t rx_frames = 0;
  uint64_t rx_bytes = 0;
  uint64_t udp_delivered = 0;
  uint64_t arp_replies_sent = 0;
  uint64_t arp_received = 0;
  uint64_t icmp_echo_replies = 0;
  uint64_t icmp_errors_received = 0;
  uint64_t icmp_unreach_sent = 0;
  uint64_t icmp_rate_limited = 0;
  uint64_t tx_frames = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_udp_datagrams = 0;
  uint64_t arp_requests_sent = 0;
  uint64_t ndp_received = 0;
  uint64_t ndp_adverts_sent = 0;
  uint64_t ndp_solicits_sent = 0;
  uint64_t loopback = 0;
  uint64_t igmp_received = 0;
  uint64_t igmp_sent = 0;
  uint64_t mld_received = 0;
  uint64_t mld_sent = 0;
  std::array<uint64_t, kDropReasonCount> drops{};

  uint64_t drop(DropReason r) const { return drops[static_cast<size_t>(r)]; }
};

}  // namespace dpdkudp::stack
