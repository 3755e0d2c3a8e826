// The POSIX address forms the socket adapter converts: sockaddr_in to and
// from the stack's Endpoint, with the kernel's conventions for short
// buffers and wrong families. Pure functions, any thread.
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

}  // namespace dpdkudp::preload
