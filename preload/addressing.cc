#include "preload/addressing.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dpdkudp::preload {

using stack::Endpoint;
using stack::Ipv4Addr;

int fail(int err) {
  errno = err;
  return -1;
}

uint64_t pack_target(const sockaddr_in& sin) {
  return (uint64_t{ntohl(sin.sin_addr.s_addr)} << 16) | ntohs(sin.sin_port);
}

sockaddr_in to_sockaddr(const Endpoint& e) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(e.port);
  sin.sin_addr.s_addr = htonl(e.addr.value);
  return sin;
}

sockaddr_in6 to_sockaddr6(const Endpoint& e) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(e.port);
  const stack::Ipv6Addr a = e.v6 ? e.addr6 : stack::Ipv6Addr::v4_mapped(e.addr);
  a.store(sin6.sin6_addr.s6_addr);
  sin6.sin6_scope_id = e.v6 ? e.scope_id : 0;
  return sin6;
}

void copy_out(const sockaddr_in& sin, sockaddr* addr, socklen_t* len) {
  if (addr != nullptr && len != nullptr) std::memcpy(addr, &sin, std::min<size_t>(*len, sizeof sin));
  if (len != nullptr) *len = sizeof sin;
}

int parse_dest(const void* name, socklen_t len, Endpoint* out) {
  if (len < static_cast<socklen_t>(sizeof(sockaddr_in))) return EINVAL;
  sockaddr_in sin;
  std::memcpy(&sin, name, sizeof sin);
  // udp_sendmsg takes AF_UNSPEC as AF_INET (connect/bind handle it first).
  if (sin.sin_family != AF_INET && sin.sin_family != AF_UNSPEC) return EAFNOSUPPORT;
  *out = Endpoint{Ipv4Addr(ntohl(sin.sin_addr.s_addr)), ntohs(sin.sin_port)};
  return 0;
}

}  // namespace dpdkudp::preload
