#include "backends/common/multicast_memberships.h"

#include <linux/if_packet.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace dpdkudp {
namespace {

int change_membership(int fd, int ifindex, const MacAddr& mac, bool add) {
  packet_mreq mreq{};
  mreq.mr_ifindex = ifindex;
  mreq.mr_type = PACKET_MR_MULTICAST;
  mreq.mr_alen = static_cast<unsigned short>(mac.size());
  std::memcpy(mreq.mr_address, mac.data(), mac.size());
  const int name = add ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP;
  if (::setsockopt(fd, SOL_PACKET, name, &mreq, sizeof(mreq)) != 0) {
    return -errno;
  }
  return 0;
}

}  // namespace

int MulticastMemberships::set(std::span<const int> fds, int ifindex, const MacAddr& mac, bool on) {
  if ((mac[0] & 0x01) == 0) {
    return -EINVAL;  // the I/G bit: a unicast address is no group
  }
  std::lock_guard lock(mutex_);
  const auto it = refs_.find(mac);
  if (on && it != refs_.end()) {
    ++it->second;
    return 0;
  }
  if (!on) {
    if (it == refs_.end()) {
      return -EADDRNOTAVAIL;
    }
    if (it->second > 1) {
      --it->second;
      return 0;
    }
  }
  // The first on or the last off: the kernel's turn.
  for (size_t i = 0; i < fds.size(); ++i) {
    if (const int rc = change_membership(fds[i], ifindex, mac, on); rc != 0) {
      // Undo the sockets already changed, so they all agree (best effort:
      // undoing a drop is an add, which may fail too).
      for (size_t j = 0; j < i; ++j) {
        (void)change_membership(fds[j], ifindex, mac, !on);
      }
      return rc;
    }
  }
  if (on) {
    refs_.emplace(mac, 1);
  } else {
    refs_.erase(it);
  }
  return 0;
}

}  // namespace dpdkudp
