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
#include <string_view>

namespace dpdkudp::stack {

enum class DropReason : uint8_t {
  kEthTruncated,       // shorter than an Ethernet header
  kEthUnsupported,     // ethertype we do not handle (IPv6 until it lands, LLDP, ...)
  kEthNotForUs,        // unicast to another MAC
  kVlanMismatch,       // tagged with another VID, or tag presence wrong
  kArpMalformed,
  kIpMalformed,        // bad version, header length or total length
  kIpChecksum,
  kIpFragment,         // fragments are not reassembled (as the reference)
  kIpNotOurs,          // destination is not one of our addresses
  kIpMartianSource,    // broadcast/multicast source
  kIpUnknownProtocol,
  kUdpMalformed,
  kUdpChecksum,
  kUdpNoSocket,        // closed port (port-unreachable sent if allowed)
  kSocketBufferFull,   // the socket's SO_RCVBUF was full
  kIcmpMalformed,
  kIcmpChecksum,
  kIcmpUnhandled,      // a type we neither answer nor map to a socket
  kTxNoBuffer,         // backend had no TX buffer
  kTxRingFull,         // backend TX ring stayed full
  kTxNoRoute,
  kArpUnresolved,      // held for resolution and it failed or overflowed
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
  std::array<LocalCounter, kDropReasonCount> drops;
};

struct TxCounters {
  SharedCounter frames;
  SharedCounter bytes;
  SharedCounter udp_datagrams;
  SharedCounter arp_requests;
  SharedCounter loopback;  // datagrams to our own address, looped inside
  std::array<SharedCounter, kDropReasonCount> drops;
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
  uint64_t loopback = 0;
  std::array<uint64_t, kDropReasonCount> drops{};

  uint64_t drop(DropReason r) const { return drops[static_cast<size_t>(r)]; }
};

}  // namespace dpdkudp::stack
