// 10,000 datagrams of every size from 4 to 1472 bytes go out through
// tx_burst to a kernel UDP echo server in the client namespace and come
// back through rx_burst; every byte of every reply is checked.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gmock/gmock.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <thread>

#include "stack/wire/bytes.h"
#include "tests/integration/af_packet/af_packet_fixture.h"

namespace dpdkudp::test {
namespace {

using Clock = std::chrono::steady_clock;
using AfPacketRoundTrip = AfPacketFixture;

constexpr uint16_t kServerPort = 4000;
constexpr uint16_t kEchoPort = 7;
constexpr uint32_t kFrames = 10000;
constexpr size_t kMaxPayload = 1472;  // 1500 - IPv4 - UDP
constexpr size_t kWindow = 48;        // datagrams in flight

// A kernel echo server on its own thread: recvfrom, sendto back.
class EchoServer {
 public:
  explicit EchoServer(int fd) : fd_(fd), thread_([this] { run(); }) {}
  ~EchoServer() {
    stop_ = true;
    thread_.join();
  }
  uint64_t echoed() const { return echoed_; }

 private:
  void run() {
    const timeval timeout{0, 50'000};  // re-check stop_ every 50 ms
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    std::vector<uint8_t> buf(65536);
    while (!stop_) {
      sockaddr_in from{};
      socklen_t len = sizeof(from);
      const ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n >= 0) {
        ::sendto(fd_, buf.data(), static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
        ++echoed_;
      }
    }
  }

  int fd_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> echoed_{0};
  std::thread thread_;
};

// 4..1472 bytes, spread over the range; the first 4 carry the sequence
// number that matches a reply to its request.
size_t payload_len(uint32_t seq) { return 4 + (seq * 149u) % (kMaxPayload - 3); }

TEST_P(AfPacketRoundTrip, TenThousandFramesEveryByteChecked) {
  auto backend = open_or_fail(default_config());
  ASSERT_NE(backend, nullptr);
  const int echo_fd = client_udp(kEchoPort);
  ASSERT_GE(echo_fd, 0);
  EchoServer echo(echo_fd);

  uint32_t next_seq = 0;
  uint32_t replies = 0;
  uint64_t bytes_checked = 0;
  size_t bad = 0;
  std::map<uint32_t, bool> outstanding;  // seq -> sent, not yet back
  std::array<Packet*, 64> burst{};
  const auto start = Clock::now();
  const auto deadline = start + 60s;
  auto last_progress = start;

  while (replies < kFrames && Clock::now() < deadline) {
    // Keep the window full.
    std::vector<Packet*> out;
    while (next_seq < kFrames && outstanding.size() + out.size() < kWindow) {
      const Bytes frame = to_client()
                              .src_port(kServerPort)
                              .dst_port(kEchoPort)
                              .ident(static_cast<uint16_t>(next_seq))
                              .payload(patterned_payload(next_seq, payload_len(next_seq)))
                              .udp();
      Packet* pkt = nullptr;
      ASSERT_EQ(backend->alloc(std::span<Packet*>(&pkt, 1)), 1u);
      std::memcpy(pkt->data, frame.data(), frame.size());
      pkt->len = static_cast<uint32_t>(frame.size());
      out.push_back(pkt);
      outstanding[next_seq++] = true;
    }
    size_t sent = 0;
    while (sent < out.size() && Clock::now() < deadline) {
      sent += backend->tx_burst(0, std::span<Packet* const>(out).subspan(sent));
    }

    const size_t n = backend->rx_burst(0, burst);
    for (size_t i = 0; i < n; ++i) {
      const std::span<const uint8_t> frame(burst[i]->data, burst[i]->len);
      const ParsedFrame parsed = parse_frame(frame);
      if (!parsed.udp || parsed.udp->payload().size() < 4) {
        ++bad;
        continue;
      }
      const uint32_t seq = wire::load_be32(parsed.udp->payload().data());
      const Bytes expected = patterned_payload(seq, payload_len(seq));
      const bool ok = outstanding.erase(seq) == 1 &&
                      check_udp_frame(frame, {eth::Src(net_.client_mac), eth::Dst(net_.server_mac),
                                              ipv4::Src(net_.client_ip), ipv4::Dst(net_.server_ip),
                                              udp::SrcPort(kEchoPort), udp::DstPort(kServerPort), Payload(expected)});
      if (!ok) {
        ++bad;
        if (bad < 5) {
          ADD_FAILURE() << "bad reply for seq " << seq << "\n" << hex_dump(frame);
        }
        continue;
      }
      ++replies;
      bytes_checked += frame.size();
      last_progress = Clock::now();
    }
    backend->release(std::span<Packet* const>(burst.data(), n));
    if (Clock::now() - last_progress > 3s) {
      break;  // lost datagrams: report below instead of spinning to 60 s
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("[ measured ] %s: %u/%u echoes, %.1f MB checked, %.2f s (%.0f round trips/s)\n",
              mmap() ? "mmap" : "plain", replies, kFrames, static_cast<double>(bytes_checked) / 1e6, seconds,
              replies / seconds);
  EXPECT_EQ(replies, kFrames) << outstanding.size() << " never came back";
  EXPECT_EQ(bad, 0u);
  const BackendStats stats = backend->stats();
  EXPECT_EQ(stats.tx_packets, kFrames);
  EXPECT_EQ(stats.tx_errors, 0u);
  EXPECT_EQ(stats.rx_missed, 0u);
  EXPECT_EQ(stats.rx_errors, 0u);
}

INSTANTIATE_TEST_SUITE_P(Variants, AfPacketRoundTrip, ::testing::Values(false, true), variant_name);

}  // namespace
}  // namespace dpdkudp::test
