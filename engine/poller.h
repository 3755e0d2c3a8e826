// The poller: one thread per RX queue, the backstop driver of its queue
// (design decision 4; engine/driver.h says who drives when).
//
// Adaptive polling: it spins on the backend while traffic flows and for
// busy_poll after the last frame, then sleeps in poll(2) on the backend's
// wait fd (or, for a backend without one, in short naps) and on a wake
// eventfd, waking at least every timer period to run the stack's timers
// (queue 0 only). An idle process costs a wake-up per timer period.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>

#include "engine/driver.h"
#include "stack/net/stack.h"

namespace dpdkudp::engine {

struct PollerConfig {
  uint64_t busy_poll_ns = 50'000;
  uint64_t timer_period_ns = 50'000'000;  // ARP retries are 1 s; 50 ms is plenty
  // Without a wait fd (DPDK poll mode) the poller naps, doubling the nap
  // while idle from nap_min_ns to nap_max_ns (~700 wake-ups/s on this
  // kind of guest), and once no frame has come for quiet_after_ns up to
  // quiet_nap_max_ns (~50 wake-ups/s at rest: each costs a nanosleep and
  // an empty rx_burst): the first frame after a quiet spell waits up to
  // 20 ms, the next ones at most 1 ms. Quiet is time since the last frame,
  // so a link that carries a stray frame a second still goes quiet.
  uint64_t nap_min_ns = 50'000;
  uint64_t nap_max_ns = 1'000'000;
  uint64_t quiet_nap_max_ns = 20'000'000;
  uint64_t quiet_after_ns = 100'000'000;
  // Run to completion: application threads drive the queue while they
  // wait; the poller steps back while one covers it and looks again after
  // app_check_ns, then less often (below). false: the poller always drives.
  bool yield_to_app = false;
  uint64_t app_check_ns = 1'000'000;
  // While the application keeps covering the queue, the look-again
  // interval doubles from app_check_ns up to this: a process whose thread
  // waits in epoll_wait costs the poller ~125 wake-ups/s instead of 1000,
  // and when the application stops waiting without saying so, a frame
  // waits at most this long for the poller.
  uint64_t covered_check_max_ns = 8'000'000;
};

class Poller final : public stack::PollerWaker {
 public:
  Poller(stack::Stack& stack, Backend& backend, Drivers& drivers, uint16_t queue, PollerConfig config);
  ~Poller() override;  // stops and joins
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // Runs on queue 0's thread after the stack's timers (set before start()).
  void set_timer_hook(std::function<void()> hook) { timer_hook_ = std::move(hook); }

  void start();
  void stop();
  void wake() override;  // any thread (also wakes application threads asleep in a wait)
  // Wakes this poller alone if it sleeps (the application hands the queue back).
  void kick();

  uint64_t sleeps() const { return sleeps_.load(std::memory_order_relaxed); }
  uint64_t wakeups() const { return wakeups_.load(std::memory_order_relaxed); }
  uint64_t yields() const { return yields_.load(std::memory_order_relaxed); }

 private:
  void run();
  // True when woken by an event (frames, a wake()), false on a timeout/nap.
  bool sleep_until_work(uint64_t deadline_ns);
  // The application covers the queue: sleep on the wake fd alone.
  void sleep_while_app_drives(uint64_t deadline_ns);

  stack::Stack& stack_;
  Backend& backend_;
  Drivers& drivers_;
  const uint16_t queue_;
  const PollerConfig config_;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  uint64_t nap_ns_ = 0;
  uint64_t last_frame_ns_ = 0;     // when a burst last had frames (the naps' quiet clock)
  uint64_t covered_check_ns_ = 0;  // the current look-again interval while covered
  std::function<void()> timer_hook_;
  std::atomic<bool> sleeping_{false};
  std::atomic<uint64_t> sleeps_{0};
  std::atomic<uint64_t> wakeups_{0};
  std::atomic<uint64_t> yields_{0};
  std::thread thread_;
};

// True on the engine's own threads: the shim passes their calls straight to
// libc (design decision 6).
bool this_thread_is_engine();
void mark_this_thread_engine();

}  // namespace dpdkudp::engine
