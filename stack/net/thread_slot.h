// A small integer per live thread, unique among the threads alive at the
// same time and reused after a thread exits. Counter blocks indexed by it
// have a single writer, so they need no locked instruction.
#pragma once

#include <cstddef>

namespace dpdkudp::stack {

inline constexpr size_t kThreadSlots = 64;

namespace detail {
// initial-exec: one TLS load, no __tls_get_addr call, even from the
// LD_PRELOAD library (a few bytes of glibc's static TLS surplus).
inline constexpr size_t kNoSlotYet = ~size_t{0};
extern thread_local size_t tls_thread_slot __attribute__((tls_model("initial-exec")));
size_t claim_thread_slot();
}  // namespace detail

// This thread's slot in [0, kThreadSlots), or kThreadSlots when more
// threads than that are alive (callers then use a shared fallback).
inline size_t this_thread_slot() {
  size_t slot = detail::tls_thread_slot;
  return slot != detail::kNoSlotYet ? slot : detail::claim_thread_slot();
}

}  // namespace dpdkudp::stack
