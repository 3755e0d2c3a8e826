// Control messages of a receive (recvmsg's msg_control), written as Linux
// writes them: each only if it fits whole, else MSG_CTRUNC and not at all.
// Pure, any thread.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

#include "stack/net/udp_socket.h"

namespace dpdkudp::preload {

// Appends one control message if it fits; sets MSG_CTRUNC otherwise.
class CmsgWriter {
 public:
  explicit CmsgWriter(msghdr* msg) : msg_(msg) {}
  void add(int level, int type, const void* data, size_t len) {
    size_t space = CMSG_SPACE(len);
    if (msg_->msg_control == nullptr || used_ + space > msg_->msg_controllen) {
      msg_->msg_flags |= MSG_CTRUNC;
      return;
    }
    auto* c = reinterpret_cast<cmsghdr*>(static_cast<char*>(msg_->msg_control) + used_);
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(len);
    std::memcpy(CMSG_DATA(c), data, len);
    used_ += space;
  }
  size_t used() const { return used_; }

 private:
  msghdr* msg_;
  size_t used_ = 0;
};

// What the socket's options ask a receive to report.
struct RecvCmsgWants {
  bool pktinfo = false;      // IP_PKTINFO
  bool ttl = false;          // IP_RECVTTL
  bool tos = false;          // IP_RECVTOS
  bool timestampns = false;  // SO_TIMESTAMPNS (wins over SO_TIMESTAMP)
  bool timestamp = false;    // SO_TIMESTAMP
  int ifindex = 0;           // in_pktinfo.ipi_ifindex, in6_pktinfo.ipi6_ifindex
  uint32_t local_addr = 0;   // in_pktinfo.ipi_spec_dst, host order
  // An AF_INET6 socket's (net/ipv6's ip6_datagram_recv_specific_ctl, which
  // reports an IPv4 datagram too: its destination v4-mapped, its TTL and
  // TOS as hop limit and traffic class).
  bool pktinfo6 = false;   // IPV6_RECVPKTINFO
  bool hoplimit6 = false;  // IPV6_RECVHOPLIMIT
  bool tclass6 = false;    // IPV6_RECVTCLASS
};

// Writes the control messages info calls for into msg (msg_controllen set
// to what was used; MSG_CTRUNC added to msg_flags when one did not fit).
void write_recv_cmsgs(msghdr* msg, const RecvCmsgWants& wants, const stack::RecvInfo& info);

// sendmsg's IPV6_PKTINFO on an AF_INET6 socket (net/ipv6's
// ip6_datagram_send_ctl): 0, with *src set when it names a source address
// and *ifindex when it names an interface (both left alone when absent);
// EINVAL when the message is shorter than an in6_pktinfo.
struct SendPktinfo6 {
  bool has_src = false;
  stack::Ipv6Addr src;
  unsigned ifindex = 0;
};
int parse_send_pktinfo6(const msghdr* msg, SendPktinfo6* out);

// A MSG_ERRQUEUE receive of err (IP_RECVERR): msg_flags MSG_ERRQUEUE, the
// original destination in msg_name, one IP_RECVERR control message
// (sock_extended_err, origin ICMP, then the offender's address). On an
// AF_INET6 socket (v6_socket) as net/ipv6's ipv6_recv_error: addresses as
// sockaddr_in6 (IPv4 ones v4-mapped), one SOL_IPV6 IPV6_RECVERR message,
// origin ICMP6 for an ICMPv6 error.
void write_recv_error(msghdr* msg, const stack::SocketError& err, bool v6_socket = false);

}  // namespace dpdkudp::preload
