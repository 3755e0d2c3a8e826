// Helpers of the POSIX UDP tests: an owned fd, addresses, bounded waits and
// the echo peer's command format (tests/integration/shim/echo_peer.py).
//
// The program is an ordinary UDP program: it links no project library, so
// the same binary judges the kernel and the LD_PRELOAD shim. It reads
//   PEER_IP, PEER_PORT  the kernel echo peer (it also listens on PEER_PORT+1)
//   LOCAL_IP            this namespace's address on the link to the peer
//   LOCAL_PREFIX        (optional, 24) its prefix length
//   LOCAL_IFACE         (optional) that interface's name, for IP_PKTINFO
// Every wait is bounded (poll timeouts of at most 2 s).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <gtest/gtest.h>

namespace udptest {

inline constexpr int kWaitMs = 2000;  // the longest wait for something that should come
inline constexpr int kQuietMs = 150;  // how long "nothing arrives" is watched

struct Env {
  sockaddr_in peer{};          // PEER_IP:PEER_PORT
  sockaddr_in peer2{};         // PEER_IP:PEER_PORT+1
  in_addr local{};             // LOCAL_IP
  unsigned local_prefix = 24;  // LOCAL_PREFIX (optional)
  std::string local_iface;
};
// Parsed once from the environment; exits with a message when a variable is missing.
const Env& env();

// True when the program runs under the shim (UDP_TEST_MODE=shim, set by
// shim_lib.sh). Used only where docs/compatibility.md lists a known
// difference from Linux; the test then asserts the shim's documented
// behaviour instead.
bool under_shim();
// Under the shim with the thread model (DPDKUDP_WAIT=thread): the waits are
// the kernel's, woken by the doorbell.
bool thread_model();

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    reset(std::exchange(other.fd_, -1));
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// socket(AF_INET, SOCK_DGRAM | flags, protocol); a failure is a test failure.
Fd udp_socket(int flags = 0, int protocol = 0);

sockaddr_in make_addr(in_addr ip, uint16_t port);
sockaddr_in make_addr(const char* ip, uint16_t port);
sockaddr_in any_addr(uint16_t port = 0);
sockaddr_in loopback_addr(uint16_t port = 0);
std::string to_string(const sockaddr_in& a);
bool same_endpoint(const sockaddr_in& a, const sockaddr_in& b);

inline sockaddr* sa(sockaddr_in* a) { return reinterpret_cast<sockaddr*>(a); }
inline const sockaddr* sa(const sockaddr_in* a) { return reinterpret_cast<const sockaddr*>(a); }

int bind_to(int fd, const sockaddr_in& a);     // ::bind; -1 with errno on failure
int connect_to(int fd, const sockaddr_in& a);  // ::connect
sockaddr_in local_name(int fd);                // getsockname (a failure fails the test)
uint16_t local_port(int fd);

// poll() for `events` at most `ms`; returns revents (0 on timeout).
short wait_for(int fd, short events, int ms);
bool readable(int fd, int ms = kWaitMs);

// Sends `payload` to `to`; true when the whole datagram went.
bool send_to(int fd, std::string_view payload, const sockaddr_in& to);
// Waits (bounded) for one datagram and returns it; nullopt on timeout/error.
std::optional<std::string> recv_one(int fd, int ms = kWaitMs, sockaddr_in* from = nullptr);
// Sends to the echo peer and returns the echo (nullopt when none came).
std::optional<std::string> echo(int fd, std::string_view payload);
std::optional<std::string> echo_via(int fd, std::string_view payload, const sockaddr_in& peer);

// An echo-peer command: "@@dpdkudp:<opts>;<payload>".
std::string peer_command(std::string_view opts, std::string_view payload);

// A payload of `size` bytes that differs for every `seed`.
std::string pattern(size_t size, unsigned seed);

// The ephemeral port range of this namespace (/proc/sys/net/ipv4/ip_local_port_range).
std::pair<int, int> ephemeral_range();

double monotonic_s();

}  // namespace udptest
