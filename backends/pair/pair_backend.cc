#include "backends/pair/pair_backend.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "backends/common/mpmc_ring.h"

namespace dpdkudp {
namespace pair {

using common::BoundedMpmcRing;
using common::flow_hash;
using common::kCacheLine;

namespace {
constexpr uint32_t kMaxFrameOverMtu = 18;  // Ethernet header 14 + 802.1Q tag 4
}  // namespace

// One RX queue of one side. The consumer is rx_burst(q) on this side; the
// producers are the peer's tx_burst (any TX queue) and inject().
struct alignas(kCacheLine) RxQueue {
  explicit RxQueue(size_t ring_size) : ring(ring_size) {
    efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd < 0) {
      throw std::system_error(errno, std::generic_category(), "pair backend: eventfd");
    }
  }
  ~RxQueue() { ::close(efd); }
  RxQueue(const RxQueue&) = delete;
  RxQueue& operator=(const RxQueue&) = delete;

  BoundedMpmcRing<Packet*> ring;
  int efd = -1;
  std::atomic<bool> armed{false};  // a poller is (about to be) asleep
  // Wake-ups counted before each write to efd, and (consumer only) how many
  // of them reads have taken back. They differ while efd may be readable,
  // so the consumer reads efd only then: no syscall in the busy-poll loop,
  // and a producer stalled between counting and writing cannot leave a
  // readable efd the consumer does not know about.
  std::atomic<uint64_t> doorbells{0};
  uint64_t doorbells_cleared = 0;
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> missed{0};
  std::atomic<uint64_t> no_buffer{0};
  std::atomic<uint64_t> errors{0};
};

// Counters of one TX queue; its own line since each queue has its thread.
struct alignas(kCacheLine) TxQueue {
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> errors{0};
};

struct Side {
  std::string name;
  MacAddr mac{};
  PairOffloads offloads{};
  Capabilities caps{};
  std::vector<std::unique_ptr<RxQueue>> rx;
  std::unique_ptr<TxQueue[]> tx;
  std::atomic<uint32_t> drop_every_nth{0};
  std::atomic<uint64_t> fault_sequence{0};  // frames seen while faults are on
  std::atomic<int> multicast_error{0};
  mutable std::mutex multicast_mutex;
  std::map<MacAddr, uint32_t> multicast;  // joined address -> ons not yet undone
};

struct Link {
  explicit Link(const PairConfig& cfg) : config(cfg), pool({cfg.pool_size, cfg.buffer_size, cfg.headroom}) {
    const PairSideConfig* side_configs[2] = {&cfg.a, &cfg.b};
    for (int i = 0; i < 2; ++i) {
      Side& side = sides[i];
      side.name = i == 0 ? "pair-a" : "pair-b";
      side.mac = side_configs[i]->mac;
      side.offloads = side_configs[i]->offloads;
      Capabilities& caps = side.caps;
      caps.mtu = cfg.mtu;
      caps.rx_queues = cfg.queues;
      caps.tx_queues = cfg.queues;
      caps.max_frame = cfg.mtu + kMaxFrameOverMtu;
      caps.rx_ipv4_csum = side.offloads.rx_ipv4_csum;
      caps.rx_l4_csum = side.offloads.rx_l4_csum;
      caps.tx_ipv4_csum = side.offloads.tx_ipv4_csum;
      caps.tx_udp_csum = side.offloads.tx_udp_csum;
      caps.rx_vlan_strip = side.offloads.rx_vlan_strip;
      caps.tx_vlan_insert = side.offloads.tx_vlan_insert;
      caps.rx_multicast = true;  // every frame goes across
      for (uint16_t q = 0; q < cfg.queues; ++q) {
        side.rx.push_back(std::make_unique<RxQueue>(cfg.ring_size));
      }
      side.tx = std::make_unique<TxQueue[]>(cfg.queues);
    }
  }

  const PairConfig config;
  PacketPool pool;
  Side sides[2];
};

namespace {

#if defined(__SANITIZE_THREAD__)
#define DPDKUDP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DPDKUDP_TSAN 1
#endif
#endif

// The Dekker-style handshake between a producer (publish frames, then look
// at `armed`) and a poller going to sleep (set `armed`, then look at the
// ring): with a full fence on both sides at least one of them sees the
// other's write. ThreadSanitizer does not model fences (GCC refuses them
// under -fsanitize=thread), so there a seq_cst RMW stands in; x86 orders
// it the same way.
void full_fence() {
#if defined(DPDKUDP_TSAN)
  static std::atomic<int> fence_word{0};
  fence_word.fetch_add(0, std::memory_order_seq_cst);
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

void ring_doorbell(RxQueue& rxq) {
  rxq.doorbells.fetch_add(1, std::memory_order_release);
  const uint64_t one = 1;
  const ssize_t written = ::write(rxq.efd, &one, sizeof(one));
  (void)written;  // only EAGAIN at a counter of 2^64-2: readable anyway
}

// Producer side, after publishing frames and full_fence().
void wake_if_armed(RxQueue& rxq) {
  if (rxq.armed.load(std::memory_order_relaxed) && rxq.armed.exchange(false, std::memory_order_acq_rel)) {
    ring_doorbell(rxq);
  }
}

// Consumer side: makes efd non-readable if a wake-up was written. A read
// returns (and resets) the number of writes, which settles the count; EAGAIN
// means a counted write is still on its way and the next call retries.
void clear_doorbell(RxQueue& rxq) {
  if (rxq.doorbells.load(std::memory_order_acquire) != rxq.doorbells_cleared) {
    uint64_t count = 0;
    if (::read(rxq.efd, &count, sizeof(count)) == static_cast<ssize_t>(sizeof(count))) {
      rxq.doorbells_cleared += count;
    }
  }
}

uint16_t steer(const Link& link, const Packet& pkt, uint16_t tx_queue) {
  const uint16_t queues = link.config.queues;
  if (queues == 1) {
    return 0;
  }
  if (link.config.steering == RxSteering::kSameQueue) {
    return tx_queue;
  }
  return static_cast<uint16_t>(flow_hash({pkt.data, pkt.len}) % queues);
}

}  // namespace
}  // namespace pair

PairBackend::PairBackend(std::shared_ptr<pair::Link> link, int side) : link_(std::move(link)), side_(side) {}

PairBackend::~PairBackend() = default;

std::string_view PairBackend::name() const { return link_->sides[side_].name; }

MacAddr PairBackend::mac() const { return link_->sides[side_].mac; }

const Capabilities& PairBackend::capabilities() const { return link_->sides[side_].caps; }

size_t PairBackend::rx_burst(uint16_t queue, std::span<Packet*> out) {
  assert(queue < link_->config.queues);
  pair::Side& me = link_->sides[side_];
  pair::RxQueue& rxq = *me.rx[queue];
  const size_t n = rxq.ring.pop_burst_single_consumer(out);
  if (n == 0) {
    pair::clear_doorbell(rxq);
    return 0;
  }
  for (size_t i = 0; i < n; ++i) {
    common::receive_frame(*out[i], queue, me.offloads, link_->pool.buffer_end(out[i]));
  }
  rxq.packets.fetch_add(n, std::memory_order_relaxed);
  return n;
}

size_t PairBackend::alloc(std::span<Packet*> out) { return link_->pool.alloc(out); }

void PairBackend::release(std::span<Packet* const> pkts) { link_->pool.free(pkts); }

size_t PairBackend::tx_burst(uint16_t queue, std::span<Packet* const> pkts) {
  assert(queue < link_->config.queues);
  pair::Side& me = link_->sides[side_];
  pair::Side& peer = link_->sides[1 - side_];
  const uint32_t drop_nth = me.drop_every_nth.load(std::memory_order_relaxed);
  const uint32_t max_frame = me.caps.max_frame;
  const bool back_pressure = link_->config.when_full == RingFullPolicy::kBackPressure;
  uint64_t touched = 0;  // bit per peer RX queue that got a frame
  uint64_t sent = 0;
  uint64_t errors = 0;
  size_t taken = 0;
  for (; taken < pkts.size(); ++taken) {
    Packet* pkt = pkts[taken];
    assert(link_->pool.owns(pkt));
    if (drop_nth != 0 && (me.fault_sequence.fetch_add(1, std::memory_order_relaxed) + 1) % drop_nth == 0) {
      link_->pool.free_one(pkt);
      ++errors;
      continue;
    }
    const uint32_t flags = common::effective_tx_flags(*pkt, me.offloads);
    const size_t headroom = static_cast<size_t>(pkt->data - link_->pool.buffer_begin(pkt));
    const uint32_t tag = (flags & kTxVlanInsert) != 0 ? common::kVlanTagLen : 0;
    if (pkt->len + tag > max_frame || !common::tx_offloads_feasible(*pkt, flags, headroom)) {
      link_->pool.free_one(pkt);
      ++errors;
      continue;
    }
    const uint16_t rx_queue = pair::steer(*link_, *pkt, queue);
    pair::RxQueue& rxq = *peer.rx[rx_queue];
    // Rewrite the frame only once its cell is claimed, so a frame handed
    // back to the caller on a full ring is untouched and can be retried.
    const bool pushed = rxq.ring.try_push_with([pkt, flags] {
      common::apply_tx_offloads(*pkt, flags);
      return pkt;
    });
    if (!pushed) {
      rxq.missed.fetch_add(1, std::memory_order_relaxed);
      if (back_pressure) {
        if (drop_nth != 0) {
          me.fault_sequence.fetch_sub(1, std::memory_order_relaxed);  // seen again on retry
        }
        break;
      }
      link_->pool.free_one(pkt);
      continue;
    }
    ++sent;
    touched |= uint64_t{1} << rx_queue;
  }
  if (touched != 0) {
    // Pairs with the fence in arm_wait(): either the poller sees our frames
    // or we see its armed flag.
    pair::full_fence();
    for (uint16_t q = 0; touched != 0; ++q, touched >>= 1) {
      if ((touched & 1) != 0) {
        pair::wake_if_armed(*peer.rx[q]);
      }
    }
  }
  pair::TxQueue& txq = me.tx[queue];
  txq.packets.fetch_add(sent, std::memory_order_relaxed);
  if (errors != 0) {
    txq.errors.fetch_add(errors, std::memory_order_relaxed);
  }
  return taken;
}

int PairBackend::wait_fd(uint16_t queue) const {
  assert(queue < link_->config.queues);
  return link_->sides[side_].rx[queue]->efd;
}

void PairBackend::arm_wait(uint16_t queue) {
  assert(queue < link_->config.queues);
  pair::RxQueue& rxq = *link_->sides[side_].rx[queue];
  pair::clear_doorbell(rxq);
  rxq.armed.store(true, std::memory_order_relaxed);
  pair::full_fence();
  if (rxq.ring.ready_single_consumer() && rxq.armed.exchange(false, std::memory_order_acq_rel)) {
    pair::ring_doorbell(rxq);
  }
}

bool PairBackend::inject(std::span<const uint8_t> frame, uint16_t queue) {
  assert(queue < link_->config.queues);
  pair::RxQueue& rxq = *link_->sides[side_].rx[queue];
  PacketPool& pool = link_->pool;
  if (frame.size() > pool.buffer_size() - pool.headroom()) {
    rxq.errors.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  Packet* pkt = pool.alloc_one();
  if (pkt == nullptr) {
    rxq.no_buffer.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  std::copy(frame.begin(), frame.end(), pkt->data);
  pkt->len = static_cast<uint32_t>(frame.size());
  if (!rxq.ring.try_push(pkt)) {
    rxq.missed.fetch_add(1, std::memory_order_relaxed);
    pool.free_one(pkt);
    return false;
  }
  pair::full_fence();
  pair::wake_if_armed(rxq);
  return true;
}

void PairBackend::set_faults(const PairFaults& faults) {
  pair::Side& me = link_->sides[side_];
  me.fault_sequence.store(0, std::memory_order_relaxed);
  me.drop_every_nth.store(faults.drop_every_nth_tx, std::memory_order_relaxed);
  me.multicast_error.store(faults.multicast_error, std::memory_order_relaxed);
}

PairFaults PairBackend::faults() const {
  const pair::Side& me = link_->sides[side_];
  return {me.drop_every_nth.load(std::memory_order_relaxed), me.multicast_error.load(std::memory_order_relaxed)};
}

int PairBackend::set_multicast_mac(const MacAddr& mac, bool on) {
  pair::Side& me = link_->sides[side_];
  if (const int error = me.multicast_error.load(std::memory_order_relaxed); error != 0) {
    return error;
  }
  if ((mac[0] & 0x01) == 0) {
    return -EINVAL;  // the I/G bit: a unicast address is no group
  }
  std::lock_guard lock(me.multicast_mutex);
  if (on) {
    ++me.multicast[mac];
    return 0;
  }
  const auto it = me.multicast.find(mac);
  if (it == me.multicast.end()) {
    return -EADDRNOTAVAIL;
  }
  if (--it->second == 0) {
    me.multicast.erase(it);
  }
  return 0;
}

std::vector<MacAddr> PairBackend::multicast_macs() const {
  const pair::Side& me = link_->sides[side_];
  std::lock_guard lock(me.multicast_mutex);
  std::vector<MacAddr> macs;
  macs.reserve(me.multicast.size());
  for (const auto& entry : me.multicast) {
    macs.push_back(entry.first);
  }
  return macs;
}

uint32_t PairBackend::multicast_refs(const MacAddr& mac) const {
  const pair::Side& me = link_->sides[side_];
  std::lock_guard lock(me.multicast_mutex);
  const auto it = me.multicast.find(mac);
  return it == me.multicast.end() ? 0 : it->second;
}

BackendStats PairBackend::stats() const {
  const pair::Side& me = link_->sides[side_];
  BackendStats stats;
  for (const auto& rxq : me.rx) {
    stats.rx_packets += rxq->packets.load(std::memory_order_relaxed);
    stats.rx_missed += rxq->missed.load(std::memory_order_relaxed);
    stats.rx_no_buffer += rxq->no_buffer.load(std::memory_order_relaxed);
    stats.rx_errors += rxq->errors.load(std::memory_order_relaxed);
  }
  for (uint16_t q = 0; q < link_->config.queues; ++q) {
    stats.tx_packets += me.tx[q].packets.load(std::memory_order_relaxed);
    stats.tx_errors += me.tx[q].errors.load(std::memory_order_relaxed);
  }
  return stats;
}

size_t PairBackend::rx_pending(uint16_t queue) const {
  assert(queue < link_->config.queues);
  return link_->sides[side_].rx[queue]->ring.size_approx();
}

PacketPool& PairBackend::pool() { return link_->pool; }

BackendPair make_pair(const PairConfig& config) {
  if (config.queues == 0 || config.queues > kPairMaxQueues) {
    throw std::invalid_argument("make_pair: queues must be 1.." + std::to_string(kPairMaxQueues));
  }
  if (config.ring_size == 0) {
    throw std::invalid_argument("make_pair: ring_size must be > 0");
  }
  if (config.headroom >= config.buffer_size ||
      uint64_t{config.mtu} + pair::kMaxFrameOverMtu > config.buffer_size - config.headroom) {
    throw std::invalid_argument("make_pair: mtu + 18 must fit in buffer_size - headroom (" +
                                std::to_string(config.mtu) + " vs " + std::to_string(config.buffer_size) + " - " +
                                std::to_string(config.headroom) + ")");
  }
  auto link = std::make_shared<pair::Link>(config);
  return {std::make_unique<PairBackend>(link, 0), std::make_unique<PairBackend>(link, 1)};
}

}  // namespace dpdkudp
