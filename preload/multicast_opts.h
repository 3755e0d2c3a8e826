// The multicast socket options' argument forms, read as Linux reads them
// (net/ipv4/ip_sockglue.c's and net/ipv6/ipv6_sockglue.c's rules: which
// lengths are accepted, which field names the interface, which errno a
// wrong one gets). Pure functions, unit-tested without the shim.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

#include "stack/wire/bytes.h"

namespace dpdkudp::preload {

enum class MembershipOp : uint8_t { kJoin, kLeave, kBlock, kUnblock };

// One membership change: IP_ADD/DROP_MEMBERSHIP, IP_ADD/DROP_SOURCE_MEMBERSHIP,
// IP_BLOCK/UNBLOCK_SOURCE and the protocol-independent MCAST_* forms.
struct MembershipRequest {
  using Op = MembershipOp;
  Op op = Op::kJoin;
  wire::Ipv4Addr group;
  bool has_source = false;  // source-specific (or the source to block)
  wire::Ipv4Addr source;
  // The interface: an index (0: none given), else an address of it
  // (0.0.0.0: any, the route's choice).
  int ifindex = 0;
  wire::Ipv4Addr iface_addr;
};

// Whether `name` (level IPPROTO_IP) is one of the membership options.
bool is_membership_option(int name);
// Reads the option's argument; 0, or the errno Linux gives (EINVAL for a
// wrong length, a family other than AF_INET in MCAST_* forms, or a group
// that is not multicast; EFAULT for a null argument).
int parse_membership(int name, const void* value, socklen_t len, MembershipRequest* out);

// IP_MULTICAST_IF: an in_addr, an ip_mreq (its interface field) or an
// ip_mreqn (address and index). 0 or EINVAL/EFAULT.
int parse_multicast_if(const void* value, socklen_t len, wire::Ipv4Addr* addr, int* ifindex);

// One IPv6 membership change: IPV6_ADD/DROP_MEMBERSHIP (alias
// IPV6_JOIN/LEAVE_GROUP, a struct ipv6_mreq) and the MCAST_* forms at level
// IPPROTO_IPV6. The interface is an index only (0: the route's choice).
struct MembershipRequest6 {
  using Op = MembershipOp;
  Op op = Op::kJoin;
  wire::Ipv6Addr group;
  bool has_source = false;  // source-specific (or the source to block)
  wire::Ipv6Addr source;
  int ifindex = 0;
};

// Whether `name` (level IPPROTO_IPV6) is one of the membership options.
bool is_membership_option6(int name);
// Reads the option's argument; 0, or the errno Linux gives: EINVAL for a
// length shorter than the structure (longer is accepted) or a group that is
// not multicast, EADDRNOTAVAIL for a family other than AF_INET6 in the
// MCAST_* forms (unlike IPv4's EINVAL), EFAULT for a null argument.
int parse_membership6(int name, const void* value, socklen_t len, MembershipRequest6* out);

}  // namespace dpdkudp::preload
