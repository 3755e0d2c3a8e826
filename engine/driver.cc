#include "engine/driver.h"

#include <unistd.h>

#include <algorithm>

namespace dpdkudp::engine {
namespace {

thread_local int t_sleeper_slot = -1;
// This thread's last drive took a full burst from some queue: more wait.
thread_local bool t_last_burst_full = false;

}  // namespace

Drivers::Drivers(stack::Stack& stack, uint16_t queues)
    : stack_(stack),
      queues_(static_cast<uint16_t>(std::clamp<uint16_t>(queues, 1, kMaxQueues))),
      rx_syscall_(stack.rx_costs_syscall()),
      queue_(new QueueState[queues_]) {}

size_t Drivers::try_drive(uint16_t q, bool* busy) {
  QueueState& s = queue_[q];
  // A plain load first: a taken lock costs no locked instruction.
  if (s.driving.load(std::memory_order_relaxed) || s.driving.exchange(true, std::memory_order_acquire)) {
    if (busy) *busy = true;
    return 0;
  }
  if (busy) *busy = false;
  size_t n = stack_.poll(q);
  s.driving.store(false, std::memory_order_release);
  // Whatever was delivered may be what a sleeping thread waits for.
  if (n != 0 && has_sleepers()) wake_sleepers();
  return n;
}

size_t Drivers::drive_all_from_app(uint64_t now_ns) {
  size_t total = 0;
  bool full = false;
  for (uint16_t q = 0; q < queues_; ++q) {
    queue_[q].last_app_ns.store(now_ns, std::memory_order_relaxed);
    size_t n = try_drive(q);
    full |= n == stack::Stack::kBurst;
    total += n;
  }
  t_last_burst_full = full;
  if (total != 0) app_bursts_.fetch_add(1, std::memory_order_relaxed);
  return total;
}

size_t Drivers::drive_from_app_if_worth(uint64_t now_ns) {
  if (!rx_syscall_ || t_last_burst_full || stack_.loopback_pending()) return drive_all_from_app(now_ns);
  return 0;
}

bool Drivers::app_covers(uint16_t q, uint64_t now_ns) const {
  if (covering_sleepers_.load(std::memory_order_acquire) != 0) return true;
  uint64_t last = queue_[q].last_app_ns.load(std::memory_order_relaxed);
  return last != 0 && now_ns - last < kAppGraceNs;
}

void Drivers::hand_back() {
  for (uint16_t q = 0; q < queues_; ++q) {
    if (queue_[q].last_app_ns.exchange(0, std::memory_order_acq_rel) != 0 && kick_ &&
        covering_sleepers_.load(std::memory_order_acquire) == 0) {
      kick_(q);
    }
  }
}

int Drivers::register_sleeper(int wake_fd, bool covers_queues) {
  for (size_t i = 0; i < kMaxSleepers; ++i) {
    int expected = -1;
    if (sleeper_[i].fd.compare_exchange_strong(expected, wake_fd, std::memory_order_seq_cst)) {
      sleeper_[i].covers = covers_queues;
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      if (covers_queues) covering_sleepers_.fetch_add(1, std::memory_order_seq_cst);
      t_sleeper_slot = static_cast<int>(i);
      return static_cast<int>(i);
    }
  }
  return -1;
}

void Drivers::unregister_sleeper(int slot) {
  if (slot < 0) return;
  SleeperSlot& s = sleeper_[static_cast<size_t>(slot)];
  if (s.covers) covering_sleepers_.fetch_sub(1, std::memory_order_seq_cst);
  s.fd.store(-1, std::memory_order_seq_cst);
  sleepers_.fetch_sub(1, std::memory_order_seq_cst);
  t_sleeper_slot = -1;
}

void Drivers::wake_sleepers() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  for (size_t i = 0; i < kMaxSleepers; ++i) {
    int fd = sleeper_[i].fd.load(std::memory_order_seq_cst);
    if (fd < 0 || static_cast<int>(i) == t_sleeper_slot) continue;
    uint64_t one = 1;
    ssize_t ignored = ::write(fd, &one, sizeof one);
    (void)ignored;
    sleeper_wakes_.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace dpdkudp::engine
