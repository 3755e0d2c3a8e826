// Reading the system clocks. Both read the vDSO, not a syscall.
#pragma once

#include <cstdint>
#include <ctime>

namespace dpdkudp::base {

inline uint64_t read_clock_ns(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// CLOCK_MONOTONIC, for code that needs no injectable clock (threads' own
// deadlines and spins, the AF_XDP group's timeouts).
inline uint64_t monotonic_now_ns() { return read_clock_ns(CLOCK_MONOTONIC); }

}  // namespace dpdkudp::base
