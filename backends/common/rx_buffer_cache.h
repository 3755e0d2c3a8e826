// A few pool buffers kept by the RX path between bursts, so a poll that
// finds nothing costs no trip to the pool (alloc then free of a whole
// burst). Only the thread running rx_burst() touches it.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "backends/api/packet.h"
#include "backends/common/packet_pool.h"

namespace dpdkudp::common {

// Pool geometry for an interface: every buffer holds the largest frame
// (mtu + Ethernet header + one tag) after a headroom that leaves space to
// write a tag back in front of a received frame (af_packet's apply_vlan()).
inline PacketPoolConfig pool_config_for(uint32_t max_frame, uint32_t count) {
  constexpr uint32_t kHeadroom = 128;
  constexpr uint32_t kLine = kCacheLine;
  const uint32_t needed = (kHeadroom + max_frame + kLine - 1) / kLine * kLine;
  return {count, std::max<uint32_t>(2048, needed), kHeadroom, /*prefault=*/true};
}

class RxBufferCache {
 public:
  static constexpr size_t kCapacity = 64;  // also the largest RX burst

  explicit RxBufferCache(PacketPool& pool) : pool_(pool) {}
  ~RxBufferCache() { pool_.free(std::span<Packet* const>(slots_.data(), count_)); }
  RxBufferCache(const RxBufferCache&) = delete;
  RxBufferCache& operator=(const RxBufferCache&) = delete;

  // Tops the cache up to want (<= kCapacity) buffers; returns how many it
  // holds, fewer when the pool runs short.
  size_t top_up(size_t want) {
    if (count_ < want) {
      count_ += pool_.alloc(std::span<Packet*>(slots_.data() + count_, want - count_));
    }
    return count_;
  }

  size_t size() const { return count_; }
  Packet*& operator[](size_t i) { return slots_[i]; }

  // Takes the last buffer; nullptr when empty.
  Packet* pop() { return count_ == 0 ? nullptr : slots_[--count_]; }

  // Drops the slots set to nullptr (handed out), keeping the rest in order.
  void compact() {
    size_t kept = 0;
    for (size_t i = 0; i < count_; ++i) {
      if (slots_[i] != nullptr) {
        slots_[kept++] = slots_[i];
      }
    }
    count_ = kept;
  }

 private:
  PacketPool& pool_;
  std::array<Packet*, kCapacity> slots_{};
  size_t count_ = 0;
};

}  // namespace dpdkudp::common
