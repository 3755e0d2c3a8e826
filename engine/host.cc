#include "engine/host.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>

namespace dpdkudp::engine {

std::optional<InterfaceInfo> query_interface(const std::string& name, std::string* error) {
  auto fail = [&](const char* what, int err) -> std::optional<InterfaceInfo> {
    if (error) *error = "interface " + name + ": " + what + (err ? std::string(": ") + std::strerror(err) : "");
    return std::nullopt;
  };
  if (name.empty() || name.size() >= IFNAMSIZ) return fail("bad interface name", 0);
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("cannot open a control socket", errno);
  InterfaceInfo info;
  info.name = name;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.c_str(), name.size());
  auto io = [&](unsigned long req) { return ::ioctl(fd, req, &ifr); };
  if (io(SIOCGIFINDEX) < 0) {
    int e = errno;
    ::close(fd);
    return fail(e == ENODEV ? "no such interface" : "cannot query it", e == ENODEV ? 0 : e);
  }
  info.ifindex = ifr.ifr_ifindex;
  if (io(SIOCGIFFLAGS) == 0) info.up = (ifr.ifr_flags & IFF_UP) != 0;
  if (io(SIOCGIFMTU) == 0) info.mtu = static_cast<uint32_t>(ifr.ifr_mtu);
  if (io(SIOCGIFHWADDR) == 0) std::memcpy(info.mac.data(), ifr.ifr_hwaddr.sa_data, 6);
  ::close(fd);

  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) == 0) {
    for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
      if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET || name != a->ifa_name) continue;
      uint32_t addr = ntohl(reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr);
      uint32_t mask = a->ifa_netmask ? ntohl(reinterpret_cast<const sockaddr_in*>(a->ifa_netmask)->sin_addr.s_addr) : 0xffffffffu;
      info.ipv4 = wire::Ipv4Cidr{wire::Ipv4Addr(addr), static_cast<uint8_t>(std::popcount(mask))};
      break;
    }
    ::freeifaddrs(list);
  }
  return info;
}

}  // namespace dpdkudp::engine
