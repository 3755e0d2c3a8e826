// Who drives each RX queue (design decision 4, run to completion).
//
// An application thread that waits in an interposed poll/epoll/select or a
// blocking recv drives the queues itself: it takes a burst, the stack
// delivers, answers ARP and ICMP inline, and the thread finds its sockets
// ready with no other thread involved. The queue's poller thread is the
// backstop for what no application thread waits on (an application busy
// computing, timers, ARP): it steps back while an application thread
// sleeps on the queue or drove it within the last `app_grace_ns`, and takes
// over otherwise.
//
// One driver per queue at a time: a try-lock per queue, held for one burst.
// A thread that finds it taken does not wait for it; the holder delivers
// what it takes, and wakes the sleepers (below) so that a frame for another
// thread's socket is never left unseen.
//
// Sleepers: before an application thread sleeps in the kernel it registers
// its own eventfd here, then looks at its sockets once more; a driver that
// delivers anything while sleepers are registered writes their eventfds.
// Register-then-look on one side and deliver-then-wake on the other (both
// sequentially consistent) is why no wake-up is lost.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "stack/net/stack.h"

namespace dpdkudp::engine {

class Drivers {
 public:
  static constexpr size_t kMaxSleepers = 64;
  static constexpr size_t kMaxQueues = 64;

  Drivers(stack::Stack& stack, uint16_t queues);
  Drivers(const Drivers&) = delete;
  Drivers& operator=(const Drivers&) = delete;

  uint16_t queues() const { return queues_; }

  // One burst of queue q if no other thread drives it now; the frames
  // taken (0 when busy or empty). *busy tells the two apart.
  size_t try_drive(uint16_t q, bool* busy = nullptr);
  // An application thread: one burst of every queue it can take. Marks the
  // queues as driven by the application (the pollers step back).
  size_t drive_all_from_app(uint64_t now_ns);
  // The same when a look is cheap or likely to find something: always,
  // unless the backend's RX costs a system call; then only when this
  // thread's last burst was full or datagrams were looped back. (The
  // thread then sleeps on the backend's wait fd, which is readable while
  // frames wait: the kernel tells it, for the one system call of a sleep.)
  size_t drive_from_app_if_worth(uint64_t now_ns);
  // Whether spinning on the queues costs no system call.
  bool spin_is_free() const { return !rx_syscall_; }
  // Runs fn() while holding queue q's driver lock (spinning for it).
  template <typename F>
  void with_queue(uint16_t q, F&& fn) {
    while (queue_[q].driving.exchange(true, std::memory_order_acquire)) stack::cpu_relax();
    fn();
    queue_[q].driving.store(false, std::memory_order_release);
  }

  // Does an application thread cover queue q now (asleep on it, or drove
  // it within the grace period)? The poller then leaves it alone.
  bool app_covers(uint16_t q, uint64_t now_ns) const;
  // Is an application thread asleep on the queues' wait fds now?
  bool app_sleeps_on_queues() const { return covering_sleepers_.load(std::memory_order_acquire) != 0; }
  static constexpr uint64_t kAppGraceNs = 1'000'000;
  // An application thread is about to sleep where it cannot see the
  // queues (a blocking recv on its kernel fd, a backend without a wait
  // fd): the pollers take over at once instead of after the grace period.
  void hand_back();
  // How hand_back() wakes queue q's poller (set by the engine).
  void set_poller_kick(std::function<void(uint16_t)> kick) { kick_ = std::move(kick); }

  // Sleepers. register_sleeper returns a slot (or -1 when all are taken:
  // the caller then sleeps with a short timeout instead). An application
  // thread covering every queue while it sleeps says so (covers_queues).
  int register_sleeper(int wake_fd, bool covers_queues);
  void unregister_sleeper(int slot);
  // Wakes every registered sleeper except the calling thread (which may
  // drive once more between registering and sleeping).
  void wake_sleepers();
  bool has_sleepers() const { return sleepers_.load(std::memory_order_seq_cst) != 0; }

  uint64_t app_bursts() const { return app_bursts_.load(std::memory_order_relaxed); }
  uint64_t sleeper_wakes() const { return sleeper_wakes_.load(std::memory_order_relaxed); }

 private:
  struct alignas(64) QueueState {
    std::atomic<bool> driving{false};
    std::atomic<uint64_t> last_app_ns{0};
  };
  struct alignas(64) SleeperSlot {
    std::atomic<int> fd{-1};
    bool covers = false;  // written by the slot's owner between taking and freeing it
  };

  stack::Stack& stack_;
  const uint16_t queues_;
  const bool rx_syscall_;
  std::unique_ptr<QueueState[]> queue_;
  std::array<SleeperSlot, kMaxSleepers> sleeper_;
  std::atomic<int> sleepers_{0};
  std::atomic<int> covering_sleepers_{0};
  std::atomic<uint64_t> app_bursts_{0};
  std::atomic<uint64_t> sleeper_wakes_{0};
  std::function<void(uint16_t)> kick_;
};

}  // namespace dpdkudp::engine
