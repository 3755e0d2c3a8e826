// The neighbor cache, both instantiations (ARP's over IPv4, NDP's over IPv6):
// the state machine driven by an explicit clock and a hooks fake that records
// every call, then a reader/writer stress for the seqlock. IPv6 also gets
// keys that differ in one half only (the hash and compare see all 16 bytes).
#include "stack/net/neighbor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace dpdkudp::stack {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using wire::Ipv6Addr;

constexpr uint64_t kSec = 1'000'000'000;

// The addresses the tests use, per address type: IPv4 from 198.18.0.0/15,
// IPv6 from 2001:2::/48 and fe80::/10.
template <typename Addr>
struct TestNet;

template <>
struct TestNet<Ipv4Addr> {
  static constexpr const char* kName = "Ipv4";
  static Ipv4Addr peer() { return Ipv4Addr(198, 18, 0, 2); }
  static Ipv4Addr other() { return Ipv4Addr(198, 18, 0, 3); }
  static Ipv4Addr third() { return Ipv4Addr(198, 18, 0, 4); }
  // Host i of small network `net` (1..3; 0 holds the three above).
  static Ipv4Addr host(uint8_t net, uint8_t i) { return Ipv4Addr(198, 18, net, i); }
  // From a network no other helper uses.
  static Ipv4Addr random(std::mt19937& rng) {
    return Ipv4Addr(198, 19, static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng()));
  }
  // Twelve addresses for the concurrency stress.
  static Ipv4Addr crowd(size_t i) { return Ipv4Addr(198, 18, 3, static_cast<uint8_t>(i * 17)); }
};

template <>
struct TestNet<Ipv6Addr> {
  static constexpr const char* kName = "Ipv6";
  // Global and link-local neighbours side by side, as on a real link.
  static Ipv6Addr peer() { return Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 2); }
  static Ipv6Addr other() { return Ipv6Addr(0xfe80, 0, 0, 0, 0, 0, 0, 3); }
  static Ipv6Addr third() { return Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 4); }
  static Ipv6Addr host(uint8_t net, uint8_t i) { return Ipv6Addr(0x2001, 2, 0, net, 0, 0, 0, i); }
  static Ipv6Addr random(std::mt19937& rng) {
    auto group = [&rng] { return static_cast<uint16_t>(rng()); };
    return Ipv6Addr(0x2001, 2, 0, static_cast<uint16_t>(0x8000 | group()), group(), group(), group(), group());
  }
  // Three prefixes times four interface identifiers: a key torn between
  // two of them would be a third one of the set, found with a wrong MAC.
  static Ipv6Addr crowd(size_t i) {
    static constexpr uint16_t kPrefixes[3][4] = {{0x2001, 2, 0, 3}, {0x2001, 2, 0, 4}, {0xfe80, 0, 0, 0}};
    const uint16_t* p = kPrefixes[i % 3];
    return Ipv6Addr(p[0], p[1], p[2], p[3], 0, 0, 0, static_cast<uint16_t>(i / 3 * 17 + 1));
  }
};

// Every test MAC is derived from its address, so a MAC paired with the wrong
// address is detectable.
MacAddr mac_for(Ipv4Addr ip) {
  return {0x02,
          0x00,
          static_cast<uint8_t>(ip.value >> 24),
          static_cast<uint8_t>(ip.value >> 16),
          static_cast<uint8_t>(ip.value >> 8),
          static_cast<uint8_t>(ip.value)};
}

// All 16 octets folded into the five bytes after the locally administered
// first one: addresses that differ only in the prefix, or only in the
// interface identifier, get different MACs.
MacAddr mac_for(const Ipv6Addr& ip) {
  MacAddr mac = {0x02, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < ip.octets.size(); ++i) mac[1 + i % 5] ^= ip.octets[i];
  return mac;
}

template <typename Addr>
struct Event {
  enum Kind { kRequest, kTransmit, kDrop } kind;
  Addr ip;                     // request target, drop target
  std::optional<MacAddr> mac;  // request unicast_to, transmit destination
  Packet* pkt = nullptr;
  uint16_t vlan = 0;  // request, transmit: the neighbour's VLAN
  friend bool operator==(const Event&, const Event&) = default;
};

template <typename Addr>
Event<Addr> broadcast_request(Addr ip) {
  return {Event<Addr>::kRequest, ip, std::nullopt, nullptr};
}
template <typename Addr>
Event<Addr> unicast_request(Addr ip) {
  return {Event<Addr>::kRequest, ip, mac_for(ip), nullptr};
}
template <typename Addr>
Event<Addr> transmit(Packet* pkt, Addr ip) {
  return {Event<Addr>::kTransmit, Addr(), mac_for(ip), pkt};
}
template <typename Addr>
Event<Addr> drop(Packet* pkt, Addr ip) {
  return {Event<Addr>::kDrop, ip, std::nullopt, pkt};
}

template <typename Addr>
void PrintTo(const Event<Addr>& e, std::ostream* os) {
  static const char* const kNames[] = {"request", "transmit", "drop"};
  *os << kNames[e.kind] << "(" << e.ip.to_string() << ", " << (e.mac ? wire::mac_to_string(*e.mac) : "-") << ", "
      << e.pkt << ", vlan " << e.vlan << ")";
}

template <typename Addr>
class RecordingHooks : public BasicNeighborHooks<Addr> {
 public:
  void send_request(Addr target, const MacAddr* unicast_to, uint16_t vlan) override {
    check_unlocked();
    events_.push_back(
        {Event<Addr>::kRequest, target, unicast_to ? std::optional(*unicast_to) : std::nullopt, nullptr, vlan});
  }
  void transmit_resolved(Packet* pkt, const MacAddr& mac, uint16_t vlan) override {
    check_unlocked();
    EXPECT_EQ(pkt->next, nullptr);
    events_.push_back({Event<Addr>::kTransmit, Addr(), mac, pkt, vlan});
    if (on_transmit) {
      auto f = std::exchange(on_transmit, nullptr);
      f();
    }
  }
  void drop_unresolved(Packet* pkt, Addr target) override {
    check_unlocked();
    EXPECT_EQ(pkt->next, nullptr);
    events_.push_back({Event<Addr>::kDrop, target, std::nullopt, pkt});
  }

  std::vector<Event<Addr>> take() { return std::exchange(events_, {}); }
  // Set once the cache exists: every hook then re-enters it, which would
  // deadlock if the cache still held its mutex.
  BasicNeighborCache<Addr>* reenter = nullptr;
  // Runs once, inside the next transmit: another thread's send racing the
  // flush of held frames.
  std::function<void()> on_transmit;

 private:
  void check_unlocked() {
    if (reenter != nullptr) {
      (void)reenter->stats();
    }
  }
  std::vector<Event<Addr>> events_;
};

template <typename Cache>
class NeighborTest : public ::testing::Test {
 protected:
  using Addr = typename Cache::Address;
  using Net = TestNet<Addr>;

  NeighborTest() {
    config_.capacity = 16;
    config_.reachable_ns = 30 * kSec;
    config_.retrans_ns = 1 * kSec;
    config_.max_probes = 3;
    config_.gc_ns = 60 * kSec;
    config_.max_pending_per_neighbor = 4;
    config_.max_pending_total = 8;
  }

  Cache& cache() {
    if (!cache_) {
      cache_ = std::make_unique<Cache>(config_, hooks_);
      hooks_.reenter = cache_.get();
    }
    return *cache_;
  }

  std::optional<typename Cache::EntrySnapshot> entry(Addr ip) {
    for (const auto& e : cache().snapshot()) {
      if (e.ip == ip) {
        return e;
      }
    }
    return std::nullopt;
  }

  static Addr host(uint8_t net, uint8_t i) { return Net::host(net, i); }

  const Addr peer_ = Net::peer();
  const Addr other_ = Net::other();
  const Addr third_ = Net::third();
  NeighborConfig config_;
  RecordingHooks<Addr> hooks_;
  std::array<Packet, 16> pkts_{};
  std::unique_ptr<Cache> cache_;
};

// Test names say the address type: NeighborTest/Ipv6.ReplyFlushes...
struct AddressTypeName {
  template <typename Cache>
  static std::string GetName(int) {
    return TestNet<typename Cache::Address>::kName;
  }
};

using CacheTypes = ::testing::Types<NeighborCache, NeighborCache6>;
TYPED_TEST_SUITE(NeighborTest, CacheTypes, AddressTypeName);

TYPED_TEST(NeighborTest, MissStartsResolutionWithOneBroadcast) {
  const auto peer = this->peer_;
  auto& cache = this->cache();
  EXPECT_EQ(cache.lookup(peer, 0), std::nullopt);
  EXPECT_TRUE(cache.enqueue_pending(peer, &this->pkts_[0], 0));
  EXPECT_THAT(this->hooks_.take(), ElementsAre(broadcast_request(peer)));

  EXPECT_TRUE(cache.enqueue_pending(peer, &this->pkts_[1], 100));
  EXPECT_THAT(this->hooks_.take(), IsEmpty());  // already resolving
  EXPECT_EQ(cache.lookup(peer, 100), std::nullopt);
  auto e = this->entry(peer);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->state, NeighborState::kIncomplete);
  EXPECT_EQ(e->pending, 2u);
  EXPECT_EQ(cache.stats().requests_sent, 1u);
}

TYPED_TEST(NeighborTest, RetriesEveryRetransThenFailsAndDropsPending) {
  const auto peer = this->peer_;
  auto& cache = this->cache();
  auto& pkts = this->pkts_;
  cache.enqueue_pending(peer, &pkts[0], 0);
  cache.enqueue_pending(peer, &pkts[1], 0);
  this->hooks_.take();

  cache.on_timer(kSec - 1);
  EXPECT_THAT(this->hooks_.take(), IsEmpty());
  cache.on_timer(kSec);
  EXPECT_THAT(this->hooks_.take(), ElementsAre(broadcast_request(peer)));
  cache.on_timer(kSec + 1);
  EXPECT_THAT(this->hooks_.take(), IsEmpty());
  cache.on_timer(2 * kSec);
  EXPECT_THAT(this->hooks_.take(), ElementsAre(broadcast_request(peer)));
  cache.on_timer(3 * kSec);  // max_probes sent and unanswered
  EXPECT_THAT(this->hooks_.take(), ElementsAre(drop(&pkts[0], peer), drop(&pkts[1], peer)));

  NeighborStats s = cache.stats();
  EXPECT_EQ(s.requests_sent, 3u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.pending_dropped, 2u);
  EXPECT_EQ(this->entry(peer)->state, NeighborState::kFailed);
  EXPECT_EQ(cache.lookup(peer, 3 * kSec), std::nullopt);

  // A later frame starts a fresh resolution.
  EXPECT_TRUE(cache.enqueue_pending(peer, &pkts[2], 4 * kSec));
  EXPECT_THAT(this->hooks_.take(), ElementsAre(broadcast_request(peer)));
  EXPECT_EQ(this->entry(peer)->state, NeighborState::kIncomplete);
}

TYPED_TEST(NeighborTest, ReplyFlushesPendingInFifoOrder) {
  const auto peer = this->peer_;
  auto& cache = this->cache();
  auto& pkts = this->pkts_;
  for (int i = 0; i < 3; ++i) {
    cache.enqueue_pending(peer, &pkts[i], 0);
  }
  this->hooks_.take();
  cache.update(peer, mac_for(peer), 500, /*create=*/false);
  EXPECT_THAT(this->hooks_.take(),
              ElementsAre(transmit(&pkts[0], peer), transmit(&pkts[1], peer), transmit(&pkts[2], peer)));
  EXPECT_EQ(cache.lookup(peer, 600), mac_for(peer));
  EXPECT_EQ(this->entry(peer)->state, NeighborState::kReachable);
  EXPECT_EQ(this->entry(peer)->pending, 0u);
  EXPECT_EQ(cache.stats().resolved, 1u);
  cache.on_timer(5 * kSec);  // resolved: no more retries
  EXPECT_THAT(this->hooks_.take(), IsEmpty());
}

// A send that comes while the held frames are going out (another thread,
// here the transmit hook) must not overtake them: until they are all out the
// entry still looks unresolved, so the new frame queues behind them.
TYPED_TEST(NeighborTest, SendDuringTheFlushQueuesBehindTheHeldFrames) {
  const auto peer = this->peer_;
  auto& cache = this->cache();
  auto& pkts = this->pkts_;
  for (int i = 0; i < 3; ++i) {
    cache.enqueue_pending(peer, &pkts[i], 0);
  }
  this->hooks_.take();
  std::optional<MacAddr> seen_during_flush = mac_for(this->other_);
  this->hooks_.on_transmit = [&] {
    seen_during_flush = cache.lookup(peer, 500);
    EXPECT_TRUE(cache.enqueue_pending(peer, &pkts[3], 500));
  };
  cache.update(peer, mac_for(peer), 500, /*create=*/false);
  EXPECT_EQ(seen_during_flush, std::nullopt) << "the address was published before the held frames left";
  EXPECT_THAT(this->hooks_.take(), ElementsAre(transmit(&pkts[0], peer), transmit(&pkts[1], peer),
                                               transmit(&pkts[2], peer), transmit(&pkts[3], peer)));
  EXPECT_EQ(cache.lookup(peer, 600), mac_for(peer));
  EXPECT_EQ(this->entry(peer)->pending, 0u);
  EXPECT_EQ(cache.stats().resolved, 1u);
}

TYPED_TEST(NeighborTest, UpdateCreatesOnlyWhenAsked) {
  const auto peer = this->peer_;
  auto& cache = this->cache();
  cache.update(peer, mac_for(peer), 0, /*create=*/false);
  EXPECT_EQ(cache.lookup(peer, 0), std::nullopt);
  cache.update(peer, mac_for(peer), 0, /*create=*/true);
  EXPECT_EQ(cache.lookup(peer, 0), mac_for(peer));
  // RFC 826 merge (RFC 4861 §7.2.5 with the override flag): an existing
  // entry takes the new address.
  MacAddr moved = mac_for(this->other_);
  cache.update(peer, moved, 1, /*create=*/false);
  EXPECT_EQ(cache.lookup(peer, 1), moved);
  EXPECT_THAT(this->hooks_.take(), IsEmpty());
}

TYPED_TEST(NeighborTest, EnqueueAfterResolutionTransmitsAtOnce) {
  const auto peer = this->peer_;
  auto& cache = this->cache();
  cache.update(peer, mac_for(peer), 0, /*create=*/true);
  EXPECT_TRUE(cache.enqueue_pending(peer, &this->pkts_[0], 1));
  EXPECT_THAT(this->hooks_.take(), ElementsAre(transmit(&this->pkts_[0], peer)));
}

TYPED_TEST(NeighborTest, PerNeighborBoundDropsOldestFrame) {
  const auto peer = this->peer_;
  auto& pkts = this->pkts_;
  this->config_.max_pending_per_neighbor = 2;
  auto& cache = this->cache();
  EXPECT_TRUE(cache.enqueue_pending(peer, &pkts[0], 0));
  EXPECT_TRUE(cache.enqueue_pending(peer, &pkts[1], 1));
  this->hooks_.take();
  EXPECT_TRUE(cache.enqueue_pending(peer, &pkts[2], 2));
  EXPECT_THAT(this->hooks_.take(), ElementsAre(drop(&pkts[0], peer)));
  EXPECT_EQ(cache.stats().pending_dropped, 1u);

  cache.update(peer, mac_for(peer), 3, /*create=*/false);
  EXPECT_THAT(this->hooks_.take(), ElementsAre(transmit(&pkts[1], peer), transmit(&pkts[2], peer)));
}

TYPED_TEST(NeighborTest, TotalBoundDropsFromLongestResolvingAddress) {
  const auto peer = this->peer_;
  const auto other = this->other_;
  const auto third = this->third_;
  auto& pkts = this->pkts_;
  this->config_.max_pending_per_neighbor = 8;
  this->config_.max_pending_total = 3;
  auto& cache = this->cache();
  cache.enqueue_pending(peer, &pkts[0], 0);
  cache.enqueue_pending(peer, &pkts[1], 1);
  cache.enqueue_pending(other, &pkts[2], 2);
  this->hooks_.take();

  EXPECT_TRUE(cache.enqueue_pending(third, &pkts[3], 3));
  EXPECT_THAT(this->hooks_.take(), ElementsAre(broadcast_request(third), drop(&pkts[0], peer)));
  EXPECT_TRUE(cache.enqueue_pending(other, &pkts[4], 4));
  EXPECT_THAT(this->hooks_.take(), ElementsAre(drop(&pkts[1], peer)));
  EXPECT_EQ(this->entry(peer)->pending, 0u);
  EXPECT_EQ(this->entry(other)->pending, 2u);
  EXPECT_EQ(this->entry(third)->pending, 1u);
  EXPECT_EQ(cache.stats().pending_dropped, 2u);
}

TYPED_TEST(NeighborTest, StaleHitSendsOneUnicastRefresh) {
  const auto peer = this->peer_;
  auto& cache = this->cache();
  const uint64_t t0 = this->config_.reachable_ns;
  cache.update(peer, mac_for(peer), 0, /*create=*/true);
  EXPECT_EQ(cache.lookup(peer, t0 - 1), mac_for(peer));
  cache.on_timer(t0 - 1);
  EXPECT_THAT(this->hooks_.take(), IsEmpty());

  EXPECT_EQ(cache.lookup(peer, t0), mac_for(peer));  // stale still answers
  cache.on_timer(t0);
  EXPECT_THAT(this->hooks_.take(), ElementsAre(unicast_request(peer)));
  EXPECT_EQ(cache.lookup(peer, t0 + 1), mac_for(peer));
  cache.on_timer(t0 + 1);
  EXPECT_THAT(this->hooks_.take(), IsEmpty());  // one refresh, not one per use

  cache.update(peer, mac_for(peer), t0 + 2, /*create=*/false);
  EXPECT_EQ(this->entry(peer)->state, NeighborState::kReachable);
  cache.on_timer(t0 + 10 * kSec);
  EXPECT_THAT(this->hooks_.take(), IsEmpty());
  EXPECT_EQ(cache.stats().requests_sent, 1u);
}

// A trunk's neighbour keeps the VLAN it was heard on: the fast path hands
// it out beside the MAC, held frames and the unicast refresh go on it, and
// hearing the address on another VLAN moves it.
TYPED_TEST(NeighborTest, KeepsTheVlanTheNeighbourWasHeardOn) {
  using Cache = TypeParam;
  const auto peer = this->peer_;
  auto& cache = this->cache();
  auto& pkts = this->pkts_;
  cache.enqueue_pending(peer, &pkts[0], 0);
  EXPECT_THAT(this->hooks_.take(), ElementsAre(broadcast_request(peer)));  // on the stack's own VLAN (0)
  cache.update(peer, mac_for(peer), 1, /*create=*/false, 200);
  auto held = transmit(&pkts[0], peer);
  held.vlan = 200;
  EXPECT_THAT(this->hooks_.take(), ElementsAre(held));
  uint64_t packed = cache.lookup_packed(peer, 2);
  EXPECT_EQ(Cache::packed_vlan(packed), 200);
  EXPECT_EQ(cache.lookup(peer, 2), mac_for(peer));  // the MAC bytes untouched by the VLAN bits
  EXPECT_EQ(this->entry(peer)->vlan, 200);

  const uint64_t t0 = 1 + this->config_.reachable_ns;
  (void)cache.lookup_packed(peer, t0);  // stale hit: a unicast refresh
  cache.on_timer(t0);
  auto refresh = unicast_request(peer);
  refresh.vlan = 200;
  EXPECT_THAT(this->hooks_.take(), ElementsAre(refresh));

  cache.update(peer, mac_for(peer), t0 + 1, /*create=*/false, 300);
  EXPECT_EQ(Cache::packed_vlan(cache.lookup_packed(peer, t0 + 2)), 300);
  cache.update(peer, mac_for(peer), t0 + 3, /*create=*/false);
  EXPECT_EQ(Cache::packed_vlan(cache.lookup_packed(peer, t0 + 4)), 0);
}

TYPED_TEST(NeighborTest, UnansweredRefreshFallsBackToBroadcast) {
  const auto peer = this->peer_;
  auto& cache = this->cache();
  const uint64_t t0 = this->config_.reachable_ns;
  cache.update(peer, mac_for(peer), 0, /*create=*/true);
  cache.on_timer(t0);
  EXPECT_EQ(this->entry(peer)->state, NeighborState::kStale);
  EXPECT_THAT(this->hooks_.take(), IsEmpty());  // unused: no refresh

  cache.lookup(peer, t0 + 1);
  cache.on_timer(t0 + 1);
  EXPECT_THAT(this->hooks_.take(), ElementsAre(unicast_request(peer)));
  const uint64_t give_up = t0 + 1 + this->config_.max_probes * this->config_.retrans_ns;
  cache.on_timer(give_up - 1);
  EXPECT_EQ(cache.lookup(peer, give_up - 1), mac_for(peer));
  cache.on_timer(give_up);
  EXPECT_EQ(cache.lookup(peer, give_up), std::nullopt);
  EXPECT_EQ(this->entry(peer)->state, NeighborState::kFailed);
  EXPECT_EQ(cache.stats().failed, 1u);

  cache.enqueue_pending(peer, &this->pkts_[0], give_up + 1);
  EXPECT_THAT(this->hooks_.take(), ElementsAre(broadcast_request(peer)));
}

TYPED_TEST(NeighborTest, GcFreesUnusedStaleAndFailedEntries) {
  const auto peer = this->peer_;
  const auto other = this->other_;
  const auto third = this->third_;
  auto& cache = this->cache();
  cache.insert(peer, mac_for(peer), 0, /*permanent=*/false);  // seeded: stale
  EXPECT_EQ(this->entry(peer)->state, NeighborState::kStale);
  cache.update(other, mac_for(other), 0, /*create=*/true);
  cache.enqueue_pending(third, &this->pkts_[0], 0);
  for (uint64_t t = kSec; t < this->config_.gc_ns; t += kSec) {
    cache.on_timer(t);
  }
  EXPECT_EQ(cache.snapshot().size(), 3u);
  EXPECT_EQ(this->entry(third)->state, NeighborState::kFailed);
  EXPECT_EQ(this->entry(other)->state, NeighborState::kStale);

  cache.on_timer(this->config_.gc_ns);
  EXPECT_TRUE(cache.snapshot().empty());
  EXPECT_EQ(cache.lookup(peer, this->config_.gc_ns), std::nullopt);
}

TYPED_TEST(NeighborTest, PermanentEntriesNeverAgeAndIgnoreTheWire) {
  const auto peer = this->peer_;
  const auto other = this->other_;
  auto& cache = this->cache();
  cache.insert(peer, mac_for(peer), 0, /*permanent=*/true);
  const uint64_t later = 10 * this->config_.gc_ns;
  cache.on_timer(later);
  EXPECT_EQ(cache.lookup(peer, later), mac_for(peer));
  cache.on_timer(later + 1);
  EXPECT_EQ(this->entry(peer)->state, NeighborState::kPermanent);

  cache.update(peer, mac_for(other), later, /*create=*/true);
  cache.insert(peer, mac_for(other), later, /*permanent=*/false);
  EXPECT_EQ(cache.lookup(peer, later), mac_for(peer));
  cache.insert(peer, mac_for(other), later, /*permanent=*/true);  // reconfigured
  EXPECT_EQ(cache.lookup(peer, later), mac_for(other));
  EXPECT_THAT(this->hooks_.take(), IsEmpty());
}

TYPED_TEST(NeighborTest, SeedingDoesNotDowngradeAConfirmedEntry) {
  const auto peer = this->peer_;
  auto& cache = this->cache();
  cache.update(peer, mac_for(peer), 0, /*create=*/true);
  cache.insert(peer, mac_for(peer), 1, /*permanent=*/false);
  EXPECT_EQ(this->entry(peer)->state, NeighborState::kReachable);
}

TYPED_TEST(NeighborTest, InsertReleasesHeldFrames) {
  const auto peer = this->peer_;
  auto& cache = this->cache();
  cache.enqueue_pending(peer, &this->pkts_[0], 0);
  this->hooks_.take();
  cache.insert(peer, mac_for(peer), 1, /*permanent=*/true);
  EXPECT_THAT(this->hooks_.take(), ElementsAre(transmit(&this->pkts_[0], peer)));
}

TYPED_TEST(NeighborTest, FullTableRefusesNewAddresses) {
  auto& pkts = this->pkts_;
  this->config_.capacity = 3;  // rounded up to 4
  auto& cache = this->cache();
  for (uint8_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(cache.enqueue_pending(this->host(1, i), &pkts[i], 0));
  }
  this->hooks_.take();
  EXPECT_FALSE(cache.enqueue_pending(this->host(1, 9), &pkts[9], 0));
  EXPECT_THAT(this->hooks_.take(), IsEmpty());  // no request for an address we cannot hold
  EXPECT_EQ(cache.stats().table_full, 1u);
  cache.update(this->host(1, 9), mac_for(this->peer_), 0, /*create=*/true);
  EXPECT_EQ(cache.stats().table_full, 2u);
  EXPECT_EQ(cache.snapshot().size(), 4u);
}

TYPED_TEST(NeighborTest, FullTableEvictsLeastRecentlyUsedIdleEntry) {
  const auto peer = this->peer_;
  this->config_.capacity = 4;
  auto& cache = this->cache();
  for (uint8_t i = 0; i < 4; ++i) {
    cache.insert(this->host(1, i), mac_for(peer), (i + 1) * kSec, false);
  }
  EXPECT_TRUE(cache.enqueue_pending(peer, &this->pkts_[0], 10 * kSec));
  EXPECT_FALSE(this->entry(this->host(1, 0)));
  EXPECT_TRUE(this->entry(this->host(1, 1)));
  EXPECT_TRUE(this->entry(peer));
  EXPECT_EQ(cache.stats().table_full, 0u);
}

// Entries freed and re-added in random order: every live address must stay
// reachable through its probe chain, every freed one must be gone.
TYPED_TEST(NeighborTest, SlotReuseKeepsProbeChainsIntact) {
  this->config_.capacity = 8;
  auto& cache = this->cache();
  std::mt19937 rng(7);
  std::vector<typename TestFixture::Addr> fixed, churn;
  for (uint8_t i = 0; i < 4; ++i) {
    fixed.push_back(this->host(2, i));
    cache.insert(fixed.back(), mac_for(fixed.back()), 0, /*permanent=*/true);
  }
  uint64_t now = 0;
  for (int round = 0; round < 50; ++round) {
    churn.clear();
    for (int i = 0; i < 4; ++i) {
      churn.push_back(TestFixture::Net::random(rng));
      cache.insert(churn.back(), mac_for(churn.back()), now, /*permanent=*/false);
    }
    for (const auto& ip : fixed) {
      ASSERT_EQ(cache.lookup(ip, 0), mac_for(ip)) << "round " << round;
    }
    for (const auto& ip : churn) {
      ASSERT_EQ(cache.lookup(ip, 0), mac_for(ip)) << "round " << round;
    }
    // The lookups marked the stale entries used: a refresh goes out, fails,
    // and the failed entries are collected.
    for (int step = 0; step < 3; ++step) {
      now += this->config_.gc_ns;
      cache.on_timer(now);
    }
    for (const auto& ip : churn) {
      ASSERT_EQ(cache.lookup(ip, 0), std::nullopt) << "round " << round;
    }
    ASSERT_EQ(cache.snapshot().size(), fixed.size());
  }
}

TYPED_TEST(NeighborTest, FlushPendingAndDestructionReleaseHeldFrames) {
  const auto peer = this->peer_;
  const auto other = this->other_;
  auto& pkts = this->pkts_;
  auto& cache = this->cache();
  cache.enqueue_pending(peer, &pkts[0], 0);
  cache.enqueue_pending(other, &pkts[1], 0);
  this->hooks_.take();
  cache.flush_pending();
  auto events = this->hooks_.take();
  std::sort(events.begin(), events.end(), [](const auto& a, const auto& b) { return a.pkt < b.pkt; });
  EXPECT_THAT(events, ElementsAre(drop(&pkts[0], peer), drop(&pkts[1], other)));
  EXPECT_EQ(this->entry(peer)->pending, 0u);

  cache.enqueue_pending(peer, &pkts[2], 1);
  this->hooks_.take();
  this->hooks_.reenter = nullptr;
  this->cache_.reset();
  EXPECT_THAT(this->hooks_.take(), ElementsAre(drop(&pkts[2], peer)));
}

// IPv6 keys are two words; every comparison and the hash must see both.

class Neighbor6KeyTest : public NeighborTest<NeighborCache6> {};

// Each of these differs from kBase in the high 8 bytes only (the prefix) or
// in the low 8 bytes only (the interface identifier).
const Ipv6Addr kBase(0x2001, 2, 0, 5, 0, 0, 0, 5);
const Ipv6Addr kOtherSubnet(0x2001, 2, 0, 6, 0, 0, 0, 5);
const Ipv6Addr kLinkLocal(0xfe80, 0, 0, 0, 0, 0, 0, 5);
const Ipv6Addr kOtherHost(0x2001, 2, 0, 5, 0, 0, 0, 6);
const Ipv6Addr kOtherIidTop(0x2001, 2, 0, 5, 0x8000, 0, 0, 5);

TEST_F(Neighbor6KeyTest, AddressesDifferingInOneHalfAreDifferentNeighbors) {
  const std::array<Ipv6Addr, 4> kOneHalfApart = {kOtherSubnet, kLinkLocal, kOtherHost, kOtherIidTop};
  for (const Ipv6Addr& ip : kOneHalfApart) {
    ASSERT_NE(mac_for(ip), mac_for(kBase)) << ip.to_string();
  }
  cache().update(kBase, mac_for(kBase), 0, /*create=*/true);
  for (const Ipv6Addr& ip : kOneHalfApart) {
    EXPECT_EQ(cache().lookup(ip, 0), std::nullopt) << ip.to_string() << " found as " << kBase.to_string();
    EXPECT_FALSE(entry(ip));
  }

  for (const Ipv6Addr& ip : kOneHalfApart) {
    cache().update(ip, mac_for(ip), 0, /*create=*/true);
  }
  EXPECT_EQ(cache().snapshot().size(), 5u);
  EXPECT_EQ(cache().lookup(kBase, 0), mac_for(kBase));
  for (const Ipv6Addr& ip : kOneHalfApart) {
    EXPECT_EQ(cache().lookup(ip, 0), mac_for(ip)) << ip.to_string();
  }

  // A reply for one updates that one only.
  const MacAddr moved = mac_for(peer_);
  cache().update(kLinkLocal, moved, 1, /*create=*/false);
  EXPECT_EQ(cache().lookup(kLinkLocal, 1), moved);
  EXPECT_EQ(cache().lookup(kBase, 1), mac_for(kBase));
  EXPECT_EQ(cache().lookup(kOtherSubnet, 1), mac_for(kOtherSubnet));
  EXPECT_THAT(hooks_.take(), IsEmpty());
}

TEST_F(Neighbor6KeyTest, HeldFramesStayWithTheirOwnAddress) {
  cache().enqueue_pending(kBase, &pkts_[0], 0);
  cache().enqueue_pending(kOtherSubnet, &pkts_[1], 0);
  cache().enqueue_pending(kOtherHost, &pkts_[2], 0);
  EXPECT_THAT(hooks_.take(),
              ElementsAre(broadcast_request(kBase), broadcast_request(kOtherSubnet), broadcast_request(kOtherHost)));
  cache().update(kOtherHost, mac_for(kOtherHost), 1, /*create=*/false);
  EXPECT_THAT(hooks_.take(), ElementsAre(transmit(&pkts_[2], kOtherHost)));
  cache().update(kOtherSubnet, mac_for(kOtherSubnet), 1, /*create=*/false);
  EXPECT_THAT(hooks_.take(), ElementsAre(transmit(&pkts_[1], kOtherSubnet)));
  EXPECT_EQ(entry(kBase)->state, NeighborState::kIncomplete);
  EXPECT_EQ(entry(kBase)->pending, 1u);
}

// Prefix and interface identifier that differ from each other's by the same
// bits cancel in the fold of the two halves: these addresses share their
// home slot, whatever the table size, and only the full compare tells them
// apart along one probe chain.
TEST_F(Neighbor6KeyTest, SameHomeSlotAddressesShareOneProbeChain) {
  config_.capacity = 8;
  std::vector<Ipv6Addr> chain;
  for (uint16_t i = 1; i <= 4; ++i) {
    chain.push_back(Ipv6Addr(0x2001, 2, 0, i, 0, 0, 0, i));
  }
  for (size_t i = 0; i < chain.size(); ++i) {
    cache().insert(chain[i], mac_for(chain[i]), 0, /*permanent=*/i != 1);  // chain[1]: stale, collectable
  }
  for (const Ipv6Addr& ip : chain) {
    EXPECT_EQ(cache().lookup(ip, 0), mac_for(ip)) << ip.to_string();
  }
  EXPECT_EQ(cache().lookup(Ipv6Addr(0x2001, 2, 0, 5, 0, 0, 0, 5), 0), std::nullopt);

  // Free one in the middle of the chain (used while stale: the refresh goes
  // unanswered, the entry fails and is collected); the entries behind it
  // stay reachable.
  uint64_t now = 0;
  for (int step = 0; step < 3; ++step) {
    now += config_.gc_ns;
    cache().on_timer(now);
  }
  EXPECT_FALSE(entry(chain[1]));
  EXPECT_EQ(cache().lookup(chain[1], now), std::nullopt);
  for (size_t i : std::array<size_t, 3>{0, 2, 3}) {
    EXPECT_EQ(cache().lookup(chain[i], now), mac_for(chain[i])) << chain[i].to_string();
  }
  cache().update(chain[1], mac_for(chain[1]), now, /*create=*/true);
  EXPECT_EQ(cache().lookup(chain[1], now), mac_for(chain[1]));
  EXPECT_EQ(cache().snapshot().size(), chain.size());
}

// How the owner of both caches (the Stack) implements the hooks: one
// transmit_resolved for both address types, the rest overloaded.
class DualHooks : public NeighborHooks, public NeighborHooks6 {
 public:
  void send_request(Ipv4Addr target, const MacAddr*, uint16_t) override { requests4.push_back(target); }
  void send_request(Ipv6Addr target, const MacAddr*, uint16_t) override { requests6.push_back(target); }
  void transmit_resolved(Packet* pkt, const MacAddr& mac, uint16_t) override { sent.emplace_back(pkt, mac); }
  void drop_unresolved(Packet* pkt, Ipv4Addr) override { dropped.push_back(pkt); }
  void drop_unresolved(Packet* pkt, Ipv6Addr) override { dropped.push_back(pkt); }

  std::vector<Ipv4Addr> requests4;
  std::vector<Ipv6Addr> requests6;
  std::vector<std::pair<Packet*, MacAddr>> sent;
  std::vector<Packet*> dropped;
};

TEST(NeighborHooks, OneOwnerServesBothAddressTypes) {
  DualHooks hooks;
  NeighborCache arp(NeighborConfig{}, hooks);
  NeighborCache6 ndp(NeighborConfig{}, hooks);
  const Ipv4Addr v4 = TestNet<Ipv4Addr>::peer();
  const Ipv6Addr v6 = TestNet<Ipv6Addr>::other();
  std::array<Packet, 3> pkts{};
  EXPECT_TRUE(arp.enqueue_pending(v4, &pkts[0], 0));
  EXPECT_TRUE(ndp.enqueue_pending(v6, &pkts[1], 0));
  EXPECT_TRUE(ndp.enqueue_pending(v6, &pkts[2], 0));
  EXPECT_THAT(hooks.requests4, ElementsAre(v4));
  EXPECT_THAT(hooks.requests6, ElementsAre(v6));

  ndp.update(v6, mac_for(v6), 1, /*create=*/false);
  arp.update(v4, mac_for(v4), 1, /*create=*/false);
  using Sent = std::pair<Packet*, MacAddr>;
  EXPECT_THAT(hooks.sent,
              ElementsAre(Sent{&pkts[1], mac_for(v6)}, Sent{&pkts[2], mac_for(v6)}, Sent{&pkts[0], mac_for(v4)}));
  EXPECT_THAT(hooks.dropped, IsEmpty());
}

template <typename Addr>
class NullHooks : public BasicNeighborHooks<Addr> {
 public:
  void send_request(Addr, const MacAddr*, uint16_t) override {}
  void transmit_resolved(Packet*, const MacAddr&, uint16_t) override {}
  void drop_unresolved(Packet*, Addr) override {}
};

template <typename Cache>
class NeighborConcurrency : public ::testing::Test {};
TYPED_TEST_SUITE(NeighborConcurrency, CacheTypes, AddressTypeName);

// Readers race a writer that keeps inserting, evicting, ageing and freeing
// entries in a small, crowded table, so slots are reused by different
// addresses. A reader must never see one address with another's MAC. Bounded
// in operations (20k rounds of 12 inserts) and time (1.5 s).
TYPED_TEST(NeighborConcurrency, ReadersNeverSeeTornEntries) {
  using Addr = typename TypeParam::Address;
  NullHooks<Addr> hooks;
  NeighborConfig config;
  config.capacity = 8;
  config.gc_ns = 10;
  config.retrans_ns = 1;
  config.max_probes = 1;
  TypeParam cache(config, hooks);

  std::vector<Addr> ips;  // read by every reader, never written after start
  for (size_t i = 0; i < 12; ++i) {
    ips.push_back(TestNet<Addr>::crowd(i));
  }
  std::atomic<bool> go{false}, done{false};
  std::atomic<uint64_t> lookups{0}, hits{0}, torn{0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);

  auto reader = [&](unsigned seed) {
    std::mt19937 rng(seed);
    uint64_t n = 0, local_hits = 0;
    while (!go.load(std::memory_order_acquire)) {}
    for (; !done.load(std::memory_order_relaxed); ++n) {
      const Addr& ip = ips[rng() % ips.size()];
      // now_ns 0: readers never push "used" past the writer's clock.
      if (auto mac = cache.lookup(ip, 0)) {
        ++local_hits;
        if (*mac != mac_for(ip)) {
          torn.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
    lookups.fetch_add(n, std::memory_order_relaxed);
    hits.fetch_add(local_hits, std::memory_order_relaxed);
  };
  std::vector<std::thread> readers;
  for (unsigned r = 0; r < 3; ++r) {
    readers.emplace_back(reader, r + 1);
  }

  std::mt19937 rng(99);
  uint64_t now = 1;
  std::vector<Addr> order = ips;  // the readers' copy stays untouched
  go.store(true, std::memory_order_release);
  for (int round = 0; round < 20'000 && std::chrono::steady_clock::now() < deadline; ++round) {
    std::shuffle(order.begin(), order.end(), rng);
    // More addresses than slots: once full, each insert evicts the least
    // recently used entry and reuses its slot for another address.
    for (const Addr& ip : order) {
      cache.insert(ip, mac_for(ip), ++now, /*permanent=*/false);
    }
    if (round % 16 == 0) {  // also age, refresh and free through the timer
      cache.update(order[0], mac_for(order[0]), ++now, /*create=*/true);
      now += config.reachable_ns + config.gc_ns;
      cache.on_timer(now);
    }
  }
  done = true;
  for (auto& t : readers) {
    t.join();
  }
  this->RecordProperty("lookups", std::to_string(lookups.load()));
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_GT(hits.load(), 0u);
}

}  // namespace
}  // namespace dpdkudp::stack
