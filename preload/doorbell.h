// The doorbell's wire form (decision 1): a 16-byte datagram from a
// loopback address that makes an offloaded socket's kernel fd readable
// for waits the shim cannot see. The sending and passing on is
// ShimSocket's (shim_socket_doorbell.cc); this is what a doorbell is and
// how one is recognised. Pure functions, any thread.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace dpdkudp::preload {

// A doorbell on the wire: 16 bytes from a loopback address.
struct DoorbellMsg {
  uint32_t magic;
  uint16_t hops;  // times a sibling passed it on
  uint16_t reserved;
  uint64_t token;  // the socket it is for
};
inline constexpr uint32_t kDoorbellMagic = 0x42445544;  // "DUDB"
inline constexpr uint16_t kDoorbellMaxHops = 8;
static_assert(sizeof(DoorbellMsg) == 16);

// True when (from, data[0..n)) is a doorbell: from 127.0.0.1, exactly
// sizeof(DoorbellMsg) bytes, the magic; *out gets it.
bool parse_doorbell(const sockaddr_in& from, const void* data, ssize_t n, DoorbellMsg* out);
// The same for a source of either family: 127.0.0.1, ::1 (the IPv6
// senders) or ::ffff:127.0.0.1 (an IPv4 sender to a dual-stack socket).
bool parse_doorbell(const sockaddr_storage& from, const void* data, ssize_t n, DoorbellMsg* out);
// Whether a received source address is a doorbell sender's (either family).
bool from_loopback_sender(const sockaddr_storage& from);
// The first n bytes of a received message, gathered from its iovec into
// *out; false unless n is sizeof(DoorbellMsg) and they are all there.
bool gather_head(const msghdr& m, size_t n, DoorbellMsg* out);

}  // namespace dpdkudp::preload
