// The routing tables (one per IP version): longest-prefix match over
// connected subnets and gateway routes, each with an optional MTU.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stack/wire/bytes.h"

namespace dpdkudp::stack {

using wire::Ipv4Addr;
using wire::Ipv4Cidr;
using wire::Ipv6Addr;
using wire::Ipv6Cidr;

template <typename Cidr, typename Addr>
struct BasicRoute {
  Cidr destination;             // 0.0.0.0/0 or ::/0 for the default route
  std::optional<Addr> gateway;  // none: on-link
  uint32_t mtu = 0;             // 0: the interface MTU
  uint32_t metric = 0;          // lower wins among equal prefixes
  uint16_t link = 0;            // 0: the interface; n: the stack's tunnel n - 1
};

template <typename Addr>
struct BasicRouteResult {
  Addr next_hop;     // the gateway, or the destination itself when on-link
  uint32_t mtu = 0;  // effective L3 MTU for the path
  bool via_gateway = false;
  uint16_t link = 0;  // the route's link (see BasicRoute::link)
};

template <typename Cidr, typename Addr>
class BasicRouteTable {
 public:
  using Route = BasicRoute<Cidr, Addr>;
  using RouteResult = BasicRouteResult<Addr>;

  explicit BasicRouteTable(uint32_t interface_mtu = 1500) : interface_mtu_(interface_mtu) {}

  void add(const Route& route);
  void clear() { routes_.clear(); }
  void set_interface_mtu(uint32_t mtu) { interface_mtu_ = mtu; }

  // Longest prefix wins; among equal prefixes the lowest metric. nullopt:
  // no route (ENETUNREACH).
  std::optional<RouteResult> lookup(const Addr& dst) const {
    RouteResult r;
    if (!lookup_into(dst, r)) return std::nullopt;
    return r;
  }
  // The TX path's form: fills `out` directly (an optional<struct> return
  // is assembled through the stack with partial stores and stalls).
  bool lookup_into(const Addr& dst, RouteResult& out) const {
    for (const Route& r : routes_) {
      if (r.destination.contains(dst)) {
        out.next_hop = r.gateway ? *r.gateway : dst;
        out.mtu = r.mtu != 0 ? r.mtu : interface_mtu_;
        out.via_gateway = r.gateway.has_value();
        out.link = r.link;
        return true;
      }
    }
    return false;
  }

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;  // kept sorted: prefix length desc, metric asc
  uint32_t interface_mtu_;
};

using Route = BasicRoute<Ipv4Cidr, Ipv4Addr>;
using RouteResult = BasicRouteResult<Ipv4Addr>;
using RouteTable = BasicRouteTable<Ipv4Cidr, Ipv4Addr>;
using Route6 = BasicRoute<Ipv6Cidr, Ipv6Addr>;
using RouteResult6 = BasicRouteResult<Ipv6Addr>;
using RouteTable6 = BasicRouteTable<Ipv6Cidr, Ipv6Addr>;

extern template class BasicRouteTable<Ipv4Cidr, Ipv4Addr>;
extern template class BasicRouteTable<Ipv6Cidr, Ipv6Addr>;

}  // namespace dpdkudp::stack
