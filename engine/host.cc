#include "engine/host.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <bit>

#include "base/interface.h"

namespace dpdkudp::engine {

namespace {

// fn(address, netmask) in host order for each IPv4 address of the interface.
template <typename Fn>
void for_each_ipv4(const std::string& name, Fn&& fn) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET || name != a->ifa_name) continue;
    uint32_t addr = ntohl(reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr);
    uint32_t mask =
        a->ifa_netmask ? ntohl(reinterpret_cast<const sockaddr_in*>(a->ifa_netmask)->sin_addr.s_addr) : 0xffffffffu;
    fn(addr, mask);
  }
  ::freeifaddrs(list);
}

}  // namespace

std::optional<InterfaceInfo> query_interface(const std::string& name, std::string* error) {
  // Only the index must be there: a down interface is reported by the
  // caller, and DPDK starts without one.
  const auto facts = base::query_interface(name, base::InterfaceNeeds::kExists,
                                           base::ErrorSink::with_prefix("interface " + name + ": ", name, error));
  if (!facts) return std::nullopt;
  InterfaceInfo info;
  info.name = name;
  info.ifindex = facts->ifindex;
  info.up = facts->up;
  info.mtu = facts->mtu;
  info.mac = facts->mac;

  for_each_ipv4(name, [&](uint32_t addr, uint32_t mask) {
    if (!info.ipv4) info.ipv4 = wire::Ipv4Cidr{wire::Ipv4Addr(addr), static_cast<uint8_t>(std::popcount(mask))};
  });
  return info;
}

std::vector<wire::Ipv4Addr> kernel_ipv4_addresses(const std::string& name) {
  std::vector<wire::Ipv4Addr> out;
  for_each_ipv4(name, [&](uint32_t addr, uint32_t) { out.push_back(wire::Ipv4Addr(addr)); });
  return out;
}

}  // namespace dpdkudp::engine
