// The run-to-completion wait (design decision 4): what an application
// thread does inside an interposed poll/select/epoll_wait when some of the
// fds are offloaded sockets.
//
// The thread drives the backend's queues itself (one burst per queue it can
// take), reads the sockets' readiness from the stack, spins for
// DPDKUDP_BUSY_POLL_US, and then sleeps in the kernel on the application's
// own fds, the backend's wait fds and its own wake eventfd, registered as a
// sleeper first (engine/driver.h) so that a frame another thread delivers
// for it wakes it. No doorbell, no hand-off: readiness is the stack's
// state, read each time, so a lost edge cannot make a socket deaf.
#pragma once

#include <poll.h>
#include <signal.h>

#include <cstdint>
#include <ctime>

#include "engine/engine.h"

namespace dpdkudp::preload {

// A wait's limit on CLOCK_MONOTONIC: forever, or a point in time.
class Deadline {
 public:
  static Deadline from_ms(int ms, uint64_t now_ns);
  static Deadline from_timespec(const timespec* ts, uint64_t now_ns);  // nullptr: forever
  bool forever() const { return forever_; }
  bool passed(uint64_t now_ns) const { return !forever_ && now_ns >= at_ns_; }
  // What is left, for ppoll (nullptr: forever).
  const timespec* remaining(uint64_t now_ns, timespec* out) const;

 private:
  bool forever_ = true;
  uint64_t at_ns_ = 0;
};

// Sleeps until one of app_fds (their revents set), a backend queue, or a
// driver's wake-up: real ppoll with the caller's timeout and signal mask.
// Registers the thread as a sleeper and calls recheck() once more before
// it sleeps: a non-zero recheck() is returned as is without sleeping.
// key names the wait (wait_key): the sleep asks the kernel about app_fds,
// and notes it. Returns ppoll's result for app_fds (>= 0) or -1 with
// errno (EINTR).
int sleep_in_kernel(engine::Engine& engine, pollfd* app_fds, nfds_t n, uint64_t key, const Deadline& deadline,
                    const sigset_t* mask, int (*recheck)(void*), void* ctx);

// Whether this call may ask the kernel about the application's kernel fds
// again when the stack alone has events: at once for a set of fds other
// than the one this thread last asked about, and for the same set at most
// every 200 us, so an offloaded socket under load costs no system call per
// wait while a busy kernel fd still waits at most that long. A set is
// named by wait_key (its fds and events; an epoll set by its fd).
constexpr uint64_t kKernelCheckNs = 200'000;
uint64_t wait_key(const pollfd* fds, nfds_t n);
bool kernel_check_due(uint64_t now_ns, uint64_t key);
void note_kernel_checked(uint64_t now_ns, uint64_t key);

}  // namespace dpdkudp::preload
