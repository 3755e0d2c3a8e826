#include "preload/cmsg.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/errqueue.h>
#include <netinet/in.h>

#include <cstring>
#include <vector>

namespace dpdkudp::preload {
namespace {

using stack::Endpoint;
using stack::Ipv4Addr;

stack::RecvInfo info() {
  stack::RecvInfo i;
  i.source = Endpoint{Ipv4Addr(198, 18, 0, 1), 5353};
  i.destination = Ipv4Addr(198, 18, 0, 2);
  i.timestamp_ns = 1'700'000'000'123'456'789ull;
  i.ttl = 61;
  i.tos = 0x10;
  return i;
}

std::vector<cmsghdr*> walk(msghdr& m) {
  std::vector<cmsghdr*> out;
  for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(&m, c)) out.push_back(c);
  return out;
}

TEST(Cmsg, EveryWantedMessageInOrder) {
  alignas(cmsghdr) unsigned char control[256];
  msghdr m{};
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  RecvCmsgWants w;
  w.pktinfo = w.ttl = w.tos = w.timestampns = true;
  w.ifindex = 7;
  w.local_addr = Ipv4Addr(198, 18, 0, 2).value;
  write_recv_cmsgs(&m, w, info());
  EXPECT_EQ(m.msg_flags & MSG_CTRUNC, 0);
  EXPECT_EQ(m.msg_controllen,
            CMSG_SPACE(sizeof(in_pktinfo)) + CMSG_SPACE(sizeof(int)) + CMSG_SPACE(1) + CMSG_SPACE(sizeof(timespec)));
  auto cs = walk(m);
  ASSERT_EQ(cs.size(), 4u);
  EXPECT_EQ(cs[0]->cmsg_type, IP_PKTINFO);
  in_pktinfo pi;
  std::memcpy(&pi, CMSG_DATA(cs[0]), sizeof pi);
  EXPECT_EQ(pi.ipi_ifindex, 7);
  EXPECT_EQ(ntohl(pi.ipi_addr.s_addr), Ipv4Addr(198, 18, 0, 2).value);
  EXPECT_EQ(cs[1]->cmsg_type, IP_TTL);
  int ttl;
  std::memcpy(&ttl, CMSG_DATA(cs[1]), sizeof ttl);
  EXPECT_EQ(ttl, 61);
  EXPECT_EQ(cs[2]->cmsg_type, IP_TOS);
  EXPECT_EQ(cs[2]->cmsg_len, CMSG_LEN(1));
  EXPECT_EQ(*CMSG_DATA(cs[2]), 0x10);
  EXPECT_EQ(cs[3]->cmsg_level, SOL_SOCKET);
  EXPECT_EQ(cs[3]->cmsg_type, SO_TIMESTAMPNS);
  timespec ts;
  std::memcpy(&ts, CMSG_DATA(cs[3]), sizeof ts);
  EXPECT_EQ(ts.tv_sec, 1'700'000'000);
  EXPECT_EQ(ts.tv_nsec, 123'456'789);
}

TEST(Cmsg, TimestampInMicroseconds) {
  alignas(cmsghdr) unsigned char control[64];
  msghdr m{};
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  RecvCmsgWants w;
  w.timestamp = true;
  write_recv_cmsgs(&m, w, info());
  auto cs = walk(m);
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0]->cmsg_type, SO_TIMESTAMP);
  timeval tv;
  std::memcpy(&tv, CMSG_DATA(cs[0]), sizeof tv);
  EXPECT_EQ(tv.tv_sec, 1'700'000'000);
  EXPECT_EQ(tv.tv_usec, 123'456);
}

// Linux (put_cmsg): a message that does not fit whole is not written at
// all and MSG_CTRUNC is set; those before it stay.
TEST(Cmsg, OneThatDoesNotFitIsLeftOutAndFlagged) {
  alignas(cmsghdr) unsigned char control[64];
  std::memset(control, 0xee, sizeof control);
  msghdr m{};
  m.msg_control = control;
  m.msg_controllen = CMSG_SPACE(sizeof(int)) + CMSG_SPACE(1) - 1;  // TTL fits, TOS does not
  RecvCmsgWants w;
  w.ttl = w.tos = true;
  write_recv_cmsgs(&m, w, info());
  EXPECT_NE(m.msg_flags & MSG_CTRUNC, 0);
  EXPECT_EQ(m.msg_controllen, CMSG_SPACE(sizeof(int)));
  EXPECT_EQ(control[CMSG_SPACE(sizeof(int))], 0xee) << "nothing written past the messages that fit";
}

TEST(Cmsg, NoControlBufferTruncatesEverythingWanted) {
  msghdr m{};
  RecvCmsgWants w;
  w.pktinfo = true;
  write_recv_cmsgs(&m, w, info());
  EXPECT_NE(m.msg_flags & MSG_CTRUNC, 0);
  EXPECT_EQ(m.msg_controllen, 0u);
  msghdr quiet{};
  write_recv_cmsgs(&quiet, RecvCmsgWants{}, info());
  EXPECT_EQ(quiet.msg_flags & MSG_CTRUNC, 0) << "nothing wanted, nothing truncated";
}

TEST(Cmsg, ErrorQueueEntryAsIpRecverr) {
  stack::SocketError err;
  err.error = ECONNREFUSED;
  err.icmp_type = 3;
  err.icmp_code = 3;
  err.offender = Ipv4Addr(198, 18, 0, 1);
  err.destination = Endpoint{Ipv4Addr(198, 18, 0, 1), 9};
  alignas(cmsghdr) unsigned char control[128];
  sockaddr_in name{};
  msghdr m{};
  m.msg_name = &name;
  m.msg_namelen = sizeof name;
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  write_recv_error(&m, err);
  EXPECT_EQ(m.msg_flags, MSG_ERRQUEUE);
  EXPECT_EQ(ntohs(name.sin_port), 9);
  auto cs = walk(m);
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0]->cmsg_level, IPPROTO_IP);
  EXPECT_EQ(cs[0]->cmsg_type, IP_RECVERR);
  sock_extended_err ee;
  std::memcpy(&ee, CMSG_DATA(cs[0]), sizeof ee);
  EXPECT_EQ(ee.ee_errno, static_cast<uint32_t>(ECONNREFUSED));
  EXPECT_EQ(ee.ee_origin, SO_EE_ORIGIN_ICMP);
  EXPECT_EQ(ee.ee_type, 3);
  EXPECT_EQ(ee.ee_code, 3);
  sockaddr_in offender;
  std::memcpy(&offender, SO_EE_OFFENDER(reinterpret_cast<sock_extended_err*>(CMSG_DATA(cs[0]))), sizeof offender);
  EXPECT_EQ(ntohl(offender.sin_addr.s_addr), Ipv4Addr(198, 18, 0, 1).value);
}

TEST(Cmsg, Ipv6MessagesForBothFamiliesOfDatagram) {
  RecvCmsgWants w;
  w.pktinfo6 = true;
  w.hoplimit6 = true;
  w.tclass6 = true;
  w.ifindex = 5;
  // An IPv4 datagram on a dual-stack socket: destination v4-mapped, TTL
  // and TOS as hop limit and traffic class.
  stack::RecvInfo v4 = info();
  alignas(cmsghdr) unsigned char control[256];
  msghdr m{};
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  write_recv_cmsgs(&m, w, v4);
  auto cs = walk(m);
  ASSERT_EQ(cs.size(), 3u);
  EXPECT_EQ(cs[0]->cmsg_level, IPPROTO_IPV6);
  EXPECT_EQ(cs[0]->cmsg_type, IPV6_PKTINFO);
  in6_pktinfo pi;
  std::memcpy(&pi, CMSG_DATA(cs[0]), sizeof pi);
  EXPECT_EQ(pi.ipi6_ifindex, 5u);
  EXPECT_EQ(stack::Ipv6Addr::load(pi.ipi6_addr.s6_addr), stack::Ipv6Addr::v4_mapped(v4.destination));
  int hops = 0;
  std::memcpy(&hops, CMSG_DATA(cs[1]), sizeof hops);
  EXPECT_EQ(cs[1]->cmsg_type, IPV6_HOPLIMIT);
  EXPECT_EQ(hops, v4.ttl);
  int tclass = 0;
  std::memcpy(&tclass, CMSG_DATA(cs[2]), sizeof tclass);
  EXPECT_EQ(cs[2]->cmsg_type, IPV6_TCLASS);
  EXPECT_EQ(tclass, v4.tos);
  // An IPv6 datagram: its own destination.
  stack::RecvInfo v6 = info();
  v6.source = Endpoint::ipv6(stack::Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 1), 9);
  v6.destination6 = stack::Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 2);
  msghdr m6{};
  m6.msg_control = control;
  m6.msg_controllen = sizeof control;
  write_recv_cmsgs(&m6, w, v6);
  auto cs6 = walk(m6);
  ASSERT_EQ(cs6.size(), 3u);
  std::memcpy(&pi, CMSG_DATA(cs6[0]), sizeof pi);
  EXPECT_EQ(stack::Ipv6Addr::load(pi.ipi6_addr.s6_addr), v6.destination6);
}

TEST(Cmsg, ErrorQueueEntryOnAnIpv6SocketAsIpv6Recverr) {
  stack::SocketError err;
  err.error = ECONNREFUSED;
  err.icmp_type = 1;
  err.icmp_code = 4;
  err.icmp6 = true;
  err.offender6 = stack::Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 1);
  err.destination = Endpoint::ipv6(stack::Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 1), 9);
  alignas(cmsghdr) unsigned char control[128];
  sockaddr_in6 name{};
  msghdr m{};
  m.msg_name = &name;
  m.msg_namelen = sizeof name;
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  write_recv_error(&m, err, true);
  EXPECT_EQ(m.msg_flags, MSG_ERRQUEUE);
  EXPECT_EQ(m.msg_namelen, sizeof(sockaddr_in6));
  EXPECT_EQ(name.sin6_family, AF_INET6);
  EXPECT_EQ(ntohs(name.sin6_port), 9);
  auto cs = walk(m);
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0]->cmsg_level, IPPROTO_IPV6);
  EXPECT_EQ(cs[0]->cmsg_type, IPV6_RECVERR);
  struct {
    sock_extended_err ee;
    sockaddr_in6 offender;
  } payload;
  std::memcpy(&payload, CMSG_DATA(cs[0]), sizeof payload);
  EXPECT_EQ(payload.ee.ee_origin, SO_EE_ORIGIN_ICMP6);
  EXPECT_EQ(payload.ee.ee_type, 1);
  EXPECT_EQ(payload.ee.ee_code, 4);
  EXPECT_EQ(payload.offender.sin6_family, AF_INET6);
  EXPECT_EQ(stack::Ipv6Addr::load(payload.offender.sin6_addr.s6_addr), err.offender6);
  // An ICMPv4 error on a dual-stack socket: origin ICMP, offender v4-mapped.
  stack::SocketError e4;
  e4.error = ECONNREFUSED;
  e4.icmp_type = 3;
  e4.icmp_code = 3;
  e4.offender = Ipv4Addr(198, 18, 0, 1);
  e4.destination = Endpoint{Ipv4Addr(198, 18, 0, 1), 9};
  m.msg_controllen = sizeof control;
  write_recv_error(&m, e4, true);
  cs = walk(m);
  ASSERT_EQ(cs.size(), 1u);
  std::memcpy(&payload, CMSG_DATA(cs[0]), sizeof payload);
  EXPECT_EQ(payload.ee.ee_origin, SO_EE_ORIGIN_ICMP);
  EXPECT_EQ(stack::Ipv6Addr::load(payload.offender.sin6_addr.s6_addr), stack::Ipv6Addr::v4_mapped(e4.offender));
}

}  // namespace
}  // namespace dpdkudp::preload
