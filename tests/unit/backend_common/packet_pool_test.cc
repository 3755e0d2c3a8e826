#include "backends/common/packet_pool.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace dpdkudp {
namespace {

TEST(PacketPool, AllocResetsTheDescriptor) {
  PacketPool pool({4, 2048, 128});
  Packet* pkt = pool.alloc_one();
  ASSERT_NE(pkt, nullptr);
  EXPECT_EQ(pkt->data, pool.buffer_begin(pkt) + 128);
  EXPECT_EQ(pkt->len, 0u);
  EXPECT_EQ(pkt->room, 2048u - 128u);
  EXPECT_EQ(pool.buffer_end(pkt) - pool.buffer_begin(pkt), 2048);

  // Dirty every field, give it back, and take all buffers out again.
  pkt->data += 10;
  pkt->len = 99;
  pkt->room = 1;
  pkt->rx_flags = kRxL4CsumBad;
  pkt->tx_flags = kTxUdpCsum;
  pkt->vlan_tci = 7;
  pkt->l2_len = 14;
  pkt->l3_len = 20;
  pkt->queue = 3;
  pkt->next = pkt;
  pkt->meta.src_port = 53;
  pkt->meta.payload_len = 1000;
  pool.free_one(pkt);

  std::vector<Packet*> all(4);
  ASSERT_EQ(pool.alloc(all), 4u);
  for (Packet* p : all) {
    EXPECT_EQ(p->data, pool.buffer_begin(p) + 128);
    EXPECT_EQ(p->len, 0u);
    EXPECT_EQ(p->room, 1920u);
    EXPECT_EQ(p->rx_flags, 0u);
    EXPECT_EQ(p->tx_flags, 0u);
    EXPECT_EQ(p->vlan_tci, 0u);
    EXPECT_EQ(p->l2_len, 0u);
    EXPECT_EQ(p->l3_len, 0u);
    EXPECT_EQ(p->queue, 0u);
    EXPECT_EQ(p->next, nullptr);
    EXPECT_EQ(p->meta.src_port, 0u);
    EXPECT_EQ(p->meta.payload_len, 0u);
  }
  pool.free(all);
}

TEST(PacketPool, BuffersAreDistinctAlignedAndDisjoint) {
  PacketPool pool({16, 256, 32});
  std::vector<Packet*> pkts(16);
  ASSERT_EQ(pool.alloc(pkts), 16u);
  std::set<uint8_t*> starts;
  for (Packet* p : pkts) {
    EXPECT_TRUE(pool.owns(p));
    starts.insert(pool.buffer_begin(p));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(pool.buffer_begin(p)) % 32, 0u);
    std::memset(p->data, 0xab, p->room);  // whole room writable
  }
  EXPECT_EQ(starts.size(), 16u);
  uint8_t* prev = nullptr;
  for (uint8_t* start : starts) {
    if (prev != nullptr) {
      EXPECT_GE(start - prev, 256);
    }
    prev = start;
  }
  pool.free(pkts);
}

TEST(PacketPool, ExhaustionAndReuse) {
  PacketPool pool({8, 512, 64});
  EXPECT_EQ(pool.count(), 8u);
  EXPECT_EQ(pool.available(), 8u);

  std::vector<Packet*> first(5);
  ASSERT_EQ(pool.alloc(first), 5u);
  EXPECT_EQ(pool.available(), 3u);
  EXPECT_EQ(pool.in_use(), 5u);

  std::vector<Packet*> more(10, nullptr);
  ASSERT_EQ(pool.alloc(more), 3u);  // a burst larger than what is left
  EXPECT_EQ(more[3], nullptr);
  EXPECT_EQ(pool.available(), 0u);
  EXPECT_EQ(pool.alloc_one(), nullptr);
  EXPECT_EQ(pool.alloc(more), 0u);

  pool.free(std::span<Packet* const>(first.data(), 2));
  EXPECT_EQ(pool.available(), 2u);
  std::vector<Packet*> again(4);
  ASSERT_EQ(pool.alloc(again), 2u);
  // FIFO free list: the two freed buffers come back.
  EXPECT_EQ(std::set<Packet*>(again.begin(), again.begin() + 2), std::set<Packet*>(first.begin(), first.begin() + 2));

  pool.free(std::span<Packet* const>(again.data(), 2));
  pool.free(std::span<Packet* const>(first.data() + 2, 3));
  pool.free(std::span<Packet* const>(more.data(), 3));
  EXPECT_EQ(pool.available(), 8u);
  EXPECT_EQ(pool.in_use(), 0u);
}

// Resident pages of [begin, end) (mincore), and how many there are.
std::pair<size_t, size_t> resident(const uint8_t* begin, const uint8_t* end) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  auto* first = reinterpret_cast<uint8_t*>(reinterpret_cast<uintptr_t>(begin) / page * page);
  const size_t pages = (static_cast<size_t>(end - first) + page - 1) / page;
  std::vector<unsigned char> in(pages);
  if (mincore(first, pages * page, in.data()) != 0) return {0, pages};
  size_t n = 0;
  for (unsigned char c : in) n += c & 1;
  return {n, pages};
}

// The production backends' pools are resident from the start (the free
// ring hands buffers out in turn, so otherwise light traffic made a
// process's RSS creep up for minutes: the soak's finding).
TEST(PacketPool, APrefaultedPoolIsResidentFromTheStart) {
  PacketPoolConfig config{2048, 2048, 128, /*prefault=*/true};
  PacketPool pool(config);
  Packet* first = pool.alloc_one();
  ASSERT_NE(first, nullptr);
  const uint8_t* begin = pool.buffer_begin(first);
  const auto [in, pages] = resident(begin, begin + size_t{2048} * 2048);
  EXPECT_EQ(in, pages) << "pages of the pool not resident at creation";
  pool.free({&first, 1});

  // The check can fail: memory mapped but not yet touched is not resident.
  const size_t bytes = size_t{2048} * 2048;
  void* untouched = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(untouched, MAP_FAILED);
  const auto* u = static_cast<const uint8_t*>(untouched);
  EXPECT_LT(resident(u, u + bytes).first, pages / 2) << "mincore sees no difference: the test proves nothing";
  munmap(untouched, bytes);
}

TEST(PacketPool, RejectsBadConfig) {
  EXPECT_THROW(PacketPool({0, 2048, 128}), std::invalid_argument);
  EXPECT_THROW(PacketPool({4, 128, 128}), std::invalid_argument);
}

TEST(PacketPool, OwnsOnlyItsDescriptors) {
  PacketPool a({2, 256, 0});
  PacketPool b({2, 256, 0});
  Packet* pkt = a.alloc_one();
  EXPECT_TRUE(a.owns(pkt));
  EXPECT_FALSE(b.owns(pkt));
  Packet outside;
  EXPECT_FALSE(a.owns(&outside));
  a.free_one(pkt);
}

// Four threads allocate and free bursts concurrently. Each buffer carries an
// owner slot claimed with an exchange: a buffer handed to two threads at
// once would find the slot taken. At the end every buffer is back, once.
TEST(PacketPool, ConcurrentAllocFreeLosesAndDuplicatesNothing) {
  constexpr uint32_t kCount = 256;
  constexpr int kThreads = 4;
  constexpr int kRounds = 20000;
  PacketPool pool({kCount, 256, 64});
  std::vector<std::atomic<int>> owner(kCount);
  for (auto& o : owner) {
    o.store(-1);
  }
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> corrupted{0};
  std::atomic<uint64_t> total_allocated{0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(900);

  auto worker = [&](int id) {
    std::vector<Packet*> burst(48);
    uint32_t seed = static_cast<uint32_t>(id) * 2654435761u + 1;
    for (int round = 0; round < kRounds; ++round) {
      if ((round & 255) == 0 && std::chrono::steady_clock::now() > deadline) {
        break;
      }
      seed = seed * 1664525u + 1013904223u;
      const size_t want = 1 + (seed >> 16) % burst.size();
      const size_t got = pool.alloc(std::span<Packet*>(burst.data(), want));
      total_allocated.fetch_add(got, std::memory_order_relaxed);
      for (size_t i = 0; i < got; ++i) {
        const size_t index = burst[i]->backend_cookie;  // the pool's slot index
        if (owner[index].exchange(id) != -1) {
          duplicates.fetch_add(1);
        }
        std::memset(burst[i]->data, id, 16);
      }
      for (size_t i = 0; i < got; ++i) {
        const size_t index = burst[i]->backend_cookie;
        for (size_t b = 0; b < 16; ++b) {
          if (burst[i]->data[b] != static_cast<uint8_t>(id)) {
            corrupted.fetch_add(1);
            break;
          }
        }
        if (owner[index].exchange(-1) != id) {
          duplicates.fetch_add(1);
        }
      }
      pool.free(std::span<Packet* const>(burst.data(), got));
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back(worker, t);
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(duplicates.load(), 0u);
  EXPECT_EQ(corrupted.load(), 0u);
  EXPECT_GT(total_allocated.load(), 0u);
  ASSERT_EQ(pool.available(), kCount);

  std::vector<Packet*> all(kCount + 1);
  ASSERT_EQ(pool.alloc(all), kCount);
  EXPECT_EQ(std::set<Packet*>(all.begin(), all.begin() + kCount).size(), kCount);
  pool.free(std::span<Packet* const>(all.data(), kCount));
}

}  // namespace
}  // namespace dpdkudp
