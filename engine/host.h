// What the host knows about an interface: index, MAC, MTU, flags and its
// IPv4 address, read with ioctl/getifaddrs in the caller's network
// namespace. Start-up only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

// Every IPv4 address the kernel has on the interface (none when it is gone).
std::vector<wire::Ipv4Addr> kernel_ipv4_addresses(const std::string& name);

}  // namespace dpdkudp::engine
