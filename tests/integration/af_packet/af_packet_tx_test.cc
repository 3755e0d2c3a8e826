// Transmitting: hand-built frames reach a kernel UDP socket in the client
// namespace; malformed ones are taken, dropped and counted; a full mmap TX
// ring takes fewer frames and the caller keeps the rest.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gmock/gmock.h>

#include <cstring>

#include "backends/af_packet/af_packet_mmap_backend.h"
#include "tests/integration/af_packet/af_packet_fixture.h"

namespace dpdkudp::test {
namespace {

using AfPacketTx = AfPacketFixture;

constexpr uint16_t kServerPort = 4000;
constexpr uint16_t kClientPort = 6000;

// One buffer from the backend holding frame.
Packet* packet_with(Backend& backend, std::span<const uint8_t> frame) {
  Packet* pkt = nullptr;
  if (backend.alloc(std::span<Packet*>(&pkt, 1)) != 1) {
    ADD_FAILURE() << "backend pool empty";
    return nullptr;
  }
  EXPECT_LE(frame.size(), pkt->room);
  std::memcpy(pkt->data, frame.data(), frame.size());
  pkt->len = static_cast<uint32_t>(frame.size());
  return pkt;
}

struct Datagram {
  Bytes payload;
  wire::Ipv4Addr src;
  uint16_t src_port = 0;
};

// recvfrom with the socket's 2 s timeout; nullopt when nothing came.
std::optional<Datagram> receive_datagram(int fd) {
  Bytes buf(65536);
  sockaddr_in from{};
  socklen_t from_len = sizeof(from);
  const ssize_t n = ::recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
  if (n < 0) {
    return std::nullopt;
  }
  buf.resize(static_cast<size_t>(n));
  return Datagram{buf, wire::Ipv4Addr(ntohl(from.sin_addr.s_addr)), ntohs(from.sin_port)};
}

TEST_P(AfPacketTx, FrameReachesAKernelSocket) {
  auto backend = open_or_fail(default_config());
  ASSERT_NE(backend, nullptr);
  const int fd = client_udp(kClientPort);
  ASSERT_GE(fd, 0);
  const Bytes frame = to_client().src_port(kServerPort).dst_port(kClientPort).payload("hello from the backend").udp();
  Packet* pkt = packet_with(*backend, frame);
  ASSERT_NE(pkt, nullptr);
  EXPECT_EQ(backend->tx_burst(0, std::span<Packet* const>(&pkt, 1)), 1u);

  const auto got = receive_datagram(fd);
  ASSERT_TRUE(got.has_value()) << "the kernel socket received nothing";
  EXPECT_EQ(got->payload, to_bytes("hello from the backend"));
  EXPECT_EQ(got->src, net_.server_ip);
  EXPECT_EQ(got->src_port, kServerPort);
  const BackendStats stats = backend->stats();
  EXPECT_EQ(stats.tx_packets, 1u);
  EXPECT_EQ(stats.tx_errors, 0u);
}

TEST_P(AfPacketTx, ABurstOfSixtyFourArrivesInOrder) {
  auto backend = open_or_fail(default_config());
  ASSERT_NE(backend, nullptr);
  const int fd = client_udp(kClientPort);
  ASSERT_GE(fd, 0);
  std::vector<Packet*> pkts;
  for (uint32_t i = 0; i < 64; ++i) {
    pkts.push_back(
        packet_with(*backend, to_client().dst_port(kClientPort).payload(patterned_payload(i, 20 + i * 20)).udp()));
    ASSERT_NE(pkts.back(), nullptr);
  }
  EXPECT_EQ(backend->tx_burst(0, pkts), 64u);
  for (uint32_t i = 0; i < 64; ++i) {
    const auto got = receive_datagram(fd);
    ASSERT_TRUE(got.has_value()) << "datagram " << i << " missing";
    EXPECT_EQ(got->payload, patterned_payload(i, 20 + i * 20)) << "datagram " << i;
  }
}

TEST_P(AfPacketTx, MalformedFramesAreTakenDroppedAndCounted) {
  auto backend = open_or_fail(default_config());
  ASSERT_NE(backend, nullptr);
  const int fd = client_udp(kClientPort);
  ASSERT_GE(fd, 0);
  const Bytes good = to_client().dst_port(kClientPort).payload("good").udp();
  Packet* too_short = packet_with(*backend, Bytes(10, 0xab));
  Packet* ok1 = packet_with(*backend, good);
  Packet* too_long = packet_with(*backend, to_client().payload(Bytes(1473, 1)).udp());
  too_long->len = backend->capabilities().max_frame + 1;  // past the MTU allowance
  Packet* wants_offload = packet_with(*backend, good);
  wants_offload->tx_flags = kTxUdpCsum;  // not offered in capabilities
  Packet* ok2 = packet_with(*backend, good);
  std::vector<Packet*> pkts = {too_short, ok1, too_long, wants_offload, ok2};

  EXPECT_EQ(backend->tx_burst(0, pkts), pkts.size());  // all taken
  for (int i = 0; i < 2; ++i) {
    const auto got = receive_datagram(fd);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->payload, to_bytes("good"));
  }
  const BackendStats stats = backend->stats();
  EXPECT_EQ(stats.tx_packets, 2u);
  EXPECT_EQ(stats.tx_errors, 3u);
}

TEST_P(AfPacketTx, TakenBuffersGoBackToThePool) {
  AfPacketConfig config = default_config();
  config.pool_size = 128;
  auto backend = open_or_fail(config);
  ASSERT_NE(backend, nullptr);
  // Ten rounds of the whole pool: a leak would run it dry.
  const Bytes frame = to_client().dst_port(9).payload("x").udp();
  for (int round = 0; round < 10; ++round) {
    std::vector<Packet*> pkts(128);
    ASSERT_EQ(backend->alloc(pkts), 128u) << "round " << round;
    for (Packet* pkt : pkts) {
      std::memcpy(pkt->data, frame.data(), frame.size());
      pkt->len = static_cast<uint32_t>(frame.size());
    }
    size_t sent = 0;
    for (int tries = 0; sent < pkts.size() && tries < 1000; ++tries) {
      sent += backend->tx_burst(0, std::span<Packet* const>(pkts).subspan(sent));
    }
    ASSERT_EQ(sent, pkts.size());
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, AfPacketTx, ::testing::Values(false, true), variant_name);

class AfPacketMmapTx : public AfPacketFixture {};

TEST_P(AfPacketMmapTx, FullRingTakesFewerAndTheRestFollow) {
  AfPacketConfig config = default_config();
  config.tx_frame_count = 8;
  auto backend = open_or_fail(config);
  ASSERT_NE(backend, nullptr);
  auto* mm = dynamic_cast<AfPacketMmapBackend*>(backend.get());
  ASSERT_NE(mm, nullptr);
  ASSERT_EQ(mm->tx_ring_frames(), 8u);
  const int fd = client_udp(kClientPort);
  ASSERT_GE(fd, 0);

  std::vector<Packet*> pkts;
  for (uint32_t i = 0; i < 20; ++i) {
    pkts.push_back(packet_with(*backend, to_client().dst_port(kClientPort).payload(patterned_payload(i, 64)).udp()));
  }
  // The ring has 8 slots and the kick comes after filling: one burst can
  // take at most 8.
  const size_t first = backend->tx_burst(0, pkts);
  EXPECT_EQ(first, 8u);
  size_t sent = first;
  for (int tries = 0; sent < pkts.size() && tries < 1000; ++tries) {
    sent += backend->tx_burst(0, std::span<Packet* const>(pkts).subspan(sent));
  }
  ASSERT_EQ(sent, pkts.size());
  for (uint32_t i = 0; i < 20; ++i) {
    const auto got = receive_datagram(fd);
    ASSERT_TRUE(got.has_value()) << "datagram " << i << " missing";
    EXPECT_EQ(got->payload, patterned_payload(i, 64)) << "datagram " << i;
  }
  EXPECT_EQ(backend->stats().tx_packets, 20u);
}

INSTANTIATE_TEST_SUITE_P(Variants, AfPacketMmapTx, ::testing::Values(true), variant_name);

}  // namespace
}  // namespace dpdkudp::test
