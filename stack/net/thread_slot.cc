#include "stack/net/thread_slot.h"

#include <bitset>
#include <mutex>

namespace dpdkudp::stack {
namespace {

std::mutex& slots_lock() {
  static std::mutex m;
  return m;
}
std::bitset<kThreadSlots>& slots_taken() {
  static std::bitset<kThreadSlots> taken;
  return taken;
}

// Takes a slot on a thread's first call, gives it back when it exits.
struct SlotHolder {
  size_t slot = kThreadSlots;
  SlotHolder() {
    std::lock_guard lock(slots_lock());
    auto& taken = slots_taken();
    for (size_t i = 0; i < kThreadSlots; ++i) {
      if (!taken[i]) {
        taken[i] = true;
        slot = i;
        break;
      }
    }
  }
  ~SlotHolder() {
    // Anything this thread still counts on its way out (other thread_local
    // destructors) goes through the shared fallback from now on.
    detail::tls_thread_slot = kThreadSlots;
    if (slot == kThreadSlots) return;
    std::lock_guard lock(slots_lock());
    slots_taken()[slot] = false;
  }
};

}  // namespace

namespace detail {

thread_local size_t tls_thread_slot __attribute__((tls_model("initial-exec"))) = kNoSlotYet;

size_t claim_thread_slot() {
  // The holder gives the slot back when the thread exits.
  thread_local SlotHolder holder;
  tls_thread_slot = holder.slot;
  return holder.slot;
}

}  // namespace detail

}  // namespace dpdkudp::stack
