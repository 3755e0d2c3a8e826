// TX and RX together: frames built by hand reach a kernel socket, 10,000
// datagrams of every size go out through tx_burst to a kernel echo server
// and come back through rx_burst with every byte checked, several queues,
// buffers that are not UMEM frames, refused frames. Native and generic.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "stack/wire/bytes.h"
#include "tests/integration/af_xdp/af_xdp_fixture.h"

namespace dpdkudp::test {
namespace {

using Clock = std::chrono::steady_clock;

using AfXdpDatapath = AfXdpModeTest;

constexpr uint16_t kServerPort = 4000;
constexpr uint16_t kEchoPort = 7;
constexpr uint32_t kFrames = 10000;
constexpr size_t kMaxPayload = 1472;
constexpr size_t kWindow = 48;

class EchoServer {
 public:
  explicit EchoServer(int fd) : fd_(fd), thread_([this] { run(); }) {}
  ~EchoServer() {
    stop_ = true;
    thread_.join();
  }

 private:
  void run() {
    std::vector<uint8_t> buf(65536);
    while (!stop_) {
      sockaddr_in from{};
      socklen_t len = sizeof(from);
      const ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n >= 0) {
        ::sendto(fd_, buf.data(), static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
      }
    }
  }

  int fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

size_t payload_len(uint32_t seq) { return 4 + (seq * 149u) % (kMaxPayload - 3); }

TEST_P(AfXdpDatapath, HandBuiltFrameReachesAKernelSocket) {
  AfXdpOpened opened = open_or_fail(shared_config(GetParam()));
  ASSERT_NE(opened.backend, nullptr);
  const int client = client_udp(5000);
  ASSERT_GE(client, 0);
  for (uint32_t i = 0; i < 16; ++i) {
    const Bytes payload = patterned_payload(i, 1 + i * 90);
    ASSERT_TRUE(transmit(*opened.backend, to_client().src_port(kServerPort).dst_port(5000).payload(payload).udp()));
    const auto got = read_udp(client, 1);
    ASSERT_EQ(got.size(), 1u) << "datagram " << i;
    EXPECT_EQ(got[0], payload);
  }
  EXPECT_EQ(opened.backend->stats().tx_packets, 16u);
  EXPECT_EQ(opened.backend->stats().tx_errors, 0u);
}

TEST_P(AfXdpDatapath, TenThousandFrameRoundTripEveryByteChecked) {
  AfXdpOpened opened = open_or_fail(shared_config(GetParam()));
  ASSERT_NE(opened.backend, nullptr);
  Backend& backend = *opened.backend;
  ASSERT_EQ(opened.steering->steer(net_.server_ip.value, kServerPort, true), 0);
  const int echo_fd = client_udp(kEchoPort);
  ASSERT_GE(echo_fd, 0);
  EchoServer echo(echo_fd);

  uint32_t next_seq = 0;
  uint32_t replies = 0;
  size_t bad = 0;
  std::set<uint32_t> outstanding;
  std::array<Packet*, 64> burst{};
  const auto start = Clock::now();
  const auto deadline = start + 60s;
  auto last_progress = start;
  while (replies < kFrames && Clock::now() < deadline) {
    std::vector<Packet*> out;
    while (next_seq < kFrames && outstanding.size() + out.size() < kWindow) {
      const Bytes frame = to_client()
                              .src_port(kServerPort)
                              .dst_port(kEchoPort)
                              .ident(static_cast<uint16_t>(next_seq))
                              .payload(patterned_payload(next_seq, payload_len(next_seq)))
                              .udp();
      Packet* pkt = nullptr;
      ASSERT_EQ(backend.alloc(std::span<Packet*>(&pkt, 1)), 1u);
      std::memcpy(pkt->data, frame.data(), frame.size());
      pkt->len = static_cast<uint32_t>(frame.size());
      out.push_back(pkt);
      outstanding.insert(next_seq++);
    }
    size_t sent = 0;
    while (sent < out.size() && Clock::now() < deadline) {
      sent += backend.tx_burst(0, std::span<Packet* const>(out).subspan(sent));
    }
    const size_t n = backend.rx_burst(0, burst);
    for (size_t i = 0; i < n; ++i) {
      const std::span<const uint8_t> frame(burst[i]->data, burst[i]->len);
      const ParsedFrame parsed = parse_frame(frame);
      if (!parsed.udp || parsed.udp->payload().size() < 4) {
        ++bad;
        continue;
      }
      const uint32_t seq = wire::load_be32(parsed.udp->payload().data());
      const bool ok =
          outstanding.erase(seq) == 1 &&
          check_udp_frame(frame, {eth::Src(net_.client_mac), eth::Dst(net_.server_mac), ipv4::Src(net_.client_ip),
                                  ipv4::Dst(net_.server_ip), udp::SrcPort(kEchoPort), udp::DstPort(kServerPort),
                                  Payload(patterned_payload(seq, payload_len(seq)))});
      if (!ok) {
        if (++bad < 5) {
          ADD_FAILURE() << "bad reply for seq " << seq << "\n" << hex_dump(frame);
        }
        continue;
      }
      ++replies;
      last_progress = Clock::now();
    }
    backend.release(std::span<Packet* const>(burst.data(), n));
    if (n == 0) {
      pollfd pfd{backend.wait_fd(0), POLLIN, 0};
      ::poll(&pfd, 1, 1);
    }
    if (Clock::now() - last_progress > 3s) {
      break;
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("[ measured ] %s: %u/%u echoes in %.2f s (%.0f round trips/s)\n", opened.mode_description.c_str(),
              replies, kFrames, seconds, replies / seconds);
  EXPECT_EQ(replies, kFrames) << outstanding.size() << " never came back";
  EXPECT_EQ(bad, 0u);
  const BackendStats stats = backend.stats();
  EXPECT_EQ(stats.tx_packets, kFrames);
  EXPECT_EQ(stats.rx_packets, kFrames);
  EXPECT_EQ(stats.tx_errors, 0u);
  EXPECT_EQ(stats.rx_missed, 0u);
  EXPECT_EQ(stats.rx_errors, 0u);
}

// Every RX frame goes back to the kernel: forty ring-fulls through a 64-slot
// ring in windows of 3/4 of it. A frame lost on its way back to the fill
// ring (which the kernel may report as consumed late, so it can be full
// for a moment) would starve the ring within a few windows.
TEST_P(AfXdpDatapath, FillRingKeepsEveryFrameOverManyRingfuls) {
  AfXdpConfig config = shared_config(GetParam());
  config.ring_size = 64;
  AfXdpOpened opened = open_or_fail(config);
  ASSERT_NE(opened.backend, nullptr);
  Backend& backend = *opened.backend;
  ASSERT_EQ(opened.steering->steer(net_.server_ip.value, kServerPort, true), 0);
  const int client = client_udp();
  ASSERT_GE(client, 0);
  constexpr uint32_t kWindowFrames = 48;
  constexpr uint32_t kWindows = 40 * 64 / kWindowFrames;
  std::array<Packet*, 64> burst{};
  uint32_t received = 0;
  for (uint32_t w = 0; w < kWindows; ++w) {
    for (uint32_t i = 0; i < kWindowFrames; ++i) {
      send_udp(client, net_.server_ip, kServerPort, patterned_payload(w * kWindowFrames + i, 32));
    }
    uint32_t got = 0;
    const auto deadline = Clock::now() + 2s;
    while (got < kWindowFrames && Clock::now() < deadline) {
      const size_t n = backend.rx_burst(0, burst);
      got += static_cast<uint32_t>(n);
      backend.release(std::span<Packet* const>(burst.data(), n));
      if (n == 0) {
        pollfd pfd{backend.wait_fd(0), POLLIN, 0};
        ::poll(&pfd, 1, 1);
      }
    }
    received += got;
    ASSERT_EQ(got, kWindowFrames) << "window " << w << ": the fill ring ran dry";
  }
  const BackendStats stats = backend.stats();
  EXPECT_EQ(received, kWindows * kWindowFrames);
  EXPECT_EQ(stats.rx_no_buffer, 0u);
  EXPECT_EQ(stats.rx_missed, 0u);
}

TEST_P(AfXdpDatapath, ReceivedBufferSentBackIsCopiedIntoAUmemFrame) {
  // The stack may transmit a buffer it received (not a UMEM TX frame).
  AfXdpOpened opened = open_or_fail(shared_config(GetParam()));
  ASSERT_NE(opened.backend, nullptr);
  Backend& backend = *opened.backend;
  ASSERT_EQ(opened.steering->steer(net_.server_ip.value, kServerPort, true), 0);
  const int client = client_udp(5001);
  ASSERT_GE(client, 0);
  send_udp(client, net_.server_ip, kServerPort, to_bytes("bounce me"));
  std::array<Packet*, 8> burst{};
  size_t n = 0;
  const auto deadline = Clock::now() + 2s;
  while (n == 0 && Clock::now() < deadline) {
    n = backend.rx_burst(0, burst);
  }
  ASSERT_EQ(n, 1u);
  // Turn it around in place: the same bytes addressed back to the client.
  const Bytes reply = to_client().src_port(kServerPort).dst_port(5001).payload("bounced").udp();
  ASSERT_LE(reply.size(), burst[0]->room);
  std::memcpy(burst[0]->data, reply.data(), reply.size());
  burst[0]->len = static_cast<uint32_t>(reply.size());
  ASSERT_EQ(backend.tx_burst(0, std::span<Packet* const>(burst.data(), 1)), 1u);
  const auto got = read_udp(client, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], to_bytes("bounced"));
}

TEST_P(AfXdpDatapath, RefusedFramesAreTakenAndCounted) {
  AfXdpOpened opened = open_or_fail(shared_config(GetParam()));
  ASSERT_NE(opened.backend, nullptr);
  Backend& backend = *opened.backend;
  std::array<Packet*, 3> pkts{};
  ASSERT_EQ(backend.alloc(pkts), 3u);
  pkts[0]->len = 10;                                    // shorter than Ethernet
  pkts[1]->len = backend.capabilities().max_frame + 1;  // longer than the MTU allows
  const Bytes good = to_client().dst_port(5002).payload("ok").udp();
  std::memcpy(pkts[2]->data, good.data(), good.size());
  pkts[2]->len = static_cast<uint32_t>(good.size());
  pkts[2]->tx_flags = kTxUdpCsum;  // an offload we do not have
  EXPECT_EQ(backend.tx_burst(0, pkts), 3u);
  EXPECT_EQ(backend.stats().tx_errors, 3u);
  EXPECT_EQ(backend.stats().tx_packets, 0u);
}

TEST_P(AfXdpDatapath, AllocHandsOutEveryTxFrameAndGetsThemBack) {
  AfXdpConfig config = shared_config(GetParam());
  config.ring_size = 64;  // 128 TX frames
  AfXdpOpened opened = open_or_fail(config);
  ASSERT_NE(opened.backend, nullptr);
  Backend& backend = *opened.backend;
  std::vector<Packet*> all(200);
  const size_t n = backend.alloc(all);
  EXPECT_EQ(n, 128u);
  std::set<uint8_t*> distinct;
  for (size_t i = 0; i < n; ++i) {
    EXPECT_EQ(all[i]->len, 0u);
    EXPECT_GE(all[i]->room, backend.capabilities().max_frame);
    distinct.insert(all[i]->data);
  }
  EXPECT_EQ(distinct.size(), n);
  Packet* extra = nullptr;
  EXPECT_EQ(backend.alloc(std::span<Packet*>(&extra, 1)), 0u);
  backend.release(std::span<Packet* const>(all.data(), n));
  EXPECT_EQ(backend.alloc(std::span<Packet*>(all.data(), 128)), 128u);
  backend.release(std::span<Packet* const>(all.data(), 128));

  // Sending them all and more: completions come back to the free list.
  const int client = client_udp(5003);
  ASSERT_GE(client, 0);
  const Bytes frame = to_client().src_port(kServerPort).dst_port(5003).payload("x").udp();
  size_t sent = 0;
  const auto deadline = Clock::now() + 5s;
  while (sent < 1000 && Clock::now() < deadline) {
    std::array<Packet*, 32> batch{};
    const size_t got = backend.alloc(batch);
    for (size_t i = 0; i < got; ++i) {
      std::memcpy(batch[i]->data, frame.data(), frame.size());
      batch[i]->len = static_cast<uint32_t>(frame.size());
    }
    const size_t took = backend.tx_burst(0, std::span<Packet* const>(batch.data(), got));
    backend.release(std::span<Packet* const>(batch.data() + took, got - took));
    sent += took;
    read_udp(client, took, 100ms);
  }
  EXPECT_GE(sent, 1000u);
}

TEST_P(AfXdpDatapath, TwoQueuesShareTheUmem) {
  // A second veth pair with two queues each side, in the same namespaces.
  std::string error;
  ASSERT_TRUE(
      net_.server_exec("ip link add xq0 numtxqueues 2 numrxqueues 2 type veth peer name "
                       "xq1 numtxqueues 2 numrxqueues 2 netns " +
                           net_.client_ns,
                       &error))
      << error;
  ASSERT_TRUE(net_.server_exec("ip link set xq0 up", &error)) << error;
  const wire::Ipv4Addr server(198, 19, net_.subnet, 2);
  const wire::Ipv4Addr client_ip(198, 19, net_.subnet, 1);
  ASSERT_TRUE(net_.client_exec("ip addr add " + client_ip.to_string() + "/24 dev xq1", &error)) << error;
  ASSERT_TRUE(net_.client_exec("ip link set xq1 up", &error)) << error;
  ASSERT_TRUE(net_.client_exec("ethtool -K xq1 tx off", &error)) << error;
  const CommandResult mac = run_command("ip netns exec " + net_.server_ns + " cat /sys/class/net/xq0/address");
  ASSERT_EQ(mac.status, 0) << mac.output;
  const CommandResult client_mac = run_command("ip netns exec " + net_.client_ns + " cat /sys/class/net/xq1/address");
  ASSERT_EQ(client_mac.status, 0) << client_mac.output;
  ASSERT_TRUE(net_.client_exec(
      "ip neigh replace " + server.to_string() + " lladdr " + mac.output.substr(0, 17) + " dev xq1 nud permanent",
      &error))
      << error;

  AfXdpConfig config = shared_config(GetParam());
  config.iface = "xq0";
  config.queues = 2;
  config.ipv4 = server.value;
  AfXdpOpened opened = open_or_fail(config);
  ASSERT_NE(opened.backend, nullptr);
  Backend& backend = *opened.backend;
  EXPECT_EQ(backend.capabilities().rx_queues, 2);
  EXPECT_GE(backend.wait_fd(1), 0);
  ASSERT_EQ(opened.steering->steer(0, kServerPort, true), 0);

  // The client's TX queue (hence our RX queue) follows its flow hash: many
  // source ports reach both queues.
  constexpr size_t kSockets = 32;
  std::vector<int> clients;
  for (size_t i = 0; i < kSockets; ++i) {
    int fd = -1;
    in_netns(net_.client_ns, [&] { fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); });
    ASSERT_GE(fd, 0);
    clients.push_back(fd);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(kServerPort);
    to.sin_addr.s_addr = htonl(server.value);
    const Bytes payload = patterned_payload(static_cast<uint32_t>(i), 100);
    ASSERT_EQ(::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to)), 100);
  }
  const auto frames = receive(backend, kSockets, 3000ms, 100ms);
  for (int fd : clients) {
    ::close(fd);
  }
  ASSERT_EQ(frames.size(), kSockets);
  std::set<uint16_t> queues;
  for (const RxFrame& f : frames) {
    queues.insert(f.queue);
    EXPECT_TRUE(check_udp_frame(f.bytes, {udp::DstPort(kServerPort)}));
  }
  if (GetParam() == XdpMode::kNative) {
    EXPECT_EQ(queues.size(), 2u) << "every datagram came in on one queue";
  } else {
    // Generic XDP runs on the skb; veth records the RX queue only on its
    // NAPI (native XDP / GRO) path, so everything is queue 0 here.
    EXPECT_EQ(queues, std::set<uint16_t>{0});
  }

  // TX on queue 1 with a frame allocated from the shared pool.
  const int client = [&] {
    int fd = -1;
    in_netns(net_.client_ns, [&] {
      fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      sa.sin_port = htons(5004);
      sa.sin_addr.s_addr = htonl(client_ip.value);
      const timeval timeout{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
      ::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa));
    });
    return fd;
  }();
  ASSERT_GE(client, 0);
  const Bytes reply = FrameBuilder()
                          .src_mac(backend.mac())
                          .dst_mac(*wire::parse_mac(client_mac.output.substr(0, 17)))
                          .src_ip(server)
                          .dst_ip(client_ip)
                          .src_port(kServerPort)
                          .dst_port(5004)
                          .payload("queue one")
                          .udp();
  Packet* pkt = nullptr;
  ASSERT_EQ(backend.alloc(std::span<Packet*>(&pkt, 1)), 1u);
  std::memcpy(pkt->data, reply.data(), reply.size());
  pkt->len = static_cast<uint32_t>(reply.size());
  ASSERT_EQ(backend.tx_burst(1, std::span<Packet* const>(&pkt, 1)), 1u);
  char buf[64] = {};
  const ssize_t got = ::recv(client, buf, sizeof buf, 0);
  ::close(client);
  ASSERT_EQ(got, 9);
  EXPECT_EQ(std::string(buf, 9), "queue one");
}

INSTANTIATE_TEST_SUITE_P(Modes, AfXdpDatapath, ::testing::Values(XdpMode::kNative, XdpMode::kGeneric), mode_name);

}  // namespace
}  // namespace dpdkudp::test
