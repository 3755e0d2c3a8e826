// Two stacks back to back over the pair backend: ARP both ways, echo,
// demux precedence, buffers, ephemeral ports, broadcast, errors.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/stack/stack_fixture.h"

namespace dpdkudp::test {
namespace {

using stack::DropReason;
using stack::Endpoint;
using stack::UdpSocket;

TEST_F(TwoStacks, ArpResolvesBothWaysAndDeliversTheHeldDatagram) {
  UdpSocket* server = b_->open_udp();
  ASSERT_EQ(server->bind({kIpB, 7000}), 0);
  UdpSocket* client = a_->open_udp();
  Endpoint dst{kIpB, 7000};
  ASSERT_EQ(send_string(client, "hello", &dst), 5);  // held until ARP resolves
  pump();

  Received r = recv_string(server);
  ASSERT_EQ(r.rc, 5);
  EXPECT_EQ(r.data, "hello");
  EXPECT_EQ(r.info.source.addr, kIpA);
  EXPECT_EQ(r.info.destination, kIpB);
  // a asked, b answered and learned a from the request addressed to it.
  EXPECT_EQ(a_->neighbors().lookup(kIpB, clock_.monotonic_ns()), kMacB);
  EXPECT_EQ(b_->neighbors().lookup(kIpA, clock_.monotonic_ns()), kMacA);
  EXPECT_EQ(a_->counters().arp_requests_sent, 1u);
  EXPECT_EQ(b_->counters().arp_replies_sent, 1u);

  // The reply needs no further ARP.
  ASSERT_EQ(send_string(server, "world", &r.info.source), 5);
  pump();
  EXPECT_EQ(recv_string(client).data, "world");
  EXPECT_EQ(b_->counters().arp_requests_sent, 0u);
}

TEST_F(TwoStacks, EchoesEverySizeByteForByte) {
  UdpSocket* server = b_->open_udp();
  ASSERT_EQ(server->bind({Ipv4Addr::any(), 7}), 0);
  UdpSocket* client = a_->open_udp();
  ASSERT_EQ(client->connect({kIpB, 7}), 0);
  for (size_t size = 1; size <= 1472; size += 7) {
    std::string payload(size, '\0');
    for (size_t i = 0; i < size; ++i) payload[i] = static_cast<char>((i * 31 + size) & 0xff);
    ASSERT_EQ(send_string(client, payload), static_cast<int64_t>(size));
    pump();
    Received got = recv_string(server);
    ASSERT_EQ(got.data, payload) << "size " << size;
    ASSERT_EQ(send_string(server, got.data, &got.info.source), static_cast<int64_t>(size));
    pump();
    ASSERT_EQ(recv_string(client).data, payload) << "size " << size;
  }
  EXPECT_EQ(a_->counters().drops, (stack::CounterSnapshot{}.drops));
  EXPECT_EQ(b_->counters().drops, (stack::CounterSnapshot{}.drops));
}

TEST_F(TwoStacks, DemuxPrefersConnectedThenSpecificThenWildcard) {
  UdpSocket* wildcard = b_->open_udp();
  wildcard->set_reuse_addr(true);
  ASSERT_EQ(wildcard->bind({Ipv4Addr::any(), 9000}), 0);
  UdpSocket* specific = b_->open_udp();
  specific->set_reuse_addr(true);
  ASSERT_EQ(specific->bind({kIpB, 9000}), 0);
  UdpSocket* connected = b_->open_udp();
  connected->set_reuse_addr(true);
  ASSERT_EQ(connected->bind({kIpB, 9000}), 0);

  UdpSocket* c1 = a_->open_udp();
  ASSERT_EQ(c1->bind({kIpA, 5001}), 0);
  UdpSocket* c2 = a_->open_udp();
  ASSERT_EQ(c2->bind({kIpA, 5002}), 0);
  ASSERT_EQ(connected->connect({kIpA, 5001}), 0);

  Endpoint dst{kIpB, 9000};
  ASSERT_EQ(send_string(c1, "from-5001", &dst), 9);
  ASSERT_EQ(send_string(c2, "from-5002", &dst), 9);
  pump();
  EXPECT_EQ(recv_string(connected).data, "from-5001");
  EXPECT_EQ(recv_string(specific).data, "from-5002");
  EXPECT_EQ(recv_string(wildcard).rc, -EAGAIN);
  EXPECT_EQ(recv_string(connected).rc, -EAGAIN);
  EXPECT_EQ(recv_string(specific).rc, -EAGAIN);

  // With the specific socket gone, the wildcard takes unconnected traffic.
  specific->close();
  ASSERT_EQ(send_string(c2, "again", &dst), 5);
  pump();
  EXPECT_EQ(recv_string(wildcard).data, "again");
}

TEST_F(TwoStacks, ConnectedSocketIgnoresOtherPeers) {
  UdpSocket* server = b_->open_udp();
  ASSERT_EQ(server->bind({Ipv4Addr::any(), 9100}), 0);
  ASSERT_EQ(server->connect({kIpA, 1111}), 0);
  UdpSocket* other = a_->open_udp();
  ASSERT_EQ(other->bind({Ipv4Addr::any(), 2222}), 0);
  Endpoint dst{kIpB, 9100};
  ASSERT_EQ(send_string(other, "x", &dst), 1);
  pump();
  EXPECT_EQ(recv_string(server).rc, -EAGAIN);
  EXPECT_EQ(b_->counters().drop(DropReason::kUdpNoSocket), 1u);
}

TEST_F(TwoStacks, PortUnreachableReachesAConnectedSender) {
  UdpSocket* client = a_->open_udp();
  ASSERT_EQ(client->connect({kIpB, 4444}), 0);
  ASSERT_EQ(send_string(client, "anyone?"), 7);
  pump();
  EXPECT_EQ(b_->counters().icmp_unreach_sent, 1u);
  EXPECT_EQ(a_->counters().icmp_errors_received, 1u);
  EXPECT_TRUE(client->readable());
  EXPECT_EQ(recv_string(client).rc, -ECONNREFUSED);  // reported once, like Linux
  EXPECT_EQ(recv_string(client).rc, -EAGAIN);
}

TEST_F(TwoStacks, PortUnreachableIsIgnoredByUnconnectedSocketsUnlessRecvErr) {
  UdpSocket* quiet = a_->open_udp();
  UdpSocket* loud = a_->open_udp();
  loud->set_recv_err(true);
  Endpoint dst{kIpB, 4445};
  ASSERT_EQ(send_string(quiet, "a", &dst), 1);
  ASSERT_EQ(send_string(loud, "b", &dst), 1);
  pump();
  EXPECT_EQ(quiet->take_error(), 0);
  EXPECT_EQ(loud->take_error(), ECONNREFUSED);
  auto err = loud->pop_error();
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->icmp_type, 3);
  EXPECT_EQ(err->icmp_code, 3);
  EXPECT_EQ(err->offender, kIpB);
  EXPECT_EQ(err->destination, dst);
}

TEST_F(TwoStacks, PortUnreachableIsRateLimitedPerDestination) {
  UdpSocket* client = a_->open_udp();
  Endpoint dst{kIpB, 4446};
  ASSERT_EQ(send_string(client, "x", &dst), 1);  // resolves ARP first
  pump();
  for (int i = 0; i < 19; ++i) ASSERT_EQ(send_string(client, "x", &dst), 1);
  pump();
  // Linux: a burst of 6 per destination, then one per second.
  EXPECT_EQ(b_->counters().icmp_unreach_sent, 6u);
  EXPECT_EQ(b_->counters().icmp_rate_limited, 14u);
  EXPECT_EQ(b_->counters().drop(DropReason::kUdpNoSocket), 20u);
  clock_.advance(1'000'000'000);
  ASSERT_EQ(send_string(client, "x", &dst), 1);
  pump();
  EXPECT_EQ(b_->counters().icmp_unreach_sent, 7u);
}

TEST_F(TwoStacks, ReceiveBufferFullDropsAndCounts) {
  UdpSocket* server = b_->open_udp();
  ASSERT_EQ(server->bind({Ipv4Addr::any(), 9200}), 0);
  constexpr uint32_t kCharge = 100 + UdpSocket::kDatagramOverhead;
  server->set_rcvbuf(8 * kCharge);
  UdpSocket* client = a_->open_udp();
  ASSERT_EQ(client->connect({kIpB, 9200}), 0);
  std::string payload(100, 'p');
  for (int i = 0; i < 12; ++i) {
    ASSERT_EQ(send_string(client, payload), 100);
    pump();
  }
  EXPECT_EQ(server->stats().queued_datagrams, 8u);
  EXPECT_EQ(server->stats().queued_bytes, 8u * kCharge);
  EXPECT_EQ(server->stats().rx_drops, 4u);
  EXPECT_EQ(b_->counters().drop(DropReason::kSocketBufferFull), 4u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(recv_string(server).rc, 100);
  EXPECT_EQ(recv_string(server).rc, -EAGAIN);
  EXPECT_EQ(server->stats().queued_bytes, 0u);
  // Space again.
  ASSERT_EQ(send_string(client, payload), 100);
  pump();
  EXPECT_EQ(recv_string(server).rc, 100);
}

TEST_F(TwoStacks, RcvbufHasLinuxsFloor) {
  UdpSocket* s = b_->open_udp();
  s->set_rcvbuf(1);
  EXPECT_EQ(s->rcvbuf(), UdpSocket::kMinRcvbuf);
}

TEST_F(TwoStacks, EphemeralPortsComeFromTheRangeAndDiffer) {
  std::set<uint16_t> ports;
  for (int i = 0; i < 200; ++i) {
    UdpSocket* s = a_->open_udp();
    ASSERT_EQ(s->bind({Ipv4Addr::any(), 0}), 0);
    uint16_t p = s->local()->port;
    EXPECT_GE(p, 32768);
    EXPECT_LE(p, 60999);
    EXPECT_TRUE(ports.insert(p).second) << "port " << p << " handed out twice";
  }
}

TEST(StackEphemeral, ExhaustedRangeSaysEagain) {
  auto pair = make_pair(pair_config());
  stack::ManualClock clock;
  auto config = config_for(kIpA);
  config.ephemeral_low = 40000;
  config.ephemeral_high = 40002;
  stack::Stack s(*pair.a, config, clock);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(s.open_udp()->bind({Ipv4Addr::any(), 0}), 0);
  EXPECT_EQ(s.open_udp()->bind({Ipv4Addr::any(), 0}), -EAGAIN);
}

TEST_F(TwoStacks, BindConflictsFollowLinux) {
  UdpSocket* first = a_->open_udp();
  ASSERT_EQ(first->bind({Ipv4Addr::any(), 7100}), 0);
  EXPECT_EQ(a_->open_udp()->bind({Ipv4Addr::any(), 7100}), -EADDRINUSE);
  EXPECT_EQ(a_->open_udp()->bind({kIpA, 7100}), -EADDRINUSE);  // overlaps the wildcard
  EXPECT_EQ(a_->open_udp()->bind({Ipv4Addr(198, 18, 9, 9), 7101}), -EADDRNOTAVAIL);
  EXPECT_EQ(first->bind({Ipv4Addr::any(), 7102}), -EINVAL);  // already bound

  UdpSocket* r1 = a_->open_udp();
  r1->set_reuse_addr(true);
  ASSERT_EQ(r1->bind({Ipv4Addr::any(), 7200}), 0);
  UdpSocket* r2 = a_->open_udp();
  r2->set_reuse_addr(true);
  EXPECT_EQ(r2->bind({Ipv4Addr::any(), 7200}), 0);
  first->close();
  EXPECT_EQ(a_->open_udp()->bind({Ipv4Addr::any(), 7100}), 0);  // freed by close
}

TEST_F(TwoStacks, ReusePortSpreadsFlowsAndKeepsEachFlowOnOneSocket) {
  UdpSocket* group[4];
  for (auto*& s : group) {
    s = b_->open_udp();
    s->set_reuse_port(true);
    ASSERT_EQ(s->bind({Ipv4Addr::any(), 7300}), 0);
  }
  Endpoint dst{kIpB, 7300};
  for (int round = 0; round < 2; ++round) {
    for (uint16_t port = 20000; port < 20064; ++port) {
      UdpSocket* c = a_->open_udp();
      c->set_reuse_addr(true);
      ASSERT_EQ(c->bind({Ipv4Addr::any(), port}), 0);
      ASSERT_EQ(send_string(c, std::to_string(port), &dst), 5);
      c->close();
      pump();
    }
  }
  int used = 0;
  for (auto* s : group) {
    std::map<std::string, int> seen;
    Received r;
    while ((r = recv_string(s)).rc > 0) seen[r.data]++;
    for (auto& [flow, n] : seen) EXPECT_EQ(n, 2) << "flow " << flow << " split across sockets";
    used += seen.empty() ? 0 : 1;
  }
  EXPECT_GE(used, 3);
}

TEST_F(TwoStacks, BroadcastNeedsSoBroadcastAndReachesWildcardSockets) {
  UdpSocket* listener1 = b_->open_udp();
  listener1->set_reuse_addr(true);
  ASSERT_EQ(listener1->bind({Ipv4Addr::any(), 6000}), 0);
  UdpSocket* listener2 = b_->open_udp();
  listener2->set_reuse_addr(true);
  ASSERT_EQ(listener2->bind({Ipv4Addr::any(), 6000}), 0);
  UdpSocket* sender = a_->open_udp();
  Endpoint all{Ipv4Addr::broadcast(), 6000};
  EXPECT_EQ(send_string(sender, "hi all", &all), -EACCES);
  sender->set_broadcast(true);
  ASSERT_EQ(send_string(sender, "hi all", &all), 6);
  Endpoint subnet{Ipv4Addr(198, 18, 0, 255), 6000};
  ASSERT_EQ(send_string(sender, "subnet", &subnet), 6);
  pump();
  EXPECT_EQ(recv_string(listener1).data, "hi all");
  EXPECT_EQ(recv_string(listener2).data, "hi all");
  EXPECT_EQ(recv_string(listener1).data, "subnet");
  EXPECT_EQ(recv_string(listener2).data, "subnet");
  EXPECT_EQ(a_->counters().arp_requests_sent, 0u);  // broadcast needs no ARP
}

TEST_F(TwoStacks, OversizedDatagramsAreRejectedNotFragmented) {
  UdpSocket* s = a_->open_udp();
  Endpoint dst{kIpB, 9};
  std::string big(1473, 'x');
  EXPECT_EQ(send_string(s, big, &dst), -EMSGSIZE);
  EXPECT_EQ(send_string(s, std::string(1472, 'x'), &dst), 1472);
}

TEST_F(TwoStacks, SendErrorsMatchLinux) {
  UdpSocket* s = a_->open_udp();
  EXPECT_EQ(send_string(s, "x"), -EDESTADDRREQ);
  Endpoint port0{kIpB, 0};
  EXPECT_EQ(send_string(s, "x", &port0), -EINVAL);
  EXPECT_EQ(s->connect({Ipv4Addr::broadcast(), 9}), -EACCES);
}

TEST(StackRouting, NoRouteSaysEnetunreach) {
  auto pair = make_pair(pair_config());
  stack::ManualClock clock;
  auto config = config_for(kIpA);
  config.gateway.reset();
  stack::Stack s(*pair.a, config, clock);
  UdpSocket* sock = s.open_udp();
  Endpoint far{Ipv4Addr(198, 19, 1, 1), 53};
  EXPECT_EQ(send_string(sock, "x", &far), -ENETUNREACH);
  EXPECT_EQ(sock->connect(far), -ENETUNREACH);
  EXPECT_EQ(s.counters().drop(DropReason::kTxNoRoute), 1u);
}

TEST_F(TwoStacks, OffGatewayTrafficIsSentToTheGatewayMac) {
  // b plays the gateway for a: answer a's ARP for the gateway with b's MAC.
  auto cb = config_for(kGateway);
  b_ = std::make_unique<stack::Stack>(*pair_.b, cb, clock_);
  UdpSocket* sink = b_->open_udp();
  ASSERT_EQ(sink->bind({Ipv4Addr::any(), 53}), 0);
  UdpSocket* s = a_->open_udp();
  Endpoint far{Ipv4Addr(198, 19, 1, 1), 53};
  ASSERT_EQ(send_string(s, "via gw", &far), 6);
  pump();
  EXPECT_EQ(a_->neighbors().lookup(kGateway, clock_.monotonic_ns()), kMacB);
  // b is not 198.19.1.1, so its stack drops it as not ours: it reached b's MAC.
  EXPECT_EQ(b_->counters().drop(DropReason::kIpNotOurs), 1u);
}

TEST_F(TwoStacks, DatagramsToOurOwnAddressLoopInside) {
  UdpSocket* server = a_->open_udp();
  ASSERT_EQ(server->bind({kIpA, 7400}), 0);
  UdpSocket* client = a_->open_udp();
  Endpoint self{kIpA, 7400};
  ASSERT_EQ(send_string(client, "me", &self), 2);
  pump();
  Received r = recv_string(server);
  EXPECT_EQ(r.data, "me");
  EXPECT_EQ(r.info.source.addr, kIpA);
  EXPECT_EQ(a_->counters().loopback, 1u);
  EXPECT_EQ(pair_.b->stats().rx_packets, 0u);  // nothing went on the wire
}

TEST_F(TwoStacks, PeekTruncateAndRealLength) {
  UdpSocket* server = b_->open_udp();
  ASSERT_EQ(server->bind({Ipv4Addr::any(), 7500}), 0);
  UdpSocket* client = a_->open_udp();
  ASSERT_EQ(client->connect({kIpB, 7500}), 0);
  ASSERT_EQ(send_string(client, "0123456789"), 10);
  pump();
  Received peek = recv_string(server, 64, stack::kRecvPeek);
  EXPECT_EQ(peek.data, "0123456789");
  Received cut = recv_string(server, 4, stack::kRecvRealLength);
  EXPECT_EQ(cut.rc, 10);  // MSG_TRUNC on input: the real length
  EXPECT_EQ(cut.data, "0123");
  EXPECT_TRUE(cut.info.truncated);
  EXPECT_EQ(recv_string(server).rc, -EAGAIN);  // truncation still consumed it
}

TEST_F(TwoStacks, RecvBatchTakesSeveralInOrder) {
  UdpSocket* server = b_->open_udp();
  ASSERT_EQ(server->bind({Ipv4Addr::any(), 7600}), 0);
  UdpSocket* client = a_->open_udp();
  ASSERT_EQ(client->connect({kIpB, 7600}), 0);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(send_string(client, std::to_string(i)), 1);
  pump();
  char bufs[8][16];
  iovec iovs[8];
  UdpSocket::RecvSlot slots[8];
  for (int i = 0; i < 8; ++i) {
    iovs[i] = {bufs[i], sizeof bufs[i]};
    slots[i].iov = {&iovs[i], 1};
  }
  ASSERT_EQ(server->recv_batch(slots, 0), 5);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(slots[i].result, 1);
    EXPECT_EQ(bufs[i][0], '0' + i);
  }
}

TEST_F(TwoStacks, SendBatchSendsAllInOrderAndStopsAtTheFirstError) {
  UdpSocket* server = b_->open_udp();
  ASSERT_EQ(server->bind({Ipv4Addr::any(), 7650}), 0);
  UdpSocket* client = a_->open_udp();
  std::string texts[4] = {"one", "two", std::string(2000, 'x'), "four"};
  iovec iovs[4];
  UdpSocket::SendSlot slots[4];
  Endpoint dst{kIpB, 7650};
  for (int i = 0; i < 4; ++i) {
    iovs[i] = {texts[i].data(), texts[i].size()};
    slots[i].iov = {&iovs[i], 1};
    slots[i].dst = &dst;
  }
  EXPECT_EQ(client->send_batch(slots), 2);  // the third is too big: stop there
  EXPECT_EQ(slots[0].result, 3);
  EXPECT_EQ(client->send_batch({&slots[2], 2}), -EMSGSIZE);
  pump();
  EXPECT_EQ(recv_string(server).data, "one");
  EXPECT_EQ(recv_string(server).data, "two");
  EXPECT_EQ(recv_string(server).rc, -EAGAIN);
  EXPECT_EQ(client->stats().tx_datagrams, 2u);
}

class FakeReserver : public stack::PortReserver {
 public:
  int reserve(const UdpSocket&, const stack::Endpoint& local, bool, bool, uintptr_t* token) override {
    const uint16_t port = local.port;
    if (port == taken_by_host) return -EADDRINUSE;
    uint16_t got = port != 0 ? port : next_ephemeral++;
    *token = ++tokens;
    held.insert(*token);
    return got;
  }
  void release(uintptr_t token) override { held.erase(token); }
  uint16_t taken_by_host = 5353;
  uint16_t next_ephemeral = 41000;
  uintptr_t tokens = 0;
  std::set<uintptr_t> held;
};

TEST_F(TwoStacks, PortReserverChoosesEphemeralPortsAndVetoesTakenOnes) {
  FakeReserver host;
  a_->set_port_reserver(&host);
  UdpSocket* any = a_->open_udp();
  ASSERT_EQ(any->bind({Ipv4Addr::any(), 0}), 0);
  EXPECT_EQ(any->local()->port, 41000);  // the host's choice
  EXPECT_EQ(a_->open_udp()->bind({Ipv4Addr::any(), 5353}), -EADDRINUSE);
  UdpSocket* autobound = a_->open_udp();
  ASSERT_EQ(autobound->connect({kIpB, 53}), 0);
  EXPECT_EQ(autobound->local()->port, 41001);
  EXPECT_EQ(host.held.size(), 2u);
  any->close();
  ASSERT_EQ(autobound->disconnect(), 0);  // an autobound port is given back
  EXPECT_TRUE(host.held.empty());
}

class FakeSteering : public stack::PortSteeringHook {
 public:
  int steer(Ipv4Addr addr, uint16_t port, bool on, uint32_t /*share*/) override {
    if (on && port == refused) return EADDRINUSE;
    std::string entry(1, on ? '+' : '-');
    entry.append(addr.to_string()).append(1, ':').append(std::to_string(port));
    log.push_back(std::move(entry));
    return 0;
  }
  int steer6(const wire::Ipv6Addr& addr, uint16_t port, bool on, uint32_t /*share*/) override {
    if (on && port == refused) return EADDRINUSE;
    std::string entry(1, on ? '+' : '-');
    entry.append(1, '[').append(addr.to_string()).append("]:").append(std::to_string(port));
    log.push_back(std::move(entry));
    return 0;
  }
  uint16_t refused = 5300;
  std::vector<std::string> log;
};

TEST_F(TwoStacks, PortSteeringFollowsBindAndClose) {
  FakeSteering steering;
  a_->set_port_steering(&steering);
  UdpSocket* any = a_->open_udp();
  ASSERT_EQ(any->bind({Ipv4Addr::any(), 5200}), 0);
  UdpSocket* specific = a_->open_udp();
  ASSERT_EQ(specific->bind({kIpA, 5201}), 0);
  EXPECT_EQ(a_->open_udp()->bind({Ipv4Addr::any(), 5300}), -EADDRINUSE);  // the device said no
  EXPECT_EQ(a_->open_udp()->bind({Ipv4Addr::any(), 5300}), -EADDRINUSE);  // and nothing was left bound
  any->close();
  specific->close();
  EXPECT_EQ(steering.log,
            (std::vector<std::string>{"+0.0.0.0:5200", "+198.18.0.1:5201", "-0.0.0.0:5200", "-198.18.0.1:5201"}));
}

class RecordingNotifier : public stack::SocketNotifier {
 public:
  void ring() override { ++rings; }
  void clear() override { ++clears; }
  int rings = 0;
  int clears = 0;
};

TEST_F(TwoStacks, NotifierRingsOnEmptyToNonEmptyAndClearsOnDrain) {
  UdpSocket* server = b_->open_udp();
  RecordingNotifier n;
  server->set_notifier(&n);
  ASSERT_EQ(server->bind({Ipv4Addr::any(), 7700}), 0);
  UdpSocket* client = a_->open_udp();
  ASSERT_EQ(client->connect({kIpB, 7700}), 0);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(send_string(client, "x"), 1);
  pump();
  EXPECT_EQ(n.rings, 1);  // one transition, however many datagrams
  EXPECT_EQ(recv_string(server).rc, 1);
  EXPECT_EQ(recv_string(server).rc, 1);
  EXPECT_EQ(n.clears, 0);
  EXPECT_EQ(recv_string(server).rc, 1);
  EXPECT_EQ(n.clears, 1);
  EXPECT_FALSE(server->readable());
}

TEST_F(TwoStacks, DisconnectRestoresWildcardAndDropsAutoboundPort) {
  UdpSocket* s = a_->open_udp();
  ASSERT_EQ(s->connect({kIpB, 53}), 0);
  ASSERT_TRUE(s->local());
  EXPECT_EQ(s->local()->addr, kIpA);  // Linux fills in the routed source
  EXPECT_EQ(s->remote(), (Endpoint{kIpB, 53}));
  ASSERT_EQ(s->disconnect(), 0);
  EXPECT_FALSE(s->remote());
  EXPECT_FALSE(s->local());  // autobound by connect: unbound again

  UdpSocket* bound = a_->open_udp();
  ASSERT_EQ(bound->bind({Ipv4Addr::any(), 7800}), 0);
  ASSERT_EQ(bound->connect({kIpB, 53}), 0);
  ASSERT_EQ(bound->disconnect(), 0);
  EXPECT_EQ(bound->local(), (Endpoint{Ipv4Addr::any(), 7800}));
}

TEST_F(TwoStacks, ClosedSocketsAreFreedAfterTheGracePeriod) {
  UdpSocket* s = b_->open_udp();
  ASSERT_EQ(s->bind({Ipv4Addr::any(), 7900}), 0);
  UdpSocket* client = a_->open_udp();
  ASSERT_EQ(client->connect({kIpB, 7900}), 0);
  ASSERT_EQ(send_string(client, "queued"), 6);
  pump();
  size_t free_before = pair_.a->pool().available();
  s->close();
  b_->on_timer();
  EXPECT_EQ(b_->reclaimer().pending(), 0u);
  EXPECT_EQ(pair_.a->pool().available(), free_before + 1);  // its queued datagram went back
}

}  // namespace
}  // namespace dpdkudp::test
