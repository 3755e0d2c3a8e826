// The shim's process-wide state: whether offload is on, the engine (started
// on the first offloaded socket()), the fd table, and the guard that keeps
// the shim from intercepting itself (design decision 6).
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <cstdint>

#include "engine/engine.h"

namespace dpdkudp::preload {

class ShimSocket;

// Calls made while a guard is alive on this thread (the shim's own work,
// the engine's start-up) and calls from the engine's threads go straight
// to libc.
class ShimGuard {
 public:
  ShimGuard() { ++depth_; }
  ~ShimGuard() { --depth_; }
  ShimGuard(const ShimGuard&) = delete;
  ShimGuard& operator=(const ShimGuard&) = delete;
  static bool active() { return depth_ != 0 || engine::this_thread_is_engine(); }

 private:
  static thread_local int depth_;
};

// The engine, started on first use. nullptr when offload is off (no backend
// started, configuration error, forked child): then everything is libc.
engine::Engine* engine_for_new_socket();
// The running engine, without starting one.
engine::Engine* running_engine();
// A forked child whose inherited offloaded sockets have not been adopted
// yet (runtime.cc); adopt_inherited_sockets() adopts them now: for the
// waits, whose first look at such a socket must find it on the child's
// own engine. The other calls adopt through lookup().
bool forked_child_pending();
void adopt_inherited_sockets();

// Interface index of the bypass interface (for IP_PKTINFO and the kernel
// fd's filter).
int bypass_ifindex();
// Doorbells leave from one of kDoorbellSenders loopback sockets, each with
// its own source port: in an SO_REUSEPORT group the kernel picks the
// socket a datagram goes to by a hash that includes the source port, so a
// socket whose doorbells land on a sibling tries another sender (see
// ShimSocket::take_doorbell).
// When all eight hash to siblings (1 in 2^8 for a pair of siblings), a
// retry leaves from a fresh socket, with a new ephemeral port each time
// (fresh_doorbell_fd(): the caller closes it).
constexpr unsigned kDoorbellSenders = 8;
// v6: a sender bound to ::1, for a kernel fd that only takes IPv6.
int doorbell_fd(unsigned sender, bool v6 = false);
int fresh_doorbell_fd(bool v6 = false);
// How long a thread waiting in poll/select/epoll spins (driving the
// queues in the inline model) before it sleeps: DPDKUDP_BUSY_POLL_US, or
// zero where the backend's every look is a system call (those waits sleep
// on its wait fd at once).
uint64_t busy_poll_ns();
// A blocking recv spins DPDKUDP_BUSY_POLL_US whatever the backend: its
// sleep (on the socket's kernel fd, for the kernel's own signal, timeout
// and shutdown semantics) hands the queues to the poller, a slower path
// than a few system calls.
uint64_t recv_spin_ns();

// fd -> ShimSocket. A lookup takes a reference the caller drops with
// ShimRef's destructor, so a concurrent close() cannot free the object
// under a call in progress.
constexpr int kMaxFds = 1 << 16;
class ShimRef {
 public:
  ShimRef() = default;
  explicit ShimRef(ShimSocket* s) : s_(s) {}
  ShimRef(ShimRef&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  ShimRef& operator=(ShimRef&& o) noexcept;
  ~ShimRef();
  ShimSocket* operator->() const { return s_; }
  ShimSocket* get() const { return s_; }
  // Lets go of the socket without dropping the reference (a forked child's
  // copy of its parent's socket, never to be touched again).
  void abandon() { s_ = nullptr; }
  explicit operator bool() const { return s_ != nullptr; }

 private:
  ShimSocket* s_ = nullptr;
};
ShimRef lookup(int fd);
// Installs s at fd (taking a reference); replaces nothing (fd must be free
// in the table).
void install(int fd, ShimSocket* s);
// Removes fd from the table; the ShimSocket goes when its last reference
// does.
void uninstall(int fd);
bool is_shim_fd(int fd);
// False in a vfork()ed child (posix_spawn, Python's subprocess), which
// shares our memory: its close/dup calls must not edit the parent's table.
bool in_owner_process();

}  // namespace dpdkudp::preload
