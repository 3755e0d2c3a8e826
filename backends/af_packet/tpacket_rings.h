// The two rings AfPacketMmapBackend shares with the kernel, set up and
// mapped (Documentation/networking/packet_mmap.rst). They live on two
// sockets because PACKET_VERSION is per socket: TPACKET_V3 suits RX (the
// kernel packs variable-size frames into blocks and wakes us per block),
// TPACKET_V2 suits TX (fixed slots, no per-block rules; V3 TX rejects a
// non-zero tp_next_offset and brings nothing for TX).
//
// Ownership handshakes, all on a status word in shared memory, read with
// acquire and written with release:
//  - RX block: block_status has TP_STATUS_USER -> ours, until we store
//    TP_STATUS_KERNEL (packet_mmap.rst, "TPACKET_V3 ... block-level").
//  - TX slot: TP_STATUS_AVAILABLE -> ours to fill; we store
//    TP_STATUS_SEND_REQUEST; the kernel sends it on send() and sets
//    AVAILABLE again once the skb is freed.
#pragma once

#include <linux/if_packet.h>

#include <cstddef>
#include <cstdint>

#include "backends/af_packet/packet_socket.h"

namespace dpdkudp::af_packet {

// The mmap()ed area of one ring, unmapped on destruction.
class RingMapping {
 public:
  RingMapping() = default;
  ~RingMapping();
  RingMapping(const RingMapping&) = delete;
  RingMapping& operator=(const RingMapping&) = delete;

  // mmap(fd, size); false and errno on failure.
  bool map(int fd, size_t size);
  uint8_t* base() const { return base_; }
  size_t size() const { return size_; }

 private:
  uint8_t* base_ = nullptr;
  size_t size_ = 0;
};

// Loads/stores of a status word the kernel reads and writes concurrently
// (it pairs them with smp_rmb/smp_wmb). Builtins rather than atomic_ref:
// the word is kernel memory, not a C++ object of ours.
inline uint32_t load_status(const uint32_t& word) { return __atomic_load_n(&word, __ATOMIC_ACQUIRE); }
inline void store_status(uint32_t& word, uint32_t value) { __atomic_store_n(&word, value, __ATOMIC_RELEASE); }

struct RxRingGeometry {
  uint32_t block_size = 0;
  uint32_t block_count = 0;
  uint32_t timeout_ms = 0;
};

class V3RxRing {
 public:
  // Sets PACKET_VERSION=TPACKET_V3 and PACKET_RX_RING on fd and maps it.
  // max_frame: the largest frame we must receive whole (checks the block
  // size holds it).
  bool setup(int fd, const RxRingGeometry& geometry, uint32_t max_frame, const ErrorSink& err);

  tpacket_block_desc* block(uint32_t index) const {
    return reinterpret_cast<tpacket_block_desc*>(mapping_.base() + size_t{index} * geometry_.block_size);
  }
  uint32_t block_count() const { return geometry_.block_count; }
  size_t bytes() const { return mapping_.size(); }

 private:
  RxRingGeometry geometry_;
  RingMapping mapping_;
};

class V2TxRing {
 public:
  // Frames start after the slot header: tp_hdrlen - sizeof(sockaddr_ll)
  // (packet_mmap.rst, "TX_RING"; tpacket_parse_header in af_packet.c).
  static constexpr uint32_t kDataOffset = TPACKET_ALIGN(sizeof(tpacket2_hdr));

  // The smallest power of two >= 2048 holding a slot of max_frame bytes.
  static uint32_t default_frame_size(uint32_t max_frame);

  // Sets PACKET_VERSION=TPACKET_V2, PACKET_LOSS (a malformed slot is
  // skipped instead of stalling the ring) and PACKET_TX_RING on fd, and
  // maps it. frame_count is rounded up to fill whole blocks.
  bool setup(int fd, uint32_t frame_size, uint32_t frame_count, uint32_t max_frame, const ErrorSink& err);

  tpacket2_hdr* slot(uint32_t index) const {
    return reinterpret_cast<tpacket2_hdr*>(mapping_.base() + size_t{index / frames_per_block_} * block_size_ +
                                           size_t{index % frames_per_block_} * frame_size_);
  }
  uint8_t* slot_data(tpacket2_hdr* hdr) const { return reinterpret_cast<uint8_t*>(hdr) + kDataOffset; }
  uint32_t frame_count() const { return frame_count_; }
  uint32_t frame_size() const { return frame_size_; }
  size_t bytes() const { return mapping_.size(); }

 private:
  uint32_t frame_size_ = 0;
  uint32_t block_size_ = 0;
  uint32_t frames_per_block_ = 0;
  uint32_t frame_count_ = 0;
  RingMapping mapping_;
};

}  // namespace dpdkudp::af_packet
