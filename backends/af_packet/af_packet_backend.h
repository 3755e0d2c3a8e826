// AfPacketBackend: one AF_PACKET SOCK_RAW socket bound to an interface.
//
// RX: recvmmsg(MSG_DONTWAIT) straight into pool buffers, up to 64 frames a
// call; PACKET_AUXDATA rides along as a cmsg and becomes the RxFlags and
// the stripped VLAN tag (packet_socket.h). The kernel copies each frame
// once, into our buffer; the buffer then travels to the stack by reference.
// TX: sendmmsg(MSG_DONTWAIT) of up to 64 frames a call; the kernel copies
// each into an skb, so the buffers go back to the pool at once.
//
// Capabilities: no checksum or VLAN offload on TX. rx_vlan_strip is true:
// the kernel strips the outer tag on every driver before AF_PACKET sees the
// frame, and we report it in kRxVlanStripped/vlan_tci. Checksum verdicts
// are passed on per frame where the kernel has one (kRxL4CsumGood when a
// NIC verified it, kRxL4CsumPartial for local veth/tap senders), never
// Bad, so rx_l4_csum stays false.
//
// When the pool has no buffer for a waiting frame, rx_burst drops up to a
// burst of waiting frames and counts them in rx_no_buffer, as a NIC does
// when it cannot refill its ring: the socket must drain, or the poller
// would spin on a readable fd it cannot serve.
//
// Counters: rx_missed is the kernel's tp_drops (socket buffer full),
// accumulated across PACKET_STATISTICS reads (each read resets it);
// rx_errors counts frames larger than a buffer (truncated: AF_PACKET taps
// after GRO, so keep GRO off on the interface, and open the backend again
// after raising the MTU); tx_errors
// counts frames dropped as malformed (shorter than an Ethernet header,
// longer than max_frame, asking for an offload we do not have) or refused
// by the kernel.
//
// Threading follows backend.h: rx_burst and tx_burst may run at the same
// time on two threads; alloc/release/stats from any thread.
#pragma once

#include <linux/if_packet.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "backends/af_packet/af_packet.h"
#include "backends/af_packet/packet_socket.h"
#include "backends/api/backend.h"
#include "backends/common/multicast_memberships.h"
#include "backends/common/packet_pool.h"
#include "backends/common/rx_buffer_cache.h"
#include "base/interface.h"

namespace dpdkudp {

class AfPacketBackend final : public Backend {
 public:
  // nullptr and *error on failure (see open_af_packet()).
  static std::unique_ptr<AfPacketBackend> open(const AfPacketConfig& config, std::string* error);
  ~AfPacketBackend() override;

  std::string_view name() const override { return "af_packet"; }
  MacAddr mac() const override { return info_.mac; }
  const Capabilities& capabilities() const override { return caps_; }

  size_t rx_burst(uint16_t queue, std::span<Packet*> out) override;
  size_t alloc(std::span<Packet*> out) override;
  size_t tx_burst(uint16_t queue, std::span<Packet* const> pkts) override;
  void release(std::span<Packet* const> pkts) override;

  // The packet socket: readable while frames are queued on it.
  int wait_fd(uint16_t queue) const override { return queue == 0 ? fd_.get() : -1; }

  BackendStats stats() const override;

  // A membership of the packet socket (packet_socket.h): dropped with it.
  int set_multicast_mac(const MacAddr& mac, bool on) override;

  PacketPool& pool() { return *pool_; }

 private:
  static constexpr size_t kBurst = common::RxBufferCache::kCapacity;
  // Room for one PACKET_AUXDATA control message, aligned for cmsghdr.
  struct alignas(cmsghdr) AuxBuffer {
    uint8_t bytes[CMSG_SPACE(sizeof(tpacket_auxdata))];
  };

  AfPacketBackend(af_packet::UniqueFd fd, const base::InterfaceInfo& info, const AfPacketConfig& config);

  size_t discard_waiting(size_t max_frames);
  // sendmmsg of tx_msgs_[0, n); returns how many the kernel took or
  // dropped as errors, stopping early only when the socket is full.
  size_t send_batch(size_t n);
  bool tx_frame_ok(const Packet& pkt) const;

  af_packet::UniqueFd fd_;
  base::InterfaceInfo info_;
  Capabilities caps_;
  std::unique_ptr<PacketPool> pool_;
  af_packet::PacketStatistics kernel_stats_;
  MulticastMemberships multicast_;

  // RX scratch, rx_burst's thread only.
  common::RxBufferCache rx_cache_;
  std::array<mmsghdr, kBurst> rx_msgs_{};
  std::array<iovec, kBurst> rx_iovs_{};
  std::array<sockaddr_ll, kBurst> rx_addrs_{};
  std::array<AuxBuffer, kBurst> rx_aux_{};

  // TX scratch, tx_burst's thread only.
  std::array<mmsghdr, kBurst> tx_msgs_{};
  std::array<iovec, kBurst> tx_iovs_{};

  std::atomic<uint64_t> rx_packets_{0};
  std::atomic<uint64_t> rx_no_buffer_{0};
  std::atomic<uint64_t> rx_errors_{0};
  std::atomic<uint64_t> tx_packets_{0};
  std::atomic<uint64_t> tx_errors_{0};
};

}  // namespace dpdkudp
