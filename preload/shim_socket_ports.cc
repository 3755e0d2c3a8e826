// Port reservation (decision 2): the stack's binds take the port on the
// host through the socket's kernel fd, and the doorbell target follows.
#include <arpa/inet.h>

#include <cerrno>

#include "preload/addressing.h"
#include "preload/real.h"
#include "preload/shim_socket.h"

namespace dpdkudp::preload {

using stack::Endpoint;
using stack::Ipv4Addr;

int ShimSocket::reserve_port(const Endpoint& local) {
  int fd = any_fd_.load(std::memory_order_acquire);
  if (fd < 0) return -EBADF;
  // The kernel fd has the application's family: an AF_INET6 one takes the
  // endpoint as IPv6 (an IPv4 one v4-mapped), and holds the IPv4 port too
  // unless IPV6_V6ONLY, exactly as the stack's binding does.
  const bool fd_v6 = socket_->ipv6();
  sockaddr_storage cur{};
  socklen_t len = sizeof cur;
  if (real().getsockname(fd, reinterpret_cast<sockaddr*>(&cur), &len) != 0) return -errno;
  const uint16_t cur_port = ntohs(reinterpret_cast<sockaddr_in&>(cur).sin_port);  // same offset in both
  if (cur_port == 0) {
    sockaddr_storage want{};
    socklen_t want_len = 0;
    auto fill = [&](const Endpoint& e) {
      want = {};
      if (fd_v6) {
        sockaddr_in6 sin6 = to_sockaddr6(e);
        std::memcpy(&want, &sin6, sizeof sin6);
        want_len = sizeof sin6;
      } else {
        sockaddr_in sin = to_sockaddr(e);
        std::memcpy(&want, &sin, sizeof sin);
        want_len = sizeof sin;
      }
    };
    fill(local);
    int rc = real().bind(fd, reinterpret_cast<sockaddr*>(&want), want_len);
    if (rc != 0 && errno == EADDRNOTAVAIL && !local.is_unspecified()) {
      // The stack's own address in dedicated mode is unknown to the kernel:
      // the kernel side then holds the port on the wildcard address.
      fill(fd_v6 ? Endpoint::ipv6(stack::Ipv6Addr(), local.port) : Endpoint{Ipv4Addr::any(), local.port});
      rc = real().bind(fd, reinterpret_cast<sockaddr*>(&want), want_len);
    }
    if (rc != 0) return -errno;
    len = sizeof cur;
    real().getsockname(fd, reinterpret_cast<sockaddr*>(&cur), &len);
  } else if (local.port != 0 && cur_port != local.port) {
    return -EINVAL;  // the kernel side is bound elsewhere already
  }
  publish_doorbell_target(cur);
  return ntohs(reinterpret_cast<sockaddr_in&>(cur).sin_port);
}

void ShimSocket::publish_doorbell_target(const sockaddr_storage& bound) {
  if (bound.ss_family == AF_INET) {
    sockaddr_in target;
    std::memcpy(&target, &bound, sizeof target);
    if (target.sin_addr.s_addr == htonl(INADDR_ANY)) target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    doorbell_target_.store(pack_target(target), std::memory_order_release);
    return;
  }
  sockaddr_in6 b;
  std::memcpy(&b, &bound, sizeof b);
  const uint16_t port = ntohs(b.sin6_port);
  if (IN6_IS_ADDR_V4MAPPED(&b.sin6_addr)) {
    // Bound to an IPv4 address: IPv4 doorbells to it.
    uint32_t v4;
    std::memcpy(&v4, b.sin6_addr.s6_addr + 12, 4);
    doorbell_target_.store((uint64_t{ntohl(v4)} << 16) | port, std::memory_order_release);
    return;
  }
  if (IN6_IS_ADDR_UNSPECIFIED(&b.sin6_addr) && !socket_->v6only()) {
    // Dual stack: it takes IPv4 doorbells (as ::ffff:127.0.0.1).
    doorbell_target_.store((uint64_t{INADDR_LOOPBACK} << 16) | port, std::memory_order_release);
    return;
  }
  in6_addr to = IN6_IS_ADDR_UNSPECIFIED(&b.sin6_addr) ? in6addr_loopback : b.sin6_addr;
  uint64_t hi = 0;
  uint64_t lo = 0;
  std::memcpy(&hi, to.s6_addr, 8);
  std::memcpy(&lo, to.s6_addr + 8, 8);
  doorbell_addr6_hi_.store(hi, std::memory_order_relaxed);
  doorbell_addr6_lo_.store(lo, std::memory_order_relaxed);
  doorbell_target_.store(kDoorbellTargetV6 | port, std::memory_order_release);
}

void ShimSocket::release_port() {
  // A disconnect gives an autobound port back (udp_disconnect); the kernel
  // side does the same on connect(AF_UNSPEC). On close the fd is going.
  if (closing_.load(std::memory_order_acquire)) return;
  int fd = any_fd_.load(std::memory_order_acquire);
  if (fd < 0) return;
  sockaddr unspec{};
  unspec.sa_family = AF_UNSPEC;
  real().connect(fd, &unspec, sizeof unspec);
  doorbell_target_.store(0, std::memory_order_release);
}

int ShimPortReserver::reserve(const stack::UdpSocket& socket, const Endpoint& local, bool, bool, uintptr_t* token) {
  auto* s = static_cast<ShimSocket*>(socket.user_data());
  if (s == nullptr) return -EINVAL;
  int rc = s->reserve_port(local);
  if (rc >= 0) *token = reinterpret_cast<uintptr_t>(s);
  return rc;
}

void ShimPortReserver::release(uintptr_t token) { reinterpret_cast<ShimSocket*>(token)->release_port(); }

}  // namespace dpdkudp::preload
