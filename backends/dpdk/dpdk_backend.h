// DpdkBackend: one DPDK ethdev port behind the batch interface.
//
// Buffers: every frame is an rte_mbuf from the port's pool; the Packet
// descriptor lives in the mbuf's private area (right after struct
// rte_mbuf), so RX hands the stack Packet* with no allocation and no copy:
//   Packet::data           = rte_pktmbuf_mtod(m)
//   Packet::backend_cookie = the mbuf (also reachable by pointer arithmetic)
// The stack copies a payload once, into the app's buffer, then releases.
//
// RX: rte_eth_rx_burst into a local array, each Packet filled from its
// mbuf (len, RxFlags from ol_flags via rx_flags_from_ol(), stripped VLAN
// TCI, queue). A multi-segment frame (never expected: scatter is off and
// the data room holds mtu + 26) is dropped and counted in rx_errors.
// alloc: rte_pktmbuf_alloc_bulk (all or nothing per call, so when the pool
// runs low it falls back to single mbufs and returns what it got).
// TX: each Packet's mbuf gets its data window (data_off/data_len/pkt_len
// from data/len) and the offload fields for the TxFlags the device does
// (RTE_MBUF_F_TX_IPV4 | IP_CKSUM | UDP_CKSUM with l2/l3/l4_len, TX_VLAN
// with vlan_tci); TxFlags it does not do are done in software before
// (soft_offloads), then rte_eth_tx_prepare (drivers that need header
// fix-ups) and rte_eth_tx_burst. Frames the device does not take stay the
// caller's (tx_burst's return value); malformed frames (outside their
// buffer, shorter than an Ethernet header, longer than max_frame, offload
// headers that do not fit, refused by tx_prepare) are taken, freed and
// counted in tx_errors.
// release: rte_pktmbuf_free_bulk. alloc/release are safe from any thread
// (the pool's ring is multi-producer/multi-consumer; threads that are not
// EAL lcores use no per-lcore cache).
//
// Counters: rte_eth_stats_get() -> BackendStats (imissed -> rx_missed,
// rx_nombuf -> rx_no_buffer, ierrors/oerrors + our own refusals ->
// rx/tx_errors); per-queue counters via queue_stats(). The device's
// counters are reset when the port is opened.
//
// Multicast: set_multicast_mac keeps a counted set of the joined
// addresses and gives the whole set to the device on every change
// (rte_eth_dev_set_mc_addr_list). A driver without a multicast list
// (-ENOTSUP) gets all-multicast instead (rte_eth_allmulticast_enable)
// while any address is joined, turned off again with the last one, unless
// all-multicast or promiscuous mode was already on when the port opened
// (then it is left as found). A port over a kernel interface (net_af_packet,
// net_af_xdp, net_tap: dev_info.if_index) whose driver has neither puts
// the group on that interface's multicast list through a packet-socket
// membership (MulticastMemberships), dropped by the kernel with the
// process. A change the device refuses changes nothing and returns its
// error (-ENOTSUP when it has none of these: frames to a group may not
// arrive). rx_multicast says whether a multicast list, all-multicast or
// promiscuous mode at open, or a kernel interface is there. The destructor clears what was programmed. A mutex
// serialises the callers (app threads); bursts do not take it.
//
// wait_fd() is -1: DPDK ports are polled; the poller naps when idle. (Rx
// interrupts, rte_eth_dev_rx_intr_*, exist on some NICs but not on the
// virtual devices the tests run on, and the eventfd needs driver-specific
// draining; not used.)
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/api/backend.h"
#include "backends/common/multicast_memberships.h"
#include "backends/dpdk/dpdk.h"
#include "backends/dpdk/dpdk_mapping.h"
#include "backends/dpdk/rte.h"
#include "base/unique_fd.h"

namespace dpdkudp {

class DpdkBackend final : public Backend {
 public:
  // nullptr and *error on failure (see open_dpdk()).
  static std::unique_ptr<DpdkBackend> open(const DpdkConfig& config, std::string* error);
  ~DpdkBackend() override;
  DpdkBackend(const DpdkBackend&) = delete;
  DpdkBackend& operator=(const DpdkBackend&) = delete;

  std::string_view name() const override { return "dpdk"; }
  MacAddr mac() const override { return mac_; }
  const Capabilities& capabilities() const override { return caps_; }

  size_t rx_burst(uint16_t queue, std::span<Packet*> out) override;
  size_t alloc(std::span<Packet*> out) override;
  size_t tx_burst(uint16_t queue, std::span<Packet* const> pkts) override;
  void release(std::span<Packet* const> pkts) override;

  BackendStats stats() const override;

  int set_multicast_mac(const MacAddr& mac, bool on) override;

  // For the banner, the stats tool and the tests.
  uint16_t port() const { return port_; }
  const std::string& device_name() const { return device_; }
  const std::string& driver_name() const { return driver_; }
  const dpdk::OffloadSet& offloads() const { return offloads_; }
  std::string describe() const;
  std::string offloads_description() const { return dpdk::describe(offloads_); }
  std::vector<DpdkQueueStats> queue_stats() const;
  rte_mempool* pool() const { return pool_; }
  uint32_t pool_size() const { return pool_->size; }
  uint32_t pool_available() const { return rte_mempool_avail_count(pool_); }
  uint16_t rx_ring() const { return rx_ring_; }
  uint16_t tx_ring() const { return tx_ring_; }

  // The ports DPDK sees (RTE_ETH_FOREACH_DEV, without its conversions).
  static std::vector<uint16_t> port_ids();
  // Whether a DpdkBackend of this process has the port open.
  static bool port_open(uint16_t port);

  // The descriptor in an mbuf's private area, and back.
  static Packet* packet_of(rte_mbuf* m) { return static_cast<Packet*>(rte_mbuf_to_priv(m)); }
  static rte_mbuf* mbuf_of(const Packet* pkt) {
    return reinterpret_cast<rte_mbuf*>(reinterpret_cast<uintptr_t>(pkt) - sizeof(rte_mbuf));
  }
  // Fills m's Packet as rx_burst hands it over.
  static Packet* rx_packet(rte_mbuf* m, uint16_t queue);
  // Resets m's Packet as alloc hands it over (empty, data after headroom).
  static Packet* tx_buffer(rte_mbuf* m);
  // The mbuf TX fields for pkt: data window, and the offload fields for
  // hw_flags (a subset of pkt.tx_flags). Checks nothing.
  static void set_tx_fields(rte_mbuf& m, const Packet& pkt, uint32_t hw_flags);

  // Makes pkt's mbuf ready to send: bounds checks, software offloads for
  // the flags the device does not do, then set_tx_fields(). false: the
  // frame is malformed (left untouched but its mbuf fields).
  bool prepare_tx(Packet& pkt) const;

 private:
  DpdkBackend() = default;
  void drop_tx(rte_mbuf* m);
  // Gives the device multicast_ (its list, or all-multicast); 0 or a
  // negative errno. Caller holds multicast_mutex_.
  int program_multicast();
  int set_allmulticast(bool on);

  uint16_t port_ = 0;
  std::string device_;
  std::string driver_;
  MacAddr mac_{};
  Capabilities caps_;
  dpdk::OffloadSet offloads_;
  uint32_t hw_tx_flags_ = 0;
  rte_mempool* pool_ = nullptr;
  uint16_t rx_ring_ = 0;
  uint16_t tx_ring_ = 0;
  bool rss_ = false;
  bool opened_ = false;  // the destructor stops the port only then

  std::mutex multicast_mutex_;
  std::map<MacAddr, uint32_t> multicast_;  // joined address -> ons not yet undone
  bool mc_list_set_ = false;               // the device holds a list we gave it
  bool mc_list_unsupported_ = false;       // set_mc_addr_list said -ENOTSUP: all-multicast instead
  bool allmulticast_ours_ = false;         // we turned all-multicast on
  bool all_multicast_at_open_ = false;     // all-multicast or promiscuous already on: left alone
  bool kernel_multicast_ = false;          // neither list nor all-multicast: the kernel interface's list
  unsigned kernel_ifindex_ = 0;            // the port's kernel interface (dev_info.if_index), 0: none
  base::UniqueFd membership_fd_;           // a packet socket (opened with the port) for kernel_multicast_
  MulticastMemberships kernel_memberships_;
  std::set<MacAddr> kernel_joined_;  // what kernel_memberships_ holds

  std::atomic<uint64_t> rx_errors_{0};
  std::atomic<uint64_t> tx_errors_{0};
};

}  // namespace dpdkudp
