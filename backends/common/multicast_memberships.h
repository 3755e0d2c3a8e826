// Backend::set_multicast_mac for the backends that share the interface
// with the kernel (AF_PACKET, AF_XDP): the device's multicast address
// list, through packet-socket memberships, which the kernel drops with the
// socket whatever way the process ends.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <span>

#include "backends/api/backend.h"

namespace dpdkudp {

// PACKET_ADD_MEMBERSHIP / PACKET_DROP_MEMBERSHIP of the address (PACKET_MR_MULTICAST), which puts
// it on the interface's multicast list while any socket holds it and takes
// it off with the last one (or with the socket). The ons are counted here,
// so each socket holds one kernel membership per address, added by the
// first on and dropped by the last off, and the answers are the same on
// every kernel (kernels differ on a drop without an add: EADDRNOTAVAIL on
// some, 0 on others; here it is -EADDRNOTAVAIL). Thread-safe.
class MulticastMemberships {
 public:
  // For every socket in fds (all or none: when one refuses, those already
  // changed are changed back). Returns 0 or a negative errno (-EINVAL: mac
  // is not a multicast address; -EADDRNOTAVAIL: an off without an on).
  int set(std::span<const int> fds, int ifindex, const MacAddr& mac, bool on);

 private:
  std::mutex mutex_;
  std::map<MacAddr, uint32_t> refs_;  // address -> ons not yet undone
};

}  // namespace dpdkudp
