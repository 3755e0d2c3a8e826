#include "engine/poller.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

#include "engine/log.h"
#include "stack/net/clock.h"
#include "stack/net/cpu.h"

namespace dpdkudp::engine {
namespace {

thread_local bool t_engine_thread = false;

}  // namespace

bool this_thread_is_engine() { return t_engine_thread; }
void mark_this_thread_engine() { t_engine_thread = true; }

Poller::Poller(stack::Stack& stack, Backend& backend, Drivers& drivers, uint16_t queue, PollerConfig config)
    : stack_(stack), backend_(backend), drivers_(drivers), queue_(queue), config_(config) {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

Poller::~Poller() {
  stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Poller::start() {
  thread_ = std::thread([this] { run(); });
}

void Poller::stop() {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  wake();
  thread_.join();
}

void Poller::wake() {
  // Work queued for queue 0 (a looped-back datagram): whoever drives it
  // now may be an application thread asleep in a wait.
  if (drivers_.has_sleepers()) drivers_.wake_sleepers();
  kick();
}

void Poller::kick() {
  // Only a sleeping poller needs the syscall.
  if (wake_fd_ >= 0 && sleeping_.load(std::memory_order_seq_cst)) {
    uint64_t one = 1;
    ssize_t ignored = ::write(wake_fd_, &one, sizeof one);
    (void)ignored;
  }
}

void Poller::run() {
  mark_this_thread_engine();
  std::string name = "dpdkudp-poll" + std::to_string(queue_);
  pthread_setname_np(pthread_self(), name.c_str());
  uint64_t last_work = stack::monotonic_now_ns();
  uint64_t next_timer = last_work;
  last_frame_ns_ = last_work;
  while (!stop_.load(std::memory_order_acquire)) {
    if (config_.yield_to_app && drivers_.app_covers(queue_, stack::monotonic_now_ns())) {
      // An application thread drives the queue: only the timers are ours.
      uint64_t now = stack::monotonic_now_ns();
      if (queue_ == 0 && now >= next_timer) {
        drivers_.with_queue(queue_, [this] { stack_.on_timer(); });
        if (timer_hook_) timer_hook_();
        next_timer = now + config_.timer_period_ns;
      }
      yields_.fetch_add(1, std::memory_order_relaxed);
      covered_check_ns_ = std::clamp(covered_check_ns_ * 2, config_.app_check_ns,
                                     std::max(config_.covered_check_max_ns, config_.app_check_ns));
      uint64_t check_at = now + covered_check_ns_;
      sleep_while_app_drives(queue_ == 0 ? std::min(next_timer, check_at) : check_at);
      last_work = 0;
      continue;
    }
    covered_check_ns_ = 0;  // the application stopped covering: look again soon next time
    size_t n = drivers_.try_drive(queue_);
    uint64_t now = (n != 0 || queue_ == 0) ? stack::monotonic_now_ns() : 0;
    if (n != 0) {
      last_work = now;
      last_frame_ns_ = now;
      nap_ns_ = config_.nap_min_ns;
    }
    if (queue_ == 0 && now >= next_timer) {
      drivers_.with_queue(queue_, [this] { stack_.on_timer(); });
      if (timer_hook_) timer_hook_();
      next_timer = now + config_.timer_period_ns;
    }
    if (n != 0) continue;
    if (now == 0) now = stack::monotonic_now_ns();
    if (now - last_work < config_.busy_poll_ns) {
      stack::cpu_relax();
      continue;
    }
    if (sleep_until_work(queue_ == 0 ? next_timer : now + config_.timer_period_ns)) {
      last_work = stack::monotonic_now_ns();  // spin a while after an event: more is likely coming
    }
  }
}

bool Poller::sleep_until_work(uint64_t deadline_ns) {
  sleeping_.store(true, std::memory_order_seq_cst);
  backend_.arm_wait(queue_);
  // Look once more after arming: a frame that raced the arming is either
  // seen here or wakes the fd.
  // The naps shorten again only for frames (run() resets them when a
  // burst is not empty): an application that wakes every 100 ms, drives
  // and hands the queue back must not keep the poller at 1000 naps a
  // second.
  if (size_t n = drivers_.try_drive(queue_);
      n != 0 || stop_.load(std::memory_order_acquire) ||
      (config_.yield_to_app && drivers_.app_covers(queue_, stack::monotonic_now_ns()))) {
    sleeping_.store(false, std::memory_order_release);
    if (n != 0) {
      nap_ns_ = config_.nap_min_ns;
      last_frame_ns_ = stack::monotonic_now_ns();
    }
    return true;
  }
  uint64_t now = stack::monotonic_now_ns();
  int timeout_ms = deadline_ns > now ? static_cast<int>((deadline_ns - now + 999'999) / 1'000'000) : 0;
  pollfd fds[2];
  nfds_t nfds = 0;
  fds[nfds++] = {wake_fd_, POLLIN, 0};
  int backend_fd = backend_.wait_fd(queue_);
  if (backend_fd >= 0) {
    fds[nfds++] = {backend_fd, POLLIN, 0};
  } else {
    // No fd to sleep on (a PMD without interrupts): nap, longer each time
    // nothing came.
    timeout_ms = 0;
    if (nap_ns_ == 0) nap_ns_ = config_.nap_min_ns;
    timespec nap{0, static_cast<long>(nap_ns_)};
    nanosleep(&nap, nullptr);
    uint64_t cap = now - last_frame_ns_ >= config_.quiet_after_ns ? config_.quiet_nap_max_ns : config_.nap_max_ns;
    nap_ns_ = std::min(nap_ns_ * 2, cap);
  }
  sleeps_.fetch_add(1, std::memory_order_relaxed);
  int rc = ::poll(fds, nfds, timeout_ms);
  sleeping_.store(false, std::memory_order_release);
  if (rc > 0) {
    wakeups_.fetch_add(1, std::memory_order_relaxed);
    if (fds[0].revents & POLLIN) {
      uint64_t v;
      ssize_t ignored = ::read(wake_fd_, &v, sizeof v);
      (void)ignored;
    }
    return true;
  }
  if (rc < 0 && errno != EINTR) {
    log(LogLevel::kError, "poller %u: poll failed: %s", queue_, std::strerror(errno));
  }
  return false;
}

void Poller::sleep_while_app_drives(uint64_t deadline_ns) {
  uint64_t now = stack::monotonic_now_ns();
  if (deadline_ns <= now) return;
  sleeping_.store(true, std::memory_order_seq_cst);
  if (stop_.load(std::memory_order_acquire)) {
    sleeping_.store(false, std::memory_order_release);
    return;
  }
  timespec ts{0, 0};
  ts.tv_sec = static_cast<time_t>((deadline_ns - now) / 1'000'000'000u);
  ts.tv_nsec = static_cast<long>((deadline_ns - now) % 1'000'000'000u);
  pollfd p{wake_fd_, POLLIN, 0};
  sleeps_.fetch_add(1, std::memory_order_relaxed);
  int rc = ::ppoll(&p, 1, &ts, nullptr);
  sleeping_.store(false, std::memory_order_release);
  if (rc > 0) {
    uint64_t v;
    ssize_t ignored = ::read(wake_fd_, &v, sizeof v);
    (void)ignored;
  }
}

}  // namespace dpdkudp::engine
