// A fixed pool of packet buffers, each with its Packet descriptor: the
// buffers of the in-memory, AF_PACKET and AF_XDP backends (and of any test
// that needs real Packets).
//
// Everything is allocated once, in the constructor: one array of buffers
// (buffer_size bytes each, the first `headroom` bytes kept free so headers
// such as an 802.1Q tag can be prepended without a copy) and one array of
// descriptors. Free buffers are tracked as indices in a lock-free bounded
// MPMC ring (mpmc_ring.h), so alloc() and free() may be called from any
// number of threads at once and never allocate, lock or make a syscall.
//
// One caveat of that ring, stated plainly: a thread preempted between
// claiming a cell and finishing with it holds up that one cell. alloc()
// then returns fewer buffers than available() (the caller sees a transient
// shortfall, as from an empty pool); free() waits for the cell (it never
// drops a buffer). The ring has twice as many cells as buffers so this
// only happens when a thread stalls inside the pool.
//
// Ownership: alloc() hands buffers to the caller; free() takes them back.
// Freeing a packet twice, or one from another pool, is a bug: debug builds
// assert on it, release builds do not pay for the check.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "backends/api/packet.h"
#include "backends/common/mpmc_ring.h"

namespace dpdkudp {

struct PacketPoolConfig {
  uint32_t count = 8192;
  uint32_t buffer_size = 2048;  // bytes per buffer, headroom included
  uint32_t headroom = 128;      // bytes reserved in front of data (TX: at least kMinTxHeadroom)
  // Touch every buffer at creation. The free ring hands buffers out in
  // turn (first in, first out), so under light traffic a process's RSS
  // would otherwise creep up page by page over minutes until the whole
  // pool is resident — indistinguishable from a leak to an operator or a
  // soak. The production backends set it: the buffers are then mapped
  // with MAP_POPULATE (2.5 ms for 16 MB here; touching them one page at a
  // time took 50); tests and the pair backend do not.
  bool prefault = false;
};

class PacketPool {
 public:
  // Throws std::invalid_argument when count is 0 or headroom >= buffer_size.
  explicit PacketPool(const PacketPoolConfig& config = {});
  ~PacketPool();

  PacketPool(const PacketPool&) = delete;
  PacketPool& operator=(const PacketPool&) = delete;

  // Fills out with up to out.size() packets; returns how many (fewer, or 0,
  // when the pool runs short). Each comes
  // reset: data = buffer + headroom, len 0, room = buffer_size - headroom,
  // flags, lengths, next and meta zeroed.
  size_t alloc(std::span<Packet*> out);
  // Convenience for tests and slow paths; nullptr when empty.
  Packet* alloc_one();
  // Returns packets to the pool. Any thread.
  void free(std::span<Packet* const> pkts);
  void free_one(Packet* pkt) { free(std::span<Packet* const>(&pkt, 1)); }

  // Free buffers right now; exact only when no other thread is using the
  // pool.
  size_t available() const { return free_ring_.size_approx(); }
  // Buffers handed out and not freed yet (same caveat): 0 once everything
  // came back, which is how tests find leaks.
  size_t in_use() const { return count_ - available(); }
  size_t count() const { return count_; }
  uint32_t buffer_size() const { return buffer_size_; }
  uint32_t headroom() const { return headroom_; }

  bool owns(const Packet* pkt) const { return pkt >= descriptors_.get() && pkt < descriptors_.get() + count_; }
  // The whole buffer behind pkt, for code that moves data within it (tag
  // insertion and stripping). pkt must belong to this pool.
  uint8_t* buffer_begin(const Packet* pkt) const { return buffer_of(index_of(pkt)); }
  uint8_t* buffer_end(const Packet* pkt) const { return buffer_of(index_of(pkt)) + buffer_size_; }

 private:
  size_t index_of(const Packet* pkt) const { return static_cast<size_t>(pkt - descriptors_.get()); }
  uint8_t* buffer_of(size_t index) const { return buffers_ + index * buffer_size_; }
  void reset(Packet& pkt, size_t index) const;

  const uint32_t count_;
  const uint32_t buffer_size_;
  const uint32_t headroom_;
  const bool mapped_;       // buffers_ came from mmap (prefault), not operator new
  uint8_t* const buffers_;  // count_ * buffer_size_ bytes, cache-line aligned
  const std::unique_ptr<Packet[]> descriptors_;
  // Debug builds: 1 while the buffer is in the pool (double-free check).
  // Always allocated so the layout does not depend on NDEBUG.
  const std::unique_ptr<std::atomic<uint8_t>[]> in_pool_;
  common::BoundedMpmcRing<uint32_t> free_ring_;
};

}  // namespace dpdkudp
