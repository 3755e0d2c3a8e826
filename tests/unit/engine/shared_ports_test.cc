// The port-sharing table (engine/shared_ports.h): several "processes"
// played in one by join_as() with made-up identities and a liveness set
// the test controls; then two stacks that see the same frames, as two
// processes on one AF_PACKET interface do.
#include "engine/shared_ports.h"

#include "engine/group_peers.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "backends/pair/pair_backend.h"
#include "stack/net/stack.h"
#include "tests/support/packets.h"
#include "tests/unit/stack/stack_fixture.h"

namespace dpdkudp::engine {
namespace {

using Owner = stack::PortSharing::Owner;
using wire::Ipv4Addr;
using wire::Ipv6Addr;

constexpr Ipv4Addr kUs{198, 18, 0, 1};
constexpr Ipv4Addr kPeer{198, 18, 0, 2};

// Which made-up pids are "running".
std::mutex g_alive_mutex;
std::set<uint32_t> g_alive;
bool test_alive(const SharedPorts::Identity& who) {
  const std::lock_guard<std::mutex> guard(g_alive_mutex);
  return g_alive.count(who.pid) != 0;
}
void set_alive(uint32_t pid, bool alive) {
  const std::lock_guard<std::mutex> guard(g_alive_mutex);
  if (alive) {
    g_alive.insert(pid);
  } else {
    g_alive.erase(pid);
  }
}

class SharedPortsTest : public ::testing::Test {
 protected:
  SharedPortsTest() : name_("/dpdkudp-ports-test-" + std::to_string(getpid())) { shm_unlink(name_.c_str()); }
  ~SharedPortsTest() override { shm_unlink(name_.c_str()); }

  std::unique_ptr<SharedPorts> member(uint32_t pid) {
    set_alive(pid, true);
    std::string error;
    auto t = SharedPorts::join_as(name_, SharedPorts::Identity{pid, 1000 + pid}, test_alive, &error);
    EXPECT_NE(t, nullptr) << error;
    return t;
  }
  bool object_exists() const {
    const int fd = shm_open(name_.c_str(), O_RDONLY, 0);
    if (fd >= 0) ::close(fd);
    return fd >= 0;
  }
  // How many of `flows` source ports each table takes for (kUs, port).
  static std::vector<int> takers(const std::vector<SharedPorts*>& tables, uint16_t port, int flows,
                                 int* nobody_or_twice) {
    std::vector<int> taken(tables.size(), 0);
    *nobody_or_twice = 0;
    for (int f = 0; f < flows; ++f) {
      int takers = 0;
      for (size_t i = 0; i < tables.size(); ++i) {
        if (tables[i]->owner(kUs, port, kPeer, static_cast<uint16_t>(20000 + f)) == Owner::kUs) {
          ++taken[i];
          ++takers;
        }
      }
      if (takers != 1) ++*nobody_or_twice;
    }
    return taken;
  }

  std::string name_;
};

TEST_F(SharedPortsTest, ReusePortSharersTakeEachFlowExactlyOnceAndSpreadThem) {
  auto a = member(101);
  auto b = member(102);
  auto c = member(103);
  ASSERT_TRUE(a && b && c);
  ASSERT_EQ(a->steer(Ipv4Addr::any(), 5300, true, true), 0);
  ASSERT_EQ(b->steer(Ipv4Addr::any(), 5300, true, true), 0);
  ASSERT_EQ(c->steer(Ipv4Addr::any(), 5300, true, true), 0);
  int bad = 0;
  std::vector<int> taken = takers({a.get(), b.get(), c.get()}, 5300, 3000, &bad);
  EXPECT_EQ(bad, 0);
  for (int n : taken) EXPECT_GT(n, 700) << "a third of 3000 flows each, roughly";
  // A flow stays with one process.
  for (int f = 0; f < 50; ++f) {
    const Owner first = b->owner(kUs, 5300, kPeer, static_cast<uint16_t>(20000 + f));
    EXPECT_EQ(b->owner(kUs, 5300, kPeer, static_cast<uint16_t>(20000 + f)), first);
  }
  // One leaves: the two left take every flow between them.
  c.reset();
  taken = takers({a.get(), b.get()}, 5300, 2000, &bad);
  EXPECT_EQ(bad, 0);
  EXPECT_GT(taken[0], 700);
  EXPECT_GT(taken[1], 700);
}

TEST_F(SharedPortsTest, AnotherProcesssPortIsItsAndAnUnknownPortIsNobodys) {
  auto a = member(111);
  auto b = member(112);
  ASSERT_EQ(a->steer(Ipv4Addr::any(), 7000, true, false), 0);
  EXPECT_EQ(a->owner(kUs, 7000, kPeer, 1), Owner::kUs);
  EXPECT_EQ(b->owner(kUs, 7000, kPeer, 1), Owner::kOtherProcess);
  EXPECT_EQ(b->owner(kUs, 7001, kPeer, 1), Owner::kNobody);
  // IPv6 records are apart from IPv4 ones.
  const Ipv6Addr us6 = *Ipv6Addr::parse("2001:2::1");
  const Ipv6Addr peer6 = *Ipv6Addr::parse("2001:2::2");
  EXPECT_EQ(b->owner6(us6, 7000, peer6, 1), Owner::kNobody);
  ASSERT_EQ(b->steer6(us6, 7000, true, false), 0);
  EXPECT_EQ(b->owner6(us6, 7000, peer6, 1), Owner::kUs);
  EXPECT_EQ(a->owner6(us6, 7000, peer6, 1), Owner::kOtherProcess);
  EXPECT_EQ(a->owner6(*Ipv6Addr::parse("2001:2::9"), 7000, peer6, 1), Owner::kNobody);
  // Released: nobody's again.
  ASSERT_EQ(a->steer(Ipv4Addr::any(), 7000, false, false), 0);
  EXPECT_EQ(b->owner(kUs, 7000, kPeer, 1), Owner::kNobody);
  EXPECT_EQ(a->steer(Ipv4Addr::any(), 7000, false, false), ENOENT);
}

TEST_F(SharedPortsTest, TheDatagramsOwnAddressOutranksTheWildcard) {
  auto a = member(121);
  auto b = member(122);
  ASSERT_EQ(a->steer(Ipv4Addr::any(), 8000, true, true), 0);
  ASSERT_EQ(b->steer(kUs, 8000, true, true), 0);
  int bad = 0;
  std::vector<int> taken = takers({a.get(), b.get()}, 8000, 200, &bad);
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(taken[1], 200);
  // To another of the host's addresses only the wildcard matches.
  EXPECT_EQ(a->owner(Ipv4Addr{198, 18, 0, 9}, 8000, kPeer, 1), Owner::kUs);
  EXPECT_EQ(b->owner(Ipv4Addr{198, 18, 0, 9}, 8000, kPeer, 1), Owner::kOtherProcess);
}

TEST_F(SharedPortsTest, SeveralSocketsOfOneProcessAreOneRecordUntilTheLastCloses) {
  auto a = member(131);
  auto b = member(132);
  ASSERT_EQ(a->steer(Ipv4Addr::any(), 9000, true, true), 0);
  ASSERT_EQ(a->steer(Ipv4Addr::any(), 9000, true, true), 0);
  ASSERT_EQ(b->steer(Ipv4Addr::any(), 9000, true, true), 0);
  int bad = 0;
  std::vector<int> taken = takers({a.get(), b.get()}, 9000, 2000, &bad);
  EXPECT_LT(taken[0], 1300) << "two sockets of one process count as one sharer";
  ASSERT_EQ(a->steer(Ipv4Addr::any(), 9000, false, true), 0);
  taken = takers({a.get(), b.get()}, 9000, 2000, &bad);
  EXPECT_EQ(bad, 0);
  EXPECT_GT(taken[0], 700);
  ASSERT_EQ(a->steer(Ipv4Addr::any(), 9000, false, true), 0);
  taken = takers({a.get(), b.get()}, 9000, 2000, &bad);
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(taken[1], 2000);
}

TEST_F(SharedPortsTest, AFullPortRefusesTheNinthSharer) {
  std::vector<std::unique_ptr<SharedPorts>> m;
  for (uint32_t i = 0; i < SharedPorts::kMaxSharers; ++i) {
    m.push_back(member(140 + i));
    ASSERT_EQ(m.back()->steer(Ipv4Addr::any(), 9100, true, true), 0);
  }
  auto ninth = member(150);
  EXPECT_EQ(ninth->steer(Ipv4Addr::any(), 9100, true, true), EADDRINUSE);
  // A dead sharer makes room without waiting for a refresh.
  set_alive(140, false);
  EXPECT_EQ(ninth->steer(Ipv4Addr::any(), 9100, true, true), 0);
}

TEST_F(SharedPortsTest, AKilledMembersShareGoesToTheOthersAtTheNextRefresh) {
  auto a = member(161);
  auto b = member(162);
  ASSERT_EQ(a->steer(Ipv4Addr::any(), 5353, true, true), 0);
  ASSERT_EQ(b->steer(Ipv4Addr::any(), 5353, true, true), 0);
  EXPECT_TRUE(a->answers_for_host());
  EXPECT_FALSE(b->answers_for_host());
  EXPECT_EQ(b->members(), 2u);
  set_alive(161, false);  // "SIGKILL": a leaves nothing behind by itself
  int bad = 0;
  std::vector<int> taken = takers({b.get()}, 5353, 1000, &bad);
  EXPECT_LT(taken[0], 1000) << "before the refresh the dead one still has its share";
  b->refresh();
  taken = takers({b.get()}, 5353, 1000, &bad);
  EXPECT_EQ(taken[0], 1000);
  EXPECT_TRUE(b->answers_for_host()) << "the survivor answers for the host";
  EXPECT_EQ(b->members(), 1u);
  // The dead process's copy, destroyed later, must not take b's records
  // with it: its slot may be someone else's by then. (Its identity is
  // gone from the table; leave() finds its own slot reassigned.)
  auto c = member(163);
  EXPECT_EQ(c->slot(), a->slot()) << "the freed slot is reused";
  ASSERT_EQ(c->steer(Ipv4Addr::any(), 5353, true, true), 0);
  taken = takers({b.get(), c.get()}, 5353, 2000, &bad);
  EXPECT_EQ(bad, 0);
  EXPECT_GT(taken[1], 700);
}

TEST_F(SharedPortsTest, AMemberWhoseHolderThreadEndedTakesNothingAtOnce) {
  auto a = member(221);
  auto b = member(222);
  ASSERT_EQ(a->steer(Ipv4Addr::any(), 5355, true, true), 0);
  ASSERT_EQ(b->steer(Ipv4Addr::any(), 5355, true, true), 0);
  // a's "poller" holds its liveness mutex and ends, as a process's threads
  // do when it exits without leaving (_exit, SIGKILL); its pid still
  // looks alive to the refresh.
  std::thread([&] { a->hold_membership(); }).join();
  int bad = 0;
  std::vector<int> taken = takers({b.get()}, 5355, 1000, &bad);
  EXPECT_EQ(taken[0], 1000) << "before any refresh";
  b->refresh();
  EXPECT_EQ(b->members(), 1u);
  EXPECT_TRUE(b->answers_for_host());
}

TEST_F(SharedPortsTest, TheLastMemberRemovesTheObjectAndAForkedChildsCopyLeavesNothing) {
  auto a = member(171);
  ASSERT_EQ(a->steer(Ipv4Addr::any(), 6000, true, false), 0);
  EXPECT_TRUE(object_exists());
  struct stat st {};
  const int fd = shm_open(name_.c_str(), O_RDONLY, 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(fstat(fd, &st), 0);
  ::close(fd);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_uid, geteuid());

  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    a.reset();  // the child's copy: must leave the parent's records alone
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_EQ(a->members(), 1u);
  auto b = member(172);
  EXPECT_EQ(b->owner(kUs, 6000, kPeer, 1), Owner::kOtherProcess);
  b.reset();
  a.reset();
  EXPECT_FALSE(object_exists());
}

TEST_F(SharedPortsTest, GroupRecordsReachTheOtherMembersAndGoWithTheirProcess) {
  auto a = member(231);
  auto b = member(232);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->key(), b->key());
  const stack::GroupKey g = stack::GroupKey::of(Ipv4Addr(239, 1, 2, 3), 5000);
  const stack::GroupKey g6 = stack::GroupKey::of(Ipv6Addr::parse("ff05::1:3").value(), 5000);
  const uint64_t gen = b->groups_generation();
  ASSERT_TRUE(a->publish_groups(40001, std::vector<stack::GroupKey>{g, g6}));
  EXPECT_NE(b->groups_generation(), gen);
  auto seen = b->group_peers();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].key, g);
  EXPECT_EQ(seen[1].key, g6);
  EXPECT_EQ(seen[0].inbox_port, 40001);
  EXPECT_TRUE(a->group_peers().empty());  // never its own
  // A new publication replaces the old one.
  ASSERT_TRUE(a->publish_groups(40001, std::vector<stack::GroupKey>{g6}));
  ASSERT_EQ(b->group_peers().size(), 1u);
  EXPECT_EQ(b->group_peers()[0].key, g6);
  // Past kMaxGroups the rest are left out (false: the engine says so).
  std::vector<stack::GroupKey> many;
  for (uint16_t p = 0; p < SharedPorts::kMaxGroups + 3; ++p) {
    many.push_back(stack::GroupKey::of(Ipv4Addr(239, 1, 2, 3), static_cast<uint16_t>(6000 + p)));
  }
  EXPECT_FALSE(a->publish_groups(40001, many));
  EXPECT_EQ(b->group_peers().size(), SharedPorts::kMaxGroups);
  // A member that dies: its records are gone from the view at once (its
  // liveness), and from the table at the next refresh.
  set_alive(231, false);
  EXPECT_TRUE(b->group_peers().empty());
  const uint64_t before = b->groups_generation();
  b->refresh();
  EXPECT_NE(b->groups_generation(), before);
}

TEST_F(SharedPortsTest, AGroupsOnlyMemberNeverAnswersForTheHost) {
  // AF_XDP processes keep only group records here; AF_PACKET's earliest
  // process answers ARP and ping, whoever joined the table first.
  set_alive(235, true);
  std::string error;
  auto xdp = SharedPorts::join_as(name_, SharedPorts::Identity{235, 1}, test_alive, &error, /*groups_only=*/true);
  ASSERT_NE(xdp, nullptr) << error;
  EXPECT_FALSE(xdp->answers_for_host());
  auto packet = member(236);
  ASSERT_TRUE(packet);
  packet->refresh();
  xdp->refresh();
  EXPECT_TRUE(packet->answers_for_host());
  EXPECT_FALSE(xdp->answers_for_host());
}

TEST_F(SharedPortsTest, AnotherUsersObjectIsRefusedWithItsName) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to make a file another user owns";
  const int fd = shm_open(name_.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(fchown(fd, 65534, 65534), 0);
  ::close(fd);
  std::string error;
  auto t = SharedPorts::join_as(name_, SharedPorts::Identity{181, 1}, test_alive, &error);
  EXPECT_EQ(t, nullptr);
  EXPECT_NE(error.find(name_), std::string::npos) << error;
  EXPECT_NE(error.find("not a private file"), std::string::npos) << error;
}

TEST_F(SharedPortsTest, AnInheritedSocketIsSharedByTheProcessesThatReadIt) {
  // A pre-forking server: the parent bound the port (no SO_REUSEPORT) and
  // forked two workers, which adopted the socket.
  auto parent = member(211);
  ASSERT_EQ(parent->steer(Ipv4Addr::any(), 5353, true, false), 0);
  auto w1 = member(212);
  auto w2 = member(213);
  ASSERT_EQ(w1->steer(Ipv4Addr::any(), 5353, true, false), 0);
  w1->share_inherited(5353);
  ASSERT_EQ(w2->steer(Ipv4Addr::any(), 5353, true, false), 0);
  w2->share_inherited(5353);
  int bad = 0;
  // Nobody has read yet: all three holders share.
  std::vector<int> taken = takers({parent.get(), w1.get(), w2.get()}, 5353, 3000, &bad);
  EXPECT_EQ(bad, 0);
  EXPECT_GT(taken[0], 700);
  // The workers read, the parent only waits: the parent gets nothing.
  w1->note_reading(5353);
  w2->note_reading(5353);
  taken = takers({parent.get(), w1.get(), w2.get()}, 5353, 3000, &bad);
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(taken[0], 0);
  EXPECT_GT(taken[1], 1200);
  EXPECT_GT(taken[2], 1200);
  // A worker exits: the other takes every flow.
  w1.reset();
  taken = takers({parent.get(), w2.get()}, 5353, 1000, &bad);
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(taken[1], 1000);
  // Without the fork, two processes on one port without SO_REUSEPORT (a
  // kernel reservation prevents it; a table that says so anyway) both
  // take: the table does not invent sharing.
  ASSERT_EQ(parent->steer(Ipv4Addr::any(), 5354, true, false), 0);
  ASSERT_EQ(w2->steer(Ipv4Addr::any(), 5354, true, false), 0);
  EXPECT_EQ(parent->owner(kUs, 5354, kPeer, 1), Owner::kUs);
  EXPECT_EQ(w2->owner(kUs, 5354, kPeer, 1), Owner::kUs);
}

TEST_F(SharedPortsTest, ReuseAddrSharersLeaveUnicastToTheLastBound) {
  // SO_REUSEADDR alone (multicast receivers' usual option): Linux lets
  // every such socket bind and gives unicast to the one bound last.
  auto a = member(241);
  auto b = member(242);
  auto c = member(243);
  ASSERT_TRUE(a && b && c);
  ASSERT_EQ(a->steer(Ipv4Addr::any(), 5500, true, kShareReuseAddr), 0);
  ASSERT_EQ(b->steer(Ipv4Addr::any(), 5500, true, kShareReuseAddr), 0);
  ASSERT_EQ(c->steer(Ipv4Addr::any(), 5500, true, kShareReuseAddr | kShareReusePort), 0);
  int bad = 0;
  EXPECT_EQ(takers({a.get(), b.get(), c.get()}, 5500, 200, &bad), (std::vector<int>{0, 0, 200}));
  EXPECT_EQ(bad, 0);
  // The last leaves: the one before it takes every flow (the records keep
  // their order when one goes from the middle, too).
  ASSERT_EQ(c->steer(Ipv4Addr::any(), 5500, false, kShareReuseAddr | kShareReusePort), 0);
  EXPECT_EQ(takers({a.get(), b.get()}, 5500, 200, &bad), (std::vector<int>{0, 200}));
  ASSERT_EQ(c->steer(Ipv4Addr::any(), 5500, true, kShareReuseAddr), 0);
  ASSERT_EQ(b->steer(Ipv4Addr::any(), 5500, false, kShareReuseAddr), 0);
  EXPECT_EQ(takers({a.get(), c.get()}, 5500, 200, &bad), (std::vector<int>{0, 200}));
  EXPECT_EQ(bad, 0);
}

TEST_F(SharedPortsTest, ReadersNeverSeeAPortHalfChanged) {
  auto a = member(191);
  auto b = member(192);
  ASSERT_EQ(a->steer(Ipv4Addr::any(), 5400, true, true), 0);
  std::atomic<bool> stop{false};
  std::atomic<int> nobody{0};
  std::thread reader([&] {
    for (uint16_t sport = 0; !stop.load(); ++sport) {
      // a always holds the port: some process takes every flow, never nobody.
      if (a->owner(kUs, 5400, kPeer, sport) == Owner::kNobody) nobody.fetch_add(1);
    }
  });
  for (int i = 0; i < 2000; ++i) {
    ASSERT_EQ(b->steer(Ipv4Addr::any(), 5400, true, true), 0);
    ASSERT_EQ(b->steer(Ipv4Addr::any(), 5400, false, true), 0);
  }
  stop = true;
  reader.join();
  EXPECT_EQ(nobody.load(), 0);
}

// Two stacks with one address and MAC on two wires fed the same frames:
// two processes on one AF_PACKET interface, each with its own copy.
class TwoProcessesOneInterface : public SharedPortsTest {
 protected:
  TwoProcessesOneInterface() {
    for (int i = 0; i < 2; ++i) {
      PairConfig pc;
      pc.a.mac = test::kMacA;
      pc.b.mac = test::kMacB;
      wires_[i] = make_pair(pc);
      stack::StackConfig sc;
      sc.address = wire::Ipv4Cidr{kUs, 24};
      sc.dedicated = true;
      stacks_[i] = std::make_unique<stack::Stack>(*wires_[i].a, sc, clock_);
      tables_[i] = member(201 + static_cast<uint32_t>(i));
      stacks_[i]->set_port_steering(tables_[i].get());
      stacks_[i]->set_port_sharing(tables_[i].get());
    }
  }
  ~TwoProcessesOneInterface() override {
    for (auto& s : stacks_) s.reset();
  }
  void feed_both(const test::Bytes& frame) {
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(wires_[i].a->inject(frame));
      while (stacks_[i]->poll(0) != 0) {}
    }
  }
  size_t frames_sent(int i) {
    size_t n = 0;
    Packet* pkts[32];
    size_t got;
    while ((got = wires_[i].b->rx_burst(0, pkts)) != 0) {
      n += got;
      wires_[i].b->release({pkts, got});
    }
    return n;
  }
  uint64_t dropped(int i, stack::DropReason r) { return stacks_[i]->counters().drops[static_cast<size_t>(r)]; }
  test::FrameBuilder from_peer() {
    return test::FrameBuilder().src_mac(test::kMacB).dst_mac(test::kMacA).src_ip(kPeer).dst_ip(kUs);
  }

  stack::ManualClock clock_;
  BackendPair wires_[2];
  std::unique_ptr<stack::Stack> stacks_[2];
  std::unique_ptr<SharedPorts> tables_[2];
};

TEST_F(TwoProcessesOneInterface, EachDatagramToAReusePortPairReachesOneProcess) {
  stack::UdpSocket* s[2];
  for (int i = 0; i < 2; ++i) {
    s[i] = stacks_[i]->open_udp();
    s[i]->set_reuse_port(true);
    ASSERT_EQ(s[i]->bind({Ipv4Addr::any(), 5300}), 0);
  }
  int got[2] = {0, 0};
  for (int f = 0; f < 400; ++f) {
    feed_both(from_peer().src_port(static_cast<uint16_t>(30000 + f)).dst_port(5300).payload("q").udp());
    int readers = 0;
    for (int i = 0; i < 2; ++i) {
      if (test::recv_string(s[i]).rc == 1) {
        ++got[i];
        ++readers;
      }
    }
    ASSERT_EQ(readers, 1) << "flow " << f;
  }
  EXPECT_GT(got[0], 100);
  EXPECT_GT(got[1], 100);
  EXPECT_EQ(dropped(0, stack::DropReason::kUdpOtherProcess) + dropped(1, stack::DropReason::kUdpOtherProcess), 400u);
  for (auto* sock : s) sock->close();
}

TEST_F(TwoProcessesOneInterface, OneProcessAnswersForTheHostAndNoneRefusesAnothersPort) {
  stack::UdpSocket* s = stacks_[1]->open_udp();
  ASSERT_EQ(s->bind({Ipv4Addr::any(), 7000}), 0);
  frames_sent(0);
  frames_sent(1);
  // ARP and ping: answered once, by the first member.
  feed_both(from_peer().arp(wire::ArpOp::kRequest));
  feed_both(from_peer().echo_ident(1).echo_seq(1).payload("ping").icmp_echo_request());
  EXPECT_EQ(frames_sent(0), 2u);
  EXPECT_EQ(frames_sent(1), 0u);
  // The second's port: it takes the datagram, the first neither delivers
  // nor answers port unreachable.
  feed_both(from_peer().src_port(4000).dst_port(7000).payload("mine").udp());
  EXPECT_EQ(test::recv_string(s).data, "mine");
  EXPECT_EQ(frames_sent(0), 0u);
  EXPECT_EQ(dropped(0, stack::DropReason::kUdpOtherProcess), 1u);
  EXPECT_EQ(dropped(0, stack::DropReason::kUdpNoSocket), 0u);
  // Nobody's port: one port unreachable, from the first.
  feed_both(from_peer().src_port(4000).dst_port(7001).payload("closed").udp());
  EXPECT_EQ(frames_sent(0), 1u);
  EXPECT_EQ(frames_sent(1), 0u);
  // The first leaves: after its refresh the second answers for the host.
  tables_[0]->leave();
  tables_[1]->refresh();
  feed_both(from_peer().arp(wire::ArpOp::kRequest));
  EXPECT_EQ(frames_sent(1), 1u);
  s->close();
}

TEST(GroupCopy, HeaderBytesAndWhatIsRefused) {
  uint8_t h[kGroupCopyHeaderLen];
  write_group_copy_header(h, 0x0807060504030201ull);
  EXPECT_EQ(test::Bytes(h, h + sizeof h),
            (test::Bytes{'D', 'U', 'G', 'P', 1, 0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}));
  test::Bytes copy(h, h + sizeof h);
  copy.insert(copy.end(), {0xaa, 0xbb, 0xcc});
  auto frame = parse_group_copy(copy, 0x0807060504030201ull);
  EXPECT_EQ(test::Bytes(frame.begin(), frame.end()), (test::Bytes{0xaa, 0xbb, 0xcc}));
  EXPECT_TRUE(parse_group_copy(copy, 0x0807060504030202ull).empty());  // another table's key
  test::Bytes other = copy;
  other[4] = 2;  // another version
  EXPECT_TRUE(parse_group_copy(other, 0x0807060504030201ull).empty());
  other = copy;
  other[0] = 'X';
  EXPECT_TRUE(parse_group_copy(other, 0x0807060504030201ull).empty());
  EXPECT_TRUE(parse_group_copy({copy.data(), kGroupCopyHeaderLen}, 0x0807060504030201ull).empty());  // no frame
  EXPECT_TRUE(parse_group_copy({copy.data(), 5}, 0x0807060504030201ull).empty());
}

// Both stacks with their GroupPeersImpl over real loopback sockets and the
// inbox threads: what one sends to a group reaches the other's member
// through IP_MULTICAST_LOOP, and with the loop off, nothing does.
TEST_F(TwoProcessesOneInterface, ASendLoopsToTheOtherProcesssMemberThroughItsInbox) {
  GroupPeersImpl peers0(*tables_[0], *stacks_[0], false);
  GroupPeersImpl peers1(*tables_[1], *stacks_[1], false);
  stacks_[0]->set_group_peers(&peers0);
  stacks_[1]->set_group_peers(&peers1);
  const Ipv4Addr group(239, 1, 2, 3);
  stack::UdpSocket* member = stacks_[1]->open_udp();
  ASSERT_EQ(member->bind({Ipv4Addr::any(), 5600}), 0);
  ASSERT_EQ(stacks_[1]->multicast_membership(*member, group, nullptr, true), 0);
  stack::UdpSocket* sender = stacks_[0]->open_udp();
  const stack::Endpoint to{group, 5600};
  const auto receive = [&](int tries) {
    for (int i = 0; i < tries; ++i) {  // 5 ms each
      stacks_[1]->poll(0);
      test::Received r = test::recv_string(member);
      if (r.rc >= 0) return r.data;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return std::string("(nothing)");
  };
  ASSERT_EQ(test::send_string(sender, "looped", &to), 6);
  EXPECT_EQ(receive(400), "looped");
  EXPECT_EQ(peers0.copies_sent(), 1u);
  EXPECT_EQ(peers1.copies_received(), 1u);
  sender->set_multicast_loop(false);
  ASSERT_EQ(test::send_string(sender, "not looped", &to), 10);
  EXPECT_EQ(receive(40), "(nothing)");
  // Its member gone, the other process is sent nothing more.
  ASSERT_EQ(stacks_[1]->multicast_membership(*member, group, nullptr, false), 0);
  sender->set_multicast_loop(true);
  ASSERT_EQ(test::send_string(sender, "after the leave", &to), 15);
  EXPECT_EQ(peers0.copies_sent(), 1u);
  peers0.stop();
  peers1.stop();
  stacks_[0]->set_group_peers(nullptr);
  stacks_[1]->set_group_peers(nullptr);
  member->close();
  sender->close();
}

// Copies that find the other process's inbox full are lost there, as at
// any full socket, and counted by that process: what it read plus what it
// counted lost is what was sent.
TEST_F(TwoProcessesOneInterface, CopiesLostAtAFullInboxAreCounted) {
  GroupPeersImpl peers0(*tables_[0], *stacks_[0], false);
  GroupPeersImpl peers1(*tables_[1], *stacks_[1], false);
  stacks_[1]->set_group_peers(&peers1);
  const stack::GroupKey key = stack::GroupKey::of(Ipv4Addr(239, 1, 2, 5), 5700);
  // The second process's record, with its inbox not read yet (its thread
  // starts with its first membership).
  ASSERT_TRUE(tables_[1]->publish_groups(peers1.inbox_port(), std::vector<stack::GroupKey>{key}));
  ASSERT_TRUE(peers0.member(key));
  const test::Bytes frame = from_peer().dst_ip(Ipv4Addr(239, 1, 2, 5)).dst_port(5700).payload("burst").udp();
  constexpr int kCopies = 40000;  // more than any inbox buffer holds
  for (int i = 0; i < kCopies; ++i) peers0.send_copies(key, frame.data(), frame.size());
  EXPECT_EQ(peers0.copies_sent(), static_cast<uint64_t>(kCopies));
  stack::UdpSocket* member = stacks_[1]->open_udp();
  ASSERT_EQ(member->bind({Ipv4Addr::any(), 5700}), 0);
  ASSERT_EQ(stacks_[1]->multicast_membership(*member, Ipv4Addr(239, 1, 2, 5), nullptr, true), 0);
  const auto lost = [&] { return stacks_[1]->counters().drop(stack::DropReason::kGroupCopyLost); };
  // The kernel tells of the drops with the next datagram queued after
  // them: once the inbox is read empty, one more copy carries the count.
  uint64_t got = 0;
  for (int i = 0; i < 400; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (peers1.copies_received() != 0 && peers1.copies_received() == got) break;
    got = peers1.copies_received();
  }
  peers0.send_copies(key, frame.data(), frame.size());
  for (int i = 0; i < 400 && peers1.copies_received() + lost() < kCopies + 1u; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GT(lost(), 0u);
  EXPECT_GT(peers1.copies_received(), 0u);
  EXPECT_EQ(peers1.copies_received() + lost(), kCopies + 1u);
  peers0.stop();
  peers1.stop();
  stacks_[1]->set_group_peers(nullptr);
  member->close();
}

}  // namespace
}  // namespace dpdkudp::engine
