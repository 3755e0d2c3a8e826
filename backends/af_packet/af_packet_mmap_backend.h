// AfPacketMmapBackend: AF_PACKET with rings shared with the kernel
// (Documentation/networking/packet_mmap.rst, tpacket_rings.h).
//
// RX, TPACKET_V3: the kernel packs frames into blocks and hands a block
// over when it is full or rx_block_timeout_ms after its first frame. We
// walk the ready blocks and COPY each frame into a pool buffer, then give
// the block straight back. That is the one copy on this path, and it is
// deliberate: the stack keeps packets by reference on socket queues for as
// long as the application takes to read them, and a block can only be
// returned whole, so handing out frames inside the ring would let one slow
// socket pin blocks until the kernel freezes the ring and drops everything
// for every socket. A block is held across rx_burst calls only while the
// caller's burst is smaller than the block.
//
// TX, TPACKET_V2 on a second socket (PACKET_VERSION is per socket):
// tx_burst copies each frame into the next free slot, marks it
// TP_STATUS_SEND_REQUEST, and kicks the kernel with one
// send(MSG_DONTWAIT) per burst. With PACKET_QDISC_BYPASS the kernel hands
// frames straight to the driver: no qdisc, and packet taps (tcpdump on the
// interface) do not see our TX. A full ring takes fewer frames; the caller
// keeps the rest.
//
// wait_fd(0) is the RX socket: readable when a block is ready (so up to
// rx_block_timeout_ms after a lone frame arrived).
//
// Counters, flags, capabilities and the empty-pool policy are those of
// AfPacketBackend (af_packet_backend.h); rx_missed is the V3 socket's
// tp_drops (frames that found the ring frozen: every block ours).
// ring_freezes() adds tp_freeze_q_cnt, which BackendStats has no field for.
#pragma once

#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "backends/af_packet/af_packet.h"
#include "backends/af_packet/packet_socket.h"
#include "backends/af_packet/tpacket_rings.h"
#include "backends/api/backend.h"
#include "backends/common/multicast_memberships.h"
#include "backends/common/packet_pool.h"
#include "backends/common/rx_buffer_cache.h"
#include "base/interface.h"

namespace dpdkudp {

class AfPacketMmapBackend final : public Backend {
 public:
  // nullptr and *error on failure (see open_af_packet()).
  static std::unique_ptr<AfPacketMmapBackend> open(const AfPacketConfig& config, std::string* error);
  ~AfPacketMmapBackend() override;

  std::string_view name() const override { return "af_packet_mmap"; }
  MacAddr mac() const override { return info_.mac; }
  const Capabilities& capabilities() const override { return caps_; }

  size_t rx_burst(uint16_t queue, std::span<Packet*> out) override;
  size_t alloc(std::span<Packet*> out) override;
  size_t tx_burst(uint16_t queue, std::span<Packet* const> pkts) override;
  void release(std::span<Packet* const> pkts) override;

  int wait_fd(uint16_t queue) const override { return queue == 0 ? rx_fd_.get() : -1; }

  BackendStats stats() const override;

  // A membership of the RX socket (packet_socket.h), dropped with it; the
  // TX socket receives nothing and gets none.
  int set_multicast_mac(const MacAddr& mac, bool on) override;

  // Times the kernel found every RX block ours (tp_freeze_q_cnt, summed).
  uint64_t ring_freezes() const { return kernel_stats_.read().freezes; }
  uint32_t tx_ring_frames() const { return tx_ring_.frame_count(); }
  size_t ring_bytes() const { return rx_ring_.bytes() + tx_ring_.bytes(); }
  PacketPool& pool() { return *pool_; }

 private:
  AfPacketMmapBackend(const base::InterfaceInfo& info, const AfPacketConfig& config, af_packet::UniqueFd rx_fd,
                      af_packet::UniqueFd tx_fd);
  // Rings, filter, options and binds, in the order packet(7) needs.
  bool init(const AfPacketConfig& config, const af_packet::ErrorSink& err);
  // send(MSG_DONTWAIT): the kernel transmits every SEND_REQUEST slot.
  void kick_tx();

  // Makes the next ready block current; false when the kernel has none.
  bool open_next_block();
  // Gives the current block back to the kernel and moves on.
  void return_block();
  bool tx_frame_ok(const Packet& pkt) const;

  base::InterfaceInfo info_;
  Capabilities caps_;
  af_packet::UniqueFd rx_fd_;
  af_packet::UniqueFd tx_fd_;
  af_packet::V3RxRing rx_ring_;
  af_packet::V2TxRing tx_ring_;
  std::unique_ptr<PacketPool> pool_;
  af_packet::PacketStatistics kernel_stats_;
  MulticastMemberships multicast_;

  // RX walk state, rx_burst's thread only. current_ is the block being
  // read (nullptr between blocks), next_frame_ its next unread frame.
  common::RxBufferCache rx_cache_;
  uint32_t next_block_ = 0;
  tpacket_block_desc* current_ = nullptr;
  const uint8_t* next_frame_ = nullptr;
  uint32_t frames_left_ = 0;

  // TX state, tx_burst's thread only: the next slot to fill.
  uint32_t tx_head_ = 0;
  // The last kick failed and may have left slots unsent; whichever of
  // tx_burst/rx_burst runs next kicks again (send() is thread-safe).
  std::atomic<bool> kick_pending_{false};

  std::atomic<uint64_t> rx_packets_{0};
  std::atomic<uint64_t> rx_no_buffer_{0};
  std::atomic<uint64_t> rx_errors_{0};
  std::atomic<uint64_t> tx_packets_{0};
  std::atomic<uint64_t> tx_errors_{0};
};

}  // namespace dpdkudp
