#include "backends/common/packet_pool.h"

#include <sys/mman.h>

#include <cassert>
#include <new>
#include <stdexcept>
#include <thread>

namespace dpdkudp {

namespace {

uint8_t* allocate_buffers(const PacketPoolConfig& config) {
  if (config.count == 0) {
    throw std::invalid_argument("PacketPool: count must be > 0");
  }
  if (config.headroom >= config.buffer_size) {
    throw std::invalid_argument("PacketPool: headroom must be < buffer_size");
  }
  const size_t bytes = size_t{config.count} * config.buffer_size;
  if (config.prefault) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return static_cast<uint8_t*>(p);  // page-aligned
  }
  return static_cast<uint8_t*>(::operator new (bytes, std::align_val_t{common::kCacheLine}));
}

}  // namespace

PacketPool::PacketPool(const PacketPoolConfig& config)
    : count_(config.count),
      buffer_size_(config.buffer_size),
      headroom_(config.headroom),
      mapped_(config.prefault),
      buffers_(allocate_buffers(config)),
      descriptors_(std::make_unique<Packet[]>(config.count)),
      in_pool_(std::make_unique<std::atomic<uint8_t>[]>(config.count)),
      free_ring_(size_t{config.count} * 2) {
  for (uint32_t i = 0; i < count_; ++i) {
    reset(descriptors_[i], i);
    in_pool_[i].store(1, std::memory_order_relaxed);
    const bool pushed = free_ring_.try_push(i);
    assert(pushed);
    (void)pushed;
  }
}

PacketPool::~PacketPool() {
  if (mapped_) {
    ::munmap(buffers_, size_t{count_} * buffer_size_);
  } else {
    ::operator delete (buffers_, std::align_val_t{common::kCacheLine});
  }
}

void PacketPool::reset(Packet& pkt, size_t index) const {
  pkt = Packet{};
  pkt.data = buffer_of(index) + headroom_;
  pkt.room = buffer_size_ - headroom_;
  pkt.backend_cookie = index;
}

size_t PacketPool::alloc(std::span<Packet*> out) {
  size_t n = 0;
  uint32_t index;
  while (n < out.size() && free_ring_.try_pop(index)) {
#ifndef NDEBUG
    const uint8_t was_free = in_pool_[index].exchange(0, std::memory_order_relaxed);
    assert(was_free == 1 && "PacketPool: buffer handed out twice");
    (void)was_free;
#endif
    Packet& pkt = descriptors_[index];
    reset(pkt, index);
    out[n++] = &pkt;
  }
  return n;
}

Packet* PacketPool::alloc_one() {
  Packet* pkt = nullptr;
  return alloc(std::span<Packet*>(&pkt, 1)) == 1 ? pkt : nullptr;
}

void PacketPool::free(std::span<Packet* const> pkts) {
  for (Packet* pkt : pkts) {
    assert(owns(pkt) && "PacketPool: packet from another pool");
    const size_t index = index_of(pkt);
#ifndef NDEBUG
    const uint8_t was_free = in_pool_[index].exchange(1, std::memory_order_relaxed);
    assert(was_free == 0 && "PacketPool: double free");
    (void)was_free;
#endif
    // The ring has room for every index twice over, so a refusal only means
    // the cell is still being vacated by an alloc() that claimed it and was
    // preempted before finishing; wait for it rather than lose the buffer.
    while (!free_ring_.try_push(static_cast<uint32_t>(index))) {
      std::this_thread::yield();
    }
  }
}

}  // namespace dpdkudp
