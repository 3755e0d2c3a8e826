#include "engine/port_reserver.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace dpdkudp::engine {

int KernelPortReserver::reserve(const stack::UdpSocket& socket, const stack::Endpoint& local, bool reuse_addr,
                                bool reuse_port, uintptr_t* token) {
  return reserve_port(local, socket.v6only(), reuse_addr, reuse_port, token);
}

int KernelPortReserver::reserve_port(const stack::Endpoint& local, bool v6only, bool reuse_addr, bool reuse_port,
                                     uintptr_t* token) {
  const int family = local.v6 ? AF_INET6 : AF_INET;
  int fd = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -errno;
  int one = 1;
  if (reuse_addr) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (local.v6) {
    // The same families as the stack's socket: :: without IPV6_V6ONLY
    // holds the IPv4 port too.
    int only = v6only ? 1 : 0;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only);
  }
  // Drop everything the kernel would queue here: the stack has the traffic.
  sock_filter drop_all[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
  sock_fprog prog{1, drop_all};
  int tiny = 1;  // the kernel rounds it up to its minimum
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &tiny, sizeof tiny) != 0) {
    int e = errno;
    ::close(fd);
    return -e;
  }
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (local.v6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(local.port);
    local.addr6.store(reinterpret_cast<uint8_t*>(&sin6->sin6_addr));
    sin6->sin6_scope_id = local.scope_id;
    len = sizeof *sin6;
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(local.port);
    sin->sin_addr.s_addr = htonl(local.addr.value);
    len = sizeof *sin;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    int e = errno;
    ::close(fd);
    // The kernel does not have our address in dedicated setups that still
    // reserve: treat "not a local address" as "reserve the port on any".
    if (e == EADDRNOTAVAIL && !local.is_unspecified()) {
      stack::Endpoint any = local.v6 ? stack::Endpoint::ipv6(wire::Ipv6Addr(), local.port)
                                     : stack::Endpoint{wire::Ipv4Addr::any(), local.port};
      return reserve_port(any, v6only, reuse_addr, reuse_port, token);
    }
    return -e;
  }
  len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  *token = static_cast<uintptr_t>(fd) + 1;
  // sin_port and sin6_port sit at the same offset.
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

void KernelPortReserver::release(uintptr_t token) {
  if (token != 0) ::close(static_cast<int>(token - 1));
}

}  // namespace dpdkudp::engine
