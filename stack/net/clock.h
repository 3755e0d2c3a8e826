// Time for the stack. Timers and the neighbor cache use monotonic time;
// receive timestamps (SO_TIMESTAMP) use the real-time clock. Both read the
// vDSO, not a syscall. Tests substitute a ManualClock.
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>

#include "base/clock.h"

namespace dpdkudp::stack {

using base::monotonic_now_ns;
using base::read_clock_ns;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual uint64_t monotonic_ns() const = 0;
  virtual uint64_t realtime_ns() const = 0;
};

class SystemClock final : public Clock {
 public:
  uint64_t monotonic_ns() const override { return read_clock_ns(CLOCK_MONOTONIC); }
  uint64_t realtime_ns() const override { return read_clock_ns(CLOCK_REALTIME); }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(uint64_t start_ns = 1'000'000'000) : now_(start_ns) {}
  uint64_t monotonic_ns() const override { return now_.load(std::memory_order_relaxed); }
  uint64_t realtime_ns() const override { return now_.load(std::memory_order_relaxed) + kEpochOffset; }
  void advance(uint64_t ns) { now_.fetch_add(ns, std::memory_order_relaxed); }

 private:
  static constexpr uint64_t kEpochOffset = 1'700'000'000ull * 1'000'000'000ull;
  std::atomic<uint64_t> now_;
};

}  // namespace dpdkudp::stack
