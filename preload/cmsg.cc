#include "preload/cmsg.h"

#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/time.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "preload/addressing.h"

namespace dpdkudp::preload {

void write_recv_cmsgs(msghdr* msg, const RecvCmsgWants& wants, const stack::RecvInfo& info) {
  CmsgWriter cw(msg);
  if (wants.pktinfo) {
    in_pktinfo pi{};
    pi.ipi_ifindex = wants.ifindex;
    pi.ipi_spec_dst.s_addr = htonl(wants.local_addr);
    pi.ipi_addr.s_addr = htonl(info.destination.value);
    cw.add(IPPROTO_IP, IP_PKTINFO, &pi, sizeof pi);
  }
  if (wants.ttl) {
    int ttl = info.ttl;
    cw.add(IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
  }
  if (wants.tos) {
    unsigned char tos = info.tos;
    cw.add(IPPROTO_IP, IP_TOS, &tos, sizeof tos);
  }
  if (wants.pktinfo6) {
    in6_pktinfo pi{};
    const stack::Ipv6Addr dst = info.source.v6 ? info.destination6 : stack::Ipv6Addr::v4_mapped(info.destination);
    dst.store(pi.ipi6_addr.s6_addr);
    pi.ipi6_ifindex = static_cast<unsigned>(wants.ifindex);
    cw.add(IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof pi);
  }
  if (wants.hoplimit6) {
    int hops = info.ttl;
    cw.add(IPPROTO_IPV6, IPV6_HOPLIMIT, &hops, sizeof hops);
  }
  if (wants.tclass6) {
    int tclass = info.tos;
    cw.add(IPPROTO_IPV6, IPV6_TCLASS, &tclass, sizeof tclass);
  }
  if (wants.timestampns) {
    timespec ts{static_cast<time_t>(info.timestamp_ns / 1'000'000'000),
                static_cast<long>(info.timestamp_ns % 1'000'000'000)};
    cw.add(SOL_SOCKET, SO_TIMESTAMPNS, &ts, sizeof ts);
  } else if (wants.timestamp) {
    timeval tv{static_cast<time_t>(info.timestamp_ns / 1'000'000'000),
               static_cast<suseconds_t>((info.timestamp_ns % 1'000'000'000) / 1000)};
    cw.add(SOL_SOCKET, SO_TIMESTAMP, &tv, sizeof tv);
  }
  msg->msg_controllen = cw.used();
}

int parse_send_pktinfo6(const msghdr* msg, SendPktinfo6* out) {
  if (msg->msg_control == nullptr || msg->msg_controllen < sizeof(cmsghdr)) return 0;
  for (const cmsghdr* c = CMSG_FIRSTHDR(msg); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(msg), const_cast<cmsghdr*>(c))) {
    if (c->cmsg_level != IPPROTO_IPV6 || c->cmsg_type != IPV6_PKTINFO) continue;
    if (c->cmsg_len < CMSG_LEN(sizeof(in6_pktinfo))) return EINVAL;
    in6_pktinfo pi;
    std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
    const stack::Ipv6Addr a = stack::Ipv6Addr::load(pi.ipi6_addr.s6_addr);
    if (!a.is_unspecified()) {
      out->has_src = true;
      out->src = a;
    }
    if (pi.ipi6_ifindex != 0) out->ifindex = pi.ipi6_ifindex;
  }
  return 0;
}

void write_recv_error(msghdr* msg, const stack::SocketError& err, bool v6_socket) {
  if (v6_socket) {
    struct {
      sock_extended_err ee;
      sockaddr_in6 offender;
    } payload{};
    payload.ee.ee_errno = static_cast<uint32_t>(err.error);
    payload.ee.ee_origin = err.icmp6 ? SO_EE_ORIGIN_ICMP6 : SO_EE_ORIGIN_ICMP;
    payload.ee.ee_type = err.icmp_type;
    payload.ee.ee_code = err.icmp_code;
    payload.ee.ee_info = err.info;
    payload.offender =
        to_sockaddr6(err.icmp6 ? stack::Endpoint::ipv6(err.offender6, 0) : stack::Endpoint{err.offender, 0});
    msg->msg_flags = MSG_ERRQUEUE;
    if (msg->msg_name != nullptr) {
      sockaddr_in6 to = to_sockaddr6(err.destination);
      std::memcpy(msg->msg_name, &to, std::min<size_t>(msg->msg_namelen, sizeof to));
      msg->msg_namelen = sizeof to;
    }
    CmsgWriter cw(msg);
    cw.add(IPPROTO_IPV6, IPV6_RECVERR, &payload, sizeof payload);
    msg->msg_controllen = cw.used();
    return;
  }
  struct {
    sock_extended_err ee;
    sockaddr_in offender;
  } payload{};
  payload.ee.ee_errno = static_cast<uint32_t>(err.error);
  payload.ee.ee_origin = SO_EE_ORIGIN_ICMP;
  payload.ee.ee_type = err.icmp_type;
  payload.ee.ee_code = err.icmp_code;
  payload.ee.ee_info = err.info;
  payload.offender = to_sockaddr(stack::Endpoint{err.offender, 0});
  msg->msg_flags = MSG_ERRQUEUE;
  if (msg->msg_name != nullptr) {
    sockaddr_in to = to_sockaddr(err.destination);
    std::memcpy(msg->msg_name, &to, std::min<size_t>(msg->msg_namelen, sizeof to));
    msg->msg_namelen = sizeof to;
  }
  CmsgWriter cw(msg);
  cw.add(IPPROTO_IP, IP_RECVERR, &payload, sizeof payload);
  msg->msg_controllen = cw.used();
}

}  // namespace dpdkudp::preload
