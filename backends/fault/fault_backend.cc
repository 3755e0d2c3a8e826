#include "backends/fault/fault_backend.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <system_error>

#include "backends/common/soft_offloads.h"

namespace dpdkudp {
namespace {

// Frames one lane may hold back: RX buffers held are buffers the device
// cannot refill its ring with.
constexpr size_t kMaxHeld = 256;
// TX frames the wrapped backend has not taken yet (its back-pressure):
// beyond this, tx_burst takes no more from the caller.
constexpr size_t kMaxTxBacklog = 512;
// Retry of a TX backlog when the device took nothing: soon, not at once.
constexpr uint64_t kTxRetryNs = 50'000;

uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(ts.tv_nsec);
}

constexpr uint32_t kRxVerdicts = kRxIpv4CsumGood | kRxIpv4CsumBad | kRxL4CsumGood | kRxL4CsumBad;

// A frame whose UDP checksum the sender's kernel left partial: the
// checksum completed as the sender's device would have, so that damage
// done after it is caught as it would be on a wire. False when the frame
// is not plain UDP over IPv4/IPv6 (nothing else arrives partial).
bool complete_partial_checksum(Packet* pkt) {
  const uint8_t* d = pkt->data;
  size_t l2 = common::kEthHeaderLen;
  if (pkt->len < l2) return false;
  uint16_t type = static_cast<uint16_t>(d[12] << 8 | d[13]);
  if (type == common::kEtherTypeVlan) {
    l2 += common::kVlanTagLen;
    if (pkt->len < l2) return false;
    type = static_cast<uint16_t>(d[16] << 8 | d[17]);
  }
  uint32_t flags = kTxUdpCsum;
  size_t l3 = 0;
  if (type == common::kEtherTypeIpv4 && pkt->len >= l2 + 20 && d[l2 + 9] == 17) {
    l3 = size_t{d[l2] & 0x0fu} * 4;
  } else if (type == common::kEtherTypeIpv6 && pkt->len >= l2 + 40 && d[l2 + 6] == 17) {
    l3 = 40;
    flags |= kTxIpv6;
  } else {
    return false;
  }
  pkt->l2_len = static_cast<uint16_t>(l2);
  pkt->l3_len = static_cast<uint16_t>(l3);
  const bool ok = common::tx_offloads_feasible(*pkt, flags, 0);
  if (ok) common::apply_tx_offloads(*pkt, flags);
  pkt->l2_len = 0;
  pkt->l3_len = 0;
  return ok;
}

}  // namespace

std::string describe(const FaultCounts& c) {
  std::string out;
  for (int dir = 0; dir < 2; ++dir) {
    out += dir == 0 ? "rx:" : "; tx:";
    const auto& n = dir == 0 ? c.rx : c.tx;
    for (size_t k = 0; k < kFaultKinds; ++k) {
      // append, not operator+: GCC 12 misreports chains of it (-Wrestrict).
      out.append(" ").append(kFaultKindNames[k]).append("=").append(std::to_string(n[k]));
    }
  }
  if (c.dup_no_buffer != 0) out.append("; duplicates without a buffer=").append(std::to_string(c.dup_no_buffer));
  return out;
}

FaultBackend::FaultBackend(std::unique_ptr<Backend> inner, const FaultSpec& spec)
    : inner_(std::move(inner)),
      spec_(spec),
      delay_ns_(uint64_t{spec.delay_us} * 1000),
      queue_count_(std::max(inner_->capabilities().rx_queues, inner_->capabilities().tx_queues)),
      queues_(std::make_unique<Queue[]>(queue_count_)) {
  for (uint16_t i = 0; i < queue_count_; ++i) {
    Queue& q = queues_[i];
    // Independent draws per queue and direction, all from the one seed.
    q.rx.rng.seed(spec.seed * 0x9e3779b97f4a7c15ULL + 2u * i);
    q.tx.rng.seed(spec.seed * 0x9e3779b97f4a7c15ULL + 2u * i + 1);
    const int inner_fd = inner_->wait_fd(i);
    if (inner_fd < 0) continue;
    q.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    q.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    if (q.epoll_fd < 0 || q.timer_fd < 0 || epoll_ctl(q.epoll_fd, EPOLL_CTL_ADD, inner_fd, &ev) != 0 ||
        epoll_ctl(q.epoll_fd, EPOLL_CTL_ADD, q.timer_fd, &ev) != 0) {
      const int err = errno;
      close_fds();
      throw std::system_error(err, std::generic_category(), "fault backend: epoll/timerfd");
    }
  }
}

void FaultBackend::close_fds() {
  for (uint16_t i = 0; i < queue_count_; ++i) {
    Queue& q = queues_[i];
    if (q.epoll_fd >= 0) ::close(q.epoll_fd);
    if (q.timer_fd >= 0) ::close(q.timer_fd);
    q.epoll_fd = q.timer_fd = -1;
  }
}

FaultBackend::~FaultBackend() {
  close_fds();
  release_held();
}

void FaultBackend::release_held() {
  for (uint16_t i = 0; i < queue_count_; ++i) {
    Queue& q = queues_[i];
    for (Lane* lane : {&q.rx, &q.tx}) {
      for (const Held& h : lane->delayed) inner_->release({&h.pkt, 1});
      for (Packet* p : lane->ready) inner_->release({&p, 1});
      if (lane->reordered != nullptr) inner_->release({&lane->reordered, 1});
      lane->delayed.clear();
      lane->ready.clear();
      lane->reordered = nullptr;
    }
  }
}

bool FaultBackend::draw(Lane& lane, double p) {
  if (p <= 0) return false;
  return static_cast<double>(lane.rng() >> 11) * 0x1.0p-53 < p;
}

bool FaultBackend::as_on_the_wire(Packet* pkt, bool rx) {
  if (rx) {
    if ((pkt->rx_flags & kRxL4CsumPartial) != 0) {
      if (!complete_partial_checksum(pkt)) return false;
      pkt->rx_flags &= ~uint32_t{kRxL4CsumPartial};
    }
    pkt->rx_flags &= ~kRxVerdicts;  // the device saw the bytes before the damage
    return true;
  }
  const uint32_t csum = pkt->tx_flags & (kTxIpv4Csum | kTxUdpCsum | kTxIpv6);
  if ((csum & (kTxIpv4Csum | kTxUdpCsum)) == 0) return true;
  if (!common::tx_offloads_feasible(*pkt, csum, 0)) return false;
  common::apply_tx_offloads(*pkt, csum);
  pkt->tx_flags &= ~csum;
  return true;
}

bool FaultBackend::is_arp(const Packet& pkt) {
  if (pkt.len < 14) return false;
  uint16_t type = static_cast<uint16_t>(pkt.data[12] << 8 | pkt.data[13]);
  if ((type == 0x8100 || type == 0x88a8) && pkt.len >= 18) {
    type = static_cast<uint16_t>(pkt.data[16] << 8 | pkt.data[17]);
  }
  return type == 0x0806;
}

Packet* FaultBackend::duplicate(const Packet* pkt) {
  Packet* copy = nullptr;
  if (inner_->alloc({&copy, 1}) != 1) return nullptr;
  if (copy->room < pkt->len) {
    inner_->release({&copy, 1});
    return nullptr;
  }
  std::memcpy(copy->data, pkt->data, pkt->len);
  copy->len = pkt->len;
  copy->rx_flags = pkt->rx_flags;
  copy->tx_flags = pkt->tx_flags;
  copy->vlan_tci = pkt->vlan_tci;
  copy->l2_len = pkt->l2_len;
  copy->l3_len = pkt->l3_len;
  copy->queue = pkt->queue;
  copy->meta = pkt->meta;
  return copy;
}

void FaultBackend::apply(Lane& lane, const FaultRates& r, bool rx, Packet* pkt, uint64_t now) {
  auto hit = [&](FaultKind k) {
    if (!draw(lane, r[k])) return false;
    lane.count[static_cast<size_t>(k)].fetch_add(1, std::memory_order_relaxed);
    return true;
  };
  if (hit(FaultKind::kDrop)) {
    inner_->release({&pkt, 1});
    return;
  }
  if (pkt->len > 0 && draw(lane, r[FaultKind::kTruncate]) && as_on_the_wire(pkt, rx)) {
    lane.count[static_cast<size_t>(FaultKind::kTruncate)].fetch_add(1, std::memory_order_relaxed);
    pkt->len = static_cast<uint32_t>(lane.rng() % pkt->len);
  }
  if (pkt->len > 0 && draw(lane, r[FaultKind::kCorrupt]) && as_on_the_wire(pkt, rx)) {
    lane.count[static_cast<size_t>(FaultKind::kCorrupt)].fetch_add(1, std::memory_order_relaxed);
    if (is_arp(*pkt)) {
      // No checksum covers ARP: a flipped byte would be believed (a wrong
      // MAC cached by the peer for seconds). On a wire the frame check
      // sequence drops such a frame, so that is what happens here.
      inner_->release({&pkt, 1});
      return;
    }
    pkt->data[lane.rng() % pkt->len] ^= static_cast<uint8_t>(1 + lane.rng() % 255);
  }
  Packet* copy = nullptr;
  if (draw(lane, r[FaultKind::kDuplicate])) {
    copy = duplicate(pkt);
    if (copy != nullptr) {
      lane.count[static_cast<size_t>(FaultKind::kDuplicate)].fetch_add(1, std::memory_order_relaxed);
    } else {
      dup_no_buffer_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (lane.delayed.size() + 2 <= kMaxHeld && hit(FaultKind::kDelay)) {
    lane.delayed.push_back({pkt, now + delay_ns_});
    if (copy != nullptr) lane.delayed.push_back({copy, now + delay_ns_});
    return;
  }
  if (lane.reordered == nullptr && hit(FaultKind::kReorder)) {
    lane.reordered = pkt;
    lane.reordered_due_ns = now + delay_ns_;
    if (copy != nullptr) lane.ready.push_back(copy);
    return;
  }
  lane.ready.push_back(pkt);
  if (copy != nullptr) lane.ready.push_back(copy);
  if (lane.reordered != nullptr) {  // it has been passed: now it goes
    lane.ready.push_back(lane.reordered);
    lane.reordered = nullptr;
  }
}

void FaultBackend::release_due(Lane& lane, uint64_t now) {
  while (!lane.delayed.empty() && lane.delayed.front().due_ns <= now) {
    lane.ready.push_back(lane.delayed.front().pkt);
    lane.delayed.pop_front();
  }
  if (lane.reordered != nullptr && lane.reordered_due_ns <= now) {
    lane.ready.push_back(lane.reordered);
    lane.reordered = nullptr;
  }
}

void FaultBackend::flush_tx(uint16_t queue, Queue& q, uint64_t now) {
  release_due(q.tx, now);
  while (!q.tx.ready.empty()) {
    Packet* batch[64];
    const size_t n = std::min(q.tx.ready.size(), std::size(batch));
    std::copy_n(q.tx.ready.begin(), n, batch);
    const size_t taken = inner_->tx_burst(queue, {batch, n});
    q.tx.ready.erase(q.tx.ready.begin(), q.tx.ready.begin() + static_cast<ptrdiff_t>(taken));
    if (taken < n) return;  // the device is full: the rest waits
  }
}

size_t FaultBackend::tx_burst(uint16_t queue, std::span<Packet* const> pkts) {
  Queue& q = queues_[queue];
  std::lock_guard lock(q.lock);
  const uint64_t now = now_ns();
  flush_tx(queue, q, now);
  size_t taken = 0;
  for (; taken < pkts.size() && q.tx.ready.size() < kMaxTxBacklog; ++taken) {
    apply(q.tx, spec_.tx, false, pkts[taken], now);
  }
  flush_tx(queue, q, now);
  return taken;
}

size_t FaultBackend::rx_burst(uint16_t queue, std::span<Packet*> out) {
  Queue& q = queues_[queue];
  std::lock_guard lock(q.lock);
  const uint64_t now = now_ns();
  if (q.timer_due_ns != 0 && now >= q.timer_due_ns) {
    uint64_t expirations;
    ssize_t ignored = ::read(q.timer_fd, &expirations, sizeof expirations);
    (void)ignored;
    q.timer_due_ns = 0;
  }
  // TX frames held back go out even when the application sends no more.
  if (queue < inner_->capabilities().tx_queues && (!q.tx.ready.empty() || !q.tx.delayed.empty() || q.tx.reordered)) {
    flush_tx(queue, q, now);
  }
  release_due(q.rx, now);
  if (q.rx.ready.size() < out.size()) {
    const size_t want = out.size() - q.rx.ready.size();
    if (q.scratch.size() < want) q.scratch.resize(want);
    const size_t n = inner_->rx_burst(queue, {q.scratch.data(), want});
    for (size_t i = 0; i < n; ++i) apply(q.rx, spec_.rx, true, q.scratch[i], now);
  }
  const size_t n = std::min(out.size(), q.rx.ready.size());
  std::copy_n(q.rx.ready.begin(), n, out.begin());
  q.rx.ready.erase(q.rx.ready.begin(), q.rx.ready.begin() + static_cast<ptrdiff_t>(n));
  return n;
}

int FaultBackend::wait_fd(uint16_t queue) const { return queue < queue_count_ ? queues_[queue].epoll_fd : -1; }

uint64_t FaultBackend::first_due(const Lane& lane, uint64_t ready_ns) const {
  uint64_t due = 0;
  auto consider = [&due](uint64_t t) { due = due == 0 ? t : std::min(due, t); };
  if (!lane.ready.empty()) consider(ready_ns);
  if (!lane.delayed.empty()) consider(lane.delayed.front().due_ns);
  if (lane.reordered != nullptr) consider(lane.reordered_due_ns);
  return due;
}

void FaultBackend::arm_wait(uint16_t queue) {
  inner_->arm_wait(queue);
  Queue& q = queues_[queue];
  if (q.timer_fd < 0) return;
  std::lock_guard lock(q.lock);
  const uint64_t now = now_ns();
  uint64_t due = first_due(q.rx, now);
  if (uint64_t t = first_due(q.tx, now + kTxRetryNs); t != 0) due = due == 0 ? t : std::min(due, t);
  if (due == q.timer_due_ns) return;
  itimerspec its{};
  if (due != 0) {
    due = std::max<uint64_t>(due, 1);
    its.it_value.tv_sec = static_cast<time_t>(due / 1'000'000'000);
    its.it_value.tv_nsec = static_cast<long>(due % 1'000'000'000);
  }
  timerfd_settime(q.timer_fd, due != 0 ? TFD_TIMER_ABSTIME : 0, &its, nullptr);
  q.timer_due_ns = due;
}

FaultCounts FaultBackend::counts() const {
  FaultCounts c;
  for (uint16_t i = 0; i < queue_count_; ++i) {
    for (size_t k = 0; k < kFaultKinds; ++k) {
      c.rx[k] += queues_[i].rx.count[k].load(std::memory_order_relaxed);
      c.tx[k] += queues_[i].tx.count[k].load(std::memory_order_relaxed);
    }
  }
  c.dup_no_buffer = dup_no_buffer_.load(std::memory_order_relaxed);
  return c;
}

}  // namespace dpdkudp
