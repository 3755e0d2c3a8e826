#include "engine/kernel_neighbors.h"

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace dpdkudp::engine {
namespace {

constexpr uint16_t kUsableStates = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT;

}  // namespace

std::vector<KernelNeighbor6> parse_neighbor_dump6(std::span<const uint8_t> bytes, int ifindex) {
  std::vector<KernelNeighbor6> out;
  size_t off = 0;
  while (off + sizeof(nlmsghdr) <= bytes.size()) {
    nlmsghdr h;
    std::memcpy(&h, bytes.data() + off, sizeof h);
    if (h.nlmsg_len < sizeof h || off + h.nlmsg_len > bytes.size()) break;
    if (h.nlmsg_type == NLMSG_DONE || h.nlmsg_type == NLMSG_ERROR) break;
    const size_t end = off + h.nlmsg_len;
    const size_t body = off + NLMSG_HDRLEN;
    if (h.nlmsg_type == RTM_NEWNEIGH && body + sizeof(ndmsg) <= end) {
      ndmsg nd;
      std::memcpy(&nd, bytes.data() + body, sizeof nd);
      if (nd.ndm_family == AF_INET6 && nd.ndm_ifindex == ifindex && (nd.ndm_state & kUsableStates) != 0) {
        std::optional<wire::Ipv6Addr> ip;
        std::optional<MacAddr> mac;
        size_t a = body + NLMSG_ALIGN(sizeof(ndmsg));
        while (a + sizeof(rtattr) <= end) {
          rtattr ra;
          std::memcpy(&ra, bytes.data() + a, sizeof ra);
          if (ra.rta_len < sizeof ra || a + ra.rta_len > end) break;
          const uint8_t* data = bytes.data() + a + RTA_LENGTH(0);
          const size_t len = ra.rta_len - RTA_LENGTH(0);
          if (ra.rta_type == NDA_DST && len == 16) ip = wire::Ipv6Addr::load(data);
          if (ra.rta_type == NDA_LLADDR && len == 6) mac = wire::load_mac(data);
          a += RTA_ALIGN(ra.rta_len);
        }
        if (ip && mac && *mac != wire::kZeroMac) out.push_back({*ip, *mac});
      }
    }
    off += NLMSG_ALIGN(h.nlmsg_len);
  }
  return out;
}

std::optional<std::vector<KernelNeighbor6>> read_kernel_neighbors6(int ifindex) {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return std::nullopt;
  struct {
    nlmsghdr h;
    ndmsg nd;
  } req{};
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = RTM_GETNEIGH;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.h.nlmsg_seq = 1;
  req.nd.ndm_family = AF_INET6;
  req.nd.ndm_ifindex = ifindex;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, &req, sizeof req, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
    ::close(fd);
    return std::nullopt;
  }
  std::vector<KernelNeighbor6> out;
  std::vector<uint8_t> buf(32768);
  // Bounded: a dump of a few hundred entries takes a handful of reads.
  for (int reads = 0; reads < 256; ++reads) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) {
      ::close(fd);
      return std::nullopt;
    }
    std::span<const uint8_t> got(buf.data(), static_cast<size_t>(n));
    std::vector<KernelNeighbor6> part = parse_neighbor_dump6(got, ifindex);
    out.insert(out.end(), part.begin(), part.end());
    // The dump ends with NLMSG_DONE (or an error): look for it.
    bool done = false;
    for (size_t off = 0; off + sizeof(nlmsghdr) <= got.size();) {
      nlmsghdr h;
      std::memcpy(&h, got.data() + off, sizeof h);
      if (h.nlmsg_type == NLMSG_DONE || h.nlmsg_type == NLMSG_ERROR) done = true;
      if (h.nlmsg_len < sizeof h) break;
      off += NLMSG_ALIGN(h.nlmsg_len);
    }
    if (done) {
      ::close(fd);
      return out;
    }
  }
  ::close(fd);
  return std::nullopt;
}

}  // namespace dpdkudp::engine
