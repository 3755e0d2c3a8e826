// The multicast options' argument forms. The errnos expected are those
// Linux 6.18 gives for the same calls on an AF_INET6 (or AF_INET) UDP
// socket (probed with Python's setsockopt; tests/integration/shim/
// multicast6.sh checks a few of them against the running kernel too).
#include "preload/multicast_opts.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

namespace dpdkudp::preload {
namespace {

using wire::Ipv6Addr;

const Ipv6Addr kGroup(0xff32, 0x30, 0x2001, 2, 0, 0, 0, 1);  // RFC 3306, link scope
const Ipv6Addr kSource(0x2001, 2, 0, 9, 0, 0, 0, 1);
const Ipv6Addr kUnicast(0x2001, 2, 0, 9, 0, 0, 0, 5);

in6_addr in6_of(const Ipv6Addr& a) {
  in6_addr out{};
  a.store(out.s6_addr);
  return out;
}

sockaddr_storage storage_of(const Ipv6Addr& a, sa_family_t family = AF_INET6) {
  sockaddr_storage ss{};
  sockaddr_in6 sin6{};
  sin6.sin6_family = family;
  sin6.sin6_addr = in6_of(a);
  std::memcpy(&ss, &sin6, sizeof sin6);
  return ss;
}

ipv6_mreq mreq_of(const Ipv6Addr& group, int ifindex) {
  ipv6_mreq m{};
  m.ipv6mr_multiaddr = in6_of(group);
  m.ipv6mr_interface = static_cast<unsigned>(ifindex);
  return m;
}

group_req greq_of(const Ipv6Addr& group, uint32_t ifindex, sa_family_t family = AF_INET6) {
  group_req r{};
  r.gr_interface = ifindex;
  r.gr_group = storage_of(group, family);
  return r;
}

group_source_req gsreq_of(const Ipv6Addr& group, const Ipv6Addr& source, uint32_t ifindex,
                          sa_family_t group_family = AF_INET6, sa_family_t source_family = AF_INET6) {
  group_source_req r{};
  r.gsr_interface = ifindex;
  r.gsr_group = storage_of(group, group_family);
  r.gsr_source = storage_of(source, source_family);
  return r;
}

TEST(MulticastOpts6, RecognisesTheIpv6LevelMembershipOptions) {
  for (int name : {IPV6_ADD_MEMBERSHIP, IPV6_DROP_MEMBERSHIP, MCAST_JOIN_GROUP, MCAST_LEAVE_GROUP,
                   MCAST_JOIN_SOURCE_GROUP, MCAST_LEAVE_SOURCE_GROUP, MCAST_BLOCK_SOURCE, MCAST_UNBLOCK_SOURCE}) {
    EXPECT_TRUE(is_membership_option6(name)) << name;
  }
  EXPECT_EQ(IPV6_JOIN_GROUP, IPV6_ADD_MEMBERSHIP);  // the same option under two names
  EXPECT_EQ(IPV6_LEAVE_GROUP, IPV6_DROP_MEMBERSHIP);
  for (int name : {IPV6_MULTICAST_IF, IPV6_MULTICAST_HOPS, IPV6_MULTICAST_LOOP, IPV6_V6ONLY, MCAST_MSFILTER}) {
    EXPECT_FALSE(is_membership_option6(name)) << name;
  }
}

TEST(MulticastOpts6, Ipv6MreqJoinsAndLeavesOnItsIndex) {
  const ipv6_mreq m = mreq_of(kGroup, 7);
  MembershipRequest6 req;
  ASSERT_EQ(parse_membership6(IPV6_ADD_MEMBERSHIP, &m, sizeof m, &req), 0);
  EXPECT_EQ(req.op, MembershipOp::kJoin);
  EXPECT_EQ(req.group, kGroup);
  EXPECT_EQ(req.ifindex, 7);
  EXPECT_FALSE(req.has_source);
  ASSERT_EQ(parse_membership6(IPV6_DROP_MEMBERSHIP, &m, sizeof m, &req), 0);
  EXPECT_EQ(req.op, MembershipOp::kLeave);
}

TEST(MulticastOpts6, Ipv6MreqLengths) {
  // Shorter than struct ipv6_mreq: EINVAL (the group alone, or 3 bytes of
  // the index); longer: the first 20 bytes count.
  uint8_t buf[sizeof(ipv6_mreq) + 8] = {};
  const ipv6_mreq m = mreq_of(kGroup, 3);
  std::memcpy(buf, &m, sizeof m);
  MembershipRequest6 req;
  EXPECT_EQ(parse_membership6(IPV6_ADD_MEMBERSHIP, buf, 16, &req), EINVAL);
  EXPECT_EQ(parse_membership6(IPV6_ADD_MEMBERSHIP, buf, 19, &req), EINVAL);
  EXPECT_EQ(parse_membership6(IPV6_DROP_MEMBERSHIP, buf, 0, &req), EINVAL);
  ASSERT_EQ(parse_membership6(IPV6_ADD_MEMBERSHIP, buf, sizeof buf, &req), 0);
  EXPECT_EQ(req.ifindex, 3);
}

TEST(MulticastOpts6, LengthIsCheckedBeforeTheNullPointer) {
  MembershipRequest6 req;
  EXPECT_EQ(parse_membership6(IPV6_ADD_MEMBERSHIP, nullptr, 4, &req), EINVAL);
  EXPECT_EQ(parse_membership6(IPV6_ADD_MEMBERSHIP, nullptr, sizeof(ipv6_mreq), &req), EFAULT);
  EXPECT_EQ(parse_membership6(MCAST_JOIN_GROUP, nullptr, sizeof(group_req), &req), EFAULT);
  EXPECT_EQ(parse_membership6(MCAST_BLOCK_SOURCE, nullptr, sizeof(group_source_req), &req), EFAULT);
}

TEST(MulticastOpts6, NotAGroupIsEinval) {
  const ipv6_mreq m = mreq_of(kUnicast, 1);
  const group_req r = greq_of(kUnicast, 1);
  const group_source_req sr = gsreq_of(kUnicast, kSource, 1);
  MembershipRequest6 req;
  EXPECT_EQ(parse_membership6(IPV6_ADD_MEMBERSHIP, &m, sizeof m, &req), EINVAL);
  EXPECT_EQ(parse_membership6(IPV6_DROP_MEMBERSHIP, &m, sizeof m, &req), EINVAL);
  EXPECT_EQ(parse_membership6(MCAST_JOIN_GROUP, &r, sizeof r, &req), EINVAL);
  EXPECT_EQ(parse_membership6(MCAST_JOIN_SOURCE_GROUP, &sr, sizeof sr, &req), EINVAL);
  EXPECT_EQ(parse_membership6(MCAST_BLOCK_SOURCE, &sr, sizeof sr, &req), EINVAL);
}

TEST(MulticastOpts6, GroupReq) {
  const group_req r = greq_of(kGroup, 4);
  MembershipRequest6 req;
  ASSERT_EQ(parse_membership6(MCAST_JOIN_GROUP, &r, sizeof r, &req), 0);
  EXPECT_EQ(req.op, MembershipOp::kJoin);
  EXPECT_EQ(req.group, kGroup);
  EXPECT_EQ(req.ifindex, 4);
  EXPECT_FALSE(req.has_source);
  ASSERT_EQ(parse_membership6(MCAST_LEAVE_GROUP, &r, sizeof r, &req), 0);
  EXPECT_EQ(req.op, MembershipOp::kLeave);
  // One byte short: EINVAL; longer: accepted.
  EXPECT_EQ(parse_membership6(MCAST_JOIN_GROUP, &r, sizeof r - 1, &req), EINVAL);
  uint8_t longer[sizeof r + 4] = {};
  std::memcpy(longer, &r, sizeof r);
  EXPECT_EQ(parse_membership6(MCAST_JOIN_GROUP, longer, sizeof longer, &req), 0);
}

TEST(MulticastOpts6, GroupReqOfAnotherFamilyIsEaddrnotavail) {
  // ipv6_mcast_join_leave: unlike IPv4's EINVAL.
  const group_req r = greq_of(kGroup, 4, AF_INET);
  MembershipRequest6 req;
  EXPECT_EQ(parse_membership6(MCAST_JOIN_GROUP, &r, sizeof r, &req), EADDRNOTAVAIL);
  EXPECT_EQ(parse_membership6(MCAST_LEAVE_GROUP, &r, sizeof r, &req), EADDRNOTAVAIL);
}

TEST(MulticastOpts6, GroupSourceReq) {
  const group_source_req r = gsreq_of(kGroup, kSource, 5);
  MembershipRequest6 req;
  const std::pair<int, MembershipOp> cases[] = {{MCAST_JOIN_SOURCE_GROUP, MembershipOp::kJoin},
                                                {MCAST_LEAVE_SOURCE_GROUP, MembershipOp::kLeave},
                                                {MCAST_BLOCK_SOURCE, MembershipOp::kBlock},
                                                {MCAST_UNBLOCK_SOURCE, MembershipOp::kUnblock}};
  for (const auto& [name, op] : cases) {
    ASSERT_EQ(parse_membership6(name, &r, sizeof r, &req), 0) << name;
    EXPECT_EQ(req.op, op) << name;
    EXPECT_EQ(req.group, kGroup);
    EXPECT_TRUE(req.has_source);
    EXPECT_EQ(req.source, kSource);
    EXPECT_EQ(req.ifindex, 5);
    EXPECT_EQ(parse_membership6(name, &r, sizeof r - 1, &req), EINVAL) << name;
  }
  uint8_t longer[sizeof r + 4] = {};
  std::memcpy(longer, &r, sizeof r);
  EXPECT_EQ(parse_membership6(MCAST_JOIN_SOURCE_GROUP, longer, sizeof longer, &req), 0);
}

TEST(MulticastOpts6, GroupSourceReqFamilies) {
  // Either address of another family: EADDRNOTAVAIL, before the group's
  // own check (a unicast "group" of the wrong family says the same).
  MembershipRequest6 req;
  const group_source_req bad_group = gsreq_of(kGroup, kSource, 1, AF_INET, AF_INET6);
  const group_source_req bad_source = gsreq_of(kGroup, kSource, 1, AF_INET6, AF_INET);
  const group_source_req bad_both = gsreq_of(kUnicast, kSource, 1, AF_INET, AF_INET);
  EXPECT_EQ(parse_membership6(MCAST_JOIN_SOURCE_GROUP, &bad_group, sizeof bad_group, &req), EADDRNOTAVAIL);
  EXPECT_EQ(parse_membership6(MCAST_JOIN_SOURCE_GROUP, &bad_source, sizeof bad_source, &req), EADDRNOTAVAIL);
  EXPECT_EQ(parse_membership6(MCAST_BLOCK_SOURCE, &bad_both, sizeof bad_both, &req), EADDRNOTAVAIL);
}

TEST(MulticastOpts6, OtherOptionsAreNotMembershipChanges) {
  int v = 1;
  MembershipRequest6 req;
  EXPECT_EQ(parse_membership6(IPV6_MULTICAST_IF, &v, sizeof v, &req), ENOPROTOOPT);
}

// IPv4's forms, for contrast with the IPv6 ones above.
TEST(MulticastOpts4, GroupReqOfAnotherFamilyIsEinval) {
  const group_req r = greq_of(kGroup, 4);  // AF_INET6 at level IPPROTO_IP
  MembershipRequest req;
  EXPECT_EQ(parse_membership(MCAST_JOIN_GROUP, &r, sizeof r, &req), EINVAL);
}

TEST(MulticastOpts4, MreqnByLengthAndMreqSourceExactly) {
  ip_mreqn m{};
  inet_pton(AF_INET, "239.198.18.1", &m.imr_multiaddr);
  m.imr_ifindex = 6;
  MembershipRequest req;
  ASSERT_EQ(parse_membership(IP_ADD_MEMBERSHIP, &m, sizeof m, &req), 0);
  EXPECT_EQ(req.ifindex, 6);
  ASSERT_EQ(parse_membership(IP_ADD_MEMBERSHIP, &m, sizeof(ip_mreq), &req), 0);
  EXPECT_EQ(req.ifindex, 0);  // an ip_mreq: no index
  EXPECT_EQ(parse_membership(IP_ADD_MEMBERSHIP, &m, 4, &req), EINVAL);
  ip_mreq_source s{};
  s.imr_multiaddr = m.imr_multiaddr;
  EXPECT_EQ(parse_membership(IP_ADD_SOURCE_MEMBERSHIP, &s, sizeof s, &req), 0);
  EXPECT_EQ(parse_membership(IP_ADD_SOURCE_MEMBERSHIP, &s, sizeof s + 4, &req), EINVAL);
}

}  // namespace
}  // namespace dpdkudp::preload
