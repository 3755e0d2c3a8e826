// Receiving: frames from a kernel UDP socket and from a raw injector in the
// client namespace come out of rx_burst byte for byte, with the kernel's
// checksum and VLAN facts as flags; wait_fd wakes a sleeping poller.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "tests/integration/af_packet/af_packet_fixture.h"

namespace dpdkudp::test {
namespace {

using Clock = std::chrono::steady_clock;
using AfPacketRx = AfPacketFixture;

constexpr uint16_t kServerPort = 4000;

TEST_P(AfPacketRx, KernelUdpDatagramsArriveIntact) {
  auto backend = open_or_fail(default_config());
  ASSERT_NE(backend, nullptr);
  const int fd = client_udp(5000);
  ASSERT_GE(fd, 0);
  for (uint32_t i = 0; i < 5; ++i) {
    send_udp(fd, net_.server_ip, kServerPort, patterned_payload(i, 100 + i * 300));
  }
  const auto frames = receive(*backend, 5, 2000ms, 50ms);
  ASSERT_EQ(frames.size(), 5u);
  for (uint32_t i = 0; i < 5; ++i) {
    const RxFrame& f = frames[i];
    EXPECT_EQ(f.bytes.size(), 14u + 20u + 8u + 100u + i * 300u);
    // check_udp_frame verifies the IPv4 and UDP checksums: the sender had
    // TX checksum offload off, so they are complete.
    EXPECT_TRUE(check_udp_frame(f.bytes, {eth::Src(net_.client_mac), eth::Dst(net_.server_mac), eth::Untagged(),
                                          ipv4::Src(net_.client_ip), ipv4::Dst(net_.server_ip), udp::SrcPort(5000),
                                          udp::DstPort(kServerPort), Payload(patterned_payload(i, 100 + i * 300))}));
    EXPECT_EQ(f.rx_flags & (kRxL4CsumPartial | kRxVlanStripped), 0u);
  }
  EXPECT_EQ(backend->stats().rx_packets, 5u);
}

TEST_P(AfPacketRx, PartialChecksumFromAnOffloadingSenderIsFlagged) {
  ASSERT_TRUE(net_.client_exec("ethtool -K " + net_.client_if + " tx on"));
  auto backend = open_or_fail(default_config());
  ASSERT_NE(backend, nullptr);
  const int fd = client_udp(5001);
  ASSERT_GE(fd, 0);
  send_udp(fd, net_.server_ip, kServerPort, to_bytes("partial"));
  const auto frames = receive(*backend, 1);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_NE(frames[0].rx_flags & kRxL4CsumPartial, 0u);
  EXPECT_EQ(frames[0].rx_flags & kRxL4CsumGood, 0u);
  // The payload is intact even though the checksum field is not final.
  const ParsedFrame parsed = parse_frame(frames[0].bytes);
  ASSERT_TRUE(parsed.udp.has_value());
  EXPECT_EQ(Bytes(parsed.udp->payload().begin(), parsed.udp->payload().end()), to_bytes("partial"));
}

TEST_P(AfPacketRx, InjectedFramesArriveByteForByte) {
  auto backend = open_or_fail(default_config());
  ASSERT_NE(backend, nullptr);
  const std::vector<Bytes> sent = {
      to_server().payload("udp").udp(),
      to_server().payload("").udp(),  // 42 bytes: veth does not pad
      to_server().echo_ident(7).echo_seq(1).payload("ping").icmp_echo_request(),
      to_server().arp(wire::ArpOp::kRequest),
      to_server().payload(patterned_payload(9, 1472)).udp(),  // a full 1514-byte frame
  };
  for (const Bytes& frame : sent) {
    inject(frame);
  }
  const auto frames = receive(*backend, sent.size(), 2000ms, 50ms);
  ASSERT_EQ(frames.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(frames[i].bytes, sent[i]) << "frame " << i << "\n" << hex_dump(frames[i].bytes);
  }
}

TEST_P(AfPacketRx, VlanTagIsReportedOutOfBand) {
  // Tagged frames cross the veth with the tag in the data; the server's
  // kernel strips it (__netif_receive_skb_core) before AF_PACKET sees the
  // frame, on every driver. (A VLAN device on the client would do the same
  // but needs the 8021q module, which this kernel may lack.)
  auto backend = open_or_fail(default_config());
  ASSERT_NE(backend, nullptr);
  const Bytes vid7 = to_server().vlan_tci(7).payload("vid7").udp();
  const Bytes prio5 = to_server().vlan_tci(0xa000 | 12).payload("prio5").udp();
  const Bytes untagged = to_server().payload("plain").udp();
  inject(vid7);
  inject(prio5);
  inject(untagged);

  const auto frames = receive(*backend, 3, 2000ms, 50ms);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_NE(frames[0].rx_flags & kRxVlanStripped, 0u);
  EXPECT_EQ(frames[0].vlan_tci, 7);
  EXPECT_EQ(frames[0].bytes, to_server().payload("vid7").udp());
  EXPECT_NE(frames[1].rx_flags & kRxVlanStripped, 0u);
  EXPECT_EQ(frames[1].vlan_tci, 0xa000 | 12);  // priority bits kept
  EXPECT_EQ(frames[1].bytes, to_server().payload("prio5").udp());
  EXPECT_EQ(frames[2].rx_flags & kRxVlanStripped, 0u);
  EXPECT_EQ(frames[2].bytes, untagged);
}

// 802.1ad outer tag (+ 802.1Q inner): the kernel strips the S-tag; the
// backend writes it back so the stack sees the wire frame, and the filter
// finds IPv4 behind the inner C-tag.
TEST_P(AfPacketRx, QinQFrameIsRestoredAndFiltered) {
  auto backend = open_or_fail(default_config());
  ASSERT_NE(backend, nullptr);
  auto with_s_tag = [](Bytes frame) {
    const uint8_t s_tag[4] = {0x88, 0xa8, 0x00, 0x64};  // S-VLAN 100
    frame.insert(frame.begin() + 12, s_tag, s_tag + 4);
    return frame;
  };
  const Bytes wanted = with_s_tag(to_server().vlan_tci(5).payload("qinq").udp());
  const Bytes unwanted = with_s_tag(to_server().vlan_tci(5).dst_ip(wire::Ipv4Addr(198, 18, net_.subnet, 99)).udp());
  inject(unwanted);
  inject(wanted);
  const auto frames = receive(*backend, 1, 2000ms, 100ms);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].bytes, wanted) << hex_dump(frames[0].bytes);
  EXPECT_EQ(frames[0].rx_flags & kRxVlanStripped, 0u);
}

TEST_P(AfPacketRx, WaitFdWakesASleepingPoller) {
  auto backend = open_or_fail(default_config());
  ASSERT_NE(backend, nullptr);
  const int fd = client_udp(0);
  ASSERT_GE(fd, 0);
  drain(*backend);
  pollfd pfd{backend->wait_fd(0), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 0), 0) << "readable with nothing queued";

  // Measure the wake-up of a lone datagram: for the mmap variant it is
  // bounded by the V3 block retire timeout (1 ms, counted in jiffies).
  std::vector<double> wake_ms;
  for (uint32_t i = 0; i < 20; ++i) {
    const auto sent_at = Clock::now();
    send_udp(fd, net_.server_ip, kServerPort, patterned_payload(i, 32));
    pfd.revents = 0;
    ASSERT_EQ(::poll(&pfd, 1, 2000), 1) << "no wake-up for datagram " << i;
    wake_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent_at).count());
    const auto frames = receive(*backend, 1, 1000ms);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_TRUE(check_udp_frame(frames[0].bytes, {Payload(patterned_payload(i, 32))}));
    pfd.revents = 0;
    EXPECT_EQ(::poll(&pfd, 1, 0), 0) << "still readable after draining";
  }
  std::sort(wake_ms.begin(), wake_ms.end());
  std::printf("[ measured ] %s lone-datagram wake-up: median %.3f ms, max %.3f ms\n", mmap() ? "mmap" : "plain",
              wake_ms[wake_ms.size() / 2], wake_ms.back());
  EXPECT_LT(wake_ms[wake_ms.size() / 2], 50.0);
}

TEST_P(AfPacketRx, OwnAndLocalTransmissionsAreNotReceived) {
  // Shared-mode setup: the server's kernel has the address too, and sends
  // from it. With an empty address list the filter takes every IPv4 frame,
  // so only the PACKET_OUTGOING handling keeps these out.
  ASSERT_TRUE(net_.server_exec("ip addr add " + net_.server_ip.to_string() + "/24 dev " + net_.server_if));
  ASSERT_TRUE(net_.server_exec("ip neigh replace " + net_.client_ip.to_string() + " lladdr " +
                               mac_to_string(net_.client_mac) + " dev " + net_.server_if + " nud permanent"));
  AfPacketConfig config = default_config();
  config.filter_ipv4.clear();
  auto backend = open_or_fail(config);
  ASSERT_NE(backend, nullptr);
  const int client_fd = client_udp(6000);
  ASSERT_GE(client_fd, 0);

  // The server kernel sends one datagram, the backend another.
  int server_fd = -1;
  ASSERT_TRUE(in_netns(net_.server_ns, [&] { server_fd = ::socket(AF_INET, SOCK_DGRAM, 0); }));
  ASSERT_GE(server_fd, 0);
  send_udp(server_fd, net_.client_ip, 6000, to_bytes("from the server kernel"));
  ::close(server_fd);
  const Bytes own = to_client().dst_port(6000).payload("from the backend").udp();
  Packet* pkt = nullptr;
  ASSERT_EQ(backend->alloc(std::span<Packet*>(&pkt, 1)), 1u);
  std::memcpy(pkt->data, own.data(), own.size());
  pkt->len = static_cast<uint32_t>(own.size());
  ASSERT_EQ(backend->tx_burst(0, std::span<Packet* const>(&pkt, 1)), 1u);

  // Both reached the client ...
  char buf[64];
  for (int i = 0; i < 2; ++i) {
    EXPECT_GT(::recv(client_fd, buf, sizeof buf, 0), 0) << "datagram " << i << " lost";
  }
  // ... and neither came back to us.
  const auto frames = receive(*backend, 0, 200ms, 200ms);
  for (const RxFrame& f : frames) {
    ADD_FAILURE() << "received an outgoing frame:\n" << hex_dump(f.bytes);
  }
}

TEST_P(AfPacketRx, FrameLargerThanABufferIsCountedNotDelivered) {
  auto backend = open_or_fail(default_config());  // buffers sized for MTU 1500
  ASSERT_NE(backend, nullptr);
  // Raise the MTU behind the backend's back, then send a 3000-byte frame.
  ASSERT_TRUE(net_.server_exec("ip link set " + net_.server_if + " mtu 4000"));
  ASSERT_TRUE(net_.client_exec("ip link set " + net_.client_if + " mtu 4000"));
  inject(to_server().payload(Bytes(3000 - 42, 0x77)).udp());
  inject(to_server().payload("small").udp());
  const auto frames = receive(*backend, 1, 2000ms, 100ms);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].bytes, to_server().payload("small").udp());
  EXPECT_EQ(backend->stats().rx_errors, 1u);
}

INSTANTIATE_TEST_SUITE_P(Variants, AfPacketRx, ::testing::Values(false, true), variant_name);

}  // namespace
}  // namespace dpdkudp::test
