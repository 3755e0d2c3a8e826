// The interposed waits: poll, ppoll, select, pselect and the epoll family
// (and their _FORTIFY_SOURCE forms). With the inline model (DPDKUDP_WAIT,
// the default) a wait that includes an offloaded socket runs to
// completion (preload/wait.h): readiness of offloaded sockets comes from
// the stack, the rest from the kernel, and the waiting thread drives the
// queues. Every other wait is libc's, untouched.
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "preload/epoll_set.h"
#include "preload/real.h"
#include "preload/runtime.h"
#include "preload/shim_socket.h"
#include "preload/wait.h"

using namespace dpdkudp::preload;
using dpdkudp::engine::Engine;
using dpdkudp::stack::monotonic_now_ns;

namespace {

Engine* inline_engine() {
  if (ShimGuard::active()) return nullptr;
  Engine* e = running_engine();
  return (e != nullptr && e->inline_waits()) ? e : nullptr;
}

// Whether a wait asks the kernel about its fds before it spins on the
// stack: always when the caller will not wait (a zero timeout); when the
// stack has events, at most every 200 us for the same fds
// (kernel_check_due), so a busy offloaded socket cannot starve the rest;
// when it has none, only if the wait holds fds other than offloaded
// sockets. An offloaded socket's own kernel side carries host-local
// traffic only: a waiting caller hears of it from the spin (which asks
// every 200 us) or from the sleep (which includes it), and a round trip on
// the bypass costs no system call for it.
bool must_ask_kernel(bool kernel_fds, bool stack_ready, const Deadline& deadline, uint64_t now, uint64_t key) {
  if (deadline.passed(now)) return true;
  return stack_ready ? kernel_check_due(now, key) : kernel_fds;
}

// ---- poll ------------------------------------------------------------------

struct PollWait {
  pollfd* fds;
  nfds_t n;
  std::vector<ShimRef> sockets;                 // [i]: the offloaded socket at fds[i]
  std::vector<std::shared_ptr<EpollSet>> sets;  // [i]: the shadow of an epoll set at fds[i]
  std::vector<pollfd> kernel;                   // the kernel's view, from a zero-timeout poll or the sleep
  bool have_kernel = false;
  uint64_t key = 0;         // wait_key of fds
  bool kernel_fds = false;  // fds other than offloaded sockets (whose kernel sides carry host-local traffic only)

  // Stack readiness merged with the kernel's last answer into fds;
  // returns how many fds have events.
  int merge(uint64_t now) {
    int ready = 0;
    for (nfds_t i = 0; i < n; ++i) {
      short ev = have_kernel ? kernel[i].revents : 0;
      if (sockets[i]) {
        sockets[i]->note_serviced(now);
        ev = static_cast<short>(ev | sockets[i]->stack_events(fds[i].events));
      } else if (sets[i] && (fds[i].events & POLLIN) && sets[i]->any_ready()) {
        ev = static_cast<short>(ev | POLLIN);
      }
      fds[i].revents = ev;
      if (ev != 0) ++ready;
    }
    return ready;
  }
  int stack_ready() {
    for (nfds_t i = 0; i < n; ++i) {
      if (sockets[i] && sockets[i]->stack_events(fds[i].events) != 0) return 1;
      if (sets[i] && (fds[i].events & POLLIN) && sets[i]->any_ready()) return 1;
    }
    return 0;
  }
  // The kernel's view starts as the application's request.
  void reset_kernel_view() {
    for (nfds_t i = 0; i < n; ++i) kernel[i] = {fds[i].fd, fds[i].events, 0};
  }
  int ask_kernel(uint64_t now) {
    reset_kernel_view();
    for (nfds_t i = 0; i < n; ++i) {
      if (sockets[i]) sockets[i]->drop_stale_doorbells(fds[i].fd);
    }
    int rc = real().poll(kernel.data(), n, 0);
    if (rc < 0) return -1;
    have_kernel = true;
    note_kernel_checked(now, key);
    return rc;
  }
};

int recheck_poll(void* ctx) { return static_cast<PollWait*>(ctx)->stack_ready(); }

int shim_poll(pollfd* fds, nfds_t n, const Deadline& deadline, const sigset_t* mask, bool* handled) {
  *handled = false;
  if (forked_child_pending() && fds != nullptr) {
    for (nfds_t i = 0; i < n; ++i) {
      if (is_shim_fd(fds[i].fd) || find_epoll_set(fds[i].fd) != nullptr) {
        adopt_inherited_sockets();
        break;
      }
    }
  }
  Engine* e = inline_engine();
  if (e == nullptr || fds == nullptr || n == 0 || n > 4096) return 0;
  PollWait w{fds, n, {}, {}, {}, false};
  // One look per fd; the tables are made only when one is ours (a wait on
  // kernel fds alone, or on sockets only the kernel reaches, is libc's).
  for (nfds_t i = 0; i < n; ++i) {
    if (fds[i].fd < 0) continue;
    ShimRef s = is_shim_fd(fds[i].fd) ? lookup(fds[i].fd) : ShimRef();
    if (s && s->kernel_only()) s = ShimRef();
    std::shared_ptr<EpollSet> set = s ? nullptr : find_epoll_set(fds[i].fd);
    if (!s && (!set || may_have_kernel_members(fds[i].fd))) w.kernel_fds = true;
    if (!s && !set) continue;
    if (w.sockets.empty()) {
      w.sockets.resize(n);
      w.sets.resize(n);
      w.kernel.resize(n);
    }
    w.sockets[i] = std::move(s);
    w.sets[i] = std::move(set);
  }
  if (w.sockets.empty()) return 0;
  *handled = true;
  uint64_t now = monotonic_now_ns();
  e->drivers().drive_from_app_if_worth(now);
  w.key = wait_key(fds, n);
  if (must_ask_kernel(w.kernel_fds, w.stack_ready() != 0, deadline, now, w.key)) {
    if (w.ask_kernel(now) < 0) return -1;
  }
  if (int r = w.merge(now); r != 0 || deadline.passed(now)) return r;
  uint64_t spin_until = now + busy_poll_ns();
  uint64_t kernel_at = now + kKernelCheckNs;
  for (;;) {
    // Spin: the stack, driving the queues, and the kernel every 200 us.
    while (now < spin_until && !deadline.passed(now)) {
      e->drivers().drive_all_from_app(now);
      if (w.stack_ready() != 0) {
        w.have_kernel = false;
        return w.merge(now);
      }
      if (now >= kernel_at) {
        int rc = w.ask_kernel(now);
        if (rc < 0) return -1;
        if (rc > 0) return w.merge(now);
        kernel_at = now + kKernelCheckNs;
      }
      dpdkudp::stack::cpu_relax();
      now = monotonic_now_ns();
    }
    if (deadline.passed(now)) {
      w.have_kernel = false;
      return w.merge(now);
    }
    w.reset_kernel_view();
    int rc = sleep_in_kernel(*e, w.kernel.data(), n, w.key, deadline, mask, recheck_poll, &w);
    if (rc < 0) return -1;
    w.have_kernel = true;
    now = monotonic_now_ns();
    e->drivers().drive_all_from_app(now);
    if (int r = w.merge(now); r != 0) return r;
    spin_until = now + busy_poll_ns();  // woken: more is likely coming
    kernel_at = now + kKernelCheckNs;   // and the sleep asked the kernel
  }
}

// ---- select ----------------------------------------------------------------

// select as poll: the same readiness, mapped back into the sets.
int shim_select(int nfds, fd_set* r, fd_set* w, fd_set* x, const Deadline& deadline, const sigset_t* mask,
                bool* handled) {
  *handled = false;
  // Only where an engine runs, or a forked child may adopt one, are the
  // sets looked through.
  if (nfds <= 0 || nfds > FD_SETSIZE || (inline_engine() == nullptr && !forked_child_pending())) return 0;
  bool any = false;
  for (int fd = 0; fd < nfds && !any; ++fd) {
    bool in = (r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (x && FD_ISSET(fd, x));
    any = in && (is_shim_fd(fd) || find_epoll_set(fd) != nullptr);
  }
  if (any && forked_child_pending()) adopt_inherited_sockets();
  if (!any || inline_engine() == nullptr) return 0;
  std::vector<pollfd> p;
  for (int fd = 0; fd < nfds; ++fd) {
    short ev = 0;
    if (r && FD_ISSET(fd, r)) ev |= POLLIN;
    if (w && FD_ISSET(fd, w)) ev |= POLLOUT;
    if (x && FD_ISSET(fd, x)) ev |= POLLPRI;
    if (ev != 0) p.push_back({fd, ev, 0});
  }
  int rc = shim_poll(p.data(), p.size(), deadline, mask, handled);
  if (!*handled || rc < 0) return rc;
  for (const pollfd& q : p) {
    if (q.revents & POLLNVAL) {
      errno = EBADF;  // as select: a closed fd in a set
      return -1;
    }
  }
  if (r) FD_ZERO(r);
  if (w) FD_ZERO(w);
  if (x) FD_ZERO(x);
  int count = 0;
  for (const pollfd& q : p) {
    // As the kernel's select: readable covers POLLIN/HUP/ERR, writable
    // POLLOUT/ERR, exceptional POLLPRI.
    if (r && (q.events & POLLIN) && (q.revents & (POLLIN | POLLHUP | POLLERR))) FD_SET(q.fd, r), ++count;
    if (w && (q.events & POLLOUT) && (q.revents & (POLLOUT | POLLERR))) FD_SET(q.fd, w), ++count;
    if (x && (q.events & POLLPRI) && (q.revents & POLLPRI)) FD_SET(q.fd, x), ++count;
  }
  return count;
}

// ---- epoll -----------------------------------------------------------------

// An epoll wait is named by its epoll fd, as its sleep polls it.
uint64_t epoll_key(int epfd) {
  pollfd p{epfd, POLLIN, 0};
  return wait_key(&p, 1);
}

int recheck_epoll(void* set) { return static_cast<EpollSet*>(set)->any_ready() ? 1 : 0; }

// Appends the kernel's events (zero timeout) after out[0..k), merging one
// that duplicates a stack event.
int add_kernel_events(int epfd, uint64_t key, EpollSet& set, epoll_event* out, int k, int max, uint64_t now) {
  note_kernel_checked(now, key);
  if (k >= max) return k;
  epoll_event kev[64];
  int m = real().epoll_wait(epfd, kev, std::min(max - k, 64), 0);
  if (m < 0) return k == 0 ? -1 : k;
  for (int i = 0; i < m; ++i) {
    if (!set.merge_kernel_event(kev[i], out, k)) out[k++] = kev[i];
  }
  return k;
}

int shim_epoll_wait(int epfd, epoll_event* out, int max, const Deadline& deadline, const sigset_t* mask,
                    bool* handled) {
  *handled = false;
  if (forked_child_pending() && find_epoll_set(epfd) != nullptr) adopt_inherited_sockets();
  Engine* e = inline_engine();
  if (e == nullptr || out == nullptr || max <= 0) return 0;
  std::shared_ptr<EpollSet> set = find_epoll_set(epfd);
  if (!set || set->empty()) return 0;
  *handled = true;
  uint64_t now = monotonic_now_ns();
  const uint64_t key = epoll_key(epfd);
  e->drivers().drive_from_app_if_worth(now);
  int k = set->collect(out, max, now);
  if (must_ask_kernel(may_have_kernel_members(epfd), k != 0, deadline, now, key)) {
    k = add_kernel_events(epfd, key, *set, out, k, max, now);
  }
  if (k != 0 || deadline.passed(now)) return k;
  uint64_t spin_until = now + busy_poll_ns();
  uint64_t kernel_at = now + kKernelCheckNs;
  for (;;) {
    while (now < spin_until && !deadline.passed(now)) {
      e->drivers().drive_all_from_app(now);
      if ((k = set->collect(out, max, now)) != 0) return k;
      if (now >= kernel_at) {
        if ((k = add_kernel_events(epfd, key, *set, out, 0, max, now)) != 0) return k;
        kernel_at = now + kKernelCheckNs;
      }
      dpdkudp::stack::cpu_relax();
      now = monotonic_now_ns();
    }
    if (deadline.passed(now)) return set->collect(out, max, now);
    pollfd p{epfd, POLLIN, 0};
    int rc = sleep_in_kernel(*e, &p, 1, key, deadline, mask, recheck_epoll, set.get());
    if (rc < 0) return -1;
    now = monotonic_now_ns();
    e->drivers().drive_all_from_app(now);
    k = set->collect(out, max, now);
    if (p.revents & POLLIN) k = add_kernel_events(epfd, key, *set, out, k, max, now);
    if (k < 0) return -1;
    if (k != 0) return k;
    spin_until = now + busy_poll_ns();
    kernel_at = now + kKernelCheckNs;
  }
}

}  // namespace

#pragma GCC visibility push(default)
extern "C" {

int poll(pollfd* fds, nfds_t n, int timeout) {
  bool handled;
  int rc = shim_poll(fds, n, Deadline::from_ms(timeout, monotonic_now_ns()), nullptr, &handled);
  return handled ? rc : real().poll(fds, n, timeout);
}

int ppoll(pollfd* fds, nfds_t n, const timespec* timeout, const sigset_t* mask) {
  bool handled;
  int rc = shim_poll(fds, n, Deadline::from_timespec(timeout, monotonic_now_ns()), mask, &handled);
  return handled ? rc : real().ppoll(fds, n, timeout, mask);
}

// glibc's own __poll_chk/__ppoll_chk call its internal poll, past ours.
[[noreturn]] void __chk_fail(void);

int __poll_chk(pollfd* fds, nfds_t n, int timeout, size_t fdslen) {
  if (fdslen / sizeof(*fds) < n) __chk_fail();
  return poll(fds, n, timeout);
}

int __ppoll_chk(pollfd* fds, nfds_t n, const timespec* timeout, const sigset_t* mask, size_t fdslen) {
  if (fdslen / sizeof(*fds) < n) __chk_fail();
  return ppoll(fds, n, timeout, mask);
}

int select(int nfds, fd_set* r, fd_set* w, fd_set* x, timeval* timeout) {
  bool handled;
  uint64_t now = monotonic_now_ns();
  Deadline d = Deadline::from_ms(-1, now);
  if (timeout != nullptr) {
    if (timeout->tv_sec < 0 || timeout->tv_usec < 0 || timeout->tv_usec >= 1'000'000) {
      errno = EINVAL;
      return -1;
    }
    timespec ts{timeout->tv_sec, static_cast<long>(timeout->tv_usec) * 1000};
    d = Deadline::from_timespec(&ts, now);
  }
  int rc = shim_select(nfds, r, w, x, d, nullptr, &handled);
  if (!handled) return real().select(nfds, r, w, x, timeout);
  if (timeout != nullptr) {
    // Linux writes back the time not slept.
    timespec left;
    d.remaining(monotonic_now_ns(), &left);
    timeout->tv_sec = left.tv_sec;
    timeout->tv_usec = left.tv_nsec / 1000;
  }
  return rc;
}

int pselect(int nfds, fd_set* r, fd_set* w, fd_set* x, const timespec* timeout, const sigset_t* mask) {
  if (timeout != nullptr && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1'000'000'000)) {
    errno = EINVAL;
    return -1;
  }
  bool handled;
  int rc = shim_select(nfds, r, w, x, Deadline::from_timespec(timeout, monotonic_now_ns()), mask, &handled);
  return handled ? rc : real().pselect(nfds, r, w, x, timeout, mask);
}

int epoll_wait(int epfd, epoll_event* events, int max, int timeout) {
  bool handled;
  int rc = shim_epoll_wait(epfd, events, max, Deadline::from_ms(timeout, monotonic_now_ns()), nullptr, &handled);
  return handled ? rc : real().epoll_wait(epfd, events, max, timeout);
}

int epoll_pwait(int epfd, epoll_event* events, int max, int timeout, const sigset_t* mask) {
  bool handled;
  int rc = shim_epoll_wait(epfd, events, max, Deadline::from_ms(timeout, monotonic_now_ns()), mask, &handled);
  return handled ? rc : real().epoll_pwait(epfd, events, max, timeout, mask);
}

int epoll_pwait2(int epfd, epoll_event* events, int max, const timespec* timeout, const sigset_t* mask) {
  bool handled;
  int rc = shim_epoll_wait(epfd, events, max, Deadline::from_timespec(timeout, monotonic_now_ns()), mask, &handled);
  if (handled) return rc;
  if (real().epoll_pwait2 == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  return real().epoll_pwait2(epfd, events, max, timeout, mask);
}

int epoll_ctl(int epfd, int op, int fd, epoll_event* event) {
  int rc = real().epoll_ctl(epfd, op, fd, event);
  if (rc != 0 || ShimGuard::active() || !in_owner_process()) return rc;
  ShimRef s = is_shim_fd(fd) ? lookup(fd) : ShimRef();
  // Counted from the first call, engine or not: a loop often registers
  // its timer and pipe fds before the program opens a UDP socket.
  if (!s || s->kernel_only()) note_kernel_member(epfd, op);
  Engine* e = running_engine();
  if (e == nullptr) return rc;
  if (s && !e->inline_waits() && event != nullptr && (op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) &&
      (event->events & EPOLLET)) {
    s->set_edge_triggered();  // the thread model: a doorbell per arrival
  }
  if (!e->inline_waits()) return rc;
  if (op == EPOLL_CTL_DEL) {
    if (auto set = find_epoll_set(epfd)) set->remove(fd);
    return rc;
  }
  if (event == nullptr) return rc;
  std::shared_ptr<EpollSet> nested = s ? nullptr : find_epoll_set(fd);
  if (!s && !nested) return rc;
  auto set = epoll_set_for(epfd);
  if (op == EPOLL_CTL_ADD) {
    set->add(fd, std::move(s), std::move(nested), *event);
  } else if (op == EPOLL_CTL_MOD) {
    set->modify(fd, *event);
  }
  return rc;
}

}  // extern "C"
#pragma GCC visibility pop
