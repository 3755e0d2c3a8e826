#include "base/interface.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/unique_fd.h"

namespace dpdkudp::base {
namespace {

bool interface_ioctl(int fd, unsigned long request, ifreq& ifr, const char* what, const ErrorSink& err) {
  if (::ioctl(fd, request, &ifr) == 0) {
    return true;
  }
  const int e = errno;
  if (e == ENODEV || e == ENXIO) {
    return err.fail("no such interface");
  }
  return err.fail_errno(what, e);
}

// The engine's lookup: the index must be there, the rest is read if the
// kernel answers (wording kept from the engine's own messages).
std::optional<InterfaceInfo> query_existing(const std::string& name, const ErrorSink& err) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    err.fail("bad interface name");
    return std::nullopt;
  }
  UniqueFd probe(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!probe.valid()) {
    err.fail_errno("cannot open a control socket", errno);
    return std::nullopt;
  }
  InterfaceInfo info;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.c_str(), name.size());
  auto io = [&](unsigned long req) { return ::ioctl(probe.get(), req, &ifr); };
  if (io(SIOCGIFINDEX) < 0) {
    const int e = errno;
    if (e == ENODEV) {
      err.fail("no such interface");
    } else {
      err.fail_errno("cannot query it", e);
    }
    return std::nullopt;
  }
  info.ifindex = ifr.ifr_ifindex;
  if (io(SIOCGIFFLAGS) == 0) info.up = (ifr.ifr_flags & IFF_UP) != 0;
  if (io(SIOCGIFMTU) == 0) info.mtu = static_cast<uint32_t>(ifr.ifr_mtu);
  if (io(SIOCGIFHWADDR) == 0) std::memcpy(info.mac.data(), ifr.ifr_hwaddr.sa_data, 6);
  return info;
}

}  // namespace

std::optional<InterfaceInfo> query_interface(const std::string& name, InterfaceNeeds needs, const ErrorSink& err) {
  if (needs == InterfaceNeeds::kExists) {
    return query_existing(name, err);
  }
  if (name.empty()) {
    err.fail("no interface name given");
    return std::nullopt;
  }
  if (name.size() >= IFNAMSIZ) {
    err.fail("name longer than " + std::to_string(IFNAMSIZ - 1) + " characters");
    return std::nullopt;
  }
  // Any socket answers interface ioctls; AF_INET needs no privilege.
  UniqueFd probe(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!probe.valid()) {
    err.fail_errno("socket(AF_INET) for interface queries", errno);
    return std::nullopt;
  }
  InterfaceInfo info;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), name.size());

  if (!interface_ioctl(probe.get(), SIOCGIFINDEX, ifr, "SIOCGIFINDEX", err)) {
    return std::nullopt;
  }
  info.ifindex = ifr.ifr_ifindex;

  if (!interface_ioctl(probe.get(), SIOCGIFHWADDR, ifr, "SIOCGIFHWADDR", err)) {
    return std::nullopt;
  }
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
    err.fail("not an Ethernet interface (link type " + std::to_string(ifr.ifr_hwaddr.sa_family) + ")");
    return std::nullopt;
  }
  std::memcpy(info.mac.data(), ifr.ifr_hwaddr.sa_data, info.mac.size());

  if (!interface_ioctl(probe.get(), SIOCGIFMTU, ifr, "SIOCGIFMTU", err)) {
    return std::nullopt;
  }
  info.mtu = static_cast<uint32_t>(ifr.ifr_mtu);

  if (!interface_ioctl(probe.get(), SIOCGIFFLAGS, ifr, "SIOCGIFFLAGS", err)) {
    return std::nullopt;
  }
  info.up = (ifr.ifr_flags & IFF_UP) != 0;
  if (!info.up) {
    err.fail("interface is down (ip link set " + name + " up)");
    return std::nullopt;
  }

  ethtool_channels channels{};
  channels.cmd = ETHTOOL_GCHANNELS;
  ifr.ifr_data = reinterpret_cast<char*>(&channels);
  if (::ioctl(probe.get(), SIOCETHTOOL, &ifr) == 0) {
    // The queues in use now (veth reports every possible one as max).
    info.max_queues = std::max(std::min(channels.rx_count, channels.tx_count) + channels.combined_count, 1u);
  }
  return info;
}

}  // namespace dpdkudp::base
