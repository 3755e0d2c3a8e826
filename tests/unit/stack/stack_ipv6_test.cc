// IPv6 in the stack: NDP both ways, UDP over IPv6, dual-stack sockets
// (IPv4 peers on an AF_INET6 socket), the bind/connect rules of Linux's
// AF_INET6, ICMPv6 errors to sockets, echo, duplicate-address detection,
// and every malformed input dropped under its reason.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stack/wire/checksum.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/icmpv6.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/ndp.h"
#include "stack/wire/udp.h"
#include "tests/unit/stack/stack_fixture.h"

namespace dpdkudp::test {
namespace {

using stack::DropReason;
using stack::Endpoint;
using stack::UdpSocket;
using wire::Ipv6Addr;

const Ipv6Addr kIp6A(0x2001, 2, 0, 0, 0, 0, 0, 0xa);
const Ipv6Addr kIp6B(0x2001, 2, 0, 0, 0, 0, 0, 0xb);
const Ipv6Addr kIp6Peer(0x2001, 2, 0, 0, 0, 0, 0, 0x77);
const Ipv6Addr kIp6Far(0x2001, 2, 0, 0x99, 0, 0, 0, 1);  // off-link: via the router
const Ipv6Addr kRouter(0xfe80, 0, 0, 0, 0, 0, 0, 1);
const MacAddr kPeerMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x77};
const MacAddr kRouterMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0xfe};
constexpr uint32_t kIfindex = 7;

stack::StackConfig config6(Ipv4Addr v4, const Ipv6Addr& v6) {
  stack::StackConfig c = config_for(v4);
  c.addresses6 = {wire::Ipv6Cidr{v6, 64}};
  c.gateway6 = kRouter;
  c.ifindex = kIfindex;
  return c;
}

Endpoint ep6(const Ipv6Addr& a, uint16_t port, uint32_t scope = 0) { return Endpoint::ipv6(a, port, scope); }

// An Ethernet + IPv6 frame around an upper-layer message `l4`.
Bytes frame6(const MacAddr& src_mac, const MacAddr& dst_mac, const Ipv6Addr& src, const Ipv6Addr& dst,
             uint8_t next_header, const Bytes& l4, uint8_t hop_limit = 64, uint8_t tclass = 0) {
  Bytes f(14 + 40 + l4.size());
  wire::EthernetRepr{dst_mac, src_mac, wire::ethertype::kIpv6, std::nullopt}.emit({f.data(), 14});
  wire::Ipv6Repr{src, dst, next_header, static_cast<uint16_t>(l4.size()), hop_limit, tclass, 0}.emit(
      {f.data() + 14, 40});
  std::copy(l4.begin(), l4.end(), f.begin() + 54);
  return f;
}

Bytes udp6(const Ipv6Addr& src, const Ipv6Addr& dst, uint16_t sport, uint16_t dport, std::string_view payload) {
  Bytes d(8 + payload.size());
  std::copy(payload.begin(), payload.end(), d.begin() + 8);
  wire::UdpRepr{sport, dport}.emit(d, src, dst, wire::ChecksumMode::kFull);
  return d;
}

Bytes icmp6(const Ipv6Addr& src, const Ipv6Addr& dst, const wire::Icmpv6Repr& r) {
  Bytes d(r.buffer_len());
  r.emit(d, src, dst);
  return d;
}

Bytes ns_from(const Ipv6Addr& src, const Ipv6Addr& target, std::optional<MacAddr> sll) {
  wire::NdpNeighborSolicitRepr ns{target, sll};
  const Ipv6Addr dst = target.solicited_node();
  Bytes d(ns.buffer_len());
  ns.emit(d, src, dst);
  return frame6(kPeerMac, dst.multicast_mac(), src, dst, wire::ip_proto::kIcmpv6, d, 255);
}

Bytes na_from(const MacAddr& mac, const Ipv6Addr& target, const Ipv6Addr& dst, bool solicited) {
  wire::NdpNeighborAdvertRepr na{target, false, solicited, true, mac};
  Bytes d(na.buffer_len());
  na.emit(d, target, dst);
  return frame6(mac, dst.is_multicast() ? dst.multicast_mac() : kMacA, target, dst, wire::ip_proto::kIcmpv6, d, 255);
}

struct Frame6 {
  wire::EthernetRepr eth;
  std::optional<wire::Ipv6Packet> ip;
  Bytes bytes;
  uint8_t icmp_type() const { return ip->payload()[0]; }
};
Frame6 parse6(const Bytes& b) {
  Frame6 f;
  f.bytes = b;
  f.eth = *wire::EthernetRepr::parse(f.bytes);
  if (f.eth.ethertype == wire::ethertype::kIpv6) f.ip = wire::Ipv6Packet::parse({f.bytes.data() + 14, b.size() - 14});
  return f;
}

class TwoStacks6 : public TwoStacks {
 protected:
  TwoStacks6() : TwoStacks(pair_config(), config6(kIpA, kIp6A), config6(kIpB, kIp6B)) {}
};

TEST_F(TwoStacks6, NdpResolvesBothWaysAndDeliversTheHeldDatagram) {
  UdpSocket* server = b_->open_udp(true);
  ASSERT_EQ(server->bind(ep6(kIp6B, 7000)), 0);
  UdpSocket* client = a_->open_udp(true);
  Endpoint dst = ep6(kIp6B, 7000);
  ASSERT_EQ(send_string(client, "hello", &dst), 5);  // held until NDP resolves
  pump();
  Received r = recv_string(server);
  ASSERT_EQ(r.rc, 5);
  EXPECT_EQ(r.data, "hello");
  EXPECT_TRUE(r.info.source.v6);
  EXPECT_EQ(r.info.source.addr6, kIp6A);
  EXPECT_EQ(r.info.source.port, client->local()->port);
  EXPECT_EQ(r.info.destination6, kIp6B);
  EXPECT_EQ(r.info.ttl, 64);
  EXPECT_EQ(a_->neighbors6().lookup(kIp6B, clock_.monotonic_ns()), kMacB);
  EXPECT_EQ(b_->neighbors6().lookup(kIp6A, clock_.monotonic_ns()), kMacA);
  EXPECT_EQ(a_->counters().ndp_solicits_sent, 1u);
  EXPECT_EQ(b_->counters().ndp_adverts_sent, 1u);
  // The answer needs no further NDP.
  ASSERT_EQ(send_string(server, "world", &r.info.source), 5);
  pump();
  Received back = recv_string(client);
  EXPECT_EQ(back.data, "world");
  EXPECT_EQ(back.info.source.addr6, kIp6B);
  EXPECT_EQ(b_->counters().ndp_solicits_sent, 0u);
}

TEST_F(TwoStacks6, EchoesEverySizeByteForByte) {
  UdpSocket* server = b_->open_udp(true);
  ASSERT_EQ(server->bind(ep6(Ipv6Addr(), 7)), 0);
  UdpSocket* client = a_->open_udp(true);
  ASSERT_EQ(client->connect(ep6(kIp6B, 7)), 0);
  EXPECT_EQ(client->local()->addr6, kIp6A);  // the source the route picked
  for (size_t size = 1; size <= 1500 - 48; size += 13) {
    std::string payload(size, '\0');
    for (size_t i = 0; i < size; ++i) payload[i] = static_cast<char>((i * 29 + size) & 0xff);
    ASSERT_EQ(send_string(client, payload), static_cast<int64_t>(size));
    pump();
    Received got = recv_string(server);
    ASSERT_EQ(got.data, payload) << "size " << size;
    ASSERT_EQ(send_string(server, got.data, &got.info.source), static_cast<int64_t>(size));
    pump();
    ASSERT_EQ(recv_string(client).data, payload) << "size " << size;
  }
  std::string too_big(1500 - 48 + 1, 'x');
  EXPECT_EQ(send_string(client, too_big), -EMSGSIZE);
  EXPECT_EQ(a_->counters().drops, (stack::CounterSnapshot{}.drops));
  EXPECT_EQ(b_->counters().drops, (stack::CounterSnapshot{}.drops));
}

TEST_F(TwoStacks6, DualStackSocketServesIpv4AndIpv6PeersOnOnePort) {
  UdpSocket* server = b_->open_udp(true);
  ASSERT_EQ(server->bind(ep6(Ipv6Addr(), 53)), 0);
  UdpSocket* v4 = a_->open_udp();
  UdpSocket* v6 = a_->open_udp(true);
  Endpoint to4{kIpB, 53};
  Endpoint to6 = ep6(kIp6B, 53);
  ASSERT_EQ(send_string(v4, "four", &to4), 4);
  ASSERT_EQ(send_string(v6, "six", &to6), 3);
  pump();
  Received r4 = recv_string(server);
  Received r6 = recv_string(server);
  ASSERT_EQ(r4.data, "four");
  EXPECT_FALSE(r4.info.source.v6);  // the shim shows it as ::ffff:198.18.0.1
  EXPECT_EQ(r4.info.source.addr, kIpA);
  EXPECT_EQ(r4.info.destination, kIpB);
  ASSERT_EQ(r6.data, "six");
  EXPECT_TRUE(r6.info.source.v6);
  // Answers go back the way each came, the IPv4 one to the v4-mapped form too.
  Endpoint mapped = ep6(Ipv6Addr::v4_mapped(kIpA), r4.info.source.port);
  ASSERT_EQ(send_string(server, "re-four", &mapped), 7);
  ASSERT_EQ(send_string(server, "re-six", &r6.info.source), 6);
  pump();
  EXPECT_EQ(recv_string(v4).data, "re-four");
  EXPECT_EQ(recv_string(v6).data, "re-six");
}

TEST_F(TwoStacks6, V6OnlySocketLeavesIpv4ToAnIpv4Socket) {
  UdpSocket* only6 = b_->open_udp(true);
  ASSERT_EQ(only6->set_v6only(true), 0);
  ASSERT_EQ(only6->bind(ep6(Ipv6Addr(), 5000)), 0);
  EXPECT_EQ(only6->set_v6only(false), -EINVAL);  // after bind, as Linux
  UdpSocket* plain4 = b_->open_udp();
  ASSERT_EQ(plain4->bind({Ipv4Addr::any(), 5000}), 0);  // no conflict: no shared family
  UdpSocket* client4 = a_->open_udp();
  Endpoint to4{kIpB, 5000};
  ASSERT_EQ(send_string(client4, "v4", &to4), 2);
  pump();
  EXPECT_EQ(recv_string(plain4).data, "v4");
  EXPECT_EQ(recv_string(only6).rc, -EAGAIN);
  Endpoint mapped = ep6(Ipv6Addr::v4_mapped(kIpA), 9);
  EXPECT_EQ(send_string(only6, "x", &mapped), -ENETUNREACH);
  EXPECT_EQ(only6->connect(mapped), -ENETUNREACH);
}

TEST_F(TwoStacks6, PortConflictsFollowTheFamiliesABindingCovers) {
  UdpSocket* dual = a_->open_udp(true);
  ASSERT_EQ(dual->bind(ep6(Ipv6Addr(), 6000)), 0);
  EXPECT_EQ(a_->open_udp()->bind({Ipv4Addr::any(), 6000}), -EADDRINUSE);
  EXPECT_EQ(a_->open_udp()->bind({kIpA, 6000}), -EADDRINUSE);
  EXPECT_EQ(a_->open_udp(true)->bind(ep6(kIp6A, 6000)), -EADDRINUSE);
  UdpSocket* specific4 = a_->open_udp();
  ASSERT_EQ(specific4->bind({kIpA, 6001}), 0);
  EXPECT_EQ(a_->open_udp(true)->bind(ep6(Ipv6Addr(), 6001)), -EADDRINUSE);  // the dual wildcard covers it
  UdpSocket* only6 = a_->open_udp(true);
  ASSERT_EQ(only6->set_v6only(true), 0);
  EXPECT_EQ(only6->bind(ep6(Ipv6Addr(), 6001)), 0);
}

TEST_F(TwoStacks6, BindFollowsLinuxsAddressRules) {
  UdpSocket* mapped = a_->open_udp(true);
  ASSERT_EQ(mapped->bind(ep6(Ipv6Addr::v4_mapped(kIpA), 6100)), 0);
  EXPECT_FALSE(mapped->local()->v6);  // an IPv4 binding on an AF_INET6 socket
  EXPECT_EQ(mapped->local()->addr, kIpA);
  UdpSocket* only6 = a_->open_udp(true);
  ASSERT_EQ(only6->set_v6only(true), 0);
  EXPECT_EQ(only6->bind(ep6(Ipv6Addr::v4_mapped(kIpA), 6101)), -EINVAL);
  EXPECT_EQ(a_->open_udp(true)->bind(ep6(kIp6Peer, 6102)), -EADDRNOTAVAIL);
  EXPECT_EQ(a_->open_udp()->bind(ep6(kIp6A, 6103)), -EAFNOSUPPORT);  // IPv6 on an AF_INET socket
  // Link-local: the scope names the interface.
  const Ipv6Addr ll = a_->addresses6().back().cidr.addr;
  ASSERT_TRUE(ll.is_link_local());
  EXPECT_EQ(a_->open_udp(true)->bind(ep6(ll, 6104)), -EINVAL);
  EXPECT_EQ(a_->open_udp(true)->bind(ep6(ll, 6104, kIfindex + 1)), -EADDRNOTAVAIL);
  UdpSocket* on_ll = a_->open_udp(true);
  ASSERT_EQ(on_ll->bind(ep6(ll, 6104, kIfindex)), 0);
  EXPECT_EQ(on_ll->local()->scope_id, kIfindex);
}

TEST_F(TwoStacks6, LinkLocalPeersTalkWithTheirScope) {
  const Ipv6Addr ll_b = b_->addresses6().back().cidr.addr;
  UdpSocket* server = b_->open_udp(true);
  ASSERT_EQ(server->bind(ep6(Ipv6Addr(), 7100)), 0);
  UdpSocket* client = a_->open_udp(true);
  EXPECT_EQ(client->connect(ep6(ll_b, 7100)), -EINVAL);  // no scope
  ASSERT_EQ(client->connect(ep6(ll_b, 7100, kIfindex)), 0);
  EXPECT_TRUE(client->local()->addr6.is_link_local());  // same-scope source
  ASSERT_EQ(send_string(client, "ll"), 2);
  pump();
  Received r = recv_string(server);
  ASSERT_EQ(r.data, "ll");
  EXPECT_TRUE(r.info.source.addr6.is_link_local());
  EXPECT_EQ(r.info.source.scope_id, kIfindex);
  ASSERT_EQ(send_string(server, "back", &r.info.source), 4);
  pump();
  EXPECT_EQ(recv_string(client).data, "back");
}

TEST_F(TwoStacks6, PortUnreachableReachesTheSenderAsLinuxReportsIt) {
  UdpSocket* client = a_->open_udp(true);
  ASSERT_EQ(client->connect(ep6(kIp6B, 4444)), 0);
  ASSERT_EQ(send_string(client, "anyone?"), 7);
  pump();
  EXPECT_EQ(b_->counters().icmp_unreach_sent, 1u);
  EXPECT_EQ(a_->counters().icmp_errors_received, 1u);
  EXPECT_EQ(recv_string(client).rc, -ECONNREFUSED);

  // With IPV6_RECVERR the error is queued with its origin.
  UdpSocket* recverr = a_->open_udp(true);
  recverr->set_recv_err(true);
  Endpoint dst = ep6(kIp6B, 4445);
  ASSERT_EQ(send_string(recverr, "x", &dst), 1);
  pump();
  std::optional<stack::SocketError> e = recverr->pop_error();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->error, ECONNREFUSED);
  EXPECT_TRUE(e->icmp6);
  EXPECT_EQ(e->icmp_type, wire::icmpv6_type::kDestUnreachable);
  EXPECT_EQ(e->icmp_code, wire::icmpv6_unreach::kPort);
  EXPECT_EQ(e->offender6, kIp6B);
  EXPECT_EQ(e->destination, dst);
}

TEST_F(TwoStacks6, DatagramsToOurOwnAddressLoopInside) {
  UdpSocket* server = a_->open_udp(true);
  ASSERT_EQ(server->bind(ep6(kIp6A, 7200)), 0);
  UdpSocket* client = a_->open_udp(true);
  Endpoint dst = ep6(kIp6A, 7200);
  ASSERT_EQ(send_string(client, "self", &dst), 4);
  pump();
  Received r = recv_string(server);
  EXPECT_EQ(r.data, "self");
  EXPECT_EQ(r.info.source.addr6, kIp6A);
  EXPECT_EQ(a_->counters().loopback, 1u);
}

TEST_F(TwoStacks6, SendingWithoutARouteOrFromTheWrongFamilyFails) {
  UdpSocket* v4only_socket = a_->open_udp();
  Endpoint to6 = ep6(kIp6B, 1);
  EXPECT_EQ(send_string(v4only_socket, "x", &to6), -EAFNOSUPPORT);
  UdpSocket* bound6 = a_->open_udp(true);
  ASSERT_EQ(bound6->bind(ep6(kIp6A, 7300)), 0);
  Endpoint to4{kIpB, 1};
  EXPECT_EQ(send_string(bound6, "x", &to4), -ENETUNREACH);  // an IPv6 source cannot reach IPv4
}

class StackOnWire6 : public StackOnWire {
 protected:
  StackOnWire6() : StackOnWire(config6(kIpA, kIp6A)) {}
  uint64_t dropped(DropReason r) { return stack_->counters().drop(r); }
  Bytes from_peer_udp(uint16_t dport, std::string_view payload) {
    return frame6(kPeerMac, kMacA, kIp6Peer, kIp6A, wire::ip_proto::kUdp, udp6(kIp6Peer, kIp6A, 4000, dport, payload));
  }
};

TEST_F(StackOnWire6, AnswersANeighborSolicitationAndLearnsTheAsker) {
  feed(ns_from(kIp6Peer, kIp6A, kPeerMac));
  auto frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);
  Frame6 f = parse6(frames[0]);
  ASSERT_TRUE(f.ip);
  EXPECT_EQ(f.eth.dst, kPeerMac);
  EXPECT_EQ(f.ip->hop_limit(), 255);
  EXPECT_EQ(f.ip->dst(), kIp6Peer);
  EXPECT_EQ(f.ip->src(), kIp6A);
  ASSERT_EQ(f.icmp_type(), wire::icmpv6_type::kNeighborAdvertisement);
  auto na = wire::NdpNeighborAdvert::parse(f.ip->payload(), wire::NdpIpFields::of(*f.ip));
  ASSERT_TRUE(na);
  EXPECT_TRUE(na->solicited());
  EXPECT_TRUE(na->override_flag());
  EXPECT_EQ(na->target(), kIp6A);
  EXPECT_EQ(na->target_mac(), kMacA);
  EXPECT_TRUE(wire::Icmpv6Packet::parse(f.ip->payload())->verify_checksum(f.ip->src(), f.ip->dst()));
  EXPECT_EQ(stack_->neighbors6().lookup(kIp6Peer, clock_.monotonic_ns()), kPeerMac);
}

TEST_F(StackOnWire6, IgnoresSolicitationsForOthersAndMalformedOnes) {
  feed(ns_from(kIp6Peer, kIp6Far, kPeerMac));  // not ours: its group is not ours either
  EXPECT_TRUE(wire_frames().empty());
  Bytes bad = ns_from(kIp6Peer, kIp6A, kPeerMac);
  bad[14 + 7] = 64;  // hop limit must be 255 (RFC 4861 §7.1.1)
  feed(bad);
  EXPECT_TRUE(wire_frames().empty());
  EXPECT_EQ(dropped(DropReason::kNdpMalformed), 1u);
  EXPECT_EQ(dropped(DropReason::kIpNotOurs), 1u);
}

TEST_F(StackOnWire6, ResolvesTheRouterAndReleasesHeldDatagramsInOrder) {
  UdpSocket* s = stack_->open_udp(true);
  Endpoint far = ep6(kIp6Far, 9);
  for (char c : std::string("abc")) ASSERT_EQ(send_string(s, std::string(1, c), &far), 1);
  auto frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);  // one solicitation, the datagrams held
  Frame6 ns = parse6(frames[0]);
  EXPECT_EQ(ns.eth.dst, kRouter.solicited_node().multicast_mac());
  EXPECT_EQ(ns.ip->dst(), kRouter.solicited_node());
  EXPECT_TRUE(ns.ip->src().is_link_local());  // a link-local target, a link-local source
  auto parsed = wire::NdpNeighborSolicit::parse(ns.ip->payload(), wire::NdpIpFields::of(*ns.ip));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->target(), kRouter);
  EXPECT_EQ(parsed->source_mac(), kMacA);

  feed(na_from(kRouterMac, kRouter, ns.ip->src(), true));
  frames = wire_frames();
  ASSERT_EQ(frames.size(), 3u);
  std::string order;
  for (const Bytes& b : frames) {
    Frame6 f = parse6(b);
    EXPECT_EQ(f.eth.dst, kRouterMac);
    EXPECT_EQ(f.ip->dst(), kIp6Far);
    EXPECT_EQ(f.ip->src(), kIp6A);  // global destination, global source
    auto udp = wire::UdpDatagram::parse(f.ip->payload());
    ASSERT_TRUE(udp);
    EXPECT_TRUE(udp->verify_checksum(f.ip->src(), f.ip->dst()));
    order += static_cast<char>(udp->payload()[0]);
  }
  EXPECT_EQ(order, "abc");
}

TEST_F(StackOnWire6, UnansweredSolicitationsDropTheHeldDatagramsAndCountThem) {
  UdpSocket* s = stack_->open_udp(true);
  Endpoint far = ep6(kIp6Far, 9);
  ASSERT_EQ(send_string(s, "lost", &far), 4);
  for (int i = 0; i < 5; ++i) {
    clock_.advance(1'100'000'000);
    stack_->on_timer();
  }
  EXPECT_EQ(stack_->counters().ndp_solicits_sent, 3u);
  EXPECT_EQ(stack_->counters().drop(DropReason::kNdpUnresolved), 1u);
}

TEST_F(StackOnWire6, DeliversWithMetadataAndAnswersPing) {
  UdpSocket* s = stack_->open_udp(true);
  ASSERT_EQ(s->bind(ep6(Ipv6Addr(), 5353)), 0);
  feed(
      frame6(kPeerMac, kMacA, kIp6Peer, kIp6A, wire::ip_proto::kUdp, udp6(kIp6Peer, kIp6A, 4000, 5353, "q"), 33, 0xb8));
  Received r = recv_string(s);
  ASSERT_EQ(r.data, "q");
  EXPECT_EQ(r.info.ttl, 33);
  EXPECT_EQ(r.info.tos, 0xb8);
  EXPECT_EQ(r.info.source, ep6(kIp6Peer, 4000));

  Bytes payload = {1, 2, 3, 4, 5};
  feed(frame6(kPeerMac, kMacA, kIp6Peer, kIp6A, wire::ip_proto::kIcmpv6,
              icmp6(kIp6Peer, kIp6A, {wire::icmpv6_type::kEchoRequest, 0, 0x1234, 7, 0, 0, payload})));
  auto frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);
  Frame6 f = parse6(frames[0]);
  ASSERT_EQ(f.icmp_type(), wire::icmpv6_type::kEchoReply);
  auto reply = wire::Icmpv6Packet::parse(f.ip->payload());
  EXPECT_TRUE(reply->verify_checksum(kIp6A, kIp6Peer));
  EXPECT_EQ(reply->echo_ident(), 0x1234);
  EXPECT_EQ(reply->echo_seq(), 7);
  EXPECT_EQ(Bytes(reply->data().begin(), reply->data().end()), payload);
  EXPECT_EQ(stack_->counters().icmp_echo_replies, 1u);
}

TEST_F(StackOnWire6, SendsPortUnreachableQuotingTheDatagram) {
  Bytes in = from_peer_udp(9999, "closed");
  feed(in);
  auto frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);
  Frame6 f = parse6(frames[0]);
  ASSERT_EQ(f.icmp_type(), wire::icmpv6_type::kDestUnreachable);
  auto icmp = wire::Icmpv6Packet::parse(f.ip->payload());
  EXPECT_EQ(icmp->code(), wire::icmpv6_unreach::kPort);
  EXPECT_TRUE(icmp->verify_checksum(kIp6A, kIp6Peer));
  EXPECT_EQ(Bytes(icmp->data().begin(), icmp->data().end()), Bytes(in.begin() + 14, in.end()));
  EXPECT_EQ(dropped(DropReason::kUdpNoSocket), 1u);
}

TEST_F(StackOnWire6, MalformedAndForeignDatagramsAreDroppedUnderTheirReasons) {
  UdpSocket* s = stack_->open_udp(true);
  ASSERT_EQ(s->bind(ep6(Ipv6Addr(), 5353)), 0);
  // Zero UDP checksum: forbidden over IPv6.
  Bytes zero = from_peer_udp(5353, "z");
  zero[54 + 6] = 0;
  zero[54 + 7] = 0;
  feed(zero);
  EXPECT_EQ(dropped(DropReason::kUdpZeroChecksum), 1u);
  // Wrong checksum.
  Bytes bad = from_peer_udp(5353, "b");
  bad[54 + 8] ^= 0xff;
  feed(bad);
  EXPECT_EQ(dropped(DropReason::kUdpChecksum), 1u);
  // Not our address.
  feed(frame6(kPeerMac, kMacA, kIp6Peer, kIp6Far, wire::ip_proto::kUdp, udp6(kIp6Peer, kIp6Far, 1, 5353, "n")));
  EXPECT_EQ(dropped(DropReason::kIpNotOurs), 1u);
  // Truncated header, then a payload length past the frame.
  Bytes cut = from_peer_udp(5353, "t");
  cut.resize(14 + 30);
  feed(cut);
  Bytes longer = from_peer_udp(5353, "l");
  longer[14 + 5] += 10;
  feed(longer);
  EXPECT_EQ(dropped(DropReason::kIpMalformed), 2u);
  // A fragment (offset 8, more to come) is dropped as IPv4's are.
  Bytes frag_hdr = {wire::ip_proto::kUdp, 0, 0, 8 << 3 | 1, 0, 0, 0, 1};
  Bytes frag_payload = frag_hdr;
  frag_payload.insert(frag_payload.end(), 16, 0xaa);
  feed(frame6(kPeerMac, kMacA, kIp6Peer, kIp6A, 44, frag_payload));
  EXPECT_EQ(dropped(DropReason::kIpFragment), 1u);
  // A Routing header with segments left: not supported, dropped.
  Bytes routing = {wire::ip_proto::kUdp, 0, 0, 1, 0, 0, 0, 0};
  feed(frame6(kPeerMac, kMacA, kIp6Peer, kIp6A, 43, routing));
  EXPECT_EQ(dropped(DropReason::kIp6ExtensionHeader), 1u);
  // A Destination Options header in front of UDP is walked past.
  Bytes with_opts = {wire::ip_proto::kUdp, 0, 1, 4, 0, 0, 0, 0};  // PadN over 6 bytes
  Bytes u = udp6(kIp6Peer, kIp6A, 4000, 5353, "opts");
  with_opts.insert(with_opts.end(), u.begin(), u.end());
  feed(frame6(kPeerMac, kMacA, kIp6Peer, kIp6A, 60, with_opts));
  EXPECT_EQ(recv_string(s).data, "opts");
  EXPECT_EQ(recv_string(s).rc, -EAGAIN);
}

TEST_F(StackOnWire6, StartProbesEveryAddressThenAnnouncesIt) {
  stack_->start();
  auto frames = wire_frames();
  // ARP announcement, two DAD probes (global and link-local), two adverts.
  ASSERT_EQ(frames.size(), 5u);
  for (size_t i = 1; i <= 2; ++i) {
    Frame6 f = parse6(frames[i]);
    ASSERT_EQ(f.icmp_type(), wire::icmpv6_type::kNeighborSolicitation);
    EXPECT_TRUE(f.ip->src().is_unspecified());
    auto ns = wire::NdpNeighborSolicit::parse(f.ip->payload(), wire::NdpIpFields::of(*f.ip));
    ASSERT_TRUE(ns);
    EXPECT_FALSE(ns->source_mac());  // none from :: (RFC 4861 §7.2.2)
    EXPECT_EQ(f.ip->dst(), ns->target().solicited_node());
  }
  for (size_t i = 3; i <= 4; ++i) {
    Frame6 f = parse6(frames[i]);
    ASSERT_EQ(f.icmp_type(), wire::icmpv6_type::kNeighborAdvertisement);
    EXPECT_EQ(f.ip->dst(), Ipv6Addr::all_nodes());
    auto na = wire::NdpNeighborAdvert::parse(f.ip->payload(), wire::NdpIpFields::of(*f.ip));
    ASSERT_TRUE(na);
    EXPECT_FALSE(na->override_flag());  // optimistic (RFC 4429 §3.3)
  }
}

TEST_F(StackOnWire6, AnAddressClaimedDuringDetectionIsGivenUp) {
  stack_->start();
  drain_wire();
  UdpSocket* s = stack_->open_udp(true);
  ASSERT_EQ(s->bind(ep6(Ipv6Addr(), 5353)), 0);
  feed(na_from(kPeerMac, kIp6A, Ipv6Addr::all_nodes(), false));  // someone else has it
  EXPECT_TRUE(stack_->addresses6().front().duplicate);
  feed(from_peer_udp(5353, "to the duplicate"));
  EXPECT_EQ(recv_string(s).rc, -EAGAIN);
  EXPECT_EQ(dropped(DropReason::kIpNotOurs), 1u);
  feed(ns_from(kIp6Peer, kIp6A, kPeerMac));
  EXPECT_TRUE(wire_frames().empty());  // and not defended
}

TEST_F(StackOnWire6, AfterDetectionItDefendsItsAddress) {
  stack_->start();
  drain_wire();
  clock_.advance(2'000'000'000);
  feed(ns_from(Ipv6Addr(), kIp6A, std::nullopt));  // another node's probe
  EXPECT_FALSE(stack_->addresses6().front().duplicate);
  auto frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);
  Frame6 f = parse6(frames[0]);
  EXPECT_EQ(f.icmp_type(), wire::icmpv6_type::kNeighborAdvertisement);
  EXPECT_EQ(f.ip->dst(), Ipv6Addr::all_nodes());
}

TEST_F(StackOnWire6, OurOwnProbeEchoedBackIsNotAConflict) {
  stack_->start();
  drain_wire();
  feed(na_from(kMacA, kIp6A, Ipv6Addr::all_nodes(), false));  // the same MAC: this interface
  EXPECT_FALSE(stack_->addresses6().front().duplicate);
}

TEST_F(StackOnWire6, SentDatagramsCarryHopLimitAndTrafficClass) {
  stack_->neighbors6().insert(kIp6Peer, kPeerMac, clock_.monotonic_ns(), true);
  UdpSocket* s = stack_->open_udp(true);
  s->set_hop_limit(9);
  s->set_tclass(0x2e);
  Endpoint dst = ep6(kIp6Peer, 4000);
  ASSERT_EQ(send_string(s, "opt", &dst), 3);
  auto frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);
  Frame6 f = parse6(frames[0]);
  EXPECT_EQ(f.eth.dst, kPeerMac);
  EXPECT_EQ(f.ip->hop_limit(), 9);
  EXPECT_EQ(f.ip->traffic_class(), 0x2e);
  s->set_hop_limit(-1);
  ASSERT_EQ(send_string(s, "opt", &dst), 3);
  EXPECT_EQ(parse6(wire_frames().at(0)).ip->hop_limit(), 64);
}

TEST_F(StackOnWire6, PacketTooBigLowersThePathMtuAndReachesTheSocket) {
  stack_->neighbors6().insert(kRouter, kRouterMac, clock_.monotonic_ns(), true);
  UdpSocket* s = stack_->open_udp(true);
  s->set_recv_err(true);
  Endpoint far = ep6(kIp6Far, 9);
  ASSERT_EQ(send_string(s, std::string(1452, 'a'), &far), 1452);  // the link's MTU
  auto frames = wire_frames();
  ASSERT_EQ(frames.size(), 1u);
  // The router says 1400, quoting what it could of our datagram.
  Bytes quoted(frames[0].begin() + 14, frames[0].begin() + 14 + 200);
  feed(frame6(kRouterMac, kMacA, kRouter, kIp6A, wire::ip_proto::kIcmpv6,
              icmp6(kRouter, kIp6A, {wire::icmpv6_type::kPacketTooBig, 0, 0, 0, 1400, 0, quoted})));
  std::optional<stack::SocketError> e = s->pop_error();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->error, EMSGSIZE);
  EXPECT_EQ(e->info, 1400u);
  EXPECT_EQ(e->offender6, kRouter);
  EXPECT_EQ(stack_->path_mtu6(kIp6Far, 1500), 1400u);
  EXPECT_EQ(send_string(s, std::string(1400 - 48 + 1, 'b'), &far), -EMSGSIZE);
  EXPECT_EQ(send_string(s, std::string(1400 - 48, 'b'), &far), 1400 - 48);
  // Other destinations keep the link's; the learned value ages out.
  EXPECT_EQ(stack_->path_mtu6(kIp6Peer, 1500), 1500u);
  // An MTU under IPv6's minimum is taken as 1280 (RFC 8201 §4).
  Bytes quoted2 = quoted;
  feed(frame6(kRouterMac, kMacA, kRouter, kIp6A, wire::ip_proto::kIcmpv6,
              icmp6(kRouter, kIp6A, {wire::icmpv6_type::kPacketTooBig, 0, 0, 0, 600, 0, quoted2})));
  EXPECT_EQ(stack_->path_mtu6(kIp6Far, 1500), 1280u);
  clock_.advance(601'000'000'000);
  stack_->on_timer();
  EXPECT_EQ(stack_->path_mtu6(kIp6Far, 1500), 1500u);
}

TEST_F(StackOnWire6, PktinfoChoosesTheSourceAmongOurAddresses) {
  stack_->neighbors6().insert(kIp6Peer, kPeerMac, clock_.monotonic_ns(), true);
  UdpSocket* s = stack_->open_udp(true);
  Endpoint dst = ep6(kIp6Peer, 4000);
  const Ipv6Addr ll = stack_->addresses6().back().cidr.addr;  // our link-local one
  std::string payload = "from";
  iovec iov{payload.data(), payload.size()};
  ASSERT_EQ(s->send_from({&iov, 1}, &dst, ll), 4);
  EXPECT_EQ(parse6(wire_frames().at(0)).ip->src(), ll);
  ASSERT_EQ(s->send({&iov, 1}, &dst), 4);
  EXPECT_EQ(parse6(wire_frames().at(0)).ip->src(), kIp6A);     // chosen: same scope as the peer
  EXPECT_EQ(s->send_from({&iov, 1}, &dst, kIp6Far), -EINVAL);  // not ours, as Linux
  EXPECT_TRUE(wire_frames().empty());
}

TEST(StackSharedMode6, LeavesNdpEchoAndUnreachableToTheKernel) {
  stack::ManualClock clock;
  BackendPair pair = make_pair(pair_config());
  stack::StackConfig c = config6(kIpA, kIp6A);
  c.dedicated = false;
  stack::Stack stack(*pair.a, c, clock);
  stack.start();
  ASSERT_TRUE(pair.a->inject(ns_from(kIp6Peer, kIp6A, kPeerMac)));
  ASSERT_TRUE(pair.a->inject(frame6(kPeerMac, kMacA, kIp6Peer, kIp6A, wire::ip_proto::kIcmpv6,
                                    icmp6(kIp6Peer, kIp6A, {wire::icmpv6_type::kEchoRequest, 0, 1, 1, 0, 0, {}}))));
  ASSERT_TRUE(pair.a->inject(
      frame6(kPeerMac, kMacA, kIp6Peer, kIp6A, wire::ip_proto::kUdp, udp6(kIp6Peer, kIp6A, 1, 9999, "closed"))));
  while (stack.poll(0) != 0) {}
  Packet* pkts[8];
  EXPECT_EQ(pair.b->rx_burst(0, pkts), 0u);  // nothing said: the kernel owns these
  // It still learned the neighbour from the solicitation addressed to it.
  EXPECT_EQ(stack.neighbors6().lookup(kIp6Peer, clock.monotonic_ns()), kPeerMac);
  // No link-local address of its own in shared mode: the kernel's is used.
  EXPECT_EQ(stack.addresses6().size(), 1u);
}

}  // namespace
}  // namespace dpdkudp::test
