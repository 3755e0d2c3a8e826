// Quiescent-state-based reclamation for what the pollers read without
// locks (demux buckets, sockets).
//
// A writer unlinks an object, then retire()s it. Each reader thread (a
// poller) owns a slot and calls quiescent() between bursts, when it holds
// no pointer into shared structures; a reader that goes to sleep goes
// offline() first and online() after. An object retired at epoch E is freed
// once every online reader has passed a quiescent point after E.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <vector>

namespace dpdkudp::stack {

class Reclaimer {
 public:
  static constexpr size_t kMaxReaders = 64;

  Reclaimer() {
    for (auto& r : readers_) r.seen.store(kOffline, std::memory_order_relaxed);
  }
  ~Reclaimer() { drain_all(); }
  Reclaimer(const Reclaimer&) = delete;
  Reclaimer& operator=(const Reclaimer&) = delete;

  // Reader side; slot < kMaxReaders, one thread per slot.
  void online(size_t slot) {
    readers_[slot].seen.store(epoch_.load(std::memory_order_acquire), std::memory_order_seq_cst);
  }
  void quiescent(size_t slot) {
    readers_[slot].seen.store(epoch_.load(std::memory_order_acquire), std::memory_order_release);
  }
  void offline(size_t slot) { readers_[slot].seen.store(kOffline, std::memory_order_release); }

  // Writer side, any thread. `free_fn` runs later on whichever thread calls
  // reclaim() (or at destruction).
  void retire(std::function<void()> free_fn) {
    std::lock_guard lock(mutex_);
    uint64_t e = epoch_.fetch_add(1, std::memory_order_acq_rel) + 1;
    retired_.push_back({e, std::move(free_fn)});
  }

  // Frees what no reader can still see. Cheap when nothing is retired.
  void reclaim() {
    std::vector<std::function<void()>> ready;
    {
      std::lock_guard lock(mutex_);
      if (retired_.empty()) return;
      uint64_t min_seen = kOffline;
      for (auto& r : readers_) {
        uint64_t s = r.seen.load(std::memory_order_acquire);
        if (s < min_seen) min_seen = s;
      }
      auto it = retired_.begin();
      for (; it != retired_.end() && it->epoch <= min_seen; ++it) ready.push_back(std::move(it->free_fn));
      retired_.erase(retired_.begin(), it);
    }
    for (auto& fn : ready) fn();
  }

  size_t pending() const {
    std::lock_guard lock(mutex_);
    return retired_.size();
  }

  // Frees everything; only when no reader is running any more.
  void drain_all() {
    std::vector<Retired> all;
    {
      std::lock_guard lock(mutex_);
      all.swap(retired_);
    }
    for (auto& r : all) r.free_fn();
  }

 private:
  static constexpr uint64_t kOffline = std::numeric_limits<uint64_t>::max();
  struct Retired {
    uint64_t epoch;
    std::function<void()> free_fn;
  };
  struct alignas(64) ReaderSlot {
    std::atomic<uint64_t> seen;
  };

  std::atomic<uint64_t> epoch_{1};
  std::array<ReaderSlot, kMaxReaders> readers_;
  mutable std::mutex mutex_;
  std::vector<Retired> retired_;  // in epoch order
};

}  // namespace dpdkudp::stack
