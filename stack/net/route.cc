#include "stack/net/route.h"

#include <algorithm>

namespace dpdkudp::stack {
namespace {

// Lookup order: the first route that matches is the answer.
template <typename R>
bool precedes(const R& a, const R& b) {
  if (a.destination.prefix_len != b.destination.prefix_len) {
    return a.destination.prefix_len > b.destination.prefix_len;
  }
  return a.metric < b.metric;
}

}  // namespace

template <typename Cidr, typename Addr>
void BasicRouteTable<Cidr, Addr>::add(const Route& route) {
  constexpr uint8_t kMaxPrefix = sizeof(Addr) * 8;
  Route normalized = route;
  normalized.destination.prefix_len = std::min<uint8_t>(route.destination.prefix_len, kMaxPrefix);
  // Stored as the network, so "198.18.0.7/24" and "198.18.0.0/24" are one route.
  normalized.destination.addr = normalized.destination.network();

  // Same (destination, gateway): the new route replaces the old one, as
  // `ip route replace` does.
  std::erase_if(routes_, [&](const Route& r) {
    return r.destination == normalized.destination && r.gateway == normalized.gateway;
  });
  // After the equal ones: among identical keys the earliest added wins.
  auto at = std::upper_bound(routes_.begin(), routes_.end(), normalized, precedes<Route>);
  routes_.insert(at, normalized);
}

template class BasicRouteTable<Ipv4Cidr, Ipv4Addr>;
template class BasicRouteTable<Ipv6Cidr, Ipv6Addr>;

}  // namespace dpdkudp::stack
