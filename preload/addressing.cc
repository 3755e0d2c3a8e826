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

namespace {

Endpoint from_sin6(const sockaddr_in6& sin6, socklen_t len) {
  Endpoint e = Endpoint::ipv6(stack::Ipv6Addr::load(sin6.sin6_addr.s6_addr), ntohs(sin6.sin6_port));
  if (len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) e.scope_id = sin6.sin6_scope_id;
  return e;
}

int parse_sin6(const void* name, socklen_t len, Endpoint* out) {
  sockaddr_in6 sin6{};
  std::memcpy(&sin6, name, std::min<size_t>(static_cast<size_t>(len), sizeof sin6));
  *out = from_sin6(sin6, len);
  return 0;
}

}  // namespace

int parse_dest6(const void* name, socklen_t len, Endpoint* out, bool* no_dest) {
  *no_dest = false;
  if (len < static_cast<socklen_t>(sizeof(sa_family_t))) return EINVAL;
  sa_family_t family;
  std::memcpy(&family, name, sizeof family);
  switch (family) {
    case AF_INET6:
      if (len < kSin6LenRfc2133) return EINVAL;
      return parse_sin6(name, len, out);
    case AF_INET: return parse_dest(name, len, out);
    case AF_UNSPEC: *no_dest = true; return 0;
    default: return EINVAL;
  }
}

int parse_bind6(const void* name, socklen_t len, Endpoint* out) {
  if (len < kSin6LenRfc2133) return EINVAL;
  sa_family_t family;
  std::memcpy(&family, name, sizeof family);
  if (family != AF_INET6) return EAFNOSUPPORT;
  return parse_sin6(name, len, out);
}

int parse_connect6(const void* name, socklen_t len, Endpoint* out) {
  if (len < static_cast<socklen_t>(sizeof(sa_family_t))) return EINVAL;
  sa_family_t family;
  std::memcpy(&family, name, sizeof family);
  if (family == AF_INET) {
    if (len < static_cast<socklen_t>(sizeof(sockaddr_in))) return EINVAL;
    return parse_dest(name, len, out);
  }
  if (len < kSin6LenRfc2133) return EINVAL;
  if (family != AF_INET6) return EAFNOSUPPORT;
  return parse_sin6(name, len, out);
}

bool same_address(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
    return x.sin6_port == y.sin6_port && std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
  }
  return false;
}

void copy_out(const sockaddr_in6& sin6, sockaddr* addr, socklen_t* len) {
  if (addr != nullptr && len != nullptr) std::memcpy(addr, &sin6, std::min<size_t>(*len, sizeof sin6));
  if (len != nullptr) *len = sizeof sin6;
}

}  // namespace dpdkudp::preload
