// The IPv4 routing table: longest-prefix match over connected subnets and
// gateway routes, each with an optional MTU.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stack/wire/bytes.h"

namespace dpdkudp::stack {

using wire::Ipv4Addr;
using wire::Ipv4Cidr;

struct Route {
  Ipv4Cidr destination;             // 0.0.0.0/0 for the default route
  std::optional<Ipv4Addr> gateway;  // none: on-link
  uint32_t mtu = 0;                 // 0: the interface MTU
  uint32_t metric = 0;              // lower wins among equal prefixes
};

struct RouteResult {
  Ipv4Addr next_hop;  // the gateway, or the destination itself when on-link
  uint32_t mtu = 0;   // effective L3 MTU for the path
  bool via_gateway = false;
};

class RouteTable {
 public:
  explicit RouteTable(uint32_t interface_mtu = 1500) : interface_mtu_(interface_mtu) {}

  void add(const Route& route);
  void clear() { routes_.clear(); }
  void set_interface_mtu(uint32_t mtu) { interface_mtu_ = mtu; }

  // Longest prefix wins; among equal prefixes the lowest metric. nullopt:
  // no route (ENETUNREACH).
  std::optional<RouteResult> lookup(Ipv4Addr dst) const {
    RouteResult r;
    if (!lookup_into(dst, r)) return std::nullopt;
    return r;
  }
  // The TX path's form: fills `out` directly (an optional<struct> return
  // is assembled through the stack with partial stores and stalls).
  bool lookup_into(Ipv4Addr dst, RouteResult& out) const {
    for (const Route& r : routes_) {
      if (r.destination.contains(dst)) {
        out.next_hop = r.gateway ? *r.gateway : dst;
        out.mtu = r.mtu != 0 ? r.mtu : interface_mtu_;
        out.via_gateway = r.gateway.has_value();
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

}  // namespace dpdkudp::stack
