// A bounded multi-producer multi-consumer ring (Dmitry Vyukov's
// sequence-number queue). Each cell carries a sequence number that says
// whose turn it is: a producer may fill cell `pos` when seq == pos, a
// consumer may empty it when seq == pos + 1, and emptying sets it to
// pos + capacity for the producer of the next lap. Producers claim a
// position with one CAS on tail_, consumers with one CAS on head_; no locks,
// no allocation after construction.
//
// A ring whose consumer side belongs to one thread (an RX queue) may use the
// single-consumer burst pop instead of try_pop; never mix the two on one
// ring.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace dpdkudp::common {

// One cache line; head and tail each get their own so producers and
// consumers do not bounce a shared line.
inline constexpr size_t kCacheLine = 64;

template <typename T>
class BoundedMpmcRing {
 public:
  // Capacity is min_capacity rounded up to a power of two, so positions map
  // to cells with a mask, and at least 2: with one cell, "filled at lap n"
  // (seq n + 1) would read as "free for lap n + 1".
  explicit BoundedMpmcRing(size_t min_capacity)
      : mask_(std::bit_ceil(std::max(min_capacity, size_t{2})) - 1), cells_(std::make_unique<Cell[]>(mask_ + 1)) {
    for (size_t i = 0; i <= mask_; ++i) {
      cells_[i].seq.store(i, std::memory_order_relaxed);
    }
  }

  BoundedMpmcRing(const BoundedMpmcRing&) = delete;
  BoundedMpmcRing& operator=(const BoundedMpmcRing&) = delete;

  size_t capacity() const { return mask_ + 1; }

  bool try_push(T value) {
    return try_push_with([&value] { return value; });
  }

  // Claims a cell first and only then calls make() to produce the value, so
  // work that must not happen when the ring is full (e.g. rewriting a frame)
  // runs only once there is room. make() runs while the cell is claimed but
  // unpublished: a consumer reaching it waits (sees "empty") until it
  // returns, so keep it short and never let it touch this ring.
  template <typename Make>
  bool try_push_with(Make&& make) {
    size_t pos = tail_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells_[pos & mask_];
      const size_t seq = cell->seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq - pos);
      if (diff == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          break;
        }
      } else if (diff < 0) {
        return false;  // the cell still holds last lap's value: full
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
    cell->value = make();
    cell->seq.store(pos + 1, std::memory_order_release);
    return true;
  }

  // Any number of consumers.
  bool try_pop(T& out) {
    size_t pos = head_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells_[pos & mask_];
      const size_t seq = cell->seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq - (pos + 1));
      if (diff == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          break;
        }
      } else if (diff < 0) {
        return false;  // not yet filled: empty
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
    out = cell->value;
    cell->seq.store(pos + mask_ + 1, std::memory_order_release);
    return true;
  }

  // Single consumer only: pops up to out.size() values in order with no
  // CAS, stopping at the first cell not yet published.
  size_t pop_burst_single_consumer(std::span<T> out) {
    const size_t pos = head_.load(std::memory_order_relaxed);
    size_t n = 0;
    while (n < out.size()) {
      Cell& cell = cells_[(pos + n) & mask_];
      if (cell.seq.load(std::memory_order_acquire) != pos + n + 1) {
        break;
      }
      out[n] = cell.value;
      cell.seq.store(pos + n + mask_ + 1, std::memory_order_release);
      ++n;
    }
    if (n != 0) {
      head_.store(pos + n, std::memory_order_relaxed);
    }
    return n;
  }

  // Single consumer only: whether the next pop would return a value.
  bool ready_single_consumer() const {
    const size_t pos = head_.load(std::memory_order_relaxed);
    return cells_[pos & mask_].seq.load(std::memory_order_acquire) == pos + 1;
  }

  // Claimed-but-not-consumed count; exact only when the ring is quiet.
  size_t size_approx() const {
    const size_t tail = tail_.load(std::memory_order_acquire);
    const size_t head = head_.load(std::memory_order_acquire);
    return tail >= head ? tail - head : 0;
  }

 private:
  struct Cell {
    std::atomic<size_t> seq{0};
    T value{};
  };

  const size_t mask_;
  const std::unique_ptr<Cell[]> cells_;
  alignas(kCacheLine) std::atomic<size_t> head_{0};
  // The alignment also rounds sizeof up, keeping what follows the ring off
  // tail_'s line.
  alignas(kCacheLine) std::atomic<size_t> tail_{0};
};

}  // namespace dpdkudp::common
