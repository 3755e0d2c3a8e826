#include "tests/integration/af_packet/af_packet_fixture.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace dpdkudp::test {

using Clock = std::chrono::steady_clock;

void AfPacketFixture::SetUp() {
  std::string error;
  ASSERT_TRUE(net_.create(&error)) << "cannot build the test network: " << error;
}

void AfPacketFixture::TearDown() {
  for (int fd : fds_) {
    ::close(fd);
  }
  fds_.clear();
  raw_fd_ = -1;
  net_.destroy();
}

AfPacketConfig AfPacketFixture::default_config() const {
  AfPacketConfig config;
  config.iface = net_.server_if;
  config.mmap = mmap();
  config.filter_ipv4 = {net_.server_ip.value};
  return config;
}

std::unique_ptr<Backend> AfPacketFixture::open(const AfPacketConfig& config, std::string* error) const {
  std::unique_ptr<Backend> backend;
  const bool entered = in_netns(net_.server_ns, [&] { backend = open_af_packet(config, error); });
  if (!entered && error != nullptr) {
    *error = "cannot enter namespace " + net_.server_ns;
  }
  return backend;
}

std::unique_ptr<Backend> AfPacketFixture::open_or_fail(const AfPacketConfig& config) const {
  std::string error;
  auto backend = open(config, &error);
  EXPECT_NE(backend, nullptr) << error;
  return backend;
}

int AfPacketFixture::client_udp(uint16_t port) {
  int fd = -1;
  in_netns(net_.client_ns, [&] {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(net_.client_ip.value);
    const timeval timeout{2, 0};
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd);
      fd = -1;
    }
  });
  EXPECT_GE(fd, 0) << "client UDP socket: " << std::strerror(errno);
  if (fd >= 0) {
    fds_.push_back(fd);
  }
  return fd;
}

int AfPacketFixture::client_raw() {
  if (raw_fd_ >= 0) {
    return raw_fd_;
  }
  in_netns(net_.client_ns, [&] {
    const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return;
    }
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = 0;  // send only
    addr.sll_ifindex = static_cast<int>(::if_nametoindex(net_.client_if.c_str()));
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd);
      return;
    }
    raw_fd_ = fd;
  });
  EXPECT_GE(raw_fd_, 0) << "client packet socket: " << std::strerror(errno);
  if (raw_fd_ >= 0) {
    fds_.push_back(raw_fd_);
  }
  return raw_fd_;
}

void AfPacketFixture::inject(std::span<const uint8_t> frame) {
  const int fd = client_raw();
  ASSERT_GE(fd, 0);
  const ssize_t sent = ::send(fd, frame.data(), frame.size(), 0);
  ASSERT_EQ(sent, static_cast<ssize_t>(frame.size())) << std::strerror(errno);
}

void AfPacketFixture::send_udp(int fd, wire::Ipv4Addr dst, uint16_t port, std::span<const uint8_t> payload) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(dst.value);
  const ssize_t sent =
      ::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  ASSERT_EQ(sent, static_cast<ssize_t>(payload.size())) << std::strerror(errno);
}

FrameBuilder AfPacketFixture::to_server() const {
  FrameBuilder b;
  b.src_mac(net_.client_mac).dst_mac(net_.server_mac).src_ip(net_.client_ip).dst_ip(net_.server_ip);
  return b;
}

FrameBuilder AfPacketFixture::to_client() const {
  FrameBuilder b;
  b.src_mac(net_.server_mac).dst_mac(net_.client_mac).src_ip(net_.server_ip).dst_ip(net_.client_ip);
  return b;
}

std::vector<RxFrame> AfPacketFixture::receive(Backend& backend, size_t count, std::chrono::milliseconds timeout,
                                              std::chrono::milliseconds settle) {
  std::vector<RxFrame> frames;
  std::array<Packet*, 64> burst{};
  const auto deadline = Clock::now() + timeout;
  auto settle_end = Clock::time_point::max();
  while (true) {
    const auto now = Clock::now();
    if (frames.size() >= count && settle_end == Clock::time_point::max()) {
      settle_end = now + settle;
    }
    if (now >= deadline || now >= settle_end) {
      break;
    }
    const size_t n = backend.rx_burst(0, burst);
    for (size_t i = 0; i < n; ++i) {
      const Packet* pkt = burst[i];
      frames.push_back({Bytes(pkt->data, pkt->data + pkt->len), pkt->rx_flags, pkt->vlan_tci});
    }
    backend.release(std::span<Packet* const>(burst.data(), n));
    if (n == 0) {
      pollfd pfd{backend.wait_fd(0), POLLIN, 0};
      ::poll(&pfd, 1, 1);
    }
  }
  return frames;
}

size_t AfPacketFixture::drain(Backend& backend, std::chrono::milliseconds quiet) {
  size_t total = 0;
  const auto give_up = Clock::now() + 2s;
  auto last = Clock::now();
  std::array<Packet*, 64> burst{};
  while (Clock::now() - last < quiet && Clock::now() < give_up) {
    const size_t n = backend.rx_burst(0, burst);
    backend.release(std::span<Packet* const>(burst.data(), n));
    if (n > 0) {
      total += n;
      last = Clock::now();
    } else {
      pollfd pfd{backend.wait_fd(0), POLLIN, 0};
      ::poll(&pfd, 1, 1);
    }
  }
  return total;
}

Bytes patterned_payload(uint32_t seq, size_t len) {
  Bytes payload(len);
  for (size_t i = 0; i < len; ++i) {
    payload[i] = static_cast<uint8_t>((seq * 131u + i * 7u + (i >> 8)) & 0xff);
  }
  // The first four bytes carry seq itself, for matching replies.
  for (size_t i = 0; i < len && i < 4; ++i) {
    payload[i] = static_cast<uint8_t>(seq >> (8 * (3 - i)));
  }
  return payload;
}

std::string variant_name(const ::testing::TestParamInfo<bool>& info) { return info.param ? "mmap" : "plain"; }

}  // namespace dpdkudp::test
