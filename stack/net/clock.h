// Time for the stack. Timers and the neighbor cache use monotonic time;
// receive timestamps (SO_TIMESTAMP) use the real-time clock. Both read the
// vDSO, not a syscall. Tests substitute a ManualClock.
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>

namespace dpdkudp::stack {

inline uint64_t read_clock_ns(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}
// CLOCK_MONOTONIC, for code that needs no injectable Clock (threads' own
// deadlines and spins).
inline uint64_t monotonic_now_ns() { return read_clock_ns(CLOCK_MONOTONIC); }

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
