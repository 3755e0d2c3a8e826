// AfXdpBackend: one AF_XDP socket (XSK) per queue over one shared UMEM,
// behind our XDP program (xdp_program.h), plus the port steering hook.
//
// UMEM: 4 KiB frames (what native XDP on veth and most drivers need), in
// one anonymous mapping kept out of fork children (MADV_DONTFORK):
//   [queue 0 RX frames][queue 1 RX frames]...[TX frames]
// Each queue owns ring_size RX frames, all of them either in its fill ring,
// with the kernel, or in its RX ring: the fill ring never runs dry because
// of us. TX frames (2 * ring_size) are shared by all queues through a
// lock-free free list.
//
// RX copies. rx_burst() copies each received frame into a PacketPool
// buffer and gives the UMEM frame straight back to the fill ring. The stack
// keeps received datagrams on socket queues for as long as the application
// takes to read them; handing out UMEM frames instead would let one slow
// socket drain the fill ring and stall the whole queue (every other
// socket's traffic dropped at the NIC). One memcpy of the frame, into a
// buffer that then travels by reference, keeps the fill ring full under
// any socket backlog. (Zero-copy RX with a bounded number of frames lent
// out is a possible later step; see README.md here.)
//
// TX is zero-copy. alloc() hands out UMEM TX frames; tx_burst() puts their
// descriptors on the TX ring and kicks the kernel (sendto) when it asks for
// it (XDP_USE_NEED_WAKEUP); the completion ring gives frames back to the
// free list, reaped by tx_burst() and, when the free list runs dry, by
// alloc(). A packet that is not a UMEM frame (a received buffer the stack
// sends back) is copied into one.
//
// wait_fd(q) is the XSK: POLLIN when its RX ring has frames, and polling
// it also wakes a zero-copy driver that asked for it.
//
// Capabilities: no checksum or VLAN offload in either direction (XDP gives
// no metadata here), MTU and MAC from the interface; max_frame is capped by
// the frame size.
//
// Counters: rx_missed = XDP_STATISTICS rx_dropped + rx_ring_full (the
// kernel had no room); rx_no_buffer = no pool buffer to copy into, plus the
// kernel's rx_fill_ring_empty_descs; rx_errors = frames larger than a pool
// buffer, plus rx_invalid_descs; tx_errors = frames we refused (too short or
// long, an offload we lack) plus tx_invalid_descs.
#pragma once

#include <xdp/xsk.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/af_xdp/af_xdp.h"
#include "backends/af_xdp/af_xdp_util.h"
#include "backends/af_xdp/interface_lock.h"
#include "backends/af_xdp/xdp_program.h"
#include "backends/api/backend.h"
#include "backends/pair/mpmc_ring.h"
#include "backends/pair/packet_pool.h"

namespace dpdkudp {

class AfXdpBackend final : public Backend, public PortSteering {
 public:
  static constexpr uint32_t kFrameSize = 4096;
  // UMEM frames per queue for RX, per fill-ring slot (see Queue::fill_pending).
  static constexpr uint32_t kRxFramesPerRingSlot = 2;
  static constexpr uint32_t kTxHeadroom = 128;  // in front of data in a TX frame
  // XDP_PACKET_HEADROOM: the kernel keeps it in front of a received frame.
  static constexpr uint32_t kRxKernelHeadroom = 256;
  static constexpr uint32_t kMaxFrameOverMtu = 18;  // Ethernet header + one tag

  // nullptr and *error on failure (see open_af_xdp()).
  static std::unique_ptr<AfXdpBackend> open(const AfXdpConfig& config, std::string* error);
  ~AfXdpBackend() override;

  std::string_view name() const override { return "af_xdp"; }
  MacAddr mac() const override { return info_.mac; }
  const Capabilities& capabilities() const override { return caps_; }

  size_t rx_burst(uint16_t queue, std::span<Packet*> out) override;
  size_t alloc(std::span<Packet*> out) override;
  size_t tx_burst(uint16_t queue, std::span<Packet* const> pkts) override;
  void release(std::span<Packet* const> pkts) override;
  int wait_fd(uint16_t queue) const override;
  BackendStats stats() const override;

  int steer(uint32_t addr, uint16_t port, bool on) override;

  // "native copy", "native zero-copy", "generic copy" (+ ", libxdp ...").
  const std::string& mode_description() const { return mode_description_; }
  bool zero_copy() const { return zero_copy_; }
  const std::string& pin_dir() const { return program_->pin_dir(); }

 private:
  static constexpr size_t kBurst = 64;

  struct Queue {
    xsk_socket* xsk = nullptr;
    int fd = -1;
    xsk_ring_cons rx{};
    xsk_ring_prod tx{};
    xsk_ring_prod fill{};
    xsk_ring_cons comp{};
    uint64_t rx_first_frame = 0;  // index of its first RX frame in the UMEM
    // RX frames not on the fill ring (the poller's only). The kernel
    // publishes how far it has consumed the fill ring lazily, so a frame
    // may not fit back at once: it waits here instead of being lost.
    std::vector<uint64_t> fill_pending;
    // Whoever holds it consumes the completion ring (tx_burst, or alloc
    // when the free list is empty).
    std::atomic_flag comp_lock = ATOMIC_FLAG_INIT;
    std::atomic<uint64_t> rx_packets{0};
    std::atomic<uint64_t> rx_no_buffer{0};
    std::atomic<uint64_t> rx_errors{0};
    std::atomic<uint64_t> tx_packets{0};
    std::atomic<uint64_t> tx_errors{0};
  };

  AfXdpBackend(const AfXdpConfig& config, const af_xdp::InterfaceInfo& info,
               af_xdp::InterfaceLock lock, std::unique_ptr<af_xdp::XdpProgram> program);

  bool map_umem(const af_xdp::ErrorSink& err);
  // Creates the UMEM and every queue's XSK with these bind flags; on
  // failure tears all of it down and returns the (positive) errno.
  int create_sockets(uint16_t bind_flags, std::string* what);
  void destroy_sockets();
  // Moves as many pending frames as fit onto the fill ring.
  void refill(Queue& q);
  void fill_rx_frames(Queue& q);

  bool is_tx_frame(const Packet* pkt) const {
    return pkt >= tx_pkts_.get() && pkt < tx_pkts_.get() + tx_count_;
  }
  uint64_t frame_addr(uint64_t frame) const { return frame * kFrameSize; }
  uint8_t* frame_data(uint64_t frame) const { return area_ + frame * kFrameSize; }
  void reset_tx_packet(Packet& pkt, uint32_t tx_index) const;
  size_t pop_tx_frames(std::span<uint32_t> out);
  void reap_completions(Queue& q);
  void kick_tx(Queue& q);
  bool tx_frame_ok(const Packet& pkt) const;

  af_xdp::InterfaceInfo info_;
  std::string iface_;
  Capabilities caps_;
  uint32_t owner_pid_;
  uint32_t ring_size_;
  bool native_;
  bool zero_copy_ = false;
  std::string mode_description_;

  af_xdp::InterfaceLock lock_;
  std::unique_ptr<af_xdp::XdpProgram> program_;

  // UMEM.
  uint8_t* area_ = nullptr;
  size_t area_size_ = 0;
  xsk_umem* umem_ = nullptr;
  uint64_t tx_first_frame_ = 0;
  uint32_t tx_count_ = 0;
  std::unique_ptr<Packet[]> tx_pkts_;
  std::unique_ptr<pair::BoundedMpmcRing<uint32_t>> tx_free_;
  std::unique_ptr<Queue[]> queues_;
  uint16_t queue_count_ = 0;
  uint16_t sockets_made_ = 0;

  std::unique_ptr<PacketPool> pool_;

  // Steering: (addr << 16 | port) -> nesting count, mirrored in the map.
  std::mutex steer_mutex_;
  std::map<uint64_t, uint32_t> steered_;
};

}  // namespace dpdkudp
