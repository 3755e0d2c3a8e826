// The doorbell's wire form (decision 1): a 24-byte datagram from a
// loopback address that makes an offloaded socket's kernel fd readable
// for waits the shim cannot see. The sending and passing on is
// ShimSocket's (shim_socket_doorbell.cc); this is what a doorbell is and
// how one is recognised. Pure functions, any thread, except doorbell_key().
//
// Any local program may send a datagram from 127.0.0.1 to a socket's
// kernel port, so the shape alone proves nothing: a doorbell also carries
// the key of the user the shim runs as (64 random bits in an owner-only
// file, shared by that user's processes, whose SO_REUSEPORT siblings pass
// doorbells on to each other). A datagram with the shape and the wrong key
// is the application's, delivered as any other. Loopback traffic cannot be
// observed without privilege, so the key is not learnt from the wire.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "stack/net/udp_socket.h"

namespace dpdkudp::preload {

// A doorbell on the wire: 24 bytes from a loopback address.
struct DoorbellMsg {
  uint32_t magic;
  uint16_t hops;  // times a sibling passed it on
  uint16_t reserved;
  uint64_t token;  // the socket it is for
  uint64_t key;    // doorbell_key() of the sender
};
inline constexpr uint32_t kDoorbellMagic = 0x42445544;  // "DUDB"
inline constexpr uint16_t kDoorbellMaxHops = 8;
static_assert(sizeof(DoorbellMsg) == 24);

// True when (from, data[0..n)) is a doorbell: from 127.0.0.1, exactly
// sizeof(DoorbellMsg) bytes, the magic and `key`; *out gets it.
bool parse_doorbell(const sockaddr_in& from, const void* data, ssize_t n, uint64_t key, DoorbellMsg* out);
// The same for a source of either family: 127.0.0.1, ::1 (the IPv6
// senders) or ::ffff:127.0.0.1 (an IPv4 sender to a dual-stack socket).
bool parse_doorbell(const sockaddr_storage& from, const void* data, ssize_t n, uint64_t key, DoorbellMsg* out);
// Whether a received source address is a doorbell sender's (either family).
bool from_loopback_sender(const sockaddr_storage& from);

// A hand-off: a datagram the stack gave a process that does not read the
// socket (a parent that forked workers and only waits), passed on through
// the socket's kernel fd, which every process holding the socket shares:
// whichever of them reads next gets it, with its source, destination and
// reception details, as the kernel's shared queue would have given it.
// On the wire: this header (host byte order, the addresses in network
// order), then the payload; from a loopback doorbell sender, with the key.
struct HandoffHeader {
  uint32_t magic;
  uint8_t version;
  uint8_t v6;   // 1: the addresses are IPv6, else IPv4 in the first 4 bytes
  uint8_t tos;  // or the IPv6 traffic class
  uint8_t ttl;  // or the IPv6 hop limit
  uint16_t src_port;
  uint16_t reserved;
  uint32_t scope_id;  // an IPv6 link-local source's interface index
  uint32_t payload_len;
  uint32_t reserved2;
  uint64_t timestamp_ns;
  uint64_t key;
  uint8_t src[16];
  uint8_t dst[16];
};
inline constexpr uint32_t kHandoffMagic = 0x4f484455;  // "UDHO"
inline constexpr uint8_t kHandoffVersion = 1;
static_assert(sizeof(HandoffHeader) == 72);
// The largest payload a hand-off carries: what one loopback IPv4 datagram
// holds after the header (IPv6 holds 20 bytes more; one limit for both).
inline constexpr size_t kMaxHandoffPayload = 65507 - sizeof(HandoffHeader);

// The header for a datagram of payload_len bytes received as `info`.
HandoffHeader make_handoff(const stack::RecvInfo& info, uint32_t payload_len, uint64_t key);
// True when data[0..n) (received from `from`) is a hand-off with `key`:
// *info gets the datagram's details (datagram_len: its payload length,
// which follows the header) and *payload where it starts. A message with
// the shape and a wrong key or a length that does not add up is not one.
bool parse_handoff(const sockaddr_storage& from, const void* data, size_t n, uint64_t key, stack::RecvInfo* info,
                   const uint8_t** payload);

// This user's doorbell key, read once per process from
// <dir>/dpdkudp-doorbell-<euid> (made with 64 random bits, mode 0600, if
// missing). The file must be a regular file of the process's effective
// user, mode 0600 or stricter, not a symbolic link; otherwise, or when
// it cannot be made, the process draws a key of its own (its doorbells
// then still work; a sibling in another process does not recognise them
// and delivers them as data, which only SO_REUSEPORT across processes
// meets). dir: /dev/shm. *note (if given) gets why a process key was
// drawn, "" when the file's key is used.
uint64_t doorbell_key(std::string* note = nullptr);
// The same, from a given directory, for tests; no caching. *note gets why
// a process key was drawn ("" when the file's key is used).
uint64_t load_doorbell_key(const char* dir, std::string* note);

}  // namespace dpdkudp::preload
