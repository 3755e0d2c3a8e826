// The DPDK backend against the real kernel, in network namespaces made by
// the test (tests/support/netns.h: 198.18.X.0/24 on a veth
// pair, removed at exit and on fatal signals). Needs root; without it the
// Environment fails every test (never skips).
//
//   server ns: EAL with --vdev=net_af_packet0,iface=<server veth> (port 0)
//              and --vdev=net_tap0,iface=<tap> (port 1; the kernel end of
//              the tap is 198.19.X.1/24, the DPDK end plays 198.19.X.2)
//   client ns: kernel UDP sockets at 198.18.X.1
//
// Port 0 carries frames both ways between DPDK and kernel sockets (echo
// of 2,000 datagrams of sizes 1..1472, ARP with the kernel). Port 1 is the
// hardware-offload path: net_tap advertises IPv4/UDP checksum offload (and
// does it in its driver), so frames leave with the IPv4 checksum 0 and the
// UDP field holding the pseudo-header sum, and the kernel, which drops a
// bad checksum, must receive every one; the same with the offload turned
// off (software checksums); and RX checksum verdicts from the device.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "backends/dpdk/dpdk.h"
#include "backends/dpdk/dpdk_backend.h"
#include "tests/support/netns.h"
#include "tests/support/packets.h"

namespace dpdkudp::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct NetnsEnv {
  VethPair net;
  std::string tap_if;
  wire::Ipv4Addr tap_kernel_ip;  // 198.19.X.1, the kernel end of the tap
  wire::Ipv4Addr tap_dpdk_ip;    // 198.19.X.2, played by the test over DPDK
  std::string eal_args;
  uint16_t af_packet_port = 0;
  uint16_t tap_port = 1;
  std::string setup_error;
  std::vector<std::string> log;
};
NetnsEnv* g_env = nullptr;

class Environment : public ::testing::Environment {
 public:
  void SetUp() override {
    g_env = new NetnsEnv;
    std::string error;
    if (!g_env->net.create(&error)) {
      g_env->setup_error = "cannot build the test network: " + error;
      return;
    }
    g_env->tap_if = "dtap" + std::to_string(::getpid() % 100000);
    g_env->tap_kernel_ip = wire::Ipv4Addr(198, 19, g_env->net.subnet, 1);
    g_env->tap_dpdk_ip = wire::Ipv4Addr(198, 19, g_env->net.subnet, 2);
    g_env->eal_args = "--no-huge -m 256 --no-pci --file-prefix=dpdkudp-itest-" + std::to_string(::getpid()) +
                      " --vdev=net_af_packet0,iface=" + g_env->net.server_if +
                      " --vdev=net_tap0,iface=" + g_env->tap_if;
    bool ok = false;
    // EAL (and the drivers' sockets, the tap) in the server namespace: the
    // thread EAL starts on inherits it from this one.
    in_netns(g_env->net.server_ns, [&] {
      ok = init_dpdk_eal(
          g_env->eal_args, {}, [](DpdkLogLevel, const std::string& line) { g_env->log.push_back(line); }, &error);
    });
    if (!ok) {
      g_env->setup_error = error;
      return;
    }
    if (!g_env->net.server_exec("ip addr add " + g_env->tap_kernel_ip.to_string() + "/24 dev " + g_env->tap_if,
                                &error) ||
        !g_env->net.server_exec("sysctl -qw net.ipv4.conf.all.rp_filter=0", &error)) {
      g_env->setup_error = error;
    }
  }
  void TearDown() override {
    if (g_env != nullptr) {
      g_env->net.destroy();
    }
  }
};
const auto* const g_registered = ::testing::AddGlobalTestEnvironment(new Environment);

class DpdkNetns : public ::testing::Test {
 protected:
  void SetUp() override {
    (void)g_registered;
    ASSERT_NE(g_env, nullptr);
    ASSERT_TRUE(g_env->setup_error.empty()) << g_env->setup_error;
  }
  void TearDown() override {
    for (int fd : fds_) ::close(fd);
  }

  DpdkConfig config(uint16_t port) const {
    DpdkConfig c;
    c.eal_args = g_env->eal_args;
    c.port = port;
    c.rx_ring = 512;
    c.tx_ring = 512;
    c.socket_mbufs = 1024;
    c.log = [](DpdkLogLevel, const std::string& line) { g_env->log.push_back(line); };
    return c;
  }
  std::unique_ptr<DpdkBackend> open(const DpdkConfig& c) {
    std::unique_ptr<DpdkBackend> b;
    std::string error;
    in_netns(g_env->net.server_ns, [&] { b = DpdkBackend::open(c, &error); });
    EXPECT_NE(b, nullptr) << error;
    return b;
  }

  // A kernel UDP socket bound to ip:port in ns, 2 s receive timeout.
  int udp_socket(const std::string& ns, wire::Ipv4Addr ip, uint16_t port) {
    int fd = -1;
    in_netns(ns, [&] {
      fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(port);
      addr.sin_addr.s_addr = htonl(ip.value);
      const timeval timeout{2, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
      const int big = 4 << 20;
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
      if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        fd = -1;
      }
    });
    EXPECT_GE(fd, 0) << std::strerror(errno);
    if (fd >= 0) fds_.push_back(fd);
    return fd;
  }

  static Packet* frame_into(Backend& b, const Bytes& frame) {
    Packet* pkt = nullptr;
    if (b.alloc({&pkt, 1}) != 1) return nullptr;
    std::memcpy(pkt->data, frame.data(), frame.size());
    pkt->len = static_cast<uint32_t>(frame.size());
    return pkt;
  }
  // Sends every packet (retrying while the device is full), bounded.
  static bool send_all(Backend& b, std::vector<Packet*> pkts) {
    size_t done = 0;
    const auto deadline = Clock::now() + 2s;
    while (done < pkts.size() && Clock::now() < deadline) {
      done += b.tx_burst(0, std::span<Packet* const>(pkts).subspan(done));
    }
    if (done < pkts.size()) {
      b.release(std::span<Packet* const>(pkts).subspan(done));
    }
    return done == pkts.size();
  }
  // Frames received within timeout, copied out; the packets go back.
  static std::vector<Bytes> receive(Backend& b, size_t count, std::chrono::milliseconds timeout,
                                    std::vector<uint32_t>* flags = nullptr) {
    std::vector<Bytes> out;
    std::array<Packet*, 32> burst{};
    const auto deadline = Clock::now() + timeout;
    while (out.size() < count && Clock::now() < deadline) {
      const size_t n = b.rx_burst(0, burst);
      for (size_t i = 0; i < n; ++i) {
        out.emplace_back(burst[i]->data, burst[i]->data + burst[i]->len);
        if (flags != nullptr) flags->push_back(burst[i]->rx_flags);
      }
      b.release(std::span<Packet* const>(burst.data(), n));
      if (n == 0) ::usleep(100);
    }
    return out;
  }

  std::vector<int> fds_;
};

Bytes patterned(uint32_t seq, size_t len) {
  Bytes p(len);
  for (size_t i = 0; i < len; ++i) p[i] = static_cast<uint8_t>((seq * 131u + i * 7u) & 0xff);
  for (size_t i = 0; i < len && i < 4; ++i) p[i] = static_cast<uint8_t>(seq >> (8 * (3 - i)));
  return p;
}

size_t size_for(uint32_t seq) { return 1 + (seq * 37u) % 1472u; }

TEST_F(DpdkNetns, AfPacketPortFacts) {
  auto b = open(config(g_env->af_packet_port));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->driver_name(), "net_af_packet");
  EXPECT_EQ(b->mac(), g_env->net.server_mac);
  EXPECT_EQ(b->capabilities().rx_queues, 1);
  EXPECT_GE(b->capabilities().mtu, 1500u);
  std::printf("af_packet: %s; offloads %s\n", b->describe().c_str(), b->offloads_description().c_str());
}

// net_af_packet has neither a multicast list nor all-multicast: the
// groups go on the kernel interface under the port (its dev_mcast list),
// counted, and off again with the last off or the close.
TEST_F(DpdkNetns, AfPacketMulticastUsesTheKernelInterfacesList) {
  const MacAddr g1 = {0x01, 0x00, 0x5e, 0x46, 0x12, 0x01};
  const MacAddr g2 = {0x33, 0x33, 0x00, 0x00, 0x00, 0x02};
  {
    auto b = open(config(g_env->af_packet_port));
    ASSERT_NE(b, nullptr);
    EXPECT_TRUE(b->capabilities().rx_multicast);
    ASSERT_FALSE(g_env->net.server_lists_multicast(g1));
    ASSERT_EQ(b->set_multicast_mac(g1, true), 0);
    ASSERT_EQ(b->set_multicast_mac(g1, true), 0);
    ASSERT_EQ(b->set_multicast_mac(g2, true), 0);
    EXPECT_TRUE(g_env->net.server_lists_multicast(g1));
    EXPECT_TRUE(g_env->net.server_lists_multicast(g2));
    EXPECT_EQ(b->set_multicast_mac(g1, false), 0);
    EXPECT_TRUE(g_env->net.server_lists_multicast(g1)) << "one on still counts";
    EXPECT_EQ(b->set_multicast_mac(g1, false), 0);
    EXPECT_FALSE(g_env->net.server_lists_multicast(g1));
    EXPECT_EQ(b->set_multicast_mac(g1, false), -EADDRNOTAVAIL);
    EXPECT_EQ(rte_eth_allmulticast_get(g_env->af_packet_port), 0) << "all-multicast is not used";
  }
  EXPECT_FALSE(g_env->net.server_lists_multicast(g2)) << "closed with g2 joined";
}

TEST_F(DpdkNetns, EchoThroughAKernelSocket) {
  auto b = open(config(g_env->af_packet_port));
  ASSERT_NE(b, nullptr);
  const int echo = udp_socket(g_env->net.client_ns, g_env->net.client_ip, 7);
  ASSERT_GE(echo, 0);
  // The kernel echo server, on its own thread: recvfrom, sendto back.
  std::atomic<bool> stop{false};
  std::thread server([&] {
    std::vector<uint8_t> buf(2048);
    const timeval t{0, 50'000};
    ::setsockopt(echo, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t);
    while (!stop) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t n = ::recvfrom(echo, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n >= 0) ::sendto(echo, buf.data(), static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  });
  constexpr uint32_t kDatagrams = 2000;
  constexpr uint32_t kWindow = 32;
  uint32_t sent = 0;
  uint32_t matched = 0;
  const auto deadline = Clock::now() + 30s;
  std::array<Packet*, 32> burst{};
  while (matched < kDatagrams && Clock::now() < deadline) {
    std::vector<Packet*> out;
    while (sent < kDatagrams && sent - matched < kWindow) {
      const Bytes frame = FrameBuilder()
                              .src_mac(g_env->net.server_mac)
                              .dst_mac(g_env->net.client_mac)
                              .src_ip(g_env->net.server_ip)
                              .dst_ip(g_env->net.client_ip)
                              .src_port(4000)
                              .dst_port(7)
                              .payload(patterned(sent, size_for(sent)))
                              .udp();
      Packet* pkt = frame_into(*b, frame);
      ASSERT_NE(pkt, nullptr);
      out.push_back(pkt);
      ++sent;
    }
    ASSERT_TRUE(send_all(*b, out));
    const size_t n = b->rx_burst(0, burst);
    for (size_t i = 0; i < n; ++i) {
      const Bytes got(burst[i]->data, burst[i]->data + burst[i]->len);
      const Bytes want = patterned(matched, size_for(matched));
      ASSERT_TRUE(
          check_udp_frame(got, {eth::Src(g_env->net.client_mac), udp::SrcPort(7), udp::DstPort(4000), Payload(want)}))
          << "reply " << matched;
      ++matched;
    }
    b->release(std::span<Packet* const>(burst.data(), n));
    if (n == 0) ::usleep(50);
  }
  stop = true;
  server.join();
  EXPECT_EQ(matched, kDatagrams);
  const BackendStats s = b->stats();
  EXPECT_GE(s.tx_packets, kDatagrams);
  EXPECT_GE(s.rx_packets, kDatagrams);
  EXPECT_EQ(s.tx_errors, 0u);
  EXPECT_EQ(s.rx_missed, 0u);
}

TEST_F(DpdkNetns, KernelDatagramsArriveWithValidChecksums) {
  auto b = open(config(g_env->af_packet_port));
  ASSERT_NE(b, nullptr);
  const int client = udp_socket(g_env->net.client_ns, g_env->net.client_ip, 0);
  ASSERT_GE(client, 0);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(5353);
  dst.sin_addr.s_addr = htonl(g_env->net.server_ip.value);
  constexpr uint32_t kDatagrams = 300;
  std::vector<Bytes> got;
  for (uint32_t seq = 0; seq < kDatagrams; ++seq) {
    const Bytes payload = patterned(seq, size_for(seq));
    ASSERT_EQ(::sendto(client, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst),
              static_cast<ssize_t>(payload.size()));
    if (seq % 16 == 15) {
      auto some = receive(*b, 16, 1s);
      got.insert(got.end(), some.begin(), some.end());
    }
  }
  auto rest = receive(*b, kDatagrams - got.size(), 2s);
  got.insert(got.end(), rest.begin(), rest.end());
  ASSERT_EQ(got.size(), kDatagrams);
  for (uint32_t seq = 0; seq < kDatagrams; ++seq) {
    EXPECT_TRUE(check_udp_frame(
        got[seq], {ipv4::Dst(g_env->net.server_ip), udp::DstPort(5353), Payload(patterned(seq, size_for(seq)))}))
        << seq;
  }
}

TEST_F(DpdkNetns, ArpWithTheKernel) {
  auto b = open(config(g_env->af_packet_port));
  ASSERT_NE(b, nullptr);
  const Bytes request = FrameBuilder()
                            .src_mac(g_env->net.server_mac)
                            .dst_mac({0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
                            .src_ip(g_env->net.server_ip)
                            .dst_ip(g_env->net.client_ip)
                            .arp(wire::ArpOp::kRequest);
  ASSERT_TRUE(send_all(*b, {frame_into(*b, request)}));
  bool answered = false;
  for (const Bytes& frame : receive(*b, 1, 2s)) {
    answered = answered || check_arp_frame(frame, {arp::Op(wire::ArpOp::kReply), arp::SenderMac(g_env->net.client_mac),
                                                   arp::SenderIp(g_env->net.client_ip)});
  }
  EXPECT_TRUE(answered);
}

TEST_F(DpdkNetns, TapChecksumOffloadBothPaths) {
  const int sock = udp_socket(g_env->net.server_ns, g_env->tap_kernel_ip, 6000);
  ASSERT_GE(sock, 0);
  for (bool hardware : {true, false}) {
    SCOPED_TRACE(hardware ? "device checksums" : "software checksums");
    DpdkConfig c = config(g_env->tap_port);
    c.tx_checksum = hardware;
    auto b = open(c);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->capabilities().tx_ipv4_csum, hardware);
    EXPECT_EQ(b->capabilities().tx_udp_csum, hardware);
    std::printf("tap: %s; offloads %s\n", b->describe().c_str(), b->offloads_description().c_str());
    // The kernel end must know the DPDK end's MAC (nothing answers ARP).
    std::string error;
    ASSERT_TRUE(g_env->net.server_exec("ip neigh replace " + g_env->tap_dpdk_ip.to_string() + " lladdr " +
                                           mac_to_string(b->mac()) + " dev " + g_env->tap_if + " nud permanent",
                                       &error))
        << error;
    // The kernel end's MAC, for our frames' destination.
    const CommandResult link = run_command("ip -n " + g_env->net.server_ns + " -o link show " + g_env->tap_if);
    const size_t at = link.output.find("link/ether ");
    ASSERT_NE(at, std::string::npos) << link.output;
    const auto kernel_mac = wire::parse_mac(link.output.substr(at + 11, 17));
    ASSERT_TRUE(kernel_mac.has_value()) << link.output;

    constexpr uint32_t kDatagrams = 200;
    std::vector<Packet*> pkts;
    for (uint32_t seq = 0; seq < kDatagrams; ++seq) {
      const Bytes frame = FrameBuilder()
                              .src_mac(b->mac())
                              .dst_mac(*kernel_mac)
                              .src_ip(g_env->tap_dpdk_ip)
                              .dst_ip(g_env->tap_kernel_ip)
                              .src_port(6001)
                              .dst_port(6000)
                              .payload(patterned(seq, size_for(seq)))
                              .ipv4_checksum(false)
                              .udp_checksum(wire::ChecksumMode::kPseudoHeader)
                              .udp();
      Packet* pkt = frame_into(*b, frame);
      ASSERT_NE(pkt, nullptr);
      pkt->tx_flags = kTxIpv4Csum | kTxUdpCsum;
      pkt->l2_len = 14;
      pkt->l3_len = 20;
      pkts.push_back(pkt);
    }
    uint32_t delivered = 0;
    std::vector<uint8_t> buf(2048);
    for (uint32_t start = 0; start < kDatagrams; start += 20) {
      ASSERT_TRUE(send_all(*b, std::vector<Packet*>(pkts.begin() + start, pkts.begin() + start + 20)));
      for (uint32_t i = 0; i < 20; ++i) {
        const ssize_t n = ::recv(sock, buf.data(), buf.size(), 0);
        if (n < 0) break;
        const Bytes want = patterned(delivered, size_for(delivered));
        EXPECT_EQ(Bytes(buf.begin(), buf.begin() + n), want) << delivered;
        ++delivered;
      }
    }
    // A wrong checksum is dropped by the kernel: every one arrived, so
    // every checksum was right.
    EXPECT_EQ(delivered, kDatagrams);
    EXPECT_EQ(b->stats().tx_errors, 0u);

    // And the other way: kernel -> DPDK, with the device's verdicts.
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(6001);
    dst.sin_addr.s_addr = htonl(g_env->tap_dpdk_ip.value);
    receive(*b, 1000, 100ms);  // whatever the kernel sent on its own (IPv6, ...)
    for (uint32_t seq = 0; seq < 20; ++seq) {
      const Bytes payload = patterned(seq, size_for(seq));
      ASSERT_GE(::sendto(sock, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst), 0);
    }
    std::vector<uint32_t> flags;
    const auto frames = receive(*b, 20, 2s, &flags);
    size_t udp_frames = 0;
    for (size_t i = 0; i < frames.size(); ++i) {
      if (!check_udp_frame(frames[i], {udp::DstPort(6001)})) continue;
      ++udp_frames;
      if (b->capabilities().rx_l4_csum) {
        EXPECT_NE(flags[i] & (kRxL4CsumGood | kRxL4CsumPartial), 0u) << "flags " << flags[i];
      }
      EXPECT_EQ(flags[i] & (kRxL4CsumBad | kRxIpv4CsumBad), 0u);
    }
    EXPECT_EQ(udp_frames, 20u);
  }
}

}  // namespace
}  // namespace dpdkudp::test
