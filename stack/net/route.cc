#include "stack/net/route.h"

#include <algorithm>

namespace dpdkudp::stack {
namespace {

// Lookup order: the first route that matches is the answer.
bool precedes(const Route& a, const Route& b) {
  if (a.destination.prefix_len != b.destination.prefix_len) {
    return a.destination.prefix_len > b.destination.prefix_len;
  }
  return a.metric < b.metric;
}

}  // namespace

void RouteTable::add(const Route& route) {
  Route normalized = route;
  normalized.destination.prefix_len = std::min<uint8_t>(route.destination.prefix_len, 32);
  // Stored as the network, so "198.18.0.7/24" and "198.18.0.0/24" are one route.
  normalized.destination.addr = normalized.destination.network();

  // Same (destination, gateway): the new route replaces the old one, as
  // `ip route replace` does.
  std::erase_if(routes_, [&](const Route& r) {
    return r.destination == normalized.destination && r.gateway == normalized.gateway;
  });
  // After the equal ones: among identical keys the earliest added wins.
  auto at = std::upper_bound(routes_.begin(), routes_.end(), normalized, precedes);
  routes_.insert(at, normalized);
}

}  // namespace dpdkudp::stack
