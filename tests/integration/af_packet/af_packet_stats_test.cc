// Drop accounting: frames the kernel could not queue (PACKET_STATISTICS
// tp_drops -> rx_missed, accumulated across reads) and frames dropped for
// want of a pool buffer (rx_no_buffer). Every injected frame must be
// accounted for exactly once.
#include <gmock/gmock.h>

#include <thread>

#include "backends/af_packet/af_packet_mmap_backend.h"
#include "tests/integration/af_packet/af_packet_fixture.h"

namespace dpdkudp::test {
namespace {

using AfPacketStats = AfPacketFixture;

// A config whose kernel-side queue holds only a handful of frames.
AfPacketConfig tiny_queue(AfPacketConfig config) {
  config.socket_buffer_bytes = 8192;  // plain: a few skbs fit
  config.rx_block_size = 4096;        // mmap: two one-page blocks
  config.rx_block_count = 2;
  return config;
}

TEST_P(AfPacketStats, KernelDropsAreCountedAsMissedAndAccumulate) {
  auto backend = open_or_fail(tiny_queue(default_config()));
  ASSERT_NE(backend, nullptr);
  const Bytes frame = to_server().payload(Bytes(200, 0x5a)).udp();
  constexpr size_t kPerRound = 200;

  size_t received = 0;
  uint64_t missed_after_first = 0;
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < kPerRound; ++i) {
      inject(frame);
    }
    std::this_thread::sleep_for(50ms);  // let the veth deliver (and drop)
    received += drain(*backend, 50ms);
    const BackendStats stats = backend->stats();  // resets the kernel's counter
    if (round == 0) {
      missed_after_first = stats.rx_missed;
      EXPECT_GT(stats.rx_missed, 0u) << "the queue should have overflowed";
    } else {
      EXPECT_GT(stats.rx_missed, missed_after_first) << "not accumulated across reads";
    }
  }
  const BackendStats stats = backend->stats();
  EXPECT_EQ(stats.rx_packets, received);
  EXPECT_EQ(stats.rx_packets + stats.rx_missed, 2 * kPerRound)
      << "received " << stats.rx_packets << ", missed " << stats.rx_missed;
  EXPECT_EQ(stats.rx_no_buffer, 0u);
  EXPECT_EQ(stats.rx_errors, 0u);
  if (auto* mm = dynamic_cast<AfPacketMmapBackend*>(backend.get())) {
    EXPECT_GT(mm->ring_freezes(), 0u) << "a full V3 ring freezes";
  }
}

TEST_P(AfPacketStats, EmptyPoolDropsAreCountedAsNoBuffer) {
  AfPacketConfig config = default_config();
  config.pool_size = 16;
  auto backend = open_or_fail(config);
  ASSERT_NE(backend, nullptr);
  constexpr size_t kSent = 40;
  for (uint32_t i = 0; i < kSent; ++i) {
    inject(to_server().payload(patterned_payload(i, 40)).udp());
  }
  std::this_thread::sleep_for(50ms);

  // Hold every packet received: the pool runs dry after 16.
  std::vector<Packet*> held;
  std::array<Packet*, 64> burst{};
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (std::chrono::steady_clock::now() < deadline) {
    const BackendStats s = backend->stats();
    if (s.rx_packets + s.rx_no_buffer + s.rx_missed >= kSent) {
      break;
    }
    const size_t n = backend->rx_burst(0, burst);
    held.insert(held.end(), burst.begin(), burst.begin() + static_cast<ptrdiff_t>(n));
    std::this_thread::sleep_for(1ms);
  }
  const BackendStats stats = backend->stats();
  EXPECT_EQ(held.size(), 16u);
  EXPECT_EQ(stats.rx_packets, held.size());
  EXPECT_GT(stats.rx_no_buffer, 0u);
  EXPECT_EQ(stats.rx_packets + stats.rx_no_buffer + stats.rx_missed, kSent);
  for (size_t i = 0; i < held.size(); ++i) {
    const Bytes expected = to_server().payload(patterned_payload(static_cast<uint32_t>(i), 40)).udp();
    EXPECT_EQ(Bytes(held[i]->data, held[i]->data + held[i]->len), expected) << "frame " << i;
  }

  // Buffers back: traffic flows again.
  backend->release(held);
  inject(to_server().payload("after").udp());
  const auto frames = receive(*backend, 1);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].bytes, to_server().payload("after").udp());
}

INSTANTIATE_TEST_SUITE_P(Variants, AfPacketStats, ::testing::Values(false, true), variant_name);

}  // namespace
}  // namespace dpdkudp::test
