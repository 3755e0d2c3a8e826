// The POSIX address forms the socket adapter converts: sockaddr_in and
// sockaddr_in6 to and from the stack's Endpoint, with the kernel's
// conventions for short buffers and wrong families. Pure functions, any
// thread.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

#include "stack/net/udp_socket.h"

namespace dpdkudp::preload {

// errno = err, returns -1 (libc's convention).
int fail(int err);
// addr << 16 | port, host order (a doorbell target).
uint64_t pack_target(const sockaddr_in& sin);
sockaddr_in to_sockaddr(const stack::Endpoint& e);
// An endpoint as an AF_INET6 socket shows it: an IPv4 one v4-mapped.
sockaddr_in6 to_sockaddr6(const stack::Endpoint& e);
// Copies sin into a caller's (addr, *len) as the kernel does: truncated to
// the buffer, *len set to the full size. Either may be null.
void copy_out(const sockaddr_in& sin, sockaddr* addr, socklen_t* len);
// Parses a sendto/sendmsg destination: 0, or EINVAL (shorter than a
// sockaddr_in), EAFNOSUPPORT (neither AF_INET nor AF_UNSPEC, which
// udp_sendmsg takes as AF_INET).
int parse_dest(const void* name, socklen_t len, stack::Endpoint* out);

// The AF_INET6 socket's forms (net/ipv6's udpv6_sendmsg, inet6_bind,
// __ip6_datagram_connect). SIN6_LEN_RFC2133 (24 bytes, no scope id) is the
// shortest sockaddr_in6 Linux takes; the scope id is read only from a
// full one. v4-mapped addresses come back as IPv6 endpoints (the stack
// canonicalises them).
inline constexpr socklen_t kSin6LenRfc2133 = 24;
// sendto/sendmsg: 0 with *out set; 0 with *no_dest set for AF_UNSPEC (the
// connected peer is used); EINVAL (short, or a family other than AF_INET6,
// AF_INET, AF_UNSPEC); an AF_INET address is parsed as sendto on an
// AF_INET socket would (Linux hands it to IPv4), *out an IPv4 endpoint.
int parse_dest6(const void* name, socklen_t len, stack::Endpoint* out, bool* no_dest);
// bind: EINVAL (short), EAFNOSUPPORT (not AF_INET6).
int parse_bind6(const void* name, socklen_t len, stack::Endpoint* out);
// connect (AF_UNSPEC handled before): an AF_INET address is taken as
// IPv4 (Linux connects the socket over IPv4); EINVAL (short),
// EAFNOSUPPORT (another family).
int parse_connect6(const void* name, socklen_t len, stack::Endpoint* out);
// Copies either form out as the kernel does (truncated, *len the full size).
void copy_out(const sockaddr_in6& sin6, sockaddr* addr, socklen_t* len);
// Same family, address and port (AF_INET or AF_INET6; scope ids ignored).
bool same_address(const sockaddr_storage& a, const sockaddr_storage& b);

}  // namespace dpdkudp::preload
