#include "tests/integration/af_xdp/af_xdp_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace dpdkudp::test {

using Clock = std::chrono::steady_clock;

void AfXdpTest::SetUp() {
  ASSERT_EQ(::geteuid(), 0u) << "the AF_XDP tests need root (network namespaces, CAP_NET_ADMIN, "
                                "CAP_BPF); run them as root";
  net_.server_if = "xdp0";
  net_.client_if = "xdp1";
  std::string error;
  ASSERT_TRUE(net_.create(&error)) << "cannot build the test network: " << error;
  in_netns(net_.server_ns, [&] {
    struct stat st {};
    if (::stat("/proc/thread-self/ns/net", &st) == 0) {
      pin_dir_ = "/sys/fs/bpf/dpdkudp/netns-" + std::to_string(st.st_ino);
    }
  });
}

void AfXdpTest::TearDown() {
  for (int fd : fds_) {
    ::close(fd);
  }
  fds_.clear();
  raw_fd_ = -1;
  net_.destroy();
  // A SIGKILLed owner's pins stay until the interface's next owner replaces
  // them; the namespace is gone now, so nobody will.
  if (!pin_dir_.empty()) {
    run_command("rm -rf " + pin_dir_ + " && rmdir /sys/fs/bpf/dpdkudp 2>/dev/null");
  }
}

AfXdpConfig AfXdpTest::shared_config(XdpMode mode) const {
  AfXdpConfig config;
  config.iface = net_.server_if;
  config.mode = mode;
  config.dedicated = false;
  config.ipv4 = net_.server_ip.value;
  config.ring_size = 512;  // small UMEM: the tests run many backends
  return config;
}

AfXdpConfig AfXdpTest::dedicated_config(XdpMode mode) const {
  AfXdpConfig config = shared_config(mode);
  config.dedicated = true;
  return config;
}

AfXdpOpened AfXdpTest::open(const AfXdpConfig& config, std::string* error) const {
  AfXdpOpened opened;
  const bool entered = in_netns(net_.server_ns, [&] { opened = open_af_xdp(config, error); });
  if (!entered && error != nullptr) {
    *error = "cannot enter namespace " + net_.server_ns;
  }
  return opened;
}

AfXdpOpened AfXdpTest::open_or_fail(const AfXdpConfig& config) const {
  std::string error;
  AfXdpOpened opened = open(config, &error);
  EXPECT_NE(opened.backend, nullptr) << error;
  if (opened.backend) {
    EXPECT_NE(opened.steering, nullptr);
  }
  return opened;
}

void AfXdpTest::add_server_address() {
  std::string error;
  ASSERT_TRUE(net_.server_exec("ip addr add " + net_.server_ip.to_string() + "/24 dev " + net_.server_if, &error))
      << error;
  // The client learns the server's MAC from the static entry already.
}

std::string AfXdpTest::server_link() const {
  return run_command("ip -n " + net_.server_ns + " link show dev " + net_.server_if).output;
}

namespace {

int bound_udp(wire::Ipv4Addr addr, uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(addr.value);
  const timeval timeout{0, 100'000};
  const int big = 4 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int AfXdpTest::client_udp(uint16_t port) {
  int fd = -1;
  in_netns(net_.client_ns, [&] { fd = bound_udp(net_.client_ip, port); });
  EXPECT_GE(fd, 0) << "client UDP socket: " << std::strerror(errno);
  if (fd >= 0) {
    fds_.push_back(fd);
  }
  return fd;
}

int AfXdpTest::server_udp(uint16_t port) {
  int fd = -1;
  in_netns(net_.server_ns, [&] { fd = bound_udp(net_.server_ip, port); });
  EXPECT_GE(fd, 0) << "server UDP socket: " << std::strerror(errno);
  if (fd >= 0) {
    fds_.push_back(fd);
  }
  return fd;
}

void AfXdpTest::send_udp(int fd, wire::Ipv4Addr dst, uint16_t port, std::span<const uint8_t> payload) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(dst.value);
  const ssize_t sent =
      ::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  ASSERT_EQ(sent, static_cast<ssize_t>(payload.size())) << std::strerror(errno);
}

std::vector<Bytes> AfXdpTest::read_udp(int fd, size_t count, std::chrono::milliseconds timeout) {
  std::vector<Bytes> out;
  const auto deadline = Clock::now() + timeout;
  std::vector<uint8_t> buf(65536);
  while (out.size() < count && Clock::now() < deadline) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n >= 0) {
      out.emplace_back(buf.begin(), buf.begin() + n);
    }
  }
  return out;
}

void AfXdpTest::inject(std::span<const uint8_t> frame) {
  if (raw_fd_ < 0) {
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
    ASSERT_GE(raw_fd_, 0) << "client packet socket: " << std::strerror(errno);
    fds_.push_back(raw_fd_);
  }
  const ssize_t sent = ::send(raw_fd_, frame.data(), frame.size(), 0);
  ASSERT_EQ(sent, static_cast<ssize_t>(frame.size())) << std::strerror(errno);
}

FrameBuilder AfXdpTest::to_server() const {
  FrameBuilder b;
  b.src_mac(net_.client_mac).dst_mac(net_.server_mac).src_ip(net_.client_ip).dst_ip(net_.server_ip);
  return b;
}

FrameBuilder AfXdpTest::to_client() const {
  FrameBuilder b;
  b.src_mac(net_.server_mac).dst_mac(net_.client_mac).src_ip(net_.server_ip).dst_ip(net_.client_ip);
  return b;
}

std::vector<RxFrame> AfXdpTest::receive(Backend& backend, size_t count, std::chrono::milliseconds timeout,
                                        std::chrono::milliseconds settle) {
  std::vector<RxFrame> frames;
  std::array<Packet*, 64> burst{};
  const uint16_t queues = backend.capabilities().rx_queues;
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
    size_t total = 0;
    for (uint16_t q = 0; q < queues; ++q) {
      const size_t n = backend.rx_burst(q, burst);
      for (size_t i = 0; i < n; ++i) {
        const Packet* pkt = burst[i];
        frames.push_back({Bytes(pkt->data, pkt->data + pkt->len), pkt->queue});
      }
      backend.release(std::span<Packet* const>(burst.data(), n));
      total += n;
    }
    if (total == 0) {
      std::array<pollfd, 64> pfds{};
      for (uint16_t q = 0; q < queues; ++q) {
        pfds[q] = {backend.wait_fd(q), POLLIN, 0};
      }
      ::poll(pfds.data(), queues, 1);
    }
  }
  return frames;
}

::testing::AssertionResult AfXdpTest::transmit(Backend& backend, std::span<const uint8_t> frame) {
  Packet* pkt = nullptr;
  if (backend.alloc(std::span<Packet*>(&pkt, 1)) != 1) {
    return ::testing::AssertionFailure() << "alloc gave no buffer";
  }
  if (pkt->room < frame.size()) {
    backend.release(std::span<Packet* const>(&pkt, 1));
    return ::testing::AssertionFailure() << "buffer room " << pkt->room << " < " << frame.size();
  }
  std::memcpy(pkt->data, frame.data(), frame.size());
  pkt->len = static_cast<uint32_t>(frame.size());
  const auto deadline = Clock::now() + 1s;
  while (backend.tx_burst(0, std::span<Packet* const>(&pkt, 1)) != 1) {
    if (Clock::now() > deadline) {
      backend.release(std::span<Packet* const>(&pkt, 1));
      return ::testing::AssertionFailure() << "tx_burst took nothing for 1 s";
    }
  }
  return ::testing::AssertionSuccess();
}

std::string mode_name(const ::testing::TestParamInfo<XdpMode>& info) { return std::string(to_string(info.param)); }

Bytes patterned_payload(uint32_t seq, size_t len) {
  Bytes payload(len);
  for (size_t i = 0; i < len; ++i) {
    payload[i] = static_cast<uint8_t>((seq * 131u + i * 7u + (i >> 8)) & 0xff);
  }
  for (size_t i = 0; i < len && i < 4; ++i) {
    payload[i] = static_cast<uint8_t>(seq >> (8 * (3 - i)));
  }
  return payload;
}

OwnerProcess::OwnerProcess(const VethPair& net, const AfXdpConfig& config, uint16_t port, uint32_t hold_tx, bool busy,
                           uint32_t share) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    error_ = "pipe2 failed";
    return;
  }
  in_netns(net.server_ns, [&] {
    pid_ = ::fork();
    if (pid_ != 0) {
      return;
    }
    // Child: only _exit from here, no gtest.
    ::close(fds[0]);
    std::string error;
    AfXdpOpened opened = open_af_xdp(config, &error);
    if (!opened.backend) {
      ::write(fds[1], error.data(), error.size());
      ::_exit(1);
    }
    if (opened.steering->steer(0, port, true, share) != 0) {
      const std::string why = "steering the port failed";
      ::write(fds[1], why.data(), why.size());
      ::_exit(2);
    }
    std::vector<Packet*> held(hold_tx);
    if (opened.backend->alloc(held) != hold_tx) {
      const std::string why = "could not take the TX frames to hold";
      ::write(fds[1], why.data(), why.size());
      ::_exit(3);
    }
    const std::string ready = "R" + opened.mode_description;
    ::write(fds[1], ready.data(), ready.size());
    std::array<Packet*, 32> burst{};
    while (busy) {
      Backend& b = *opened.backend;
      for (uint16_t q = 0; q < b.capabilities().rx_queues; ++q) {
        const size_t n = b.rx_burst(q, burst);
        b.release(std::span<Packet* const>(burst.data(), n));
      }
      const size_t n = b.alloc(std::span<Packet*>(burst.data(), 8));
      b.release(std::span<Packet* const>(burst.data(), n));
    }
    for (;;) {
      ::pause();
    }
  });
  ::close(fds[1]);
  pollfd pfd{fds[0], POLLIN, 0};
  if (::poll(&pfd, 1, 5000) == 1) {
    char buf[512];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n >= 1 && buf[0] == 'R') {
      ready_ = true;
      description_.assign(buf + 1, static_cast<size_t>(n - 1));
    } else if (n > 0) {
      error_.assign(buf, static_cast<size_t>(n));
    }
  }
  ::close(fds[0]);
  if (!ready_ && error_.empty()) {
    error_ = "the owner process did not get ready";
  }
}

void OwnerProcess::kill() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
}

}  // namespace dpdkudp::test
