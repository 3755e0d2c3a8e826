// What the shim knows of an application's epoll set: the offloaded sockets
// (and nested epoll sets holding some) registered in it, with the events,
// data and flags the application gave.
//
// The kernel keeps its own registration of every fd too (epoll_ctl always
// goes to the kernel first, so errors are the kernel's): it reports the
// kernel-path traffic of offloaded sockets and every other fd. The shadow
// adds what only the stack knows, with Linux's rules: level-triggered by
// default, EPOLLET reports a socket again only after new arrivals,
// EPOLLONESHOT disables the registration (here and in the kernel) until
// EPOLL_CTL_MOD.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "preload/runtime.h"
#include "preload/shim_socket.h"

namespace dpdkudp::preload {

class EpollSet {
 public:
  explicit EpollSet(int epfd) : epfd_(epfd) {}

  // After the kernel accepted the same call. socket: the offloaded socket
  // at fd (nullptr: nested is the shadow of an epoll set at fd).
  void add(int fd, ShimRef socket, std::shared_ptr<EpollSet> nested, const epoll_event& ev);
  void modify(int fd, const epoll_event& ev);
  void remove(int fd);
  // Drops every registration of socket (its last fd closed).
  void forget(const ShimSocket* socket);
  bool empty();

  // Fills out[0..max) with what the stack has ready, consuming edge and
  // one-shot state; returns the count.
  int collect(epoll_event* out, int max, uint64_t now_ns);
  // Would collect() report anything (for poll() and nested sets)?
  bool any_ready();
  // A kernel event for data: a one-shot registration of ours with the
  // same data is spent too. Returns true when it duplicates one of
  // out[0..n) (merged into it).
  bool merge_kernel_event(const epoll_event& ev, epoll_event* out, int n);
  // A forked child adopted its inherited sockets: each registration names
  // the adopted copy. The parent's objects are left as they are (their
  // references are not dropped: that would touch the parent's stack).
  template <typename Map>
  void adopt(const Map& to) {
    std::lock_guard lock(lock_);
    for (Reg& r : regs_) {
      if (!r.socket) continue;
      auto it = to.find(r.socket.get());
      if (it == to.end() || it->second == nullptr) continue;
      r.socket.abandon();
      it->second->ref();
      r.socket = ShimRef(it->second);
      r.seen_arrivals = 0;
    }
  }

 private:
  struct Reg {
    int fd = -1;
    uint32_t events = 0;
    epoll_data_t data{};
    ShimRef socket;
    std::shared_ptr<EpollSet> nested;
    uint64_t seen_arrivals = 0;  // EPOLLET: what was reported
    bool armed = true;           // EPOLLONESHOT: false once reported
    bool out_pending = true;     // EPOLLET: EPOLLOUT reported once per arming
  };
  uint32_t ready_events(Reg& r);
  // Removes the registrations pred selects; their references are dropped
  // after the lock.
  template <typename Pred>
  void erase_if(Pred pred);
  void disarm_in_kernel(const Reg& r);

  const int epfd_;
  std::mutex lock_;
  std::vector<Reg> regs_;
  size_t next_ = 0;  // round-robin start, so one busy socket cannot starve the rest
};

// The shadow of epfd, or nullptr when none of its fds is offloaded.
std::shared_ptr<EpollSet> find_epoll_set(int epfd);
std::shared_ptr<EpollSet> epoll_set_for(int epfd);  // creates it
void forget_epoll_set(int epfd);                    // close(epfd)
void dup_epoll_set(int oldfd, int newfd);           // dup(epfd)
// Whether epfd's kernel set may hold fds other than offloaded sockets (so
// a wait must ask the kernel before it spins on the stack). Counted from
// the epoll_ctl calls the shim saw, from the process's start: an fd closed
// without EPOLL_CTL_DEL stays counted (the safe side); a set inherited
// across exec, or filled through a dup of epfd, may be under-counted, and
// its kernel events then come from the rate-limited check or the sleep.
void note_kernel_member(int epfd, int op);
bool may_have_kernel_members(int epfd);

// The socket's last fd closed: out of every set.
void forget_socket_in_epoll_sets(const ShimSocket* socket);
// Every set of a forked child that adopted its inherited sockets
// (runtime.cc): old -> adopted.
void adopt_epoll_sets(const std::unordered_map<ShimSocket*, ShimSocket*>& to);

}  // namespace dpdkudp::preload
