#include "backends/pair/pair_backend.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/unit/backends/pair_test_util.h"
#include "tests/unit/backends/test_frames.h"

namespace dpdkudp {
namespace {

using test::drain;
using test::packet_with;
using test::receive_one;
using test::send_one;

PairConfig small_config() {
  PairConfig config;
  config.pool_size = 64;
  config.ring_size = 16;
  return config;
}

bool readable(int fd, int timeout_ms = 0) {
  pollfd pfd{fd, POLLIN, 0};
  return ::poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & POLLIN) != 0;
}

// Ten frames each carrying its sequence number.
std::vector<Packet*> numbered(Backend& side, size_t count) {
  std::vector<Packet*> pkts;
  for (size_t i = 0; i < count; ++i) {
    test::Udp4Spec spec;
    spec.payload = {static_cast<uint8_t>(i), 0xee};
    pkts.push_back(packet_with(side, test::udp4_frame(spec)));
  }
  return pkts;
}

TEST(PairBackend, AdvertisesItsConfig) {
  PairConfig config = small_config();
  config.queues = 2;
  config.mtu = 1400;
  config.b.offloads = PairOffloads::all();
  auto [a, b] = make_pair(config);
  EXPECT_EQ(a->name(), "pair-a");
  EXPECT_EQ(b->name(), "pair-b");
  EXPECT_EQ(a->mac(), config.a.mac);
  EXPECT_EQ(b->mac(), config.b.mac);
  const Capabilities& ca = a->capabilities();
  EXPECT_EQ(ca.mtu, 1400u);
  EXPECT_EQ(ca.max_frame, 1418u);
  EXPECT_EQ(ca.rx_queues, 2u);
  EXPECT_EQ(ca.tx_queues, 2u);
  EXPECT_FALSE(ca.tx_udp_csum || ca.tx_ipv4_csum || ca.tx_vlan_insert);
  EXPECT_FALSE(ca.rx_l4_csum || ca.rx_ipv4_csum || ca.rx_vlan_strip);
  const Capabilities& cb = b->capabilities();
  EXPECT_TRUE(cb.tx_udp_csum && cb.tx_ipv4_csum && cb.tx_vlan_insert);
  EXPECT_TRUE(cb.rx_l4_csum && cb.rx_ipv4_csum && cb.rx_vlan_strip);
}

TEST(PairBackend, RejectsBadConfig) {
  PairConfig config = small_config();
  config.queues = 0;
  EXPECT_THROW(make_pair(config), std::invalid_argument);
  config.queues = kPairMaxQueues + 1;
  EXPECT_THROW(make_pair(config), std::invalid_argument);
  config = small_config();
  config.mtu = 9000;  // does not fit a 2048-byte buffer
  EXPECT_THROW(make_pair(config), std::invalid_argument);
  config = small_config();
  config.pool_size = 0;
  EXPECT_THROW(make_pair(config), std::invalid_argument);
}

TEST(PairBackend, FramesCrossByReferenceInOrder) {
  auto [a, b] = make_pair(small_config());
  std::vector<Packet*> sent = numbered(*a, 10);
  std::vector<std::vector<uint8_t>> bytes;
  for (Packet* p : sent) {
    bytes.push_back(test::bytes_of(p));
  }
  EXPECT_EQ(b->rx_pending(0), 0u);
  ASSERT_EQ(a->tx_burst(0, sent), 10u);
  EXPECT_EQ(b->rx_pending(0), 10u);

  std::vector<Packet*> got(16);
  ASSERT_EQ(b->rx_burst(0, std::span<Packet*>(got.data(), 4)), 4u);  // bounded by out.size()
  ASSERT_EQ(b->rx_burst(0, std::span<Packet*>(got.data() + 4, 12)), 6u);
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(got[i], sent[i]) << "same descriptor, same buffer: no copy";
    EXPECT_EQ(test::bytes_of(got[i]), bytes[i]);
    EXPECT_EQ(got[i]->queue, 0u);
  }
  EXPECT_EQ(b->rx_burst(0, got), 0u);
  EXPECT_EQ(a->rx_burst(0, got), 0u) << "nothing loops back to the sender";

  const BackendStats sa = a->stats();
  const BackendStats sb = b->stats();
  EXPECT_EQ(sa.tx_packets, 10u);
  EXPECT_EQ(sa.rx_packets, 0u);
  EXPECT_EQ(sb.rx_packets, 10u);
  EXPECT_EQ(sb.tx_packets, 0u);
  EXPECT_EQ(sb.rx_missed + sb.rx_no_buffer + sb.rx_errors + sa.tx_errors, 0u);

  b->release(std::span<Packet* const>(got.data(), 10));
  EXPECT_EQ(a->pool().available(), 64u);
}

TEST(PairBackend, BothDirectionsWork) {
  auto [a, b] = make_pair(small_config());
  ASSERT_TRUE(send_one(*b, packet_with(*b, test::arp_frame())));
  Packet* pkt = receive_one(*a);
  ASSERT_NE(pkt, nullptr);
  EXPECT_EQ(test::bytes_of(pkt), test::arp_frame());
  a->release(std::span<Packet* const>(&pkt, 1));
}

TEST(PairBackend, RingFullPushesBack) {
  PairConfig config = small_config();
  config.ring_size = 8;
  auto [a, b] = make_pair(config);
  std::vector<Packet*> sent = numbered(*a, 12);
  ASSERT_EQ(a->tx_burst(0, sent), 8u) << "the caller keeps the 4 that did not fit";
  EXPECT_EQ(b->stats().rx_missed, 1u) << "one refusal: tx_burst stops at the first";
  EXPECT_EQ(a->stats().tx_packets, 8u);

  std::vector<Packet*> got = drain(*b);
  ASSERT_EQ(got.size(), 8u);
  const std::span<Packet* const> rest(sent.data() + 8, 4);
  ASSERT_EQ(a->tx_burst(0, rest), 4u);
  std::vector<Packet*> tail = drain(*b);
  ASSERT_EQ(tail.size(), 4u);
  got.insert(got.end(), tail.begin(), tail.end());
  EXPECT_EQ(got, sent) << "order kept across the retry";
  b->release(got);
  EXPECT_EQ(a->pool().available(), 64u);
}

TEST(PairBackend, RingFullDropPolicyActsLikeAWire) {
  PairConfig config = small_config();
  config.ring_size = 8;
  config.when_full = RingFullPolicy::kDrop;
  auto [a, b] = make_pair(config);
  ASSERT_EQ(a->tx_burst(0, numbered(*a, 12)), 12u);
  EXPECT_EQ(b->stats().rx_missed, 4u);
  EXPECT_EQ(a->stats().tx_packets, 8u);
  std::vector<Packet*> got = drain(*b);
  EXPECT_EQ(got.size(), 8u);
  b->release(got);
  EXPECT_EQ(a->pool().available(), 64u) << "dropped frames went back to the pool";
}

TEST(PairBackend, SameQueueSteering) {
  PairConfig config = small_config();
  config.queues = 4;
  config.steering = RxSteering::kSameQueue;
  auto [a, b] = make_pair(config);
  for (uint16_t q = 0; q < 4; ++q) {
    ASSERT_EQ(a->tx_burst(q, numbered(*a, q + 1u)), q + 1u);
  }
  for (uint16_t q = 0; q < 4; ++q) {
    std::vector<Packet*> got = drain(*b, q);
    EXPECT_EQ(got.size(), q + 1u);
    for (Packet* p : got) {
      EXPECT_EQ(p->queue, q);
    }
    b->release(got);
  }
  EXPECT_EQ(a->stats().tx_packets, 10u);
  EXPECT_EQ(b->stats().rx_packets, 10u);
}

TEST(PairBackend, FlowHashSpreadsFlowsAndKeepsEachOnOneQueue) {
  PairConfig config = small_config();
  config.queues = 4;
  config.pool_size = 512;
  config.ring_size = 256;
  auto [a, b] = make_pair(config);
  constexpr int kFlows = 32;
  constexpr int kPerFlow = 3;
  for (int round = 0; round < kPerFlow; ++round) {
    for (int flow = 0; flow < kFlows; ++flow) {
      test::Udp4Spec spec;
      spec.src_port = static_cast<uint16_t>(10000 + flow);
      spec.payload = {static_cast<uint8_t>(flow)};
      // Any TX queue: steering depends on the flow only.
      ASSERT_TRUE(send_one(*a, packet_with(*a, test::udp4_frame(spec)), static_cast<uint16_t>(round % 4)));
    }
  }
  ASSERT_TRUE(send_one(*a, packet_with(*a, test::arp_frame()), 3));

  std::map<int, std::set<uint16_t>> queues_of_flow;
  std::set<uint16_t> used;
  size_t total = 0;
  bool arp_on_queue0 = false;
  for (uint16_t q = 0; q < 4; ++q) {
    std::vector<Packet*> got = drain(*b, q);
    total += got.size();
    for (Packet* p : got) {
      EXPECT_EQ(p->queue, q);
      if (p->len == test::arp_frame().size()) {
        arp_on_queue0 = q == 0;
        continue;
      }
      queues_of_flow[p->data[p->len - 1]].insert(q);
      used.insert(q);
    }
    b->release(got);
  }
  EXPECT_EQ(total, size_t{kFlows * kPerFlow + 1});
  EXPECT_TRUE(arp_on_queue0) << "frames without a flow go to queue 0";
  EXPECT_EQ(queues_of_flow.size(), size_t{kFlows});
  for (const auto& [flow, qs] : queues_of_flow) {
    EXPECT_EQ(qs.size(), 1u) << "flow " << flow << " split over queues";
  }
  EXPECT_GE(used.size(), 3u) << "32 flows should reach most of 4 queues";
}

TEST(PairBackend, InjectFeedsThisSidesReceiveRing) {
  PairConfig config = small_config();
  config.queues = 2;
  auto [a, b] = make_pair(config);
  const std::vector<uint8_t> junk = {1, 2, 3};  // malformed: shorter than Ethernet
  ASSERT_TRUE(b->inject(junk, 1));
  EXPECT_EQ(b->rx_burst(0, std::span<Packet*>()), 0u);
  Packet* pkt = receive_one(*b, 1);
  ASSERT_NE(pkt, nullptr);
  EXPECT_EQ(test::bytes_of(pkt), junk);
  EXPECT_EQ(pkt->queue, 1u);
  EXPECT_EQ(pkt->room, 2048u - 128u);
  b->release(std::span<Packet* const>(&pkt, 1));
  EXPECT_EQ(b->stats().rx_packets, 1u);
  EXPECT_EQ(a->stats().tx_packets, 0u);
}

TEST(PairBackend, InjectCountsEveryFailure) {
  PairConfig config = small_config();
  config.pool_size = 4;
  config.ring_size = 2;
  auto [a, b] = make_pair(config);
  const std::vector<uint8_t> frame = test::arp_frame();
  EXPECT_TRUE(b->inject(frame));
  EXPECT_TRUE(b->inject(frame));
  EXPECT_FALSE(b->inject(frame)) << "ring full";
  EXPECT_EQ(b->stats().rx_missed, 1u);
  EXPECT_EQ(b->pool().available(), 2u) << "the refused copy went back";

  std::vector<Packet*> held(2);
  ASSERT_EQ(a->alloc(held), 2u);
  std::vector<Packet*> got = drain(*b);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(b->inject(frame)) << "pool empty";
  EXPECT_EQ(b->stats().rx_no_buffer, 1u);

  b->release(got);
  const std::vector<uint8_t> huge(2048 - 128 + 1, 0);
  EXPECT_FALSE(b->inject(huge)) << "larger than a buffer";
  EXPECT_EQ(b->stats().rx_errors, 1u);
  a->release(held);
  EXPECT_EQ(a->pool().available(), 4u);
}

TEST(PairBackend, FaultDropsEveryNthFrame) {
  auto [a, b] = make_pair(small_config());
  a->set_faults({.drop_every_nth_tx = 3});
  EXPECT_EQ(a->faults().drop_every_nth_tx, 3u);
  std::vector<Packet*> sent = numbered(*a, 9);
  ASSERT_EQ(a->tx_burst(0, sent), 9u) << "dropped frames count as taken";
  std::vector<Packet*> got = drain(*b);
  ASSERT_EQ(got.size(), 6u);
  // Frames 3, 6, 9 (1-based) vanished.
  const std::vector<uint8_t> expect_seq = {0, 1, 3, 4, 6, 7};
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i]->data[got[i]->len - 2], expect_seq[i]);
  }
  EXPECT_EQ(a->stats().tx_errors, 3u);
  EXPECT_EQ(a->stats().tx_packets, 6u);
  b->release(got);
  EXPECT_EQ(a->pool().available(), 64u);

  a->set_faults({});
  ASSERT_EQ(a->tx_burst(0, numbered(*a, 6)), 6u);
  got = drain(*b);
  EXPECT_EQ(got.size(), 6u);
  b->release(got);
  EXPECT_EQ(a->stats().tx_errors, 3u);
}

TEST(PairBackend, MulticastMacsAreCountedPerSide) {
  auto [a, b] = make_pair(small_config());
  const MacAddr group1 = {0x01, 0x00, 0x5e, 0x01, 0x02, 0x03};
  const MacAddr group2 = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x16};
  EXPECT_TRUE(a->multicast_macs().empty());

  // Two ons of one address need two offs; another address is apart.
  EXPECT_EQ(a->set_multicast_mac(group1, true), 0);
  EXPECT_EQ(a->set_multicast_mac(group1, true), 0);
  EXPECT_EQ(a->set_multicast_mac(group2, true), 0);
  EXPECT_EQ(a->multicast_refs(group1), 2u);
  EXPECT_EQ(a->multicast_refs(group2), 1u);
  EXPECT_EQ(a->multicast_macs(), (std::vector<MacAddr>{group2, group1}));  // in order
  EXPECT_TRUE(b->multicast_macs().empty()) << "the other side joined nothing";

  EXPECT_EQ(a->set_multicast_mac(group1, false), 0);
  EXPECT_EQ(a->multicast_refs(group1), 1u);
  EXPECT_EQ(a->multicast_macs(), (std::vector<MacAddr>{group2, group1}));
  EXPECT_EQ(a->set_multicast_mac(group1, false), 0);
  EXPECT_EQ(a->multicast_refs(group1), 0u);
  EXPECT_EQ(a->multicast_macs(), (std::vector<MacAddr>{group2}));

  // An off more than there were ons, as the kernel answers it.
  EXPECT_EQ(a->set_multicast_mac(group1, false), -EADDRNOTAVAIL);
  EXPECT_EQ(a->multicast_macs(), (std::vector<MacAddr>{group2}));
  EXPECT_EQ(a->set_multicast_mac(group2, false), 0);
  EXPECT_TRUE(a->multicast_macs().empty());
}

TEST(PairBackend, MulticastRefusesUnicastAndFailsOnDemand) {
  auto [a, b] = make_pair(small_config());
  const MacAddr group = {0x01, 0x00, 0x5e, 0x7f, 0x00, 0x01};
  EXPECT_EQ(a->set_multicast_mac(b->mac(), true), -EINVAL);
  EXPECT_EQ(a->set_multicast_mac(b->mac(), false), -EINVAL);
  EXPECT_TRUE(a->multicast_macs().empty());

  a->set_faults({.multicast_error = -EOPNOTSUPP});
  EXPECT_EQ(a->faults().multicast_error, -EOPNOTSUPP);
  EXPECT_EQ(a->set_multicast_mac(group, true), -EOPNOTSUPP);
  EXPECT_TRUE(a->multicast_macs().empty()) << "a refused on records nothing";
  a->set_faults({});
  EXPECT_EQ(a->set_multicast_mac(group, true), 0);
  a->set_faults({.multicast_error = -ENOMEM});
  EXPECT_EQ(a->set_multicast_mac(group, false), -ENOMEM);
  EXPECT_EQ(a->multicast_refs(group), 1u) << "a refused off changes nothing";
  a->set_faults({});
  EXPECT_EQ(a->set_multicast_mac(group, false), 0);
  EXPECT_TRUE(a->multicast_macs().empty());
}

TEST(PairBackend, MulticastFromManyThreads) {
  auto [a, b] = make_pair(small_config());
  constexpr int kThreads = 4;
  constexpr int kRounds = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&a = a, t] {
      const MacAddr mine = {0x01, 0x00, 0x5e, 0x00, 0x00, static_cast<uint8_t>(t)};
      const MacAddr shared = {0x01, 0x00, 0x5e, 0x01, 0x01, 0x01};
      for (int i = 0; i < kRounds; ++i) {
        EXPECT_EQ(a->set_multicast_mac(mine, true), 0);
        EXPECT_EQ(a->set_multicast_mac(shared, true), 0);
        EXPECT_EQ(a->set_multicast_mac(mine, false), 0);
        EXPECT_EQ(a->set_multicast_mac(shared, false), 0);
      }
      EXPECT_EQ(a->set_multicast_mac(shared, true), 0);
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(a->multicast_macs(), (std::vector<MacAddr>{{0x01, 0x00, 0x5e, 0x01, 0x01, 0x01}}));
  EXPECT_EQ(a->multicast_refs({0x01, 0x00, 0x5e, 0x01, 0x01, 0x01}), static_cast<uint32_t>(kThreads));
}

TEST(PairBackend, FaultPatternSurvivesBackPressure) {
  PairConfig config = small_config();
  config.ring_size = 2;
  auto [a, b] = make_pair(config);
  a->set_faults({.drop_every_nth_tx = 2});
  std::vector<Packet*> sent = numbered(*a, 6);
  // Frames 1, 3 cross (2 and 4 dropped), 5 is refused by the full ring.
  ASSERT_EQ(a->tx_burst(0, sent), 4u);
  std::vector<Packet*> got = drain(*b);
  ASSERT_EQ(got.size(), 2u);
  // Retrying 5 and 6: 5 is the 5th frame seen (kept), 6 the 6th (dropped).
  ASSERT_EQ(a->tx_burst(0, std::span<Packet* const>(sent.data() + 4, 2)), 2u);
  std::vector<Packet*> tail = drain(*b);
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0], sent[4]);
  EXPECT_EQ(a->stats().tx_errors, 3u);
  b->release(got);
  b->release(tail);
}

TEST(PairBackend, OversizeFrameIsATxError) {
  PairConfig config = small_config();
  config.mtu = 100;
  auto [a, b] = make_pair(config);
  std::vector<uint8_t> frame(100 + 18 + 1, 0);
  EXPECT_TRUE(send_one(*a, packet_with(*a, frame))) << "taken, then dropped";
  EXPECT_EQ(a->stats().tx_errors, 1u);
  frame.resize(100 + 18);
  EXPECT_TRUE(send_one(*a, packet_with(*a, frame)));
  std::vector<Packet*> got = drain(*b);
  EXPECT_EQ(got.size(), 1u);
  b->release(got);
  EXPECT_EQ(a->pool().available(), 64u);
}

TEST(PairBackend, ReceiveClearsTheSendersDescriptorFields) {
  auto [a, b] = make_pair(small_config());
  Packet* pkt = packet_with(*a, test::arp_frame(), kTxUdpCsum, 14, 20, 99);
  pkt->meta.payload_len = 1234;
  pkt->rx_flags = kRxL4CsumGood;
  pkt->next = pkt;
  ASSERT_TRUE(send_one(*a, pkt));  // a advertises no offload: flags ignored
  Packet* got = receive_one(*b);
  ASSERT_EQ(got, pkt);
  EXPECT_EQ(test::bytes_of(got), test::arp_frame());
  EXPECT_EQ(got->tx_flags, 0u);
  EXPECT_EQ(got->rx_flags, 0u);
  EXPECT_EQ(got->vlan_tci, 0u);
  EXPECT_EQ(got->l2_len, 0u);
  EXPECT_EQ(got->next, nullptr);
  EXPECT_EQ(got->meta.payload_len, 0u);
  b->release(std::span<Packet* const>(&got, 1));
}

TEST(PairBackend, EachSideOutlivesTheOther) {
  auto pair = make_pair(small_config());
  ASSERT_TRUE(send_one(*pair.a, packet_with(*pair.a, test::arp_frame())));
  pair.a.reset();
  Packet* pkt = receive_one(*pair.b);
  ASSERT_NE(pkt, nullptr);
  pair.b->release(std::span<Packet* const>(&pkt, 1));
  EXPECT_TRUE(pair.b->inject(test::arp_frame()));
}

// --- wake-up protocol -----------------------------------------------------

TEST(PairBackendWait, NoWakeWhenNotArmed) {
  auto [a, b] = make_pair(small_config());
  const int fd = b->wait_fd(0);
  ASSERT_GE(fd, 0);
  EXPECT_FALSE(readable(fd));
  ASSERT_TRUE(send_one(*a, packet_with(*a, test::arp_frame())));
  EXPECT_FALSE(readable(fd)) << "nobody armed: no syscall, no wake-up";
  b->release(drain(*b));
}

TEST(PairBackendWait, ArmedQueueWakesOnEmptyToNonEmpty) {
  auto [a, b] = make_pair(small_config());
  const int fd = b->wait_fd(0);
  b->arm_wait(0);
  EXPECT_FALSE(readable(fd)) << "armed and still empty";
  ASSERT_TRUE(send_one(*a, packet_with(*a, test::arp_frame())));
  EXPECT_TRUE(readable(fd));

  std::vector<Packet*> got = drain(*b);  // ends with an empty rx_burst
  EXPECT_EQ(got.size(), 1u);
  b->release(got);
  EXPECT_FALSE(readable(fd)) << "the empty rx_burst cleared it";

  // The flag was consumed: a second frame without re-arming does not wake.
  ASSERT_TRUE(send_one(*a, packet_with(*a, test::arp_frame())));
  EXPECT_FALSE(readable(fd));
  b->release(drain(*b));
}

TEST(PairBackendWait, ArmingWithFramesWaitingWakesAtOnce) {
  auto [a, b] = make_pair(small_config());
  ASSERT_TRUE(send_one(*a, packet_with(*a, test::arp_frame())));
  b->arm_wait(0);
  EXPECT_TRUE(readable(b->wait_fd(0))) << "a frame that beat the arming is not slept through";
  b->release(drain(*b));
  EXPECT_FALSE(readable(b->wait_fd(0)));
}

TEST(PairBackendWait, InjectWakesToo) {
  auto [a, b] = make_pair(small_config());
  a->arm_wait(0);
  ASSERT_TRUE(a->inject(test::arp_frame()));
  EXPECT_TRUE(readable(a->wait_fd(0)));
  a->release(drain(*a));
}

TEST(PairBackendWait, RearmingClearsAStaleWakeUp) {
  auto [a, b] = make_pair(small_config());
  b->arm_wait(0);
  ASSERT_TRUE(send_one(*a, packet_with(*a, test::arp_frame())));
  ASSERT_TRUE(readable(b->wait_fd(0)));
  Packet* pkt = receive_one(*b);  // non-empty burst: fd stays readable
  b->release(std::span<Packet* const>(&pkt, 1));
  b->arm_wait(0);
  EXPECT_FALSE(readable(b->wait_fd(0))) << "ring empty again: no spurious wake-up";
}

TEST(PairBackendWait, QueuesWakeIndependently) {
  PairConfig config = small_config();
  config.queues = 2;
  config.steering = RxSteering::kSameQueue;
  auto [a, b] = make_pair(config);
  b->arm_wait(0);
  b->arm_wait(1);
  ASSERT_NE(b->wait_fd(0), b->wait_fd(1));
  ASSERT_TRUE(send_one(*a, packet_with(*a, test::arp_frame()), 1));
  EXPECT_FALSE(readable(b->wait_fd(0)));
  EXPECT_TRUE(readable(b->wait_fd(1)));
  b->release(drain(*b, 1));
}

TEST(PairBackendWait, SleepingPollerIsWokenByAnotherThread) {
  auto [a, b] = make_pair(small_config());
  std::atomic<bool> woke{false};
  std::atomic<size_t> received{0};
  std::thread poller([&, rx = b.get()] {
    for (int attempt = 0; attempt < 20 && received.load() == 0; ++attempt) {
      std::vector<Packet*> got = drain(*rx);
      if (!got.empty()) {
        received = got.size();
        rx->release(got);
        break;
      }
      rx->arm_wait(0);
      if (readable(rx->wait_fd(0), 100)) {
        woke = true;
      }
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(send_one(*a, packet_with(*a, test::arp_frame())));
  poller.join();
  EXPECT_TRUE(woke.load());
  EXPECT_EQ(received.load(), 1u);
}

// Producers on several TX queues race a consumer that sleeps whenever its
// queues look empty: every frame must arrive, the sleeper never needs its
// timeout to notice one (a lost wake-up would show as a timed-out poll with
// frames waiting), and it is not woken for nothing.
TEST(PairBackendWait, NoLostWakeUpsUnderConcurrency) {
  PairConfig config;
  config.queues = 2;
  config.steering = RxSteering::kSameQueue;
  config.pool_size = 1024;
  config.ring_size = 64;
  auto [a, b] = make_pair(config);
  constexpr int kPerProducer = 3000;
  constexpr int kProducers = 2;
  std::atomic<int> received{0};
  std::atomic<int> lost_wakeups{0};
  std::atomic<int> spurious_wakeups{0};
  std::atomic<bool> done{false};

  // Producer q sends on a's TX queue q, which kSameQueue maps to b's RX
  // queue q; the consumer sleeps on both.
  std::thread consumer([&, rx = b.get()] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    Packet* burst[32];
    while (received.load() < kPerProducer * kProducers && std::chrono::steady_clock::now() < deadline) {
      size_t n = 0;
      for (uint16_t q = 0; q < kProducers; ++q) {
        const size_t got = rx->rx_burst(q, burst);
        rx->release(std::span<Packet* const>(burst, got));
        n += got;
      }
      if (n != 0) {
        received += static_cast<int>(n);
        continue;
      }
      rx->arm_wait(0);
      rx->arm_wait(1);
      pollfd pfds[2] = {{rx->wait_fd(0), POLLIN, 0}, {rx->wait_fd(1), POLLIN, 0}};
      const bool woken = ::poll(pfds, 2, 200) > 0;
      const bool frames_waiting = rx->rx_pending(0) + rx->rx_pending(1) != 0;
      if (!woken && frames_waiting) {
        lost_wakeups.fetch_add(1);
      }
      if (woken && !frames_waiting) {
        spurious_wakeups.fetch_add(1);
      }
    }
    done = true;
  });
  std::vector<std::thread> producers;
  for (uint16_t q = 0; q < kProducers; ++q) {
    producers.emplace_back([&, q, tx = a.get()] {
      int sent = 0;
      std::vector<Packet*> pending;
      while (sent < kPerProducer && !done.load()) {
        if (pending.empty()) {
          const int want = std::min(8, kPerProducer - sent);
          pending.resize(static_cast<size_t>(want));
          pending.resize(tx->alloc(pending));
          for (Packet* p : pending) {
            p->len = 60;
          }
        }
        const size_t took = tx->tx_burst(q, pending);
        sent += static_cast<int>(took);
        pending.erase(pending.begin(), pending.begin() + static_cast<ptrdiff_t>(took));
        if (took == 0) {
          std::this_thread::yield();
        }
      }
      tx->release(pending);
    });
  }
  for (auto& t : producers) {
    t.join();
  }
  consumer.join();
  EXPECT_EQ(received.load(), kPerProducer * kProducers);
  EXPECT_EQ(lost_wakeups.load(), 0);
  // A readable fd with nothing behind it would send a sleeper round a busy
  // loop; the wake-up accounting should make it (next to) impossible.
  EXPECT_LE(spurious_wakeups.load(), 10);
  EXPECT_EQ(b->pool().available(), 1024u);
}

}  // namespace
}  // namespace dpdkudp
