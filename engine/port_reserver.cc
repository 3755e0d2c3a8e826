#include "engine/port_reserver.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace dpdkudp::engine {

int KernelPortReserver::reserve(const stack::UdpSocket& socket, wire::Ipv4Addr addr, uint16_t port, bool reuse_addr,
                                bool reuse_port, uintptr_t* token) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -errno;
  int one = 1;
  if (reuse_addr) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
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
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(addr.value);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) {
    int e = errno;
    ::close(fd);
    // The kernel does not have our address in dedicated setups that still
    // reserve: treat "not a local address" as "reserve the port on any".
    if (e == EADDRNOTAVAIL && !addr.is_unspecified()) {
      return reserve(socket, wire::Ipv4Addr::any(), port, reuse_addr, reuse_port, token);
    }
    return -e;
  }
  socklen_t len = sizeof sin;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  *token = static_cast<uintptr_t>(fd) + 1;
  return ntohs(sin.sin_port);
}

void KernelPortReserver::release(uintptr_t token) {
  if (token != 0) ::close(static_cast<int>(token - 1));
}

}  // namespace dpdkudp::engine
