#include "stack/net/neighbor.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <tuple>
#include <utility>

#include "stack/net/cpu.h"

namespace dpdkudp::stack {
namespace {

// Slot states beyond NeighborState, private to the table: a deleted slot
// that still links a probe chain (readers and inserts walk past it).
constexpr uint8_t kDeleted = 0xff;

constexpr uint8_t code(NeighborState s) { return static_cast<uint8_t>(s); }
constexpr uint8_t kEmptyCode = code(NeighborState::kEmpty);

// Readers refresh a slot's "used" time at most this often, so a hot entry's
// cache line is not written by every TX on every thread.
constexpr uint64_t kUsedGranularityNs = 1'000'000;

bool is_live(uint8_t state) { return state != kEmptyCode && state != kDeleted; }

bool has_mac(uint8_t state) {
  return state == code(NeighborState::kReachable) || state == code(NeighborState::kStale) ||
         state == code(NeighborState::kPermanent);
}

// A slot's link-layer word: the MAC's 6 bytes in memory order, the VLAN in
// bits 48..59 (lookup_packed hands it out as it is).
uint64_t pack_link(const MacAddr& mac, uint16_t vlan) {
  uint64_t v = 0;
  std::memcpy(&v, mac.data(), mac.size());
  return v | (uint64_t{vlan & 0x0fffu} << NeighborCache::kPackedVlanShift);
}

uint16_t unpack_vlan(uint64_t v) { return NeighborCache::packed_vlan(v); }

MacAddr unpack_mac(uint64_t v) {
  MacAddr mac;
  std::memcpy(mac.data(), &v, mac.size());
  return mac;
}

// Time since `since`, zero if the caller's clock is behind (threads may pass
// slightly different now_ns values).
uint64_t elapsed(uint64_t now_ns, uint64_t since_ns) { return now_ns > since_ns ? now_ns - since_ns : 0; }

// What the table needs of an address type: the key as a slot stores it (in
// atomics: a reader racing the writer reads some mix of old and new words,
// never a torn word, and the seqlock then discards the copy), where its
// probe chain starts, and the tag a reader leaves to ask for a refresh.
template <typename Addr>
struct AddrTraits;

template <>
struct AddrTraits<Ipv4Addr> {
  using Key = uint32_t;
  using Tag = uint32_t;
  struct AtomicKey {
    std::atomic<uint32_t> value{0};
    Key load() const { return value.load(std::memory_order_relaxed); }
    void store(Key k) { value.store(k, std::memory_order_relaxed); }
  };
  static Key key(Ipv4Addr ip) { return ip.value; }
  static Ipv4Addr addr(Key k) { return Ipv4Addr(k); }
  static size_t home_index(Key k, size_t mask) {
    // Fibonacci hashing spreads consecutive host addresses across the table.
    uint32_t h = k * 0x9E3779B1u;
    return (h ^ (h >> 16)) & mask;
  }
  // The address itself: exact, and nothing to compute on the TX path.
  static Tag tag(Key k) { return k; }
};

template <>
struct AddrTraits<wire::Ipv6Addr> {
  // The 16 octets as two words in memory order. Not one 16-byte atomic: that
  // is not lock-free everywhere (x86-64 loads it with a locked cmpxchg16b,
  // a write to the reader's cache line), and the seqlock already makes the
  // two words one consistent key.
  struct Key {
    uint64_t hi = 0;
    uint64_t lo = 0;
    friend bool operator==(Key, Key) = default;
  };
  using Tag = uint64_t;
  struct AtomicKey {
    std::atomic<uint64_t> hi{0};
    std::atomic<uint64_t> lo{0};
    Key load() const { return {hi.load(std::memory_order_relaxed), lo.load(std::memory_order_relaxed)}; }
    void store(Key k) {
      hi.store(k.hi, std::memory_order_relaxed);
      lo.store(k.lo, std::memory_order_relaxed);
    }
  };
  static Key key(const wire::Ipv6Addr& ip) {
    Key k;
    std::memcpy(&k.hi, ip.octets.data(), sizeof(k.hi));
    std::memcpy(&k.lo, ip.octets.data() + sizeof(k.hi), sizeof(k.lo));
    return k;
  }
  static wire::Ipv6Addr addr(Key k) {
    wire::Ipv6Addr ip;
    std::memcpy(ip.octets.data(), &k.hi, sizeof(k.hi));
    std::memcpy(ip.octets.data() + sizeof(k.hi), &k.lo, sizeof(k.lo));
    return ip;
  }
  // Neighbours on one link share the prefix (the high word) and differ in
  // the interface identifier, often only in its last bytes, which a
  // little-endian load puts at the top of the low word. The halves are
  // folded into one word, then each round brings the high bits down and
  // multiplies them back up. Two rounds: with one, the index bits of some
  // table sizes depended on too few input bits (consecutive hosts filled 38%
  // of the home slots of a 4096-slot table; two rounds fill the 63% random
  // placement does, at every size).
  static uint64_t mix(Key k) {
    constexpr uint64_t kGolden = 0x9E3779B97F4A7C15u;  // 2^64 / phi, odd
    uint64_t x = k.hi ^ k.lo;
    x ^= x >> 32;
    x *= kGolden;
    x ^= x >> 32;
    x *= kGolden;
    return x ^ (x >> 32);
  }
  static size_t home_index(Key k, size_t mask) { return static_cast<size_t>(mix(k)) & mask; }
  // A reader cannot store 16 bytes at once outside the seqlock, so a digest
  // names the address. Two addresses sharing a digest and, in the same
  // instant, a slot cost one needless unicast refresh. Never 0, the "no
  // refresh asked" value.
  static Tag tag(Key k) { return mix(k) | 1; }
};

// Hooks get one frame at a time, unlinked: they may reuse Packet::next.
template <typename Addr>
void transmit_chain(BasicNeighborHooks<Addr>& hooks, Packet* pkt, uint64_t link) {
  const MacAddr mac = unpack_mac(link);
  while (pkt != nullptr) {
    Packet* next = std::exchange(pkt->next, nullptr);
    hooks.transmit_resolved(pkt, mac, unpack_vlan(link));
    pkt = next;
  }
}

template <typename Addr>
void drop_chain(BasicNeighborHooks<Addr>& hooks, Packet* pkt, Addr target) {
  while (pkt != nullptr) {
    Packet* next = std::exchange(pkt->next, nullptr);
    hooks.drop_unresolved(pkt, target);
    pkt = next;
  }
}

}  // namespace

// A FIFO of frames linked through Packet::next: holding a frame costs no
// allocation.
template <typename Addr>
struct BasicNeighborCache<Addr>::Pending {
  Packet* head = nullptr;
  Packet* tail = nullptr;
  size_t count = 0;

  void push(Packet* pkt) {
    pkt->next = nullptr;
    if (tail != nullptr) {
      tail->next = pkt;
    } else {
      head = pkt;
    }
    tail = pkt;
    ++count;
  }
  Packet* pop() {
    Packet* pkt = head;
    head = pkt->next;
    if (head == nullptr) {
      tail = nullptr;
    }
    pkt->next = nullptr;
    --count;
    return pkt;
  }
  Pending take() { return std::exchange(*this, Pending{}); }
};

// One table entry. The seqlock fields are written only by mutex_ holders,
// through store(); any thread reads them through load().
template <typename Addr>
struct alignas(64) BasicNeighborCache<Addr>::Slot {
  using Key = typename AddrTraits<Addr>::Key;
  using Tag = typename AddrTraits<Addr>::Tag;

  struct View {
    Key ip;
    uint64_t mac;
    uint64_t confirmed_ns;
    uint8_t state;
  };

  std::atomic<uint32_t> seq{0};  // odd while store() is running
  typename AddrTraits<Addr>::AtomicKey ip;
  std::atomic<uint64_t> mac{0};
  std::atomic<uint64_t> confirmed_ns{0};
  std::atomic<uint8_t> state{kEmptyCode};

  // Hints written by readers outside the seqlock. A reader may write them
  // just after the slot was reused; that only delays gc or asks for one
  // refresh, and refresh_for names the address (its tag) so it cannot leak
  // to another.
  std::atomic<uint64_t> used_ns{0};
  std::atomic<Tag> refresh_for{0};

  // mutex_ only.
  Pending pending;
  uint64_t next_probe_ns = 0;       // incomplete: next broadcast; probing: give-up time
  uint64_t resolving_since_ns = 0;  // when the current resolution started
  unsigned probes = 0;              // broadcasts sent in the current resolution
  bool probing = false;             // stale: unicast refresh sent, awaiting reply

  // Writer side of the seqlock (Boehm, "Can seqlocks get along with
  // programming language memory models?", 2012): the release fence keeps the
  // data stores after the odd count, the final release store keeps them
  // before the even one.
  void store(Key ip_v, uint64_t mac_v, uint8_t state_v, uint64_t confirmed_v) {
    uint32_t s = seq.load(std::memory_order_relaxed);
    seq.store(s + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    ip.store(ip_v);
    mac.store(mac_v, std::memory_order_relaxed);
    state.store(state_v, std::memory_order_relaxed);
    confirmed_ns.store(confirmed_v, std::memory_order_relaxed);
    seq.store(s + 2, std::memory_order_release);
  }

  // Reader side: a copy is kept only if the count was even and unchanged
  // around it. The acquire fence orders the data loads before the re-check.
  View load() const {
    for (;;) {
      uint32_t before = seq.load(std::memory_order_acquire);
      if ((before & 1) != 0) {
        cpu_relax();
        continue;
      }
      View v{ip.load(), mac.load(std::memory_order_relaxed), confirmed_ns.load(std::memory_order_relaxed),
             state.load(std::memory_order_relaxed)};
      std::atomic_thread_fence(std::memory_order_acquire);
      if (seq.load(std::memory_order_relaxed) == before) {
        return v;
      }
    }
  }

  void reset_resolution() {
    next_probe_ns = 0;
    resolving_since_ns = 0;
    probes = 0;
    probing = false;
    refresh_for.store(0, std::memory_order_relaxed);
  }
};

// Hook calls decided under mutex_ by the timer and shutdown paths.
template <typename Addr>
struct BasicNeighborCache<Addr>::Deferred {
  struct Request {
    Addr target;
    std::optional<MacAddr> unicast_to;
    uint16_t vlan = 0;
  };
  struct Drop {
    Pending frames;
    Addr target;
  };
  std::vector<Request> requests;
  std::vector<Drop> drops;
};

template <typename Addr>
BasicNeighborCache<Addr>::BasicNeighborCache(NeighborConfig config, Hooks& hooks)
    : config_(config),
      hooks_(hooks),
      mask_(std::bit_ceil(std::max<size_t>(config.capacity, 1)) - 1),
      slots_(std::make_unique<Slot[]>(mask_ + 1)) {}

template <typename Addr>
BasicNeighborCache<Addr>::~BasicNeighborCache() {
  flush_pending();
}

template <typename Addr>
uint64_t BasicNeighborCache<Addr>::lookup_packed(Addr ip, uint64_t now_ns) const {
  const typename Slot::Key key = AddrTraits<Addr>::key(ip);
  size_t i = AddrTraits<Addr>::home_index(key, mask_);
  for (size_t n = 0; n <= mask_; ++n, i = (i + 1) & mask_) {
    Slot& slot = slots_[i];
    typename Slot::View v = slot.load();
    if (v.state == kEmptyCode) {
      return 0;  // end of the probe chain
    }
    if (v.ip != key || v.state == kDeleted) {
      continue;
    }
    if (!has_mac(v.state)) {
      return 0;  // incomplete or failed: the slow path decides
    }
    bool stale = v.state == code(NeighborState::kStale) || (v.state == code(NeighborState::kReachable) &&
                                                            elapsed(now_ns, v.confirmed_ns) >= config_.reachable_ns);
    if (stale) {
      const typename Slot::Tag tag = AddrTraits<Addr>::tag(key);
      if (slot.refresh_for.load(std::memory_order_relaxed) != tag) {
        slot.refresh_for.store(tag, std::memory_order_relaxed);
      }
    }
    if (now_ns > slot.used_ns.load(std::memory_order_relaxed) + kUsedGranularityNs) {
      slot.used_ns.store(now_ns, std::memory_order_relaxed);
    }
    return v.mac | kPackedValid;
  }
  return 0;
}

template <typename Addr>
bool BasicNeighborCache<Addr>::enqueue_pending(Addr ip, Packet* pkt, uint64_t now_ns) {
  bool held = false;
  bool send_request = false;
  std::optional<uint64_t> resolved;
  Packet* dropped = nullptr;
  Addr dropped_for;
  {
    std::lock_guard lock(mutex_);
    Slot* slot = claim_slot(ip, now_ns);
    if (slot == nullptr) {
      return false;
    }
    slot->used_ns.store(now_ns, std::memory_order_relaxed);
    typename Slot::View v = slot->load();
    if (has_mac(v.state)) {
      // Resolved between the caller's lookup miss and now: send it.
      resolved = v.mac;
      held = true;
    } else {
      if (v.state != code(NeighborState::kIncomplete)) {
        // New or failed: start a resolution (Linux restarts a failed entry too).
        publish(*slot, ip, 0, NeighborState::kIncomplete, 0);
        slot->reset_resolution();
        slot->probes = 1;
        slot->next_probe_ns = now_ns + config_.retrans_ns;
        slot->resolving_since_ns = now_ns;
        send_request = true;
        ++stats_.requests_sent;
      }
      if (config_.max_pending_per_neighbor > 0 && config_.max_pending_total > 0) {
        // Like Linux's unres_qlen: at a bound, the oldest frame makes room.
        if (slot->pending.count >= config_.max_pending_per_neighbor) {
          dropped = slot->pending.pop();
          dropped_for = ip;
          --pending_total_;
        } else if (pending_total_ >= config_.max_pending_total) {
          std::tie(dropped, dropped_for) = take_oldest_pending();
        }
        if (dropped != nullptr) {
          ++stats_.pending_dropped;
        }
        slot->pending.push(pkt);
        ++pending_total_;
        held = true;
      }
    }
  }
  if (send_request) {
    hooks_.send_request(ip, nullptr, 0);
  }
  if (dropped != nullptr) {
    hooks_.drop_unresolved(dropped, dropped_for);
  }
  if (resolved) {
    hooks_.transmit_resolved(pkt, unpack_mac(*resolved), unpack_vlan(*resolved));
  }
  return held;
}

template <typename Addr>
void BasicNeighborCache<Addr>::update(Addr ip, const MacAddr& mac, uint64_t now_ns, bool create, uint16_t vlan) {
  learn(ip, pack_link(mac, vlan), NeighborState::kReachable, now_ns, create, [](const typename Slot::View& v) {
    return v.state != code(NeighborState::kPermanent);  // configuration wins over the wire, as in Linux
  });
}

template <typename Addr>
void BasicNeighborCache<Addr>::insert(Addr ip, const MacAddr& mac, uint64_t now_ns, bool permanent) {
  // Seeding must not undo what we know better: a configured entry, or one
  // we confirmed ourselves with the same address.
  const uint64_t packed = pack_link(mac, 0);
  learn(ip, packed, permanent ? NeighborState::kPermanent : NeighborState::kStale, now_ns, true,
        [permanent, packed](const typename Slot::View& v) {
    return permanent || !(v.state == code(NeighborState::kPermanent) ||
                          (v.state == code(NeighborState::kReachable) && v.mac == packed));
  });
}

// The frames held while resolving go out before the address is published:
// until then a new send still sees the entry unresolved and queues behind
// them, so nothing sent after the answer overtakes a frame sent before it.
// Frames queued during a round go in the next; the last round publishes
// under the lock with the queue empty (bounded: a sender that never stops
// gets the address after kMaxFlushRounds).
template <typename Addr>
template <typename Accept>
void BasicNeighborCache<Addr>::learn(Addr ip, uint64_t link, NeighborState state, uint64_t now_ns, bool create,
                                     Accept accept) {
  constexpr int kMaxFlushRounds = 8;
  for (int round = 0;; ++round) {
    Pending ready;
    bool published = false;
    {
      std::lock_guard lock(mutex_);
      Slot* slot = create ? claim_slot(ip, now_ns) : find_slot(ip);
      if (slot == nullptr || !accept(slot->load())) {
        return;
      }
      if (slot->load().state == code(NeighborState::kIncomplete) && slot->pending.count != 0 &&
          round < kMaxFlushRounds) {
        ready = slot->pending.take();
        pending_total_ -= ready.count;
      } else {
        ready = settle(*slot, ip, link, state, now_ns);
        published = true;
      }
    }
    transmit_chain(hooks_, ready.head, link);
    if (published) {
      return;
    }
  }
}

// The address is known now: publish it and hand back the frames held for it.
template <typename Addr>
typename BasicNeighborCache<Addr>::Pending BasicNeighborCache<Addr>::settle(Slot& slot, Addr ip, uint64_t link,
                                                                            NeighborState state, uint64_t now_ns) {
  uint8_t before = slot.load().state;
  if (!is_live(before)) {
    slot.used_ns.store(now_ns, std::memory_order_relaxed);
  }
  if (before == code(NeighborState::kIncomplete)) {
    ++stats_.resolved;
  }
  publish(slot, ip, link, state, now_ns);
  slot.reset_resolution();
  Pending ready = slot.pending.take();
  pending_total_ -= ready.count;
  return ready;
}

template <typename Addr>
void BasicNeighborCache<Addr>::on_timer(uint64_t now_ns) {
  Deferred work;
  {
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i <= mask_; ++i) {
      age(slots_[i], now_ns, work);
    }
  }
  run(work);
}

// One slot's share of on_timer, with mutex_ held.
template <typename Addr>
void BasicNeighborCache<Addr>::age(Slot& slot, uint64_t now_ns, Deferred& work) {
  typename Slot::View v = slot.load();
  const Addr ip = AddrTraits<Addr>::addr(v.ip);
  bool unused = elapsed(now_ns, slot.used_ns.load(std::memory_order_relaxed)) >= config_.gc_ns;
  switch (static_cast<NeighborState>(v.state)) {
    case NeighborState::kIncomplete:
      if (now_ns < slot.next_probe_ns) {
        return;
      }
      if (slot.probes < config_.max_probes) {
        ++slot.probes;
        slot.next_probe_ns = now_ns + config_.retrans_ns;
        work.requests.push_back({ip, std::nullopt});
        ++stats_.requests_sent;
        return;
      }
      publish(slot, ip, 0, NeighborState::kFailed);
      ++stats_.failed;
      stats_.pending_dropped += slot.pending.count;
      pending_total_ -= slot.pending.count;
      work.drops.push_back({slot.pending.take(), ip});
      return;
    case NeighborState::kReachable:
      if (elapsed(now_ns, v.confirmed_ns) < config_.reachable_ns) {
        return;
      }
      publish(slot, ip, v.mac, NeighborState::kStale);
      [[fallthrough]];
    case NeighborState::kStale:
      if (slot.probing) {
        if (now_ns >= slot.next_probe_ns) {
          // No answer to the unicast refresh: the address must be
          // resolved again by broadcast.
          publish(slot, ip, 0, NeighborState::kFailed);
          slot.reset_resolution();
          ++stats_.failed;
        }
      } else if (slot.refresh_for.load(std::memory_order_relaxed) == AddrTraits<Addr>::tag(v.ip)) {
        // Used while stale: one unicast request (RFC 1122 §2.3.2.1; RFC
        // 4861 §7.3.3's DELAY then PROBE, without DELAY's wait).
        slot.refresh_for.store(0, std::memory_order_relaxed);
        slot.probing = true;
        slot.next_probe_ns = now_ns + config_.max_probes * config_.retrans_ns;
        work.requests.push_back({ip, unpack_mac(v.mac), unpack_vlan(v.mac)});
        ++stats_.requests_sent;
      } else if (unused) {
        erase(slot);
      }
      return;
    case NeighborState::kFailed:
      if (unused) {
        erase(slot);
      }
      return;
    default:  // empty, deleted, permanent
      return;
  }
}

template <typename Addr>
void BasicNeighborCache<Addr>::flush_pending() {
  Deferred work;
  {
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i <= mask_; ++i) {
      Slot& slot = slots_[i];
      if (slot.pending.count > 0) {
        work.drops.push_back({slot.pending.take(), AddrTraits<Addr>::addr(slot.load().ip)});
      }
    }
    pending_total_ = 0;
  }
  run(work);
}

template <typename Addr>
std::vector<BasicNeighborEntrySnapshot<Addr>> BasicNeighborCache<Addr>::snapshot() const {
  std::vector<EntrySnapshot> out;
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i <= mask_; ++i) {
    const Slot& slot = slots_[i];
    typename Slot::View v = slot.load();
    if (is_live(v.state)) {
      out.push_back({AddrTraits<Addr>::addr(v.ip), unpack_mac(v.mac), unpack_vlan(v.mac),
                     static_cast<NeighborState>(v.state), slot.pending.count});
    }
  }
  return out;
}

template <typename Addr>
NeighborStats BasicNeighborCache<Addr>::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

// With mutex_ held: no other writer, so loads never retry.
template <typename Addr>
typename BasicNeighborCache<Addr>::Slot* BasicNeighborCache<Addr>::find_slot(Addr ip) const {
  const typename Slot::Key key = AddrTraits<Addr>::key(ip);
  size_t i = AddrTraits<Addr>::home_index(key, mask_);
  for (size_t n = 0; n <= mask_; ++n, i = (i + 1) & mask_) {
    typename Slot::View v = slots_[i].load();
    if (v.state == kEmptyCode) {
      return nullptr;
    }
    if (v.state != kDeleted && v.ip == key) {
      return &slots_[i];
    }
  }
  return nullptr;
}

// The slot holding ip, or a free one for it (its published state still
// empty/deleted: the caller publishes). The whole chain is searched before a
// deleted slot is reused, so an address never occupies two slots.
template <typename Addr>
typename BasicNeighborCache<Addr>::Slot* BasicNeighborCache<Addr>::claim_slot(Addr ip, uint64_t now_ns) {
  const typename Slot::Key key = AddrTraits<Addr>::key(ip);
  for (int attempt = 0; attempt < 2; ++attempt) {
    Slot* free_slot = nullptr;
    size_t i = AddrTraits<Addr>::home_index(key, mask_);
    for (size_t n = 0; n <= mask_; ++n, i = (i + 1) & mask_) {
      typename Slot::View v = slots_[i].load();
      if (v.state == kEmptyCode || v.state == kDeleted) {
        if (free_slot == nullptr) {
          free_slot = &slots_[i];
        }
        if (v.state == kEmptyCode) {
          break;
        }
      } else if (v.ip == key) {
        return &slots_[i];
      }
    }
    if (free_slot != nullptr) {
      free_slot->pending = Pending{};
      free_slot->reset_resolution();
      free_slot->used_ns.store(now_ns, std::memory_order_relaxed);
      return free_slot;
    }
    if (!evict_one()) {
      break;
    }
  }
  ++stats_.table_full;
  return nullptr;
}

template <typename Addr>
void BasicNeighborCache<Addr>::publish(Slot& slot, Addr ip, uint64_t link, NeighborState state) {
  publish(slot, ip, link, state, slot.confirmed_ns.load(std::memory_order_relaxed));
}

template <typename Addr>
void BasicNeighborCache<Addr>::publish(Slot& slot, Addr ip, uint64_t link, NeighborState state, uint64_t confirmed_ns) {
  slot.store(AddrTraits<Addr>::key(ip), link, code(state), confirmed_ns);
}

// Frees a slot without moving any other entry, so a concurrent reader can at
// worst miss (and take the slow path), never find the wrong address. A slot
// followed by an empty one ends every chain through it: it becomes empty,
// and so do the tombstones just before it.
template <typename Addr>
void BasicNeighborCache<Addr>::erase(Slot& slot) {
  size_t i = static_cast<size_t>(&slot - slots_.get());
  bool chain_ends = mask_ == 0 || slots_[(i + 1) & mask_].load().state == kEmptyCode;
  if (!chain_ends) {
    slot.store({}, 0, kDeleted, 0);
    return;
  }
  slot.store({}, 0, kEmptyCode, 0);
  for (size_t n = 0; n < mask_; ++n) {
    i = (i - 1) & mask_;
    if (slots_[i].load().state != kDeleted) {
      break;
    }
    slots_[i].store({}, 0, kEmptyCode, 0);
  }
}

// Table full: free the least recently used entry nobody waits on (stale and
// not being refreshed, or failed), as Linux's forced gc does.
template <typename Addr>
bool BasicNeighborCache<Addr>::evict_one() {
  Slot* victim = nullptr;
  uint64_t oldest = std::numeric_limits<uint64_t>::max();
  for (size_t i = 0; i <= mask_; ++i) {
    Slot& slot = slots_[i];
    uint8_t state = slot.load().state;
    bool idle = (state == code(NeighborState::kStale) && !slot.probing) || state == code(NeighborState::kFailed);
    uint64_t used = slot.used_ns.load(std::memory_order_relaxed);
    if (idle && slot.pending.count == 0 && used < oldest) {
      victim = &slot;
      oldest = used;
    }
  }
  if (victim == nullptr) {
    return false;
  }
  erase(*victim);
  return true;
}

// The total bound is hit: take the first frame of the address that has been
// resolving longest, which holds the oldest frames.
template <typename Addr>
std::pair<Packet*, Addr> BasicNeighborCache<Addr>::take_oldest_pending() {
  Slot* victim = nullptr;
  for (size_t i = 0; i <= mask_; ++i) {
    Slot& slot = slots_[i];
    if (slot.pending.count > 0 && (victim == nullptr || slot.resolving_since_ns < victim->resolving_since_ns)) {
      victim = &slot;
    }
  }
  if (victim == nullptr) {
    return {nullptr, Addr()};
  }
  --pending_total_;
  return {victim->pending.pop(), AddrTraits<Addr>::addr(victim->load().ip)};
}

template <typename Addr>
void BasicNeighborCache<Addr>::run(Deferred& work) {
  for (const auto& req : work.requests) {
    hooks_.send_request(req.target, req.unicast_to ? &*req.unicast_to : nullptr, req.vlan);
  }
  for (auto& drop : work.drops) {
    drop_chain(hooks_, drop.frames.head, drop.target);
  }
}

template class BasicNeighborCache<Ipv4Addr>;
template class BasicNeighborCache<wire::Ipv6Addr>;

}  // namespace dpdkudp::stack
