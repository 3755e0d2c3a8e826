#include "preload/multicast_opts.h"

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>

namespace dpdkudp::preload {
namespace {

wire::Ipv4Addr from_in(in_addr a) { return wire::Ipv4Addr(ntohl(a.s_addr)); }

// An AF_INET sockaddr_storage's address; false for another family.
bool inet_of(const sockaddr_storage& ss, wire::Ipv4Addr* out) {
  if (ss.ss_family != AF_INET) return false;
  sockaddr_in sin;
  std::memcpy(&sin, &ss, sizeof sin);
  *out = from_in(sin.sin_addr);
  return true;
}

wire::Ipv6Addr from_in6(const in6_addr& a) { return wire::Ipv6Addr::load(a.s6_addr); }

// An AF_INET6 sockaddr_storage's address; false for another family.
bool inet6_of(const sockaddr_storage& ss, wire::Ipv6Addr* out) {
  if (ss.ss_family != AF_INET6) return false;
  sockaddr_in6 sin6;
  std::memcpy(&sin6, &ss, sizeof sin6);
  *out = from_in6(sin6.sin6_addr);
  return true;
}

}  // namespace

bool is_membership_option(int name) {
  switch (name) {
    case IP_ADD_MEMBERSHIP:
    case IP_DROP_MEMBERSHIP:
    case IP_ADD_SOURCE_MEMBERSHIP:
    case IP_DROP_SOURCE_MEMBERSHIP:
    case IP_BLOCK_SOURCE:
    case IP_UNBLOCK_SOURCE:
    case MCAST_JOIN_GROUP:
    case MCAST_LEAVE_GROUP:
    case MCAST_JOIN_SOURCE_GROUP:
    case MCAST_LEAVE_SOURCE_GROUP:
    case MCAST_BLOCK_SOURCE:
    case MCAST_UNBLOCK_SOURCE: return true;
    default: return false;
  }
}

int parse_membership(int name, const void* value, socklen_t len, MembershipRequest* out) {
  using Op = MembershipRequest::Op;
  *out = MembershipRequest{};
  if (value == nullptr) return EFAULT;
  switch (name) {
    case IP_ADD_MEMBERSHIP:
    case IP_DROP_MEMBERSHIP: {
      if (len < static_cast<socklen_t>(sizeof(ip_mreq))) return EINVAL;
      ip_mreqn m{};
      // An ip_mreqn when it is long enough (its index counts), else an ip_mreq.
      std::memcpy(&m, value, len >= static_cast<socklen_t>(sizeof(ip_mreqn)) ? sizeof(ip_mreqn) : sizeof(ip_mreq));
      out->op = name == IP_ADD_MEMBERSHIP ? Op::kJoin : Op::kLeave;
      out->group = from_in(m.imr_multiaddr);
      out->iface_addr = from_in(m.imr_address);
      out->ifindex = len >= static_cast<socklen_t>(sizeof(ip_mreqn)) ? m.imr_ifindex : 0;
      break;
    }
    case IP_ADD_SOURCE_MEMBERSHIP:
    case IP_DROP_SOURCE_MEMBERSHIP:
    case IP_BLOCK_SOURCE:
    case IP_UNBLOCK_SOURCE: {
      if (len != static_cast<socklen_t>(sizeof(ip_mreq_source))) return EINVAL;
      ip_mreq_source m{};
      std::memcpy(&m, value, sizeof m);
      out->op = name == IP_ADD_SOURCE_MEMBERSHIP    ? Op::kJoin
                : name == IP_DROP_SOURCE_MEMBERSHIP ? Op::kLeave
                : name == IP_BLOCK_SOURCE           ? Op::kBlock
                                                    : Op::kUnblock;
      out->group = from_in(m.imr_multiaddr);
      out->iface_addr = from_in(m.imr_interface);
      out->has_source = true;
      out->source = from_in(m.imr_sourceaddr);
      break;
    }
    case MCAST_JOIN_GROUP:
    case MCAST_LEAVE_GROUP: {
      if (len < static_cast<socklen_t>(sizeof(group_req))) return EINVAL;
      group_req r{};
      std::memcpy(&r, value, sizeof r);
      if (!inet_of(r.gr_group, &out->group)) return EINVAL;
      out->op = name == MCAST_JOIN_GROUP ? Op::kJoin : Op::kLeave;
      out->ifindex = static_cast<int>(r.gr_interface);
      break;
    }
    case MCAST_JOIN_SOURCE_GROUP:
    case MCAST_LEAVE_SOURCE_GROUP:
    case MCAST_BLOCK_SOURCE:
    case MCAST_UNBLOCK_SOURCE: {
      if (len != static_cast<socklen_t>(sizeof(group_source_req))) return EINVAL;
      group_source_req r{};
      std::memcpy(&r, value, sizeof r);
      if (!inet_of(r.gsr_group, &out->group) || !inet_of(r.gsr_source, &out->source)) return EINVAL;
      out->op = name == MCAST_JOIN_SOURCE_GROUP    ? Op::kJoin
                : name == MCAST_LEAVE_SOURCE_GROUP ? Op::kLeave
                : name == MCAST_BLOCK_SOURCE       ? Op::kBlock
                                                   : Op::kUnblock;
      out->has_source = true;
      out->ifindex = static_cast<int>(r.gsr_interface);
      break;
    }
    default: return ENOPROTOOPT;
  }
  if (!out->group.is_multicast()) return EINVAL;
  return 0;
}

int parse_multicast_if(const void* value, socklen_t len, wire::Ipv4Addr* addr, int* ifindex) {
  if (value == nullptr) return EFAULT;
  *addr = wire::Ipv4Addr();
  *ifindex = 0;
  if (len >= static_cast<socklen_t>(sizeof(ip_mreqn))) {
    ip_mreqn m{};
    std::memcpy(&m, value, sizeof m);
    *addr = from_in(m.imr_address);
    *ifindex = m.imr_ifindex;
  } else if (len >= static_cast<socklen_t>(sizeof(ip_mreq))) {
    ip_mreq m{};
    std::memcpy(&m, value, sizeof m);
    *addr = from_in(m.imr_interface);
  } else if (len >= static_cast<socklen_t>(sizeof(in_addr))) {
    in_addr a{};
    std::memcpy(&a, value, sizeof a);
    *addr = from_in(a);
  } else {
    return EINVAL;
  }
  return 0;
}

bool is_membership_option6(int name) {
  switch (name) {
    case IPV6_ADD_MEMBERSHIP:
    case IPV6_DROP_MEMBERSHIP:
    case MCAST_JOIN_GROUP:
    case MCAST_LEAVE_GROUP:
    case MCAST_JOIN_SOURCE_GROUP:
    case MCAST_LEAVE_SOURCE_GROUP:
    case MCAST_BLOCK_SOURCE:
    case MCAST_UNBLOCK_SOURCE: return true;
    default: return false;
  }
}

int parse_membership6(int name, const void* value, socklen_t len, MembershipRequest6* out) {
  using Op = MembershipRequest6::Op;
  *out = MembershipRequest6{};
  // ipv6_sockglue.c checks the length before it copies: a short one is
  // EINVAL even when the pointer is null.
  const auto need = [&](size_t size) -> int {
    if (len < static_cast<socklen_t>(size)) return EINVAL;
    return value == nullptr ? EFAULT : 0;
  };
  switch (name) {
    case IPV6_ADD_MEMBERSHIP:
    case IPV6_DROP_MEMBERSHIP: {
      if (int err = need(sizeof(ipv6_mreq)); err != 0) return err;
      ipv6_mreq m{};
      std::memcpy(&m, value, sizeof m);
      out->op = name == IPV6_ADD_MEMBERSHIP ? Op::kJoin : Op::kLeave;
      out->group = from_in6(m.ipv6mr_multiaddr);
      out->ifindex = static_cast<int>(m.ipv6mr_interface);
      break;
    }
    case MCAST_JOIN_GROUP:
    case MCAST_LEAVE_GROUP: {
      if (int err = need(sizeof(group_req)); err != 0) return err;
      group_req r{};
      std::memcpy(&r, value, sizeof r);
      if (!inet6_of(r.gr_group, &out->group)) return EADDRNOTAVAIL;
      out->op = name == MCAST_JOIN_GROUP ? Op::kJoin : Op::kLeave;
      out->ifindex = static_cast<int>(r.gr_interface);
      break;
    }
    case MCAST_JOIN_SOURCE_GROUP:
    case MCAST_LEAVE_SOURCE_GROUP:
    case MCAST_BLOCK_SOURCE:
    case MCAST_UNBLOCK_SOURCE: {
      if (int err = need(sizeof(group_source_req)); err != 0) return err;
      group_source_req r{};
      std::memcpy(&r, value, sizeof r);
      if (!inet6_of(r.gsr_group, &out->group) || !inet6_of(r.gsr_source, &out->source)) return EADDRNOTAVAIL;
      out->op = name == MCAST_JOIN_SOURCE_GROUP    ? Op::kJoin
                : name == MCAST_LEAVE_SOURCE_GROUP ? Op::kLeave
                : name == MCAST_BLOCK_SOURCE       ? Op::kBlock
                                                   : Op::kUnblock;
      out->has_source = true;
      out->ifindex = static_cast<int>(r.gsr_interface);
      break;
    }
    default: return ENOPROTOOPT;
  }
  if (!out->group.is_multicast()) return EINVAL;
  return 0;
}

}  // namespace dpdkudp::preload
