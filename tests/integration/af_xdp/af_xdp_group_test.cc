// Several processes on one interface (backends/af_xdp/group.h): each
// serves its own ports over the UMEM the first one made, the group outlives
// whichever process leaves or is killed first, and a killed member's ports
// and TX frames come back. The other processes are forked children in the
// server namespace (OwnerProcess); the backend opened here is the second.
#include <gmock/gmock.h>

#include <array>
#include <set>
#include <thread>

#include "tests/integration/af_xdp/af_xdp_fixture.h"

namespace dpdkudp::test {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using AfXdpGroup = AfXdpModeTest;

constexpr uint16_t kChildPort = 6100;
constexpr uint16_t kOurPort = 6101;

class GroupTest : public AfXdpGroup {
 protected:
  // count datagrams from the client to port, each received here intact;
  // at most `window` in flight (less than the RX ring holds).
  ::testing::AssertionResult stream_arrives(Backend& backend, int client, uint16_t port, uint32_t count,
                                            uint32_t window = 100) {
    const uint32_t kWindow = window;
    for (uint32_t base = 0; base < count; base += kWindow) {
      const uint32_t n = std::min(kWindow, count - base);
      for (uint32_t i = 0; i < n; ++i) {
        send_udp(client, net_.server_ip, port, patterned_payload(base + i, 1 + (base + i) % 1400));
      }
      const auto frames = receive(backend, n);
      if (frames.size() != n) {
        return ::testing::AssertionFailure()
               << "window at " << base << ": " << frames.size() << " of " << n << " arrived";
      }
      for (uint32_t i = 0; i < n; ++i) {
        const Bytes want = patterned_payload(base + i, 1 + (base + i) % 1400);
        if (!check_udp_frame(frames[i].bytes, {udp::DstPort(port), Payload(want)})) {
          return ::testing::AssertionFailure() << "datagram " << base + i << " differs";
        }
      }
    }
    return ::testing::AssertionSuccess();
  }
  bool kernel_gets(int kernel_fd, int client_fd, uint16_t port, const std::string& text) {
    send_udp(client_fd, net_.server_ip, port, to_bytes(text));
    const auto got = read_udp(kernel_fd, 1, 500ms);
    return got.size() == 1 && got[0] == to_bytes(text);
  }
  // TX frames alloc() can take right now (given back at once).
  size_t free_tx_frames(Backend& backend, size_t most) {
    std::vector<Packet*> pkts(most);
    const size_t n = backend.alloc(pkts);
    backend.release(std::span<Packet* const>(pkts.data(), n));
    return n;
  }
};

TEST_P(GroupTest, TwoProcessesServeTheirOwnPortsOnOneInterface) {
  add_server_address();
  const int kernel_child_port = server_udp(kChildPort);
  const int client = client_udp(41000);
  ASSERT_GE(kernel_child_port, 0);
  ASSERT_GE(client, 0);

  OwnerProcess founder(net_, shared_config(GetParam()), kChildPort);
  ASSERT_TRUE(founder.ready()) << founder.error();
  AfXdpOpened member = open_or_fail(shared_config(GetParam()));
  ASSERT_NE(member.backend, nullptr);
  EXPECT_THAT(member.mode_description, HasSubstr(", group member (slot 1)"));
  EXPECT_THAT(member.mode_description, StartsWith(GetParam() == XdpMode::kGeneric ? "generic copy" : "native copy"));

  // The founder's port is its own; ours is ours.
  EXPECT_EQ(member.steering->steer(0, kChildPort, true), EADDRINUSE);
  ASSERT_EQ(member.steering->steer(0, kOurPort, true), 0);
  EXPECT_FALSE(kernel_gets(kernel_child_port, client, kChildPort, "the founder's"))
      << "the founder's port reached the kernel";
  // Many ringfuls through the one shared fill ring, refilled by us alone
  // (the founder sleeps): every datagram arrives, the founder's does not.
  EXPECT_TRUE(stream_arrives(*member.backend, client, kOurPort, 3000));
  send_udp(client, net_.server_ip, kChildPort, to_bytes("not for us"));
  EXPECT_TRUE(receive(*member.backend, 0, 300ms, 300ms).empty());
  // And we send over the shared TX frames and completion ring.
  for (uint32_t i = 0; i < 300; ++i) {
    ASSERT_TRUE(transmit(*member.backend,
                         to_client().src_port(kOurPort).dst_port(41000).payload(patterned_payload(i, 200)).udp()));
    const auto got = read_udp(client, 1);
    ASSERT_EQ(got.size(), 1u) << "datagram " << i;
    ASSERT_EQ(got[0], patterned_payload(i, 200));
  }

  // The founder (holder of the hub and of the first bpf_link) is killed:
  // the program stays (we hold the link too), its port is the kernel's
  // again, ours still works.
  founder.kill();
  EXPECT_TRUE(xdp_attached()) << server_link();
  EXPECT_TRUE(kernel_gets(kernel_child_port, client, kChildPort, "after the kill"));
  EXPECT_TRUE(stream_arrives(*member.backend, client, kOurPort, 500));

  // A newcomer joins through us (the hub moved here) and takes the dead
  // founder's port over.
  OwnerProcess next(net_, shared_config(GetParam()), kChildPort);
  ASSERT_TRUE(next.ready()) << next.error();
  EXPECT_THAT(next.description(), HasSubstr("group member"));
  EXPECT_FALSE(kernel_gets(kernel_child_port, client, kChildPort, "taken over"));
  EXPECT_TRUE(stream_arrives(*member.backend, client, kOurPort, 500));

  next.kill();
  member.backend.reset();
  // Nobody holds the link: the kernel detached the program.
  EXPECT_FALSE(xdp_attached()) << server_link();
  EXPECT_TRUE(kernel_gets(kernel_child_port, client, kChildPort, "all gone"));
}

TEST_P(GroupTest, KilledMemberGivesItsTxFramesAndPortBack) {
  add_server_address();
  const int kernel_child_port = server_udp(kChildPort);
  const int client = client_udp(41001);
  ASSERT_GE(kernel_child_port, 0);
  ASSERT_GE(client, 0);
  AfXdpConfig config = shared_config(GetParam());
  config.ring_size = 64;  // 128 TX frames for the whole group
  AfXdpOpened founder = open_or_fail(config);
  ASSERT_NE(founder.backend, nullptr);
  EXPECT_EQ(free_tx_frames(*founder.backend, 256), 128u);

  OwnerProcess member(net_, config, kChildPort, /*hold_tx=*/100);
  ASSERT_TRUE(member.ready()) << member.error();
  EXPECT_EQ(free_tx_frames(*founder.backend, 256), 28u);
  EXPECT_FALSE(kernel_gets(kernel_child_port, client, kChildPort, "the member's"));

  member.kill();
  // Our hub thread finds the dead member within its watch period and
  // takes back the frames it held.
  size_t free = 0;
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while ((free = free_tx_frames(*founder.backend, 256)) != 128u && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(free, 128u);
  EXPECT_TRUE(kernel_gets(kernel_child_port, client, kChildPort, "after the kill"));
  // And its port can be ours now.
  ASSERT_EQ(founder.steering->steer(0, kChildPort, true), 0);
  EXPECT_TRUE(stream_arrives(*founder.backend, client, kChildPort, 200, /*window=*/32));
}

TEST_P(GroupTest, MembersKilledMidTrafficCorruptNothingAndWedgeNothing) {
  // Members that receive their own stream and take and give back TX
  // frames without pause are SIGKILLed one after another, each likely
  // inside one of the group's locks. Our stream, through the same fill
  // ring, stash and TX frames, must arrive whole every time (a frame
  // handed out twice would show as a wrong payload), and at the end every
  // TX frame is back.
  const int client = client_udp(41003);
  ASSERT_GE(client, 0);
  AfXdpOpened founder = open_or_fail(shared_config(GetParam()));
  ASSERT_NE(founder.backend, nullptr);
  ASSERT_EQ(founder.steering->steer(0, kOurPort, true), 0);
  const size_t all_tx = free_tx_frames(*founder.backend, 8192);
  std::vector<uint8_t> junk(600, 0x5a);
  for (int round = 0; round < 8; ++round) {
    OwnerProcess member(net_, shared_config(GetParam()), kChildPort, /*hold_tx=*/16,
                        /*busy=*/true);
    ASSERT_TRUE(member.ready()) << "round " << round << ": " << member.error();
    for (int i = 0; i < 300; ++i) {
      send_udp(client, net_.server_ip, kChildPort, junk);
    }
    ASSERT_TRUE(stream_arrives(*founder.backend, client, kOurPort, 300)) << "round " << round;
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + 7 * round));
    member.kill();
    ASSERT_TRUE(stream_arrives(*founder.backend, client, kOurPort, 200)) << "round " << round;
  }
  size_t free = 0;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while ((free = free_tx_frames(*founder.backend, 8192)) != all_tx && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(free, all_tx);
}

TEST_P(GroupTest, ReusePortSharesAPortAcrossProcessesFlowByFlow) {
  AfXdpOpened founder = open_or_fail(shared_config(GetParam()));
  ASSERT_NE(founder.backend, nullptr);
  OwnerProcess other(net_, shared_config(GetParam()), kChildPort, 0, false, kShareReusePort);
  ASSERT_TRUE(other.ready()) << other.error();
  // Not without SO_REUSEPORT on our side too.
  EXPECT_EQ(founder.steering->steer(0, kChildPort, true, false), EADDRINUSE);
  ASSERT_EQ(founder.steering->steer(0, kChildPort, true, true), 0);

  // 64 flows (source ports): some reach us, the rest the other process,
  // and each flow keeps going where it went.
  constexpr uint16_t kFlows = 64;
  std::vector<int> clients;
  for (uint16_t i = 0; i < kFlows; ++i) {
    clients.push_back(client_udp(static_cast<uint16_t>(42000 + i)));
    ASSERT_GE(clients.back(), 0);
  }
  auto ours = [&](const std::string& text) {
    for (int fd : clients) {
      send_udp(fd, net_.server_ip, kChildPort, to_bytes(text));
      std::this_thread::sleep_for(200us);  // under the RX ring, whatever the split
    }
    std::set<uint16_t> sources;
    for (const RxFrame& f : receive(*founder.backend, kFlows, 500ms, 200ms)) {
      sources.insert(static_cast<uint16_t>(f.bytes[34] << 8 | f.bytes[35]));  // UDP source port
    }
    return sources;
  };
  const std::set<uint16_t> first = ours("first");
  EXPECT_GT(first.size(), 0u);
  EXPECT_LT(first.size(), kFlows);
  EXPECT_EQ(ours("again"), first);

  // The other process dies: after the hub's next look, every flow is ours.
  other.kill();
  std::set<uint16_t> all;
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  while ((all = ours("after")).size() != kFlows && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(all.size(), kFlows);
}

TEST_P(GroupTest, ReuseAddrSharesAPortAndTheLastBoundTakesUnicast) {
  // Two processes with SO_REUSEADDR alone on one port, as multicast
  // receivers often are: Linux lets both bind, and gives unicast to the
  // socket bound last (a group's datagrams reach every member).
  AfXdpOpened founder = open_or_fail(shared_config(GetParam()));
  ASSERT_NE(founder.backend, nullptr);
  OwnerProcess other(net_, shared_config(GetParam()), kChildPort, 0, false, kShareReuseAddr);
  ASSERT_TRUE(other.ready()) << other.error();
  EXPECT_EQ(founder.steering->steer(0, kChildPort, true, kShareReusePort), EADDRINUSE);
  ASSERT_EQ(founder.steering->steer(0, kChildPort, true, kShareReuseAddr), 0);
  constexpr uint16_t kFlows = 16;
  for (uint16_t i = 0; i < kFlows; ++i) {
    const int fd = client_udp(static_cast<uint16_t>(42100 + i));
    ASSERT_GE(fd, 0);
    send_udp(fd, net_.server_ip, kChildPort, to_bytes("to the last"));
    ::close(fd);
    std::this_thread::sleep_for(200us);
  }
  EXPECT_EQ(receive(*founder.backend, kFlows, 2000ms, 200ms).size(), kFlows);
}

TEST_P(GroupTest, InProcessSecondBackendJoinsAndOutlivesTheFirst) {
  const int client = client_udp(41002);
  ASSERT_GE(client, 0);
  AfXdpOpened first = open_or_fail(shared_config(GetParam()));
  ASSERT_NE(first.backend, nullptr);
  AfXdpOpened second = open_or_fail(shared_config(GetParam()));
  ASSERT_NE(second.backend, nullptr);
  EXPECT_THAT(second.mode_description, EndsWith(", group member (slot 1)"));
  ASSERT_EQ(first.steering->steer(0, kChildPort, true), 0);
  ASSERT_EQ(second.steering->steer(0, kOurPort, true), 0);
  // Interleaved: each gets its own port only.
  for (uint32_t i = 0; i < 200; ++i) {
    send_udp(client, net_.server_ip, kChildPort, patterned_payload(i, 64));
    send_udp(client, net_.server_ip, kOurPort, patterned_payload(i, 65));
  }
  const auto a = receive(*first.backend, 200, 2000ms, 100ms);
  const auto b = receive(*second.backend, 200, 2000ms, 100ms);
  ASSERT_EQ(a.size(), 200u);
  ASSERT_EQ(b.size(), 200u);
  for (uint32_t i = 0; i < 200; ++i) {
    EXPECT_TRUE(check_udp_frame(a[i].bytes, {udp::DstPort(kChildPort), Payload(patterned_payload(i, 64))}));
    EXPECT_TRUE(check_udp_frame(b[i].bytes, {udp::DstPort(kOurPort), Payload(patterned_payload(i, 65))}));
  }
  first.backend.reset();
  EXPECT_TRUE(xdp_attached());
  EXPECT_TRUE(stream_arrives(*second.backend, client, kOurPort, 300));
  // A third joins through the second's hub.
  AfXdpOpened third = open_or_fail(shared_config(GetParam()));
  ASSERT_NE(third.backend, nullptr);
  ASSERT_EQ(third.steering->steer(0, kChildPort, true), 0);
  EXPECT_TRUE(stream_arrives(*third.backend, client, kChildPort, 300));
  EXPECT_TRUE(stream_arrives(*second.backend, client, kOurPort, 300));
}

TEST_P(GroupTest, DedicatedAddressesArePerProcess) {
  // Another process serves the address: refused, naming it.
  {
    OwnerProcess other(net_, dedicated_config(GetParam()), kChildPort);
    ASSERT_TRUE(other.ready()) << other.error();
    std::string error;
    EXPECT_EQ(open(dedicated_config(GetParam()), &error).backend, nullptr);
    EXPECT_EQ(error, "af_xdp: interface \"xdp0\": address " + net_.server_ip.to_string() +
                         " is already served in dedicated mode by pid " + std::to_string(other.pid()) +
                         " (one process per dedicated address)");
  }
  AfXdpOpened first = open_or_fail(dedicated_config(GetParam()));
  ASSERT_NE(first.backend, nullptr);
  // A forked child (it took its parent's sockets over) joins without the
  // address: the parent keeps it.
  OwnerProcess child(net_, dedicated_config(GetParam()), kChildPort);
  ASSERT_TRUE(child.ready()) << child.error();
  // Another address: its ARP and ICMP go to the other process, not here.
  const wire::Ipv4Addr other(198, 18, net_.subnet, 3);
  AfXdpConfig config = dedicated_config(GetParam());
  config.ipv4 = other.value;
  OwnerProcess second(net_, config, kChildPort + 1);
  ASSERT_TRUE(second.ready()) << second.error();
  const MacAddr broadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  inject(to_server().dst_mac(broadcast).dst_ip(other).arp(wire::ArpOp::kRequest));
  inject(to_server().dst_ip(other).echo_ident(1).echo_seq(1).payload("ping").icmp_echo_request());
  inject(to_server().dst_mac(broadcast).arp(wire::ArpOp::kRequest));
  const auto frames = receive(*first.backend, 1, 2000ms, 300ms);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(check_arp_frame(frames[0].bytes, {arp::TargetIp(net_.server_ip)}));
}

INSTANTIATE_TEST_SUITE_P(Modes, GroupTest, ::testing::Values(XdpMode::kNative, XdpMode::kGeneric), mode_name);

}  // namespace
}  // namespace dpdkudp::test
