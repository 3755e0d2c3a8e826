#include "backends/common/mpmc_ring.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace dpdkudp::common {
namespace {

TEST(BoundedMpmcRing, CapacityIsAPowerOfTwoOfAtLeastTwo) {
  EXPECT_EQ(BoundedMpmcRing<int>(0).capacity(), 2u);
  EXPECT_EQ(BoundedMpmcRing<int>(1).capacity(), 2u);
  EXPECT_EQ(BoundedMpmcRing<int>(5).capacity(), 8u);
  EXPECT_EQ(BoundedMpmcRing<int>(1024).capacity(), 1024u);
}

TEST(BoundedMpmcRing, FifoFullAndEmpty) {
  BoundedMpmcRing<int> ring(4);
  int out = 0;
  EXPECT_FALSE(ring.try_pop(out));
  for (int lap = 0; lap < 3; ++lap) {  // wrap around a few times
    for (int i = 0; i < 4; ++i) {
      EXPECT_TRUE(ring.try_push(lap * 10 + i));
    }
    EXPECT_FALSE(ring.try_push(99));
    EXPECT_EQ(ring.size_approx(), 4u);
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(ring.try_pop(out));
      EXPECT_EQ(out, lap * 10 + i);
    }
    EXPECT_FALSE(ring.try_pop(out));
  }
}

TEST(BoundedMpmcRing, PushWithRunsOnlyWhenThereIsRoom) {
  BoundedMpmcRing<int> ring(2);
  int calls = 0;
  auto make = [&calls] { return ++calls; };
  EXPECT_TRUE(ring.try_push_with(make));
  EXPECT_TRUE(ring.try_push_with(make));
  EXPECT_FALSE(ring.try_push_with(make));
  EXPECT_EQ(calls, 2);
}

TEST(BoundedMpmcRing, SingleConsumerBurst) {
  BoundedMpmcRing<int> ring(8);
  std::vector<int> out(5);
  EXPECT_FALSE(ring.ready_single_consumer());
  EXPECT_EQ(ring.pop_burst_single_consumer(out), 0u);
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(ring.try_push(i));
  }
  EXPECT_TRUE(ring.ready_single_consumer());
  ASSERT_EQ(ring.pop_burst_single_consumer(out), 5u);
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2, 3, 4}));
  ASSERT_EQ(ring.pop_burst_single_consumer(out), 2u);
  EXPECT_EQ(out[0], 5);
  EXPECT_EQ(out[1], 6);
  EXPECT_FALSE(ring.ready_single_consumer());
}

// Three producers, one burst consumer: nothing lost, each producer's values
// arrive in the order it pushed them.
TEST(BoundedMpmcRing, ManyProducersOneConsumerKeepPerProducerOrder) {
  constexpr int kProducers = 3;
  constexpr uint32_t kEach = 50000;
  BoundedMpmcRing<uint64_t> ring(64);
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&ring, p] {
      for (uint32_t i = 0; i < kEach;) {
        if (ring.try_push(uint64_t(p) << 32 | i)) {
          ++i;
        } else {
          std::this_thread::yield();
        }
      }
    });
  }
  std::vector<uint32_t> next(kProducers, 0);
  uint64_t received = 0;
  bool in_order = true;
  std::vector<uint64_t> burst(16);
  while (received < uint64_t{kProducers} * kEach) {
    const size_t n = ring.pop_burst_single_consumer(burst);
    for (size_t i = 0; i < n; ++i) {
      const auto producer = static_cast<size_t>(burst[i] >> 32);
      const auto seq = static_cast<uint32_t>(burst[i]);
      in_order = in_order && producer < next.size() && seq == next[producer];
      if (producer < next.size()) {
        next[producer] = seq + 1;
      }
    }
    received += n;
    if (n == 0) {
      std::this_thread::yield();
    }
  }
  for (auto& t : producers) {
    t.join();
  }
  EXPECT_TRUE(in_order);
  EXPECT_EQ(received, uint64_t{kProducers} * kEach);
}

}  // namespace
}  // namespace dpdkudp::common
