// What the host knows about an interface: index, MAC, MTU, flags and its
// IPv4 address, read with ioctl/getifaddrs in the caller's network
// namespace. Start-up only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "stack/wire/bytes.h"

namespace dpdkudp::engine {

struct InterfaceInfo {
  std::string name;
  int ifindex = 0;
  MacAddr mac{};
  uint32_t mtu = 0;
  bool up = false;
  std::optional<wire::Ipv4Cidr> ipv4;  // the first IPv4 address, if any
};

// nullopt with *error set ("interface eth9: no such interface") on failure.
std::optional<InterfaceInfo> query_interface(const std::string& name, std::string* error);

}  // namespace dpdkudp::engine
