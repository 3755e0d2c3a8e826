// Interface facts (index, MAC, MTU, up, queues) read with ioctls on an
// unprivileged AF_INET socket in the calling thread's network namespace,
// so "no such interface" and "down" are told apart from "permission
// denied" (which only a packet socket or an XSK can hit). Start-up only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/addr.h"
#include "base/error_sink.h"

namespace dpdkudp::base {

struct InterfaceInfo {
  int ifindex = 0;
  MacAddr mac{};            // from SIOCGIFHWADDR
  uint32_t mtu = 0;         // L3, from SIOCGIFMTU
  bool up = false;          // IFF_UP
  uint32_t max_queues = 1;  // ETHTOOL_GCHANNELS (1 when the driver has none)
};

// What the caller needs of the interface.
enum class InterfaceNeeds {
  // An Ethernet interface that is up, every fact read: a backend about to
  // open a socket on it. Fails on names that are empty or too long, missing
  // interfaces, interfaces that are down, and non-Ethernet link types.
  kUsableEthernet,
  // Only that it exists; the other facts are best effort and `up` tells:
  // the engine, which reports a down interface itself and lets DPDK start
  // without one.
  kExists,
};

std::optional<InterfaceInfo> query_interface(const std::string& name, InterfaceNeeds needs, const ErrorSink& err);

}  // namespace dpdkudp::base
