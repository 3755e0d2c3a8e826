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

int ShimSocket::reserve_port(Ipv4Addr addr, uint16_t port) {
  int fd = any_fd_.load(std::memory_order_acquire);
  if (fd < 0) return -EBADF;
  sockaddr_in cur{};
  socklen_t len = sizeof cur;
  if (real().getsockname(fd, reinterpret_cast<sockaddr*>(&cur), &len) != 0) return -errno;
  if (cur.sin_port == 0) {
    // The stack's own address in dedicated mode is unknown to the kernel:
    // the kernel side then holds the port on the wildcard address.
    sockaddr_in want = to_sockaddr(Endpoint{addr, port});
    int rc = real().bind(fd, reinterpret_cast<sockaddr*>(&want), sizeof want);
    if (rc != 0 && errno == EADDRNOTAVAIL && !addr.is_unspecified()) {
      want.sin_addr.s_addr = htonl(INADDR_ANY);
      rc = real().bind(fd, reinterpret_cast<sockaddr*>(&want), sizeof want);
    }
    if (rc != 0) return -errno;
    len = sizeof cur;
    real().getsockname(fd, reinterpret_cast<sockaddr*>(&cur), &len);
  } else if (port != 0 && ntohs(cur.sin_port) != port) {
    return -EINVAL;  // the kernel side is bound elsewhere already
  }
  sockaddr_in target = cur;
  if (target.sin_addr.s_addr == htonl(INADDR_ANY)) target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  doorbell_target_.store(pack_target(target), std::memory_order_release);
  return ntohs(cur.sin_port);
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

int ShimPortReserver::reserve(const stack::UdpSocket& socket, Ipv4Addr addr, uint16_t port, bool, bool,
                              uintptr_t* token) {
  auto* s = static_cast<ShimSocket*>(socket.user_data());
  if (s == nullptr) return -EINVAL;
  int rc = s->reserve_port(addr, port);
  if (rc >= 0) *token = reinterpret_cast<uintptr_t>(s);
  return rc;
}

void ShimPortReserver::release(uintptr_t token) { reinterpret_cast<ShimSocket*>(token)->release_port(); }

}  // namespace dpdkudp::preload
