// A transport endpoint of either IP version: what the socket calls take and
// give (bind, connect, send, recv's source).
//
// IPv4 endpoints fill addr and leave v6 false, so `Endpoint{addr, port}`
// reads as it did before IPv6. An IPv6 endpoint sets v6 and addr6 (and a
// scope for link-local addresses). Inside the stack an IPv6 endpoint never
// holds a v4-mapped address: the socket calls turn ::ffff:a.b.c.d into the
// IPv4 endpoint it stands for on the way in (canonical()), and the shim
// turns it back when an AF_INET6 socket reports an IPv4 peer.
#pragma once

#include <cstdint>

#include "stack/wire/bytes.h"

namespace dpdkudp::stack {

using wire::Ipv4Addr;
using wire::Ipv6Addr;

struct Endpoint {
  constexpr Endpoint() = default;
  constexpr Endpoint(Ipv4Addr a, uint16_t p) : addr(a), port(p) {}

  Ipv4Addr addr;  // IPv4 (v6 false)
  uint16_t port = 0;
  bool v6 = false;
  Ipv6Addr addr6;         // IPv6 (v6 true)
  uint32_t scope_id = 0;  // IPv6 link-local: the interface index (0: unset)

  static constexpr Endpoint ipv6(const Ipv6Addr& a, uint16_t port, uint32_t scope_id = 0) {
    Endpoint e;
    e.port = port;
    e.v6 = true;
    e.addr6 = a;
    e.scope_id = scope_id;
    return e;
  }
  // A v4-mapped IPv6 endpoint as the IPv4 one it names; any other unchanged.
  constexpr Endpoint canonical() const {
    if (!v6) return *this;
    if (auto v4 = addr6.mapped_v4()) return Endpoint{*v4, port};
    return *this;
  }
  // The wildcard of its family (0.0.0.0 or ::).
  constexpr bool is_unspecified() const { return v6 ? addr6.is_unspecified() : addr.is_unspecified(); }

  friend constexpr bool operator==(const Endpoint&, const Endpoint&) = default;
};

}  // namespace dpdkudp::stack
