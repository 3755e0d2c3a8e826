// NeighborCache: the state machine driven by an explicit clock and a hooks
// fake that records every call, then a reader/writer stress for the seqlock.
#include "stack/net/neighbor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace dpdkudp::stack {
namespace {

constexpr uint64_t kSec = 1'000'000'000;

const Ipv4Addr kPeer(198, 18, 0, 2);
const Ipv4Addr kOther(198, 18, 0, 3);
const Ipv4Addr kThird(198, 18, 0, 4);

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

struct Event {
  enum Kind { kRequest, kTransmit, kDrop } kind;
  Ipv4Addr ip;                 // request target, drop target
  std::optional<MacAddr> mac;  // request unicast_to, transmit destination
  Packet* pkt = nullptr;
  friend bool operator==(const Event&, const Event&) = default;
};

Event broadcast_request(Ipv4Addr ip) { return {Event::kRequest, ip, std::nullopt, nullptr}; }
Event unicast_request(Ipv4Addr ip) { return {Event::kRequest, ip, mac_for(ip), nullptr}; }
Event transmit(Packet* pkt, Ipv4Addr ip) { return {Event::kTransmit, Ipv4Addr(), mac_for(ip), pkt}; }
Event drop(Packet* pkt, Ipv4Addr ip) { return {Event::kDrop, ip, std::nullopt, pkt}; }

void PrintTo(const Event& e, std::ostream* os) {
  static const char* const kNames[] = {"request", "transmit", "drop"};
  *os << kNames[e.kind] << "(" << e.ip.to_string() << ", " << (e.mac ? wire::mac_to_string(*e.mac) : "-") << ", "
      << e.pkt << ")";
}

class RecordingHooks : public NeighborHooks {
 public:
  void send_request(Ipv4Addr target, const MacAddr* unicast_to) override {
    check_unlocked();
    events_.push_back({Event::kRequest, target, unicast_to ? std::optional(*unicast_to) : std::nullopt, nullptr});
  }
  void transmit_resolved(Packet* pkt, const MacAddr& mac) override {
    check_unlocked();
    EXPECT_EQ(pkt->next, nullptr);
    events_.push_back({Event::kTransmit, Ipv4Addr(), mac, pkt});
    if (on_transmit) {
      auto f = std::exchange(on_transmit, nullptr);
      f();
    }
  }
  void drop_unresolved(Packet* pkt, Ipv4Addr target) override {
    check_unlocked();
    EXPECT_EQ(pkt->next, nullptr);
    events_.push_back({Event::kDrop, target, std::nullopt, pkt});
  }

  std::vector<Event> take() { return std::exchange(events_, {}); }
  // Set once the cache exists: every hook then re-enters it, which would
  // deadlock if the cache still held its mutex.
  NeighborCache* reenter = nullptr;
  // Runs once, inside the next transmit: another thread's send racing the
  // flush of held frames.
  std::function<void()> on_transmit;

 private:
  void check_unlocked() {
    if (reenter != nullptr) {
      (void)reenter->stats();
    }
  }
  std::vector<Event> events_;
};

class NeighborTest : public ::testing::Test {
 protected:
  NeighborTest() {
    config_.capacity = 16;
    config_.reachable_ns = 30 * kSec;
    config_.retrans_ns = 1 * kSec;
    config_.max_probes = 3;
    config_.gc_ns = 60 * kSec;
    config_.max_pending_per_neighbor = 4;
    config_.max_pending_total = 8;
  }

  NeighborCache& cache() {
    if (!cache_) {
      cache_ = std::make_unique<NeighborCache>(config_, hooks_);
      hooks_.reenter = cache_.get();
    }
    return *cache_;
  }

  std::optional<NeighborEntrySnapshot> entry(Ipv4Addr ip) {
    for (const auto& e : cache().snapshot()) {
      if (e.ip == ip) {
        return e;
      }
    }
    return std::nullopt;
  }

  NeighborConfig config_;
  RecordingHooks hooks_;
  std::array<Packet, 16> pkts_{};
  std::unique_ptr<NeighborCache> cache_;
};

using Events = std::vector<Event>;

TEST_F(NeighborTest, MissStartsResolutionWithOneBroadcast) {
  EXPECT_EQ(cache().lookup(kPeer, 0), std::nullopt);
  EXPECT_TRUE(cache().enqueue_pending(kPeer, &pkts_[0], 0));
  EXPECT_EQ(hooks_.take(), Events{broadcast_request(kPeer)});

  EXPECT_TRUE(cache().enqueue_pending(kPeer, &pkts_[1], 100));
  EXPECT_EQ(hooks_.take(), Events{});  // already resolving
  EXPECT_EQ(cache().lookup(kPeer, 100), std::nullopt);
  auto e = entry(kPeer);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->state, NeighborState::kIncomplete);
  EXPECT_EQ(e->pending, 2u);
  EXPECT_EQ(cache().stats().requests_sent, 1u);
}

TEST_F(NeighborTest, RetriesEveryRetransThenFailsAndDropsPending) {
  cache().enqueue_pending(kPeer, &pkts_[0], 0);
  cache().enqueue_pending(kPeer, &pkts_[1], 0);
  hooks_.take();

  cache().on_timer(kSec - 1);
  EXPECT_EQ(hooks_.take(), Events{});
  cache().on_timer(kSec);
  EXPECT_EQ(hooks_.take(), Events{broadcast_request(kPeer)});
  cache().on_timer(kSec + 1);
  EXPECT_EQ(hooks_.take(), Events{});
  cache().on_timer(2 * kSec);
  EXPECT_EQ(hooks_.take(), Events{broadcast_request(kPeer)});
  cache().on_timer(3 * kSec);  // max_probes sent and unanswered
  EXPECT_EQ(hooks_.take(), (Events{drop(&pkts_[0], kPeer), drop(&pkts_[1], kPeer)}));

  NeighborStats s = cache().stats();
  EXPECT_EQ(s.requests_sent, 3u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.pending_dropped, 2u);
  EXPECT_EQ(entry(kPeer)->state, NeighborState::kFailed);
  EXPECT_EQ(cache().lookup(kPeer, 3 * kSec), std::nullopt);

  // A later frame starts a fresh resolution.
  EXPECT_TRUE(cache().enqueue_pending(kPeer, &pkts_[2], 4 * kSec));
  EXPECT_EQ(hooks_.take(), Events{broadcast_request(kPeer)});
  EXPECT_EQ(entry(kPeer)->state, NeighborState::kIncomplete);
}

TEST_F(NeighborTest, ReplyFlushesPendingInFifoOrder) {
  for (int i = 0; i < 3; ++i) {
    cache().enqueue_pending(kPeer, &pkts_[i], 0);
  }
  hooks_.take();
  cache().update(kPeer, mac_for(kPeer), 500, /*create=*/false);
  EXPECT_EQ(hooks_.take(),
            (Events{transmit(&pkts_[0], kPeer), transmit(&pkts_[1], kPeer), transmit(&pkts_[2], kPeer)}));
  EXPECT_EQ(cache().lookup(kPeer, 600), mac_for(kPeer));
  EXPECT_EQ(entry(kPeer)->state, NeighborState::kReachable);
  EXPECT_EQ(entry(kPeer)->pending, 0u);
  EXPECT_EQ(cache().stats().resolved, 1u);
  cache().on_timer(5 * kSec);  // resolved: no more retries
  EXPECT_EQ(hooks_.take(), Events{});
}

// A send that comes while the held frames are going out (another thread,
// here the transmit hook) must not overtake them: until they are all out the
// entry still looks unresolved, so the new frame queues behind them.
TEST_F(NeighborTest, SendDuringTheFlushQueuesBehindTheHeldFrames) {
  for (int i = 0; i < 3; ++i) {
    cache().enqueue_pending(kPeer, &pkts_[i], 0);
  }
  hooks_.take();
  std::optional<MacAddr> seen_during_flush = mac_for(kOther);
  hooks_.on_transmit = [&] {
    seen_during_flush = cache().lookup(kPeer, 500);
    EXPECT_TRUE(cache().enqueue_pending(kPeer, &pkts_[3], 500));
  };
  cache().update(kPeer, mac_for(kPeer), 500, /*create=*/false);
  EXPECT_EQ(seen_during_flush, std::nullopt) << "the address was published before the held frames left";
  EXPECT_EQ(hooks_.take(), (Events{transmit(&pkts_[0], kPeer), transmit(&pkts_[1], kPeer), transmit(&pkts_[2], kPeer),
                                   transmit(&pkts_[3], kPeer)}));
  EXPECT_EQ(cache().lookup(kPeer, 600), mac_for(kPeer));
  EXPECT_EQ(entry(kPeer)->pending, 0u);
  EXPECT_EQ(cache().stats().resolved, 1u);
}

TEST_F(NeighborTest, UpdateCreatesOnlyWhenAsked) {
  cache().update(kPeer, mac_for(kPeer), 0, /*create=*/false);
  EXPECT_EQ(cache().lookup(kPeer, 0), std::nullopt);
  cache().update(kPeer, mac_for(kPeer), 0, /*create=*/true);
  EXPECT_EQ(cache().lookup(kPeer, 0), mac_for(kPeer));
  // RFC 826 merge: an existing entry takes the new address.
  MacAddr moved = mac_for(kOther);
  cache().update(kPeer, moved, 1, /*create=*/false);
  EXPECT_EQ(cache().lookup(kPeer, 1), moved);
  EXPECT_EQ(hooks_.take(), Events{});
}

TEST_F(NeighborTest, EnqueueAfterResolutionTransmitsAtOnce) {
  cache().update(kPeer, mac_for(kPeer), 0, /*create=*/true);
  EXPECT_TRUE(cache().enqueue_pending(kPeer, &pkts_[0], 1));
  EXPECT_EQ(hooks_.take(), Events{transmit(&pkts_[0], kPeer)});
}

TEST_F(NeighborTest, PerNeighborBoundDropsOldestFrame) {
  config_.max_pending_per_neighbor = 2;
  EXPECT_TRUE(cache().enqueue_pending(kPeer, &pkts_[0], 0));
  EXPECT_TRUE(cache().enqueue_pending(kPeer, &pkts_[1], 1));
  hooks_.take();
  EXPECT_TRUE(cache().enqueue_pending(kPeer, &pkts_[2], 2));
  EXPECT_EQ(hooks_.take(), Events{drop(&pkts_[0], kPeer)});
  EXPECT_EQ(cache().stats().pending_dropped, 1u);

  cache().update(kPeer, mac_for(kPeer), 3, /*create=*/false);
  EXPECT_EQ(hooks_.take(), (Events{transmit(&pkts_[1], kPeer), transmit(&pkts_[2], kPeer)}));
}

TEST_F(NeighborTest, TotalBoundDropsFromLongestResolvingAddress) {
  config_.max_pending_per_neighbor = 8;
  config_.max_pending_total = 3;
  cache().enqueue_pending(kPeer, &pkts_[0], 0);
  cache().enqueue_pending(kPeer, &pkts_[1], 1);
  cache().enqueue_pending(kOther, &pkts_[2], 2);
  hooks_.take();

  EXPECT_TRUE(cache().enqueue_pending(kThird, &pkts_[3], 3));
  EXPECT_EQ(hooks_.take(), (Events{broadcast_request(kThird), drop(&pkts_[0], kPeer)}));
  EXPECT_TRUE(cache().enqueue_pending(kOther, &pkts_[4], 4));
  EXPECT_EQ(hooks_.take(), Events{drop(&pkts_[1], kPeer)});
  EXPECT_EQ(entry(kPeer)->pending, 0u);
  EXPECT_EQ(entry(kOther)->pending, 2u);
  EXPECT_EQ(entry(kThird)->pending, 1u);
  EXPECT_EQ(cache().stats().pending_dropped, 2u);
}

TEST_F(NeighborTest, StaleHitSendsOneUnicastRefresh) {
  const uint64_t t0 = config_.reachable_ns;
  cache().update(kPeer, mac_for(kPeer), 0, /*create=*/true);
  EXPECT_EQ(cache().lookup(kPeer, t0 - 1), mac_for(kPeer));
  cache().on_timer(t0 - 1);
  EXPECT_EQ(hooks_.take(), Events{});

  EXPECT_EQ(cache().lookup(kPeer, t0), mac_for(kPeer));  // stale still answers
  cache().on_timer(t0);
  EXPECT_EQ(hooks_.take(), Events{unicast_request(kPeer)});
  EXPECT_EQ(cache().lookup(kPeer, t0 + 1), mac_for(kPeer));
  cache().on_timer(t0 + 1);
  EXPECT_EQ(hooks_.take(), Events{});  // one refresh, not one per use

  cache().update(kPeer, mac_for(kPeer), t0 + 2, /*create=*/false);
  EXPECT_EQ(entry(kPeer)->state, NeighborState::kReachable);
  cache().on_timer(t0 + 10 * kSec);
  EXPECT_EQ(hooks_.take(), Events{});
  EXPECT_EQ(cache().stats().requests_sent, 1u);
}

TEST_F(NeighborTest, UnansweredRefreshFallsBackToBroadcast) {
  const uint64_t t0 = config_.reachable_ns;
  cache().update(kPeer, mac_for(kPeer), 0, /*create=*/true);
  cache().on_timer(t0);
  EXPECT_EQ(entry(kPeer)->state, NeighborState::kStale);
  EXPECT_EQ(hooks_.take(), Events{});  // unused: no refresh

  cache().lookup(kPeer, t0 + 1);
  cache().on_timer(t0 + 1);
  EXPECT_EQ(hooks_.take(), Events{unicast_request(kPeer)});
  const uint64_t give_up = t0 + 1 + config_.max_probes * config_.retrans_ns;
  cache().on_timer(give_up - 1);
  EXPECT_EQ(cache().lookup(kPeer, give_up - 1), mac_for(kPeer));
  cache().on_timer(give_up);
  EXPECT_EQ(cache().lookup(kPeer, give_up), std::nullopt);
  EXPECT_EQ(entry(kPeer)->state, NeighborState::kFailed);
  EXPECT_EQ(cache().stats().failed, 1u);

  cache().enqueue_pending(kPeer, &pkts_[0], give_up + 1);
  EXPECT_EQ(hooks_.take(), Events{broadcast_request(kPeer)});
}

TEST_F(NeighborTest, GcFreesUnusedStaleAndFailedEntries) {
  cache().insert(kPeer, mac_for(kPeer), 0, /*permanent=*/false);  // seeded: stale
  EXPECT_EQ(entry(kPeer)->state, NeighborState::kStale);
  cache().update(kOther, mac_for(kOther), 0, /*create=*/true);
  cache().enqueue_pending(kThird, &pkts_[0], 0);
  for (uint64_t t = kSec; t < config_.gc_ns; t += kSec) {
    cache().on_timer(t);
  }
  EXPECT_EQ(cache().snapshot().size(), 3u);
  EXPECT_EQ(entry(kThird)->state, NeighborState::kFailed);
  EXPECT_EQ(entry(kOther)->state, NeighborState::kStale);

  cache().on_timer(config_.gc_ns);
  EXPECT_TRUE(cache().snapshot().empty());
  EXPECT_EQ(cache().lookup(kPeer, config_.gc_ns), std::nullopt);
}

TEST_F(NeighborTest, PermanentEntriesNeverAgeAndIgnoreTheWire) {
  cache().insert(kPeer, mac_for(kPeer), 0, /*permanent=*/true);
  const uint64_t later = 10 * config_.gc_ns;
  cache().on_timer(later);
  EXPECT_EQ(cache().lookup(kPeer, later), mac_for(kPeer));
  cache().on_timer(later + 1);
  EXPECT_EQ(entry(kPeer)->state, NeighborState::kPermanent);

  cache().update(kPeer, mac_for(kOther), later, /*create=*/true);
  cache().insert(kPeer, mac_for(kOther), later, /*permanent=*/false);
  EXPECT_EQ(cache().lookup(kPeer, later), mac_for(kPeer));
  cache().insert(kPeer, mac_for(kOther), later, /*permanent=*/true);  // reconfigured
  EXPECT_EQ(cache().lookup(kPeer, later), mac_for(kOther));
  EXPECT_EQ(hooks_.take(), Events{});
}

TEST_F(NeighborTest, SeedingDoesNotDowngradeAConfirmedEntry) {
  cache().update(kPeer, mac_for(kPeer), 0, /*create=*/true);
  cache().insert(kPeer, mac_for(kPeer), 1, /*permanent=*/false);
  EXPECT_EQ(entry(kPeer)->state, NeighborState::kReachable);
}

TEST_F(NeighborTest, InsertReleasesHeldFrames) {
  cache().enqueue_pending(kPeer, &pkts_[0], 0);
  hooks_.take();
  cache().insert(kPeer, mac_for(kPeer), 1, /*permanent=*/true);
  EXPECT_EQ(hooks_.take(), Events{transmit(&pkts_[0], kPeer)});
}

TEST_F(NeighborTest, FullTableRefusesNewAddresses) {
  config_.capacity = 3;  // rounded up to 4
  for (uint8_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(cache().enqueue_pending(Ipv4Addr(198, 18, 1, i), &pkts_[i], 0));
  }
  hooks_.take();
  EXPECT_FALSE(cache().enqueue_pending(Ipv4Addr(198, 18, 1, 9), &pkts_[9], 0));
  EXPECT_EQ(hooks_.take(), Events{});  // no request for an address we cannot hold
  EXPECT_EQ(cache().stats().table_full, 1u);
  cache().update(Ipv4Addr(198, 18, 1, 9), mac_for(kPeer), 0, /*create=*/true);
  EXPECT_EQ(cache().stats().table_full, 2u);
  EXPECT_EQ(cache().snapshot().size(), 4u);
}

TEST_F(NeighborTest, FullTableEvictsLeastRecentlyUsedIdleEntry) {
  config_.capacity = 4;
  for (uint8_t i = 0; i < 4; ++i) {
    cache().insert(Ipv4Addr(198, 18, 1, i), mac_for(kPeer), (i + 1) * kSec, false);
  }
  EXPECT_TRUE(cache().enqueue_pending(kPeer, &pkts_[0], 10 * kSec));
  EXPECT_FALSE(entry(Ipv4Addr(198, 18, 1, 0)));
  EXPECT_TRUE(entry(Ipv4Addr(198, 18, 1, 1)));
  EXPECT_TRUE(entry(kPeer));
  EXPECT_EQ(cache().stats().table_full, 0u);
}

// Entries freed and re-added in random order: every live address must stay
// reachable through its probe chain, every freed one must be gone.
TEST_F(NeighborTest, SlotReuseKeepsProbeChainsIntact) {
  config_.capacity = 8;
  std::mt19937 rng(7);
  std::vector<Ipv4Addr> fixed, churn;
  for (uint8_t i = 0; i < 4; ++i) {
    fixed.push_back(Ipv4Addr(198, 18, 2, i));
    cache().insert(fixed.back(), mac_for(fixed.back()), 0, /*permanent=*/true);
  }
  uint64_t now = 0;
  for (int round = 0; round < 50; ++round) {
    churn.clear();
    for (int i = 0; i < 4; ++i) {
      churn.push_back(Ipv4Addr(198, 19, static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng())));
      cache().insert(churn.back(), mac_for(churn.back()), now, /*permanent=*/false);
    }
    for (Ipv4Addr ip : fixed) {
      ASSERT_EQ(cache().lookup(ip, 0), mac_for(ip)) << "round " << round;
    }
    for (Ipv4Addr ip : churn) {
      ASSERT_EQ(cache().lookup(ip, 0), mac_for(ip)) << "round " << round;
    }
    // The lookups marked the stale entries used: a refresh goes out, fails,
    // and the failed entries are collected.
    for (int step = 0; step < 3; ++step) {
      now += config_.gc_ns;
      cache().on_timer(now);
    }
    for (Ipv4Addr ip : churn) {
      ASSERT_EQ(cache().lookup(ip, 0), std::nullopt) << "round " << round;
    }
    ASSERT_EQ(cache().snapshot().size(), fixed.size());
  }
}

TEST_F(NeighborTest, FlushPendingAndDestructionReleaseHeldFrames) {
  cache().enqueue_pending(kPeer, &pkts_[0], 0);
  cache().enqueue_pending(kOther, &pkts_[1], 0);
  hooks_.take();
  cache().flush_pending();
  Events events = hooks_.take();
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.pkt < b.pkt; });
  EXPECT_EQ(events, (Events{drop(&pkts_[0], kPeer), drop(&pkts_[1], kOther)}));
  EXPECT_EQ(entry(kPeer)->pending, 0u);

  cache().enqueue_pending(kPeer, &pkts_[2], 1);
  hooks_.take();
  hooks_.reenter = nullptr;
  cache_.reset();
  EXPECT_EQ(hooks_.take(), Events{drop(&pkts_[2], kPeer)});
}

class NullHooks : public NeighborHooks {
 public:
  void send_request(Ipv4Addr, const MacAddr*) override {}
  void transmit_resolved(Packet*, const MacAddr&) override {}
  void drop_unresolved(Packet*, Ipv4Addr) override {}
};

// Readers race a writer that keeps inserting, evicting, ageing and freeing
// entries in a small, crowded table, so slots are reused by different
// addresses. A reader must never see one address with another's MAC. Bounded
// in operations (20k rounds of 12 inserts) and time (1.5 s).
TEST(NeighborConcurrency, ReadersNeverSeeTornEntries) {
  NullHooks hooks;
  NeighborConfig config;
  config.capacity = 8;
  config.gc_ns = 10;
  config.retrans_ns = 1;
  config.max_probes = 1;
  NeighborCache cache(config, hooks);

  std::vector<Ipv4Addr> ips;  // read by every reader, never written after start
  for (uint8_t i = 0; i < 12; ++i) {
    ips.push_back(Ipv4Addr(198, 18, 3, static_cast<uint8_t>(i * 17)));
  }
  std::atomic<bool> go{false}, done{false};
  std::atomic<uint64_t> lookups{0}, hits{0}, torn{0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);

  auto reader = [&](unsigned seed) {
    std::mt19937 rng(seed);
    uint64_t n = 0, local_hits = 0;
    while (!go.load(std::memory_order_acquire)) {}
    for (; !done.load(std::memory_order_relaxed); ++n) {
      Ipv4Addr ip = ips[rng() % ips.size()];
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
  std::vector<Ipv4Addr> order = ips;  // the readers' copy stays untouched
  go.store(true, std::memory_order_release);
  for (int round = 0; round < 20'000 && std::chrono::steady_clock::now() < deadline; ++round) {
    std::shuffle(order.begin(), order.end(), rng);
    // More addresses than slots: once full, each insert evicts the least
    // recently used entry and reuses its slot for another address.
    for (Ipv4Addr ip : order) {
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
  RecordProperty("lookups", std::to_string(lookups.load()));
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_GT(hits.load(), 0u);
}

}  // namespace
}  // namespace dpdkudp::stack
