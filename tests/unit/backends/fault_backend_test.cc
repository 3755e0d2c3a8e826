// The fault-injecting backend over the in-memory pair: each fault does what
// it says to the frames, at its rate, the same way for the same seed; held
// frames come out (and wake a sleeper) when due; nothing leaks.
#include "backends/fault/fault_backend.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <cerrno>
#include <chrono>
#include <thread>
#include <vector>

#include "backends/pair/pair_backend.h"
#include "tests/unit/backends/pair_test_util.h"
#include "tests/unit/backends/test_frames.h"

namespace dpdkudp::test {
namespace {

// Frames numbered by their first payload byte pair.
// partial: the checksums left for the device (see udp4_frame).
std::vector<uint8_t> numbered(uint16_t i, bool partial = false) {
  Udp4Spec s;
  s.payload = {static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i), 'x', 'y', 'z', 'w'};
  s.partial = partial;
  return udp4_frame(s);
}
uint16_t number_of(const Packet* p) {
  const size_t at = kEthLen + kIpv4Len + kUdpLen;
  return static_cast<uint16_t>(p->data[at] << 8 | p->data[at + 1]);
}

// Whether one damaged byte past the Ethernet header of got (a copy of
// want, an untagged IPv4/UDP frame, damaged) is caught by the IPv4 header
// or UDP checksum, each summed over want's geometry (the damage may have
// hit a length field: the frame's own lengths cannot be trusted). A UDP
// checksum field turned to zero ("none") leaves the data intact.
bool damage_caught(std::span<const uint8_t> got, std::span<const uint8_t> want) {
  const size_t ip = kEthLen, udp = kEthLen + kIpv4Len;
  const uint16_t udp_len = get16(want, udp + 4);
  const bool ip_ok = ones_sum(got.subspan(ip, kIpv4Len)) == 0xffff;
  uint16_t sum = ones_sum(got.subspan(ip + 12, 8));
  sum = ones_add(sum, 17);
  sum = ones_add(sum, udp_len);
  const bool udp_ok = get16(got, udp + 6) == 0 || ones_sum(got.subspan(udp, udp_len), sum) == 0xffff;
  return !ip_ok || !udp_ok || get16(got, udp + 6) == 0;
}

// Offsets where got differs from want (same length).
std::vector<size_t> differing(std::span<const uint8_t> got, std::span<const uint8_t> want) {
  std::vector<size_t> at;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i]) at.push_back(i);
  }
  return at;
}

struct FaultPair {
  explicit FaultPair(const FaultSpec& spec, PairConfig config = {}) : pair(make_pair(config)) {
    initial_free = pair.a->pool().available();
    // The receiving side wrapped (RX faults) and the sending side wrapped
    // (TX faults): b's RX sees a's TX through both.
    tx = std::make_unique<FaultBackend>(std::move(pair.a), tx_only(spec));
    rx = std::make_unique<FaultBackend>(std::move(pair.b), rx_only(spec));
  }
  static FaultSpec tx_only(FaultSpec s) {
    s.rx = {};
    return s;
  }
  static FaultSpec rx_only(FaultSpec s) {
    s.tx = {};
    return s;
  }
  // Sends frames numbered from..to-1 (all taken).
  void send(uint16_t from, uint16_t to) {
    for (uint16_t i = from; i < to; ++i) {
      Packet* p = packet_with(*tx, numbered(i));
      ASSERT_NE(p, nullptr);
      ASSERT_TRUE(send_one(*tx, p));
    }
  }
  // Receives everything there is now; returns the numbers, releases.
  std::vector<uint16_t> receive_all(std::vector<std::vector<uint8_t>>* bytes = nullptr) {
    std::vector<uint16_t> got;
    for (Packet* p : drain(*rx)) {
      got.push_back(number_of(p));
      if (bytes != nullptr) bytes->push_back(bytes_of(p));
      rx->release({&p, 1});
    }
    return got;
  }
  size_t in_use() { return initial_free - pool->available(); }

  BackendPair pair;
  PacketPool* pool = &pair.a->pool();
  size_t initial_free = 0;
  std::unique_ptr<FaultBackend> tx, rx;
};

FaultSpec with(bool rx, FaultKind k, double p, uint64_t seed = 1) {
  FaultSpec s;
  (rx ? s.rx : s.tx).p[static_cast<size_t>(k)] = p;
  s.seed = seed;
  return s;
}

TEST(FaultBackend, MulticastMacsReachTheWrappedBackend) {
  FaultPair f(with(true, FaultKind::kDrop, 1.0));
  auto& inner = static_cast<PairBackend&>(f.rx->inner());
  const MacAddr group = {0x01, 0x00, 0x5e, 0x01, 0x02, 0x03};
  EXPECT_EQ(f.rx->set_multicast_mac(group, true), 0);
  EXPECT_EQ(f.rx->set_multicast_mac(group, true), 0);
  EXPECT_EQ(inner.multicast_refs(group), 2u);
  EXPECT_EQ(f.rx->set_multicast_mac(group, false), 0);
  EXPECT_EQ(f.rx->set_multicast_mac(group, false), 0);
  EXPECT_TRUE(inner.multicast_macs().empty());
  // The wrapped backend's answers come back as they are.
  EXPECT_EQ(f.rx->set_multicast_mac(group, false), -EADDRNOTAVAIL);
  inner.set_faults({.multicast_error = -EOPNOTSUPP});
  EXPECT_EQ(f.rx->set_multicast_mac(group, true), -EOPNOTSUPP);
}

TEST(FaultBackend, NoFaultsPassesEverythingInOrder) {
  FaultPair f(FaultSpec{});
  f.send(0, 200);
  auto got = f.receive_all();
  ASSERT_EQ(got.size(), 200u);
  for (uint16_t i = 0; i < 200; ++i) EXPECT_EQ(got[i], i);
  FaultCounts c = f.rx->counts();
  for (size_t k = 0; k < kFaultKinds; ++k) EXPECT_EQ(c.rx[k] + c.tx[k], 0u);
  EXPECT_EQ(f.in_use(), 0u);
}

TEST(FaultBackend, DropsAtItsRateCountedAndReleased) {
  for (bool rx : {true, false}) {
    FaultPair f(with(rx, FaultKind::kDrop, 0.25, 7));
    std::vector<uint16_t> got;
    for (uint16_t i = 0; i < 2000; i += 100) {  // within the pair's ring
      f.send(i, static_cast<uint16_t>(i + 100));
      auto more = f.receive_all();
      got.insert(got.end(), more.begin(), more.end());
    }
    const uint64_t dropped = rx ? f.rx->counts().rx[0] : f.tx->counts().tx[0];
    EXPECT_EQ(got.size() + dropped, 2000u) << (rx ? "rx" : "tx");
    EXPECT_GT(dropped, 400u);  // 500 expected; far outside chance otherwise
    EXPECT_LT(dropped, 600u);
    EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
    EXPECT_EQ(f.in_use(), 0u) << "a dropped frame's buffer was not returned";
  }
}

TEST(FaultBackend, TheSameSeedGivesTheSameFates) {
  auto run = [](uint64_t seed) {
    FaultSpec s;
    s.rx.p = {0.1, 0.1, 0.1, 0, 0.1, 0.1};
    s.seed = seed;
    FaultPair f(s);
    f.send(0, 500);
    std::vector<std::vector<uint8_t>> bytes;
    f.receive_all(&bytes);
    return bytes;
  };
  EXPECT_EQ(run(3), run(3));
  EXPECT_NE(run(3), run(4));
}

TEST(FaultBackend, DuplicatesComeRightAfterTheOriginal) {
  for (bool rx : {true, false}) {
    FaultPair f(with(rx, FaultKind::kDuplicate, 1.0));
    f.send(0, 100);
    auto got = f.receive_all();
    ASSERT_EQ(got.size(), 200u);
    for (uint16_t i = 0; i < 100; ++i) {
      EXPECT_EQ(got[2 * i], i);
      EXPECT_EQ(got[2 * i + 1], i);
    }
    EXPECT_EQ((rx ? f.rx->counts().rx : f.tx->counts().tx)[1], 100u);
    EXPECT_EQ(f.in_use(), 0u);
  }
}

TEST(FaultBackend, AReorderedFrameGoesAfterTheNext) {
  for (bool rx : {true, false}) {
    FaultPair f(with(rx, FaultKind::kReorder, 1.0));
    f.send(0, 10);
    auto got = f.receive_all();
    // Every other frame is held (one at a time) and passed by the next.
    EXPECT_EQ(got, (std::vector<uint16_t>{1, 0, 3, 2, 5, 4, 7, 6, 9, 8})) << (rx ? "rx" : "tx");
  }
}

TEST(FaultBackend, AHeldFrameWithNoneAfterItGoesWhenDue) {
  FaultSpec s = with(true, FaultKind::kReorder, 1.0);
  s.delay_us = 20'000;
  FaultPair f(s);
  f.send(0, 1);
  EXPECT_TRUE(f.receive_all().empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(f.receive_all(), std::vector<uint16_t>{0});
}

TEST(FaultBackend, DelayedFramesComeOutWhenDueAndWakeASleeper) {
  for (bool rx : {true, false}) {
    FaultSpec s = with(rx, FaultKind::kDelay, 1.0);
    s.delay_us = 30'000;
    FaultPair f(s);
    const auto start = std::chrono::steady_clock::now();
    f.send(0, 5);
    EXPECT_TRUE(f.receive_all().empty());
    // Asleep on the wait fd: woken by the timer, not by a frame.
    f.rx->arm_wait(0);
    pollfd pfd{f.rx->wait_fd(0), POLLIN, 0};
    ASSERT_GE(pfd.fd, 0);
    std::vector<uint16_t> got;
    for (int i = 0; i < 20 && got.size() < 5; ++i) {
      f.rx->arm_wait(0);
      f.tx->arm_wait(0);
      ASSERT_GE(poll(&pfd, 1, 200), 0);
      // TX held frames go out from the sender's rx_burst (its poller).
      Packet* none[4];
      EXPECT_EQ(f.tx->rx_burst(0, none), 0u);
      auto more = f.receive_all();
      got.insert(got.end(), more.begin(), more.end());
    }
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(got, (std::vector<uint16_t>{0, 1, 2, 3, 4})) << (rx ? "rx" : "tx");
    EXPECT_GE(waited, std::chrono::milliseconds(29));
    EXPECT_LT(waited, std::chrono::seconds(2));
    EXPECT_EQ(f.in_use(), 0u);
  }
}

TEST(FaultBackend, CorruptionChangesOneByteAndClearsTheDevicesVerdicts) {
  PairConfig config;
  config.b.offloads = PairOffloads::all();  // b's device verifies checksums
  FaultPair f(with(true, FaultKind::kCorrupt, 1.0), config);
  f.send(0, 300);
  std::vector<Packet*> all = drain(*f.rx);
  ASSERT_EQ(all.size(), 300u);
  size_t caught = 0, in_headers = 0;
  for (size_t n = 0; n < all.size(); ++n) {
    Packet* p = all[n];
    const std::vector<uint8_t> want = numbered(static_cast<uint16_t>(n));
    const std::vector<uint8_t> got = bytes_of(p);
    ASSERT_EQ(got.size(), want.size());
    const std::vector<size_t> differ = differing(got, want);
    ASSERT_EQ(differ.size(), 1u) << "frame " << n;
    EXPECT_EQ(p->rx_flags & (kRxIpv4CsumGood | kRxL4CsumGood | kRxIpv4CsumBad | kRxL4CsumBad), 0u);
    if (differ[0] < kEthLen) {
      ++in_headers;  // the MACs or the type: no checksum covers them
    } else {
      // Past the Ethernet header every damaged byte is caught by a checksum.
      EXPECT_TRUE(damage_caught(got, want)) << "byte " << differ[0];
      ++caught;
    }
    f.rx->release({&p, 1});
  }
  EXPECT_EQ(caught + in_headers, 300u);
  EXPECT_EQ(f.rx->counts().rx[5], 300u);
}

TEST(FaultBackend, TxCorruptionHappensAfterTheChecksumsTheDeviceFillsIn) {
  PairConfig config;
  config.a.offloads = PairOffloads::all();  // a's device fills checksums in
  FaultPair f(with(false, FaultKind::kCorrupt, 1.0), config);
  for (uint16_t i = 0; i < 300; ++i) {
    Packet* p = packet_with(*f.tx, numbered(i, true), kTxIpv4Csum | kTxUdpCsum, kEthLen, kIpv4Len);
    ASSERT_TRUE(send_one(*f.tx, p));
  }
  std::vector<Packet*> all = drain(*f.rx);
  ASSERT_EQ(all.size(), 300u);
  size_t caught = 0;
  for (size_t n = 0; n < all.size(); ++n) {
    Packet* p = all[n];
    // What the device would have sent: the checksums complete.
    const std::vector<uint8_t> want = numbered(static_cast<uint16_t>(n));
    const std::vector<uint8_t> got = bytes_of(p);
    ASSERT_EQ(got.size(), want.size());
    const std::vector<size_t> differ = differing(got, want);
    ASSERT_EQ(differ.size(), 1u) << "frame " << n << ": damage before the checksums were filled in";
    if (differ[0] >= kEthLen) {
      EXPECT_TRUE(damage_caught(got, want)) << "byte " << differ[0];
      ++caught;
    }
    f.rx->release({&p, 1});
  }
  EXPECT_GT(caught, 200u);  // the rest hit the Ethernet header
  EXPECT_EQ(f.tx->stats().tx_errors, 0u);
}

// No checksum covers ARP: a corrupted ARP frame is dropped (a real link's
// frame check sequence drops it), never passed on with a flipped sender
// MAC for the peer to cache. Counted as corrupted, both ways.
TEST(FaultBackend, CorruptedArpIsDroppedNotPassedOn) {
  for (bool rx : {true, false}) {
    FaultPair f(with(rx, FaultKind::kCorrupt, 1.0));
    std::vector<uint8_t> arp(42, 0);
    for (int i = 0; i < 6; ++i) arp[i] = 0xff;
    arp[6] = 0x02;
    arp[12] = 0x08;
    arp[13] = 0x06;
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(send_one(*f.tx, packet_with(*f.tx, arp)));
    f.send(0, 10);  // and IPv4 frames still arrive, damaged
    std::vector<Packet*> all = drain(*f.rx);
    EXPECT_EQ(all.size(), 10u) << (rx ? "rx" : "tx");
    for (Packet* p : all) {
      EXPECT_FALSE(p->data[12] == 0x08 && p->data[13] == 0x06);
      f.rx->release({&p, 1});
    }
    const FaultCounts c = rx ? f.rx->counts() : f.tx->counts();
    EXPECT_EQ((rx ? c.rx : c.tx)[5], 30u);
    EXPECT_EQ(f.in_use(), 0u) << "a dropped ARP frame went back to the pool";
  }
}

TEST(FaultBackend, TruncationShortensTheFrame) {
  FaultPair f(with(true, FaultKind::kTruncate, 1.0));
  f.send(0, 100);
  const size_t full = numbered(0).size();
  std::vector<Packet*> all = drain(*f.rx);
  ASSERT_EQ(all.size(), 100u);
  for (Packet* p : all) {
    EXPECT_LT(p->len, full);
    f.rx->release({&p, 1});
  }
  EXPECT_EQ(f.rx->counts().rx[4], 100u);
}

TEST(FaultBackend, HeldFramesAreReturnedWhenTheLinkGoesDown) {
  FaultSpec s;
  s.rx.p[static_cast<size_t>(FaultKind::kDelay)] = 1.0;
  s.tx.p[static_cast<size_t>(FaultKind::kDelay)] = 1.0;
  s.delay_us = 10'000'000;
  FaultPair f(s);
  f.send(0, 50);
  EXPECT_TRUE(f.receive_all().empty());  // delayed on TX
  EXPECT_GT(f.in_use(), 0u);
  // (The pool goes with the last side: it is looked at while both live.)
  f.tx->release_held();
  f.rx->release_held();
  EXPECT_EQ(f.in_use(), 0u);
}

}  // namespace
}  // namespace dpdkudp::test
