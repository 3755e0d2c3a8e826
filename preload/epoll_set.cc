#include "preload/epoll_set.h"

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <iterator>
#include <unordered_map>

#include "preload/real.h"
#include "preload/shim_socket.h"

namespace dpdkudp::preload {
namespace {

// Per epfd: kernel members added minus removed (see may_have_kernel_members).
std::atomic<uint32_t> g_kernel_members[kMaxFds];

std::mutex g_sets_lock;
// Never destroyed: threads still running at exit (the program's, or the
// engine's own, such as the AF_XDP group hub) close fds after the static
// destructors have run.
std::unordered_map<int, std::shared_ptr<EpollSet>>& all_sets() {
  static auto* map = new std::unordered_map<int, std::shared_ptr<EpollSet>>;
  return *map;
}
// Sets in the map: a program that never registers an offloaded socket in
// an epoll set pays one load per epoll_wait.
std::atomic<size_t> g_set_count{0};

constexpr uint32_t kPollable = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDHUP | EPOLLPRI;

}  // namespace

void EpollSet::add(int fd, ShimRef socket, std::shared_ptr<EpollSet> nested, const epoll_event& ev) {
  std::lock_guard lock(lock_);
  Reg r;
  r.fd = fd;
  r.events = ev.events;
  r.data = ev.data;
  r.socket = std::move(socket);
  r.nested = std::move(nested);
  regs_.push_back(std::move(r));
}

void EpollSet::modify(int fd, const epoll_event& ev) {
  std::lock_guard lock(lock_);
  for (Reg& r : regs_) {
    if (r.fd != fd) continue;
    r.events = ev.events;
    r.data = ev.data;
    r.armed = true;
    r.out_pending = true;
    r.seen_arrivals = 0;  // Linux re-evaluates readiness on MOD
  }
}

template <typename Pred>
void EpollSet::erase_if(Pred pred) {
  std::vector<Reg> gone;  // declared first: destroyed after the lock is released
  std::lock_guard lock(lock_);
  auto keep = std::stable_partition(regs_.begin(), regs_.end(), [&](const Reg& r) { return !pred(r); });
  std::move(keep, regs_.end(), std::back_inserter(gone));
  regs_.erase(keep, regs_.end());
}

void EpollSet::remove(int fd) {
  erase_if([fd](const Reg& r) { return r.fd == fd; });
}

void EpollSet::forget(const ShimSocket* socket) {
  erase_if([socket](const Reg& r) { return r.socket.get() == socket; });
}

bool EpollSet::empty() {
  std::lock_guard lock(lock_);
  return regs_.empty();
}

uint32_t EpollSet::ready_events(Reg& r) {
  if (!r.armed) return 0;
  uint32_t want = (r.events & kPollable) | EPOLLERR | EPOLLHUP;
  if (r.socket) {
    if (r.socket->closed()) return 0;
    return static_cast<uint32_t>(static_cast<unsigned short>(r.socket->stack_events(static_cast<short>(want)))) & want;
  }
  if (r.nested && (r.events & EPOLLIN) && r.nested->any_ready()) return EPOLLIN;
  return 0;
}

void EpollSet::disarm_in_kernel(const Reg& r) {
  // The kernel's copy of a one-shot registration must not fire for what
  // the stack already reported.
  epoll_event off{};
  off.events = EPOLLONESHOT;
  off.data = r.data;
  real().epoll_ctl(epfd_, EPOLL_CTL_MOD, r.fd, &off);
}

int EpollSet::collect(epoll_event* out, int max, uint64_t now_ns) {
  std::lock_guard lock(lock_);
  int k = 0;
  const size_t n = regs_.size();
  for (size_t i = 0; i < n && k < max; ++i) {
    Reg& r = regs_[(next_ + i) % n];
    if (r.socket) r.socket->note_serviced(now_ns);
    uint32_t ev = ready_events(r);
    if (ev == 0) continue;
    if ((r.events & EPOLLET) && r.socket) {
      uint64_t a = r.socket->arrivals();
      bool fresh = (ev & ~static_cast<uint32_t>(EPOLLOUT)) != 0 && a != r.seen_arrivals;
      if (!fresh && !((ev & EPOLLOUT) && r.out_pending)) continue;
      r.seen_arrivals = a;
      r.out_pending = false;
    }
    if (r.events & EPOLLONESHOT) {
      r.armed = false;
      disarm_in_kernel(r);
    }
    out[k].events = ev;
    out[k].data = r.data;
    ++k;
  }
  if (n != 0) next_ = (next_ + 1) % n;
  return k;
}

bool EpollSet::any_ready() {
  std::lock_guard lock(lock_);
  for (Reg& r : regs_) {
    uint32_t ev = ready_events(r);
    if (ev == 0) continue;
    if ((r.events & EPOLLET) && r.socket && r.socket->arrivals() == r.seen_arrivals &&
        !((ev & EPOLLOUT) && r.out_pending)) {
      continue;
    }
    return true;
  }
  return false;
}

bool EpollSet::merge_kernel_event(const epoll_event& ev, epoll_event* out, int n) {
  {
    std::lock_guard lock(lock_);
    for (Reg& r : regs_) {
      if (r.data.u64 == ev.data.u64 && (r.events & EPOLLONESHOT)) r.armed = false;
    }
  }
  for (int i = 0; i < n; ++i) {
    if (out[i].data.u64 == ev.data.u64) {
      out[i].events |= ev.events;
      return true;
    }
  }
  return false;
}

std::shared_ptr<EpollSet> find_epoll_set(int epfd) {
  if (g_set_count.load(std::memory_order_acquire) == 0) return nullptr;
  std::lock_guard lock(g_sets_lock);
  auto& sets = all_sets();
  auto it = sets.find(epfd);
  return it == sets.end() ? nullptr : it->second;
}

std::shared_ptr<EpollSet> epoll_set_for(int epfd) {
  std::lock_guard lock(g_sets_lock);
  auto& sets = all_sets();
  auto& slot = sets[epfd];
  if (!slot) {
    slot = std::make_shared<EpollSet>(epfd);
    g_set_count.store(sets.size(), std::memory_order_release);
  }
  return slot;
}

void note_kernel_member(int epfd, int op) {
  if (epfd < 0 || epfd >= kMaxFds) return;
  std::atomic<uint32_t>& n = g_kernel_members[epfd];
  if (op == EPOLL_CTL_ADD) {
    n.fetch_add(1, std::memory_order_relaxed);
  } else if (op == EPOLL_CTL_DEL) {
    uint32_t v = n.load(std::memory_order_relaxed);
    while (v != 0 && !n.compare_exchange_weak(v, v - 1, std::memory_order_relaxed)) {}
  }
}

bool may_have_kernel_members(int epfd) {
  return epfd < 0 || epfd >= kMaxFds || g_kernel_members[epfd].load(std::memory_order_relaxed) != 0;
}

void forget_epoll_set(int epfd) {
  if (epfd >= 0 && epfd < kMaxFds) g_kernel_members[epfd].store(0, std::memory_order_relaxed);
  std::shared_ptr<EpollSet> gone;
  {
    std::lock_guard lock(g_sets_lock);
    auto& sets = all_sets();
    auto it = sets.find(epfd);
    if (it == sets.end()) return;
    gone = std::move(it->second);
    sets.erase(it);
    g_set_count.store(sets.size(), std::memory_order_release);
  }
}

void dup_epoll_set(int oldfd, int newfd) {
  if (oldfd >= 0 && oldfd < kMaxFds && newfd >= 0 && newfd < kMaxFds) {
    g_kernel_members[newfd].store(g_kernel_members[oldfd].load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
  std::lock_guard lock(g_sets_lock);
  auto& sets = all_sets();
  auto it = sets.find(oldfd);
  if (it == sets.end()) return;
  sets[newfd] = it->second;
  g_set_count.store(sets.size(), std::memory_order_release);
}

void forget_socket_in_epoll_sets(const ShimSocket* socket) {
  if (g_set_count.load(std::memory_order_acquire) == 0) return;
  std::vector<std::shared_ptr<EpollSet>> sets;
  {
    std::lock_guard lock(g_sets_lock);
    for (auto& [fd, set] : all_sets()) sets.push_back(set);
  }
  for (auto& set : sets) set->forget(socket);
}

void adopt_epoll_sets(const std::unordered_map<ShimSocket*, ShimSocket*>& to) {
  std::lock_guard lock(g_sets_lock);
  for (auto& [epfd, set] : all_sets()) set->adopt(to);
}

}  // namespace dpdkudp::preload
