// The rtnetlink neighbour dump parser, on dumps built with the kernel's own
// struct layouts; and one read of this machine's table (which must work,
// whatever it holds).
#include "engine/kernel_neighbors.h"

#include <gtest/gtest.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

namespace dpdkudp::engine {
namespace {

using wire::Ipv6Addr;

// Appends one RTM_NEWNEIGH message; dst/lladdr lengths as given.
void add_neigh(std::vector<uint8_t>& out, uint8_t family, int ifindex, uint16_t state, const std::vector<uint8_t>& dst,
               const std::vector<uint8_t>& lladdr) {
  const size_t start = out.size();
  out.resize(start + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ndmsg)));
  nlmsghdr h{};
  h.nlmsg_type = RTM_NEWNEIGH;
  ndmsg nd{};
  nd.ndm_family = family;
  nd.ndm_ifindex = ifindex;
  nd.ndm_state = state;
  std::memcpy(out.data() + start + NLMSG_HDRLEN, &nd, sizeof nd);
  auto attr = [&](uint16_t type, const std::vector<uint8_t>& v) {
    rtattr ra{};
    ra.rta_type = type;
    ra.rta_len = static_cast<uint16_t>(RTA_LENGTH(v.size()));
    const size_t at = out.size();
    out.resize(at + RTA_ALIGN(ra.rta_len));
    std::memcpy(out.data() + at, &ra, sizeof ra);
    std::memcpy(out.data() + at + RTA_LENGTH(0), v.data(), v.size());
  };
  if (!dst.empty()) attr(NDA_DST, dst);
  if (!lladdr.empty()) attr(NDA_LLADDR, lladdr);
  h.nlmsg_len = static_cast<uint32_t>(out.size() - start);
  std::memcpy(out.data() + start, &h, sizeof h);
}

void add_done(std::vector<uint8_t>& out) {
  nlmsghdr h{};
  h.nlmsg_type = NLMSG_DONE;
  h.nlmsg_len = NLMSG_HDRLEN + sizeof(int);
  const size_t at = out.size();
  out.resize(at + NLMSG_ALIGN(h.nlmsg_len));
  std::memcpy(out.data() + at, &h, sizeof h);
}

std::vector<uint8_t> bytes_of(const Ipv6Addr& a) { return {a.octets.begin(), a.octets.end()}; }

TEST(KernelNeighbors6, TakesUsableEntriesOfTheInterfaceOnly) {
  const Ipv6Addr a(0x2001, 2, 0, 0, 0, 0, 0, 1);
  const Ipv6Addr b(0xfe80, 0, 0, 0, 0, 0, 0, 1);
  const std::vector<uint8_t> mac = {2, 0, 0, 0, 0, 1};
  std::vector<uint8_t> dump;
  add_neigh(dump, AF_INET6, 7, NUD_STALE, bytes_of(a), mac);
  add_neigh(dump, AF_INET6, 7, NUD_PERMANENT, bytes_of(b), {2, 0, 0, 0, 0, 2});
  add_neigh(dump, AF_INET6, 8, NUD_REACHABLE, bytes_of(Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 3)), mac);  // another iface
  add_neigh(dump, AF_INET6, 7, NUD_INCOMPLETE, bytes_of(Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 4)), {});
  add_neigh(dump, AF_INET6, 7, NUD_FAILED, bytes_of(Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 5)), mac);
  add_neigh(dump, AF_INET, 7, NUD_REACHABLE, {198, 18, 0, 1}, mac);                                  // IPv4
  add_neigh(dump, AF_INET6, 7, NUD_REACHABLE, bytes_of(Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 6)), {});  // no lladdr
  add_done(dump);
  add_neigh(dump, AF_INET6, 7, NUD_REACHABLE, bytes_of(Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 7)), mac);  // after DONE
  std::vector<KernelNeighbor6> got = parse_neighbor_dump6(dump, 7);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], (KernelNeighbor6{a, {2, 0, 0, 0, 0, 1}}));
  EXPECT_EQ(got[1], (KernelNeighbor6{b, {2, 0, 0, 0, 0, 2}}));
}

TEST(KernelNeighbors6, TruncatedAndMalformedMessagesEndTheWalkSafely) {
  std::vector<uint8_t> dump;
  add_neigh(dump, AF_INET6, 7, NUD_STALE, bytes_of(Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 1)), {2, 0, 0, 0, 0, 1});
  for (size_t cut = 0; cut < dump.size(); ++cut) {
    std::vector<uint8_t> part(dump.begin(), dump.begin() + static_cast<long>(cut));
    EXPECT_TRUE(parse_neighbor_dump6(part, 7).empty()) << cut;
  }
  std::vector<uint8_t> bad = dump;
  nlmsghdr h;
  std::memcpy(&h, bad.data(), sizeof h);
  h.nlmsg_len = 4;  // shorter than its own header
  std::memcpy(bad.data(), &h, sizeof h);
  EXPECT_TRUE(parse_neighbor_dump6(bad, 7).empty());
}

TEST(KernelNeighbors6, ReadsThisMachinesTable) {
  // Loopback has no IPv6 neighbours; the request itself must succeed.
  auto got = read_kernel_neighbors6(static_cast<int>(if_nametoindex("lo")));
  ASSERT_TRUE(got.has_value());
}

}  // namespace
}  // namespace dpdkudp::engine
