// DpdkBackend over virtual devices (dpdk_test_env.h): open/close, the
// Packet in the mbuf's private area, zero-copy round trips, offload fields
// and their software fallback, counters, multi-queue, failure paths.
#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "backends/dpdk/dpdk.h"
#include "backends/dpdk/dpdk_backend.h"
#include "backends/dpdk/rte.h"
#include "tests/support/packets.h"
#include "tests/unit/dpdk/dpdk_test_env.h"

namespace dpdkudp::test {
namespace {

std::unique_ptr<DpdkBackend> open_or_fail(const DpdkConfig& config) {
  std::string error;
  auto backend = DpdkBackend::open(config, &error);
  EXPECT_NE(backend, nullptr) << error;
  return backend;
}

// Copies frame into a fresh buffer of backend and sets len.
Packet* make_frame(Backend& backend, const Bytes& frame) {
  Packet* pkt = nullptr;
  if (backend.alloc({&pkt, 1}) != 1) {
    ADD_FAILURE() << "pool empty";
    return nullptr;
  }
  EXPECT_LE(frame.size(), pkt->room);
  std::memcpy(pkt->data, frame.data(), frame.size());
  pkt->len = static_cast<uint32_t>(frame.size());
  return pkt;
}

// Receives until count frames came or 200 polls found nothing.
std::vector<Packet*> receive(Backend& backend, uint16_t queue, size_t count) {
  std::vector<Packet*> got;
  std::array<Packet*, 32> burst{};
  for (int idle = 0; got.size() < count && idle < 200;) {
    const size_t n = backend.rx_burst(queue, burst);
    got.insert(got.end(), burst.begin(), burst.begin() + static_cast<std::ptrdiff_t>(n));
    idle = n == 0 ? idle + 1 : 0;
  }
  return got;
}

Bytes bytes_of(const Packet* pkt) { return Bytes(pkt->data, pkt->data + pkt->len); }

Bytes udp_frame(size_t payload_len, uint32_t seq = 0) {
  Bytes payload(payload_len);
  for (size_t i = 0; i < payload_len; ++i) {
    payload[i] = static_cast<uint8_t>((i * 7 + seq * 13) & 0xff);
  }
  return FrameBuilder().payload(payload).udp();
}

TEST(DpdkBackend, OpenReportsTheDevice) {
  auto b = open_or_fail(test_config(dpdk_env().ring_port));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->name(), "dpdk");
  const Capabilities& caps = b->capabilities();
  EXPECT_EQ(caps.rx_queues, 1);
  EXPECT_EQ(caps.tx_queues, 1);
  EXPECT_EQ(caps.mtu, 1500u);
  EXPECT_EQ(caps.max_frame, 1518u);
  // net_ring has no checksum or VLAN offload: none claimed.
  EXPECT_FALSE(caps.rx_ipv4_csum || caps.rx_l4_csum || caps.tx_ipv4_csum || caps.tx_udp_csum || caps.rx_vlan_strip ||
               caps.tx_vlan_insert);
  EXPECT_EQ(b->wait_fd(0), -1);
  EXPECT_EQ(b->device_name(), "net_ring0");
  EXPECT_EQ(b->driver_name(), "net_ring");
  EXPECT_TRUE(DpdkBackend::port_open(dpdk_env().ring_port));
  EXPECT_EQ(describe_dpdk_offloads(*b), "rx: none; tx: none");
  const std::string desc = describe_dpdk_backend(*b);
  EXPECT_NE(desc.find("port " + std::to_string(dpdk_env().ring_port) + " (net_ring0, net_ring)"), std::string::npos)
      << desc;
  EXPECT_NE(desc.find("4095 mbufs"), std::string::npos) << desc;
  b.reset();
  EXPECT_FALSE(DpdkBackend::port_open(dpdk_env().ring_port));
}

TEST(DpdkBackend, ThePublicFactoryMakesADpdkBackend) {
  std::string error;
  std::unique_ptr<Backend> b = open_dpdk(test_config(dpdk_env().ring_port), &error);
  ASSERT_NE(b, nullptr) << error;
  EXPECT_NE(dynamic_cast<DpdkBackend*>(b.get()), nullptr);
  EXPECT_FALSE(describe_dpdk_backend(*b).empty());
  EXPECT_EQ(dpdk_queue_stats(*b).size(), 1u);
}

TEST(DpdkBackend, PacketLivesInTheMbufPrivateArea) {
  auto b = open_or_fail(test_config(dpdk_env().ring_port));
  ASSERT_NE(b, nullptr);
  const uint32_t available = b->pool_available();
  std::array<Packet*, 100> pkts{};
  ASSERT_EQ(b->alloc(pkts), pkts.size());
  EXPECT_EQ(b->pool_available(), available - pkts.size());
  for (Packet* pkt : pkts) {
    rte_mbuf* m = DpdkBackend::mbuf_of(pkt);
    ASSERT_EQ(static_cast<void*>(pkt), rte_mbuf_to_priv(m));
    EXPECT_EQ(pkt->backend_cookie, reinterpret_cast<uintptr_t>(m));
    EXPECT_EQ(m->pool, b->pool());
    EXPECT_EQ(pkt->data, rte_pktmbuf_mtod(m, uint8_t*));
    EXPECT_EQ(pkt->data - static_cast<uint8_t*>(m->buf_addr), RTE_PKTMBUF_HEADROOM);
    EXPECT_EQ(pkt->room, rte_pktmbuf_tailroom(m));
    EXPECT_GE(pkt->room, b->capabilities().max_frame);
    EXPECT_EQ(pkt->len, 0u);
    EXPECT_EQ(pkt->tx_flags, 0u);
    EXPECT_EQ(pkt->rx_flags, 0u);
    EXPECT_EQ(pkt->next, nullptr);
    // Writable over its whole room.
    std::memset(pkt->data, 0xa5, pkt->room);
  }
  b->release(pkts);
  EXPECT_EQ(b->pool_available(), available);
}

TEST(DpdkBackend, AllocGivesWhatIsLeftWhenThePoolRunsLow) {
  DpdkConfig config = test_config(dpdk_env().ring_port);
  config.pool_size = 1023;
  auto b = open_or_fail(config);
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(b->pool_size(), 1023u);
  std::vector<Packet*> all;
  std::array<Packet*, 64> burst{};
  for (int i = 0; i < 40; ++i) {
    const size_t n = b->alloc(burst);
    all.insert(all.end(), burst.begin(), burst.begin() + static_cast<std::ptrdiff_t>(n));
  }
  // No per-lcore cache on a non-EAL thread: every mbuf, no more.
  EXPECT_EQ(all.size(), 1023u);
  EXPECT_EQ(b->alloc(burst), 0u);
  b->release(all);
  EXPECT_EQ(b->pool_available(), 1023u);
}

TEST(DpdkBackend, LoopbackRoundTripIsZeroCopy) {
  auto b = open_or_fail(test_config(dpdk_env().ring_port));
  ASSERT_NE(b, nullptr);
  const BackendStats before = b->stats();
  std::vector<Packet*> sent;
  std::vector<Bytes> frames;
  for (size_t size : {0u, 1u, 18u, 100u, 1000u, 1472u}) {
    frames.push_back(udp_frame(size, static_cast<uint32_t>(size)));
    sent.push_back(make_frame(*b, frames.back()));
    ASSERT_NE(sent.back(), nullptr);
  }
  ASSERT_EQ(b->tx_burst(0, sent), sent.size());
  std::vector<Packet*> got = receive(*b, 0, sent.size());
  ASSERT_EQ(got.size(), sent.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i], sent[i]) << "not the same buffer: a copy was made";
    EXPECT_EQ(bytes_of(got[i]), frames[i]);
    EXPECT_TRUE(check_udp_frame(bytes_of(got[i])));
    EXPECT_EQ(got[i]->queue, 0);
    EXPECT_EQ(got[i]->rx_flags, 0u);
    EXPECT_EQ(got[i]->tx_flags, 0u);
    EXPECT_EQ(got[i]->next, nullptr);
    EXPECT_EQ(got[i]->room, rte_pktmbuf_tailroom(DpdkBackend::mbuf_of(got[i])) + got[i]->len);
  }
  b->release(got);
  const BackendStats after = b->stats();
  EXPECT_EQ(after.tx_packets - before.tx_packets, sent.size());
  EXPECT_EQ(after.rx_packets - before.rx_packets, sent.size());
  EXPECT_EQ(after.tx_errors, before.tx_errors);
}

TEST(DpdkBackend, CrossedPairDeliversToTheOtherPort) {
  auto a = open_or_fail(test_config(dpdk_env().pair_a));
  auto b = open_or_fail(test_config(dpdk_env().pair_b));
  ASSERT_TRUE(a && b);
  std::vector<Packet*> sent;
  for (uint32_t i = 0; i < 200; ++i) {
    sent.push_back(make_frame(*a, udp_frame(i * 7 % 1472, i)));
  }
  size_t done = 0;
  while (done < sent.size()) {
    done += a->tx_burst(0, std::span<Packet* const>(sent).subspan(done));
  }
  EXPECT_TRUE(receive(*a, 0, 1).empty()) << "a received its own frame";
  std::vector<Packet*> got = receive(*b, 0, sent.size());
  ASSERT_EQ(got.size(), sent.size());
  for (uint32_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(bytes_of(got[i]), udp_frame(i * 7 % 1472, i)) << i;
  }
  // b gives back mbufs of a's pool: each returns to its own pool.
  const uint32_t a_free = a->pool_available();
  b->release(got);
  EXPECT_EQ(a->pool_available(), a_free + got.size());
}

TEST(DpdkBackend, RxFromMbufsTheDriverAllocated) {
  // net_null makes its RX frames from the queue's pool: the Packet in
  // their private area was set up when the pool was made.
  auto b = open_or_fail(test_config(dpdk_env().null_port));
  ASSERT_NE(b, nullptr);
  const uint32_t available = b->pool_available();
  std::array<Packet*, 32> burst{};
  const size_t n = b->rx_burst(0, burst);
  ASSERT_GT(n, 0u);
  for (size_t i = 0; i < n; ++i) {
    rte_mbuf* m = DpdkBackend::mbuf_of(burst[i]);
    EXPECT_EQ(m->pool, b->pool());
    EXPECT_EQ(burst[i]->data, rte_pktmbuf_mtod(m, uint8_t*));
    EXPECT_EQ(burst[i]->len, 64u);
    EXPECT_EQ(burst[i]->backend_cookie, reinterpret_cast<uintptr_t>(m));
  }
  // TX takes them all (net_null frees them).
  EXPECT_EQ(b->tx_burst(0, std::span<Packet* const>(burst.data(), n)), n);
  EXPECT_EQ(b->pool_available(), available);
  EXPECT_GE(b->stats().rx_packets, n);
  EXPECT_GE(b->stats().tx_packets, n);
}

TEST(DpdkBackend, RxPacketFromOlFlags) {
  auto b = open_or_fail(test_config(dpdk_env().ring_port));
  ASSERT_NE(b, nullptr);
  Packet* pkt = nullptr;
  ASSERT_EQ(b->alloc({&pkt, 1}), 1u);
  rte_mbuf* m = DpdkBackend::mbuf_of(pkt);
  pkt->meta.src_addr = 0xdeadbeef;  // stale metadata from a previous life
  pkt->next = pkt;
  pkt->tx_flags = kTxUdpCsum;
  m->data_off = RTE_PKTMBUF_HEADROOM + 2;
  m->data_len = 60;
  m->pkt_len = 60;
  m->ol_flags =
      RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED | RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_BAD;
  m->vlan_tci = 0x0abc;
  Packet* rx = DpdkBackend::rx_packet(m, 3);
  EXPECT_EQ(rx, pkt);
  EXPECT_EQ(rx->data, static_cast<uint8_t*>(m->buf_addr) + RTE_PKTMBUF_HEADROOM + 2);
  EXPECT_EQ(rx->len, 60u);
  EXPECT_EQ(rx->room, m->buf_len - RTE_PKTMBUF_HEADROOM - 2u);
  EXPECT_EQ(rx->rx_flags, kRxVlanStripped | kRxIpv4CsumGood | kRxL4CsumBad);
  EXPECT_EQ(rx->vlan_tci, 0x0abc);
  EXPECT_EQ(rx->queue, 3);
  EXPECT_EQ(rx->tx_flags, 0u);
  EXPECT_EQ(rx->next, nullptr);
  EXPECT_EQ(rx->meta.src_addr, 0u);
  // Without VLAN_STRIPPED the TCI is not taken.
  m->ol_flags = RTE_MBUF_F_RX_VLAN;
  EXPECT_EQ(DpdkBackend::rx_packet(m, 0)->vlan_tci, 0);
  b->release({&pkt, 1});
}

TEST(DpdkBackend, HardwareOffloadFieldsMatchWhatDpdkExpects) {
  auto b = open_or_fail(test_config(dpdk_env().ring_port));
  ASSERT_NE(b, nullptr);
  // A frame as the stack leaves it when the device does the checksums:
  // IPv4 checksum 0, UDP field = pseudo-header sum, not inverted.
  const Bytes frame =
      FrameBuilder().payload("offloaded").ipv4_checksum(false).udp_checksum(wire::ChecksumMode::kPseudoHeader).udp();
  ASSERT_TRUE(check_udp_frame(frame, {ipv4::ChecksumLeftToDevice(), udp::PseudoHeaderChecksum()}));
  Packet* pkt = make_frame(*b, frame);
  ASSERT_NE(pkt, nullptr);
  pkt->tx_flags = kTxIpv4Csum | kTxUdpCsum | kTxVlanInsert;
  pkt->l2_len = 14;
  pkt->l3_len = 20;
  pkt->vlan_tci = 0x2007;
  rte_mbuf* m = DpdkBackend::mbuf_of(pkt);
  DpdkBackend::set_tx_fields(*m, *pkt, pkt->tx_flags);
  EXPECT_EQ(m->ol_flags, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM | RTE_MBUF_F_TX_VLAN);
  EXPECT_EQ(m->l2_len, 14u);
  EXPECT_EQ(m->l3_len, 20u);
  EXPECT_EQ(m->l4_len, 8u);
  EXPECT_EQ(m->vlan_tci, 0x2007);
  EXPECT_EQ(m->data_len, frame.size());
  EXPECT_EQ(m->pkt_len, frame.size());
  EXPECT_EQ(m->nb_segs, 1);
  EXPECT_EQ(rte_pktmbuf_mtod(m, uint8_t*), pkt->data);

  // What an Intel-style driver's tx_prepare writes (rte_ipv4_phdr_cksum)
  // is exactly what the stack wrote: nothing changes.
  const Bytes before = bytes_of(pkt);
  ASSERT_EQ(rte_net_intel_cksum_prepare(m), 0);
  EXPECT_EQ(bytes_of(pkt), before);

  // Only some flags in hardware: only those in ol_flags.
  DpdkBackend::set_tx_fields(*m, *pkt, kTxUdpCsum);
  EXPECT_EQ(m->ol_flags, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM);
  EXPECT_EQ(m->vlan_tci, 0);
  DpdkBackend::set_tx_fields(*m, *pkt, 0);
  EXPECT_EQ(m->ol_flags, 0u);

  // A frame that starts before the headroom (a tag written in front).
  pkt->data -= 4;
  pkt->len += 4;
  DpdkBackend::set_tx_fields(*m, *pkt, 0);
  EXPECT_EQ(m->data_off, RTE_PKTMBUF_HEADROOM - 4);
  EXPECT_EQ(m->data_len, frame.size() + 4);
  b->release({&pkt, 1});
}

TEST(DpdkBackend, OffloadsTheDeviceLacksAreDoneInSoftware) {
  auto b = open_or_fail(test_config(dpdk_env().ring_port));
  ASSERT_NE(b, nullptr);
  const Bytes frame = FrameBuilder()
                          .payload("software checksums")
                          .ipv4_checksum(false)
                          .udp_checksum(wire::ChecksumMode::kPseudoHeader)
                          .udp();
  Packet* pkt = make_frame(*b, frame);
  ASSERT_NE(pkt, nullptr);
  pkt->tx_flags = kTxIpv4Csum | kTxUdpCsum;
  pkt->l2_len = 14;
  pkt->l3_len = 20;
  Packet* tagged = make_frame(*b, frame);
  ASSERT_NE(tagged, nullptr);
  tagged->tx_flags = kTxIpv4Csum | kTxUdpCsum | kTxVlanInsert;
  tagged->l2_len = 14;
  tagged->l3_len = 20;
  tagged->vlan_tci = 0x0123;
  std::array<Packet*, 2> both{pkt, tagged};
  ASSERT_EQ(b->tx_burst(0, both), 2u);
  auto got = receive(*b, 0, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(check_udp_frame(bytes_of(got[0]), {eth::Untagged(), Payload("software checksums")}));
  EXPECT_TRUE(check_udp_frame(bytes_of(got[1]), {eth::VlanTci(0x0123), Payload("software checksums")}));
  // Nothing asked of a device that cannot do it.
  EXPECT_EQ(DpdkBackend::mbuf_of(got[1])->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, 0u);
  b->release(got);
}

TEST(DpdkBackend, MalformedTxFramesAreTakenAndCounted) {
  auto b = open_or_fail(test_config(dpdk_env().ring_port));
  ASSERT_NE(b, nullptr);
  const uint64_t errors = b->stats().tx_errors;
  const uint32_t available = b->pool_available();
  std::vector<Packet*> burst;
  burst.push_back(make_frame(*b, udp_frame(10, 1)));
  burst.push_back(make_frame(*b, Bytes(5, 0)));  // shorter than Ethernet
  burst.push_back(make_frame(*b, udp_frame(20, 2)));
  Packet* bad_offload = make_frame(*b, udp_frame(30, 3));
  bad_offload->tx_flags = kTxUdpCsum;  // headers beyond the frame
  bad_offload->l2_len = 14;
  bad_offload->l3_len = 200;
  burst.push_back(bad_offload);
  Packet* too_long = make_frame(*b, udp_frame(40, 4));
  too_long->len = b->capabilities().max_frame + 1;  // over the MTU
  burst.push_back(too_long);
  burst.push_back(make_frame(*b, udp_frame(50, 5)));
  ASSERT_EQ(b->tx_burst(0, burst), burst.size());
  auto got = receive(*b, 0, 4);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(bytes_of(got[0]), udp_frame(10, 1));
  EXPECT_EQ(bytes_of(got[1]), udp_frame(20, 2));
  EXPECT_EQ(bytes_of(got[2]), udp_frame(50, 5));
  EXPECT_EQ(b->stats().tx_errors - errors, 3u);
  b->release(got);
  EXPECT_EQ(b->pool_available(), available);
}

TEST(DpdkBackend, QueueOutOfRangeMovesNothing) {
  auto b = open_or_fail(test_config(dpdk_env().ring_port));
  ASSERT_NE(b, nullptr);
  Packet* pkt = make_frame(*b, udp_frame(10));
  EXPECT_EQ(b->tx_burst(1, {&pkt, 1}), 0u);  // still ours
  std::array<Packet*, 4> out{};
  EXPECT_EQ(b->rx_burst(1, out), 0u);
  b->release({&pkt, 1});
}

TEST(DpdkBackend, MultiQueueKeepsQueuesApart) {
  DpdkConfig config = test_config(dpdk_env().ring_port);
  config.queues = 4;
  config.rx_ring = 256;
  config.tx_ring = 256;
  auto b = open_or_fail(config);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->capabilities().rx_queues, 4);
  EXPECT_EQ(b->capabilities().tx_queues, 4);
  // net_ring has no RSS: said, not hidden.
  bool warned = false;
  for (const std::string& line : logged_lines()) {
    warned = warned || line.find("no RSS") != std::string::npos;
  }
  EXPECT_TRUE(warned);
  std::vector<Packet*> sent;
  for (uint32_t i = 0; i < 10; ++i) {
    sent.push_back(make_frame(*b, udp_frame(i, i)));
  }
  ASSERT_EQ(b->tx_burst(2, sent), sent.size());
  EXPECT_TRUE(receive(*b, 0, 1).empty());
  auto got = receive(*b, 2, sent.size());
  ASSERT_EQ(got.size(), sent.size());
  for (Packet* pkt : got) {
    EXPECT_EQ(pkt->queue, 2);
  }
  b->release(got);
  const auto qs = b->queue_stats();
  ASSERT_EQ(qs.size(), 4u);
  EXPECT_EQ(qs[2].tx_packets, sent.size());
  EXPECT_EQ(qs[2].rx_packets, sent.size());
  EXPECT_EQ(qs[0].tx_packets, 0u);
}

TEST(DpdkBackend, QueuesClampedToTheDevice) {
  DpdkConfig config = test_config(dpdk_env().ring_port);
  config.queues = 64;  // net_ring has 16
  config.rx_ring = 64;
  config.tx_ring = 64;
  auto b = open_or_fail(config);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->capabilities().rx_queues, 16);
}

TEST(DpdkBackend, RssOnADeviceThatHasIt) {
  DpdkConfig config = test_config(dpdk_env().null_port);
  config.queues = 2;
  auto b = open_or_fail(config);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->capabilities().rx_queues, 2);
  EXPECT_NE(b->describe().find("2 queue(s) with RSS"), std::string::npos) << b->describe();
}

TEST(DpdkBackend, JumboMtu) {
  DpdkConfig config = test_config(dpdk_env().ring_port);
  config.mtu = 9000;
  auto b = open_or_fail(config);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->capabilities().mtu, 9000u);
  EXPECT_EQ(b->capabilities().max_frame, 9018u);
  Packet* pkt = nullptr;
  ASSERT_EQ(b->alloc({&pkt, 1}), 1u);
  EXPECT_GE(pkt->room, 9018u);
  const Bytes big = udp_frame(8972);
  std::memcpy(pkt->data, big.data(), big.size());
  pkt->len = static_cast<uint32_t>(big.size());
  ASSERT_EQ(b->tx_burst(0, {&pkt, 1}), 1u);
  auto got = receive(*b, 0, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(bytes_of(got[0]), big);
  b->release(got);
}

TEST(DpdkBackend, CloseAndReopenReusesThePool) {
  auto first = open_or_fail(test_config(dpdk_env().ring_port));
  ASSERT_NE(first, nullptr);
  rte_mempool* pool = first->pool();
  first.reset();
  auto second = open_or_fail(test_config(dpdk_env().ring_port));
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->pool(), pool);
  EXPECT_EQ(second->pool_available(), second->pool_size());
}

TEST(DpdkBackend, FailurePaths) {
  std::string error;
  DpdkConfig config = test_config(77);
  EXPECT_EQ(open_dpdk(config, &error), nullptr);
  EXPECT_EQ(error, "dpdk: DPDKUDP_DPDK_PORT=77: only 4 port(s) (ids 0 1 2 3)");

  auto open = open_or_fail(test_config(dpdk_env().ring_port));
  ASSERT_NE(open, nullptr);
  EXPECT_EQ(open_dpdk(test_config(dpdk_env().ring_port), &error), nullptr);
  EXPECT_EQ(error,
            "dpdk: port " + std::to_string(dpdk_env().ring_port) + " (net_ring0) is already open in this process");
  open.reset();

  config = test_config(dpdk_env().ring_port);
  config.mtu = 9500;
  EXPECT_EQ(open_dpdk(config, &error), nullptr);
  EXPECT_NE(error.find("MTU 9500 outside 68..9000"), std::string::npos) << error;
  // A failed open leaves the port free.
  EXPECT_FALSE(DpdkBackend::port_open(dpdk_env().ring_port));

  config = test_config(dpdk_env().ring_port);
  config.pool_size = 1u << 30;  // far more than 256 MiB
  EXPECT_EQ(open_dpdk(config, &error), nullptr);
  EXPECT_NE(error.find("cannot allocate 1073741824 mbufs"), std::string::npos) << error;
  EXPECT_FALSE(DpdkBackend::port_open(dpdk_env().ring_port));
  // And nullptr for error is fine.
  EXPECT_EQ(open_dpdk(config, nullptr), nullptr);
}

// net_ring has no multicast list (set_mc_addr_list: -ENOTSUP) and starts
// in all-multicast mode: the backend has nothing to turn on or off, and
// only counts.
TEST(DpdkBackend, MulticastOnAPortAlreadyAllMulticastOnlyCounts) {
  const uint16_t port = dpdk_env().ring_port;
  ASSERT_EQ(rte_eth_allmulticast_get(port), 1) << "net_ring starts all-multicast";
  auto b = open_or_fail(test_config(port));
  ASSERT_NE(b, nullptr);
  const MacAddr group = {0x01, 0x00, 0x5e, 0x01, 0x02, 0x03};
  EXPECT_EQ(b->set_multicast_mac(group, true), 0);
  EXPECT_EQ(b->set_multicast_mac(group, true), 0);
  EXPECT_EQ(b->set_multicast_mac(group, false), 0);
  EXPECT_EQ(b->set_multicast_mac(group, false), 0);
  EXPECT_EQ(rte_eth_allmulticast_get(port), 1) << "left as it was found";
  EXPECT_EQ(b->set_multicast_mac(group, false), -EADDRNOTAVAIL) << "an off without an on";
  EXPECT_EQ(b->set_multicast_mac(b->mac(), true), -EINVAL) << "a unicast address";
  EXPECT_EQ(b->set_multicast_mac(group, true), 0);
  b.reset();
  EXPECT_EQ(rte_eth_allmulticast_get(port), 1) << "closing with a group joined";
}

// The same device with all-multicast off when the port opens: it is turned
// on with the first group and off with the last (or at close).
TEST(DpdkBackend, MulticastFallsBackToAllMulticast) {
  const uint16_t port = dpdk_env().ring_port;
  ASSERT_EQ(rte_eth_allmulticast_disable(port), 0);
  struct Restore {
    uint16_t port;
    ~Restore() { rte_eth_allmulticast_enable(port); }  // as the other tests expect it
  } restore{port};
  auto b = open_or_fail(test_config(port));
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(rte_eth_allmulticast_get(port), 0);
  ASSERT_EQ(rte_eth_promiscuous_get(port), 0);
  const MacAddr g1 = {0x01, 0x00, 0x5e, 0x01, 0x02, 0x03};
  const MacAddr g2 = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x16};
  EXPECT_EQ(b->set_multicast_mac(g1, true), 0);
  EXPECT_EQ(rte_eth_allmulticast_get(port), 1);
  EXPECT_EQ(b->set_multicast_mac(g2, true), 0);
  EXPECT_EQ(b->set_multicast_mac(g1, true), 0);
  EXPECT_EQ(b->set_multicast_mac(g1, false), 0);
  EXPECT_EQ(b->set_multicast_mac(g1, false), 0);
  EXPECT_EQ(rte_eth_allmulticast_get(port), 1) << "g2 is still joined";
  EXPECT_EQ(b->set_multicast_mac(g2, false), 0);
  EXPECT_EQ(rte_eth_allmulticast_get(port), 0) << "the last group left";
  EXPECT_EQ(b->set_multicast_mac(g2, false), -EADDRNOTAVAIL);
  EXPECT_EQ(rte_eth_allmulticast_get(port), 0);

  // Closed with a group joined: the port is left as the open found it.
  EXPECT_EQ(b->set_multicast_mac(g1, true), 0);
  EXPECT_EQ(rte_eth_allmulticast_get(port), 1);
  b.reset();
  EXPECT_EQ(rte_eth_allmulticast_get(port), 0);
}

TEST(DpdkBackend, MulticastFromManyThreads) {
  const uint16_t port = dpdk_env().ring_port;
  ASSERT_EQ(rte_eth_allmulticast_disable(port), 0);
  struct Restore {
    uint16_t port;
    ~Restore() { rte_eth_allmulticast_enable(port); }
  } restore{port};
  auto b = open_or_fail(test_config(port));
  ASSERT_NE(b, nullptr);
  std::vector<std::thread> threads;
  for (uint8_t t = 0; t < 4; ++t) {
    threads.emplace_back([&b, t] {
      const MacAddr mine = {0x01, 0x00, 0x5e, 0x00, 0x00, t};
      for (int i = 0; i < 200; ++i) {
        EXPECT_EQ(b->set_multicast_mac(mine, true), 0);
        EXPECT_EQ(b->set_multicast_mac(mine, false), 0);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(rte_eth_allmulticast_get(port), 0) << "every group left";
}

TEST(DpdkBackend, ListPorts) {
  auto b = open_or_fail(test_config(dpdk_env().null_port));
  std::string error;
  const auto ports = list_dpdk_ports(dpdk_env().eal_args, &error);
  ASSERT_EQ(ports.size(), 4u) << error;
  const DpdkPortInfo& ring = ports[dpdk_env().ring_port];
  EXPECT_EQ(ring.device, "net_ring0");
  EXPECT_EQ(ring.driver, "net_ring");
  EXPECT_EQ(ring.max_rx_queues, 16);
  EXPECT_FALSE(ring.open);
  const DpdkPortInfo& null = ports[dpdk_env().null_port];
  EXPECT_EQ(null.driver, "net_null");
  EXPECT_TRUE(null.open);
  EXPECT_TRUE(null.link_up);
  const std::string text = to_string(ring);
  EXPECT_NE(text.find("net_ring0 (driver net_ring)"), std::string::npos) << text;
  EXPECT_NE(text.find("rx offloads: SCATTER"), std::string::npos) << text;
}

}  // namespace
}  // namespace dpdkudp::test
