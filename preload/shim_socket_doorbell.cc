// ShimSocket's doorbell (decision 1): ringing its kernel fd, the watchdog
// that rings again when one was lost, passing on a sibling's doorbell in
// an SO_REUSEPORT group, and draining doorbells once the stack's queue is
// empty. The wire form is doorbell.h.
#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>

#include "preload/doorbell.h"
#include "preload/real.h"
#include "preload/runtime.h"
#include "preload/shim_socket.h"

namespace dpdkudp::preload {
namespace {

constexpr uint64_t kDoorbellRetryNs = 100'000'000;

// Every socket, for the watchdog at the engine tick. No reference is held
// (that would keep a closed socket, and its place in the port's reuseport
// group, alive until the next tick): a socket leaves the list in its
// release(), under the lock the tick holds while it looks.
std::mutex g_watched_lock;
std::vector<ShimSocket*> g_watched;
std::once_flag g_watch_once;

void watch_doorbells(engine::Engine& engine, ShimSocket* s) {
  std::call_once(g_watch_once, [&engine] {
    engine.add_tick_hook([](uint64_t now) {
      std::lock_guard lock(g_watched_lock);
      for (ShimSocket* w : g_watched) w->check_doorbell(now);
    });
  });
  std::lock_guard lock(g_watched_lock);
  g_watched.push_back(s);
}

void unwatch_doorbells(ShimSocket* s) {
  std::lock_guard lock(g_watched_lock);
  g_watched.erase(std::remove(g_watched.begin(), g_watched.end(), s), g_watched.end());
}

}  // namespace

void ShimSocket::start_watchdog() { watch_doorbells(engine_, this); }
void ShimSocket::stop_watchdog() { unwatch_doorbells(this); }

void ShimSocket::ring() {
  if (handoff_.load(std::memory_order_acquire)) [[unlikely]] {
    hand_off();
    return;
  }
  // Run to completion: interposed waits read the stack's readiness
  // themselves; only a thread asleep in a blocking recv on the kernel fd
  // needs the doorbell.
  if (engine_.inline_waits() && blocked_readers_.load(std::memory_order_seq_cst) == 0) return;
  if (doorbells_.load(std::memory_order_acquire) >= kMaxPendingDoorbells) return;
  send_own_doorbell();
}

void ShimSocket::send_own_doorbell(bool fresh_sender) {
  if (doorbell_target_.load(std::memory_order_acquire) == 0 || closing_.load(std::memory_order_acquire)) return;
  const DoorbellMsg m{kDoorbellMagic, 0, 0, token_, doorbell_key()};
  last_ring_ns_.store(stack::monotonic_now_ns(), std::memory_order_relaxed);
  doorbells_.fetch_add(1, std::memory_order_acq_rel);
  if (!fresh_sender) {
    send_doorbell(&m, doorbell_fd(sender_.load(std::memory_order_relaxed), doorbell_v6()));
    return;
  }
  int fd = fresh_doorbell_fd(doorbell_v6());
  send_doorbell(&m, fd);
  if (fd >= 0) real().close(fd);
}

void ShimSocket::check_doorbell(uint64_t now_ns) {
  if (closing_.load(std::memory_order_acquire) || !socket_->readable()) return;
  if (handoff_.load(std::memory_order_acquire)) {
    hand_off();  // one another thread's drain left behind
    return;
  }
  if (doorbells_.load(std::memory_order_acquire) > 0) {
    // One is queued already. Only among SO_REUSEPORT siblings can it have
    // gone astray (to a sibling that passes it on): after 100 ms, ring
    // again from the next sender.
    if (!socket_->reuse_port() || now_ns < last_ring_ns_.load(std::memory_order_relaxed) + kDoorbellRetryNs) return;
    // Every fixed sender may hash to siblings: after trying them all, each
    // retry leaves from a new port.
    if (astray_retries_.fetch_add(1, std::memory_order_relaxed) + 1 >= kDoorbellSenders) {
      engine_.kernel_path().watchdog_rings.add();
      send_own_doorbell(true);
      return;
    }
    sender_.fetch_add(1, std::memory_order_relaxed);
  } else {
    if (now_ns < last_service_ns_.load(std::memory_order_relaxed) + kDoorbellRetryNs) return;
    if (socket_->arrivals() == serviced_arrivals_.load(std::memory_order_relaxed)) return;
  }
  engine_.kernel_path().watchdog_rings.add();
  send_own_doorbell();
}

void ShimSocket::drop_stale_doorbells(int fd) {
  if (doorbells_.load(std::memory_order_acquire) > 0 && !socket_->readable()) drain_doorbells(fd);
}

bool ShimSocket::send_to_kernel_fd(const void* data, size_t len, int from_fd) {
  uint64_t t = doorbell_target_.load(std::memory_order_acquire);
  if (t == 0 || from_fd < 0) return false;
  sockaddr_storage ss{};
  socklen_t sslen;
  if ((t & kDoorbellTargetV6) != 0) {
    auto* to = reinterpret_cast<sockaddr_in6*>(&ss);
    to->sin6_family = AF_INET6;
    to->sin6_port = htons(static_cast<uint16_t>(t));
    uint64_t hi = doorbell_addr6_hi_.load(std::memory_order_relaxed);
    uint64_t lo = doorbell_addr6_lo_.load(std::memory_order_relaxed);
    std::memcpy(to->sin6_addr.s6_addr, &hi, 8);
    std::memcpy(to->sin6_addr.s6_addr + 8, &lo, 8);
    sslen = sizeof *to;
  } else {
    auto* to = reinterpret_cast<sockaddr_in*>(&ss);
    to->sin_family = AF_INET;
    to->sin_port = htons(static_cast<uint16_t>(t));
    to->sin_addr.s_addr = htonl(static_cast<uint32_t>(t >> 16));
    sslen = sizeof *to;
  }
  return real().sendto(from_fd, data, len, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&ss), sslen) >= 0;
}

void ShimSocket::send_doorbell(const void* msg, int from_fd) {
  const auto* m = static_cast<const DoorbellMsg*>(msg);
  if (!send_to_kernel_fd(m, sizeof *m, from_fd)) {
    if (m->token == token_) note_doorbell_taken();  // never sent: not pending
  }
}

void ShimSocket::take_doorbell(const void* msg) {
  const auto* m = static_cast<const DoorbellMsg*>(msg);
  if (m->token == token_) {
    note_doorbell_taken();
    astray_retries_.store(0, std::memory_order_relaxed);
    // It came the long way: the kernel hashes our sender's port to a
    // sibling now (the group changed). Try the next one from here on.
    if (m->hops > 0) sender_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // A sibling's (an SO_REUSEPORT group shares the port, and the kernel
  // chose us): send it on from another source port, which the kernel
  // hashes elsewhere. Without SO_REUSEPORT the port is ours alone and the
  // doorbell is a stale one of an earlier socket: dropped.
  if (!socket_->reuse_port() || m->hops >= kDoorbellMaxHops) return;
  DoorbellMsg next = *m;
  ++next.hops;
  if (next.hops == 1) {
    send_doorbell(&next, doorbell_fd(static_cast<unsigned>(m->token) + (static_cast<unsigned>(m->token >> 32) * 3) + 1,
                                     doorbell_v6()));
    return;
  }
  // It missed twice: the fixed senders may all hash away from the owner.
  // Each further hop leaves from a fresh port, a new draw of the kernel's
  // hash (four system calls, only on this rare path).
  int fd = fresh_doorbell_fd(doorbell_v6());
  send_doorbell(&next, fd);
  if (fd >= 0) real().close(fd);
}

void ShimSocket::clear() {
  int fd = any_fd_.load(std::memory_order_acquire);
  if (fd >= 0 && !closing_.load(std::memory_order_acquire)) drain_doorbells(fd);
}

void ShimSocket::drain_doorbells(int fd) {
  // Only doorbells at the head of the kernel queue go: a real datagram
  // there keeps the fd readable, as it should.
  // A sibling's doorbell (SO_REUSEPORT) may be queued here too: then look
  // even with none of ours pending.
  for (int i = 0; i < 64 && (doorbells_.load(std::memory_order_acquire) > 0 || socket_->reuse_port()); ++i) {
    if (take_queued_doorbell(fd) != 1) return;
  }
}

int ShimSocket::take_queued_doorbell(int fd) {
  sockaddr_storage from{};
  socklen_t len = sizeof from;
  DoorbellMsg m{};
  ssize_t n = real().recvfrom(fd, &m, sizeof m, MSG_PEEK | MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
  if (n < 0) return -1;
  if (!parse_doorbell(from, &m, n, doorbell_key(), &m)) return 0;
  if (real().recv(fd, &m, sizeof m, MSG_DONTWAIT) >= 0) take_doorbell(&m);
  return 1;
}

void ShimSocket::arm_handoff() {
  if (kernel_only() || closing_.load(std::memory_order_acquire)) return;
  reading_announced_.store(false, std::memory_order_relaxed);
  handoff_.store(true, std::memory_order_release);
}

void ShimSocket::hand_off() {
  // One drainer at a time; a ring that finds one busy leaves its datagram
  // to it, and the drainer looks once more after letting go.
  for (int round = 0; round < 4; ++round) {
    if (handing_off_.exchange(true, std::memory_order_acq_rel)) return;
    hand_off_queued();
    handing_off_.store(false, std::memory_order_release);
    if (!handoff_.load(std::memory_order_acquire) || !socket_->readable()) return;
  }
  // Still more (a flood from other queues' pollers): the watchdog's tick
  // goes on with it.
}

void ShimSocket::hand_off_queued() {
  uint8_t* buf = handoff_scratch();
  for (int i = 0; i < 256 && handoff_.load(std::memory_order_acquire); ++i) {
    stack::RecvInfo info;
    const iovec iov{buf + sizeof(HandoffHeader), kMaxHandoffPayload};
    // kRecvKeepError: a pending ICMP error stays for the application.
    int64_t n = socket_->recv({&iov, 1}, &info, stack::kRecvRealLength | stack::kRecvKeepError);
    if (n < 0) return;
    if (static_cast<uint64_t>(n) > kMaxHandoffPayload) {
      engine_.kernel_path().handoff_dropped.add();
      continue;
    }
    const HandoffHeader h = make_handoff(info, static_cast<uint32_t>(n), doorbell_key());
    std::memcpy(buf, &h, sizeof h);
    if (send_to_kernel_fd(buf, sizeof h + static_cast<size_t>(n),
                          doorbell_fd(sender_.load(std::memory_order_relaxed), doorbell_v6()))) {
      engine_.kernel_path().handoff_sent.add();
    } else {
      engine_.kernel_path().handoff_dropped.add();
    }
  }
}

void ShimSocket::note_doorbell_taken() {
  // Never below zero: a doorbell of an earlier life of the port (before a
  // rebind) may still be queued.
  int n = doorbells_.load(std::memory_order_acquire);
  while (n > 0 && !doorbells_.compare_exchange_weak(n, n - 1, std::memory_order_acq_rel)) {}
}

}  // namespace dpdkudp::preload
