// What the XDP program hands the backend and what it leaves to the kernel:
// steered (address, port) pairs only, in shared mode; plus ARP and IPv4 for
// our address in dedicated mode. Each case in native and generic mode.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>

#include <cstring>

#include "tests/integration/af_xdp/af_xdp_fixture.h"

namespace dpdkudp::test {
namespace {

using ::testing::HasSubstr;

using AfXdpSteering = AfXdpModeTest;

constexpr uint16_t kSteered = 7000;
constexpr uint16_t kOther = 7001;
constexpr uint16_t kTcpPort = 7002;
constexpr uint16_t kClientPort = 40000;

// A kernel TCP connection client -> server:kTcpPort carrying "hi" and "ack".
::testing::AssertionResult tcp_exchange(const VethPair& net) {
  int listener = -1;
  int client = -1;
  auto make = [](int* fd, wire::Ipv4Addr addr, uint16_t port, bool listen) {
    *fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const timeval timeout{2, 0};
    ::setsockopt(*fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(*fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    if (listen) {
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      sa.sin_port = htons(port);
      sa.sin_addr.s_addr = htonl(addr.value);
      if (::bind(*fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0 || ::listen(*fd, 1) != 0) {
        ::close(*fd);
        *fd = -1;
      }
    }
  };
  in_netns(net.server_ns, [&] { make(&listener, net.server_ip, kTcpPort, true); });
  in_netns(net.client_ns, [&] { make(&client, net.client_ip, 0, false); });
  auto result = [&]() -> ::testing::AssertionResult {
    if (listener < 0 || client < 0) {
      return ::testing::AssertionFailure() << "TCP sockets: " << std::strerror(errno);
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(kTcpPort);
    to.sin_addr.s_addr = htonl(net.server_ip.value);
    if (::connect(client, reinterpret_cast<const sockaddr*>(&to), sizeof(to)) != 0) {
      return ::testing::AssertionFailure() << "TCP connect: " << std::strerror(errno);
    }
    const int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) {
      return ::testing::AssertionFailure() << "TCP accept: " << std::strerror(errno);
    }
    char buf[8] = {};
    const bool ok = ::send(client, "hi", 2, 0) == 2 && ::recv(conn, buf, sizeof buf, 0) == 2 &&
                    std::memcmp(buf, "hi", 2) == 0 && ::send(conn, "ack", 3, 0) == 3 &&
                    ::recv(client, buf, sizeof buf, 0) == 3 && std::memcmp(buf, "ack", 3) == 0;
    ::close(conn);
    return ok ? ::testing::AssertionSuccess()
              : ::testing::AssertionFailure() << "TCP exchange: " << std::strerror(errno);
  }();
  if (listener >= 0) ::close(listener);
  if (client >= 0) ::close(client);
  return result;
}

TEST_P(AfXdpSteering, SteeredUdpArrivesWithEveryByteIntact) {
  AfXdpOpened opened = open_or_fail(shared_config(GetParam()));
  ASSERT_NE(opened.backend, nullptr);
  ASSERT_EQ(opened.steering->steer(net_.server_ip.value, kSteered, true), 0);
  const int client = client_udp(kClientPort);
  ASSERT_GE(client, 0);
  std::vector<Bytes> payloads;
  for (uint32_t i = 0; i < 32; ++i) {
    payloads.push_back(patterned_payload(i, 1 + i * 45));  // 1..1396 bytes
    send_udp(client, net_.server_ip, kSteered, payloads.back());
  }
  const auto frames = receive(*opened.backend, payloads.size(), 2000ms, 50ms);
  ASSERT_EQ(frames.size(), payloads.size());
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_TRUE(check_udp_frame(
        frames[i].bytes,
        {eth::Src(net_.client_mac), eth::Dst(net_.server_mac), ipv4::Src(net_.client_ip), ipv4::Dst(net_.server_ip),
         udp::SrcPort(kClientPort), udp::DstPort(kSteered), Payload(payloads[i])}));
    EXPECT_EQ(frames[i].queue, 0);
  }
  const BackendStats stats = opened.backend->stats();
  EXPECT_EQ(stats.rx_packets, payloads.size());
  EXPECT_EQ(stats.rx_missed, 0u);
  EXPECT_EQ(stats.rx_errors, 0u);
}

TEST_P(AfXdpSteering, SharedModeKernelKeepsOtherPortsTcpArpAndIcmp) {
  add_server_address();
  AfXdpOpened opened = open_or_fail(shared_config(GetParam()));
  ASSERT_NE(opened.backend, nullptr);
  ASSERT_EQ(opened.steering->steer(net_.server_ip.value, kSteered, true), 0);
  // Kernel sockets on the steered port (as the shim's sidecar reserves it)
  // and on another port of the same address.
  const int kernel_steered = server_udp(kSteered);
  const int kernel_other = server_udp(kOther);
  const int client = client_udp(kClientPort);
  ASSERT_GE(kernel_steered, 0);
  ASSERT_GE(kernel_other, 0);
  ASSERT_GE(client, 0);

  send_udp(client, net_.server_ip, kOther, to_bytes("to the kernel"));
  send_udp(client, net_.server_ip, kSteered, to_bytes("to the shim"));
  const auto frames = receive(*opened.backend, 1, 2000ms, 100ms);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(check_udp_frame(frames[0].bytes, {udp::DstPort(kSteered), Payload("to the shim")}));
  const auto kernel_got = read_udp(kernel_other, 1);
  ASSERT_EQ(kernel_got.size(), 1u);
  EXPECT_EQ(kernel_got[0], to_bytes("to the kernel"));
  EXPECT_TRUE(read_udp(kernel_steered, 1, 200ms).empty()) << "the kernel got the steered port";

  // TCP through the kernel, both ways (ARP for it too: the server kernel
  // resolves the client).
  EXPECT_TRUE(tcp_exchange(net_));

  // ICMP echo: the kernel answers.
  std::string error;
  EXPECT_TRUE(net_.client_exec("ping -c 1 -W 2 " + net_.server_ip.to_string(), &error)) << error;

  // Nothing of that reached the backend.
  EXPECT_TRUE(receive(*opened.backend, 1, 200ms).empty());
}

TEST_P(AfXdpSteering, SharedModeLeavesArpAndIcmpForOurAddressToTheKernel) {
  AfXdpOpened opened = open_or_fail(shared_config(GetParam()));
  ASSERT_NE(opened.backend, nullptr);
  inject(to_server().dst_mac({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}).arp(wire::ArpOp::kRequest));
  inject(to_server().echo_ident(1).echo_seq(1).payload("ping").icmp_echo_request());
  inject(to_server().dst_port(kOther).payload("unsteered").udp());
  EXPECT_TRUE(receive(*opened.backend, 1, 300ms).empty());
}

TEST_P(AfXdpSteering, DedicatedModeTakesArpAndAllIpv4ForOurAddress) {
  AfXdpOpened opened = open_or_fail(dedicated_config(GetParam()));
  ASSERT_NE(opened.backend, nullptr);
  const MacAddr broadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  inject(to_server().dst_mac(broadcast).arp(wire::ArpOp::kRequest));
  inject(to_server().echo_ident(1).echo_seq(1).payload("ping").icmp_echo_request());
  // An unbound port: the stack answers port-unreachable in dedicated mode.
  inject(to_server().dst_port(kOther).payload("unsteered").udp());
  // Not for us: ARP for another address, IPv4 to another address.
  inject(to_server().dst_mac(broadcast).dst_ip(wire::Ipv4Addr(198, 18, net_.subnet, 77)).arp(wire::ArpOp::kRequest));
  inject(to_server().dst_ip(wire::Ipv4Addr(198, 18, net_.subnet, 77)).payload("x").udp());
  const auto frames = receive(*opened.backend, 3, 2000ms, 200ms);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_TRUE(check_arp_frame(frames[0].bytes, {arp::TargetIp(net_.server_ip)}));
  EXPECT_TRUE(check_icmp_frame(frames[1].bytes, {icmp::Type(8), Payload("ping")}));
  EXPECT_TRUE(check_udp_frame(frames[2].bytes, {udp::DstPort(kOther), Payload("unsteered")}));
}

TEST_P(AfXdpSteering, AnyAddressEntryMatchesEveryDestination) {
  AfXdpOpened opened = open_or_fail(shared_config(GetParam()));
  ASSERT_NE(opened.backend, nullptr);
  ASSERT_EQ(opened.steering->steer(0, kSteered, true), 0);  // 0.0.0.0:7000
  inject(to_server().dst_port(kSteered).payload("unicast").udp());
  inject(to_server()
             .dst_ip(net_.directed_broadcast)
             .dst_mac({0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
             .dst_port(kSteered)
             .payload("broadcast")
             .udp());
  inject(to_server().dst_port(kSteered + 1).payload("other port").udp());
  const auto frames = receive(*opened.backend, 2, 2000ms, 200ms);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(check_udp_frame(frames[0].bytes, {Payload("unicast")}));
  EXPECT_TRUE(check_udp_frame(frames[1].bytes, {Payload("broadcast")}));
}

TEST_P(AfXdpSteering, VlanTaggedAndOptionedFramesAreSteered) {
  AfXdpOpened opened = open_or_fail(shared_config(GetParam()));
  ASSERT_NE(opened.backend, nullptr);
  ASSERT_EQ(opened.steering->steer(net_.server_ip.value, kSteered, true), 0);
  inject(to_server().vlan_tci(42).dst_port(kSteered).payload("tagged").udp());
  // A fragment of a steered datagram goes to the kernel (it reassembles).
  inject(to_server().dst_port(kSteered).fragment(true, 0).payload("first fragment").udp());
  const auto frames = receive(*opened.backend, 1, 2000ms, 200ms);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(check_udp_frame(frames[0].bytes, {eth::VlanTci(42), Payload("tagged")}));
}

TEST_P(AfXdpSteering, SteeringOffAndNestingAndClose) {
  add_server_address();
  const int kernel_steered = server_udp(kSteered);
  const int client = client_udp(kClientPort);
  ASSERT_GE(kernel_steered, 0);
  ASSERT_GE(client, 0);
  {
    AfXdpOpened opened = open_or_fail(shared_config(GetParam()));
    ASSERT_NE(opened.backend, nullptr);
    PortSteering& steering = *opened.steering;
    ASSERT_EQ(steering.steer(net_.server_ip.value, kSteered, true), 0);
    ASSERT_EQ(steering.steer(net_.server_ip.value, kSteered, true), 0);  // a second socket
    EXPECT_EQ(steering.steer(net_.server_ip.value, kSteered, false), 0);
    send_udp(client, net_.server_ip, kSteered, to_bytes("still steered"));
    EXPECT_EQ(receive(*opened.backend, 1, 2000ms).size(), 1u);
    EXPECT_EQ(steering.steer(net_.server_ip.value, kSteered, false), 0);
    EXPECT_EQ(steering.steer(net_.server_ip.value, kSteered, false), ENOENT);
    send_udp(client, net_.server_ip, kSteered, to_bytes("kernel again"));
    for (const RxFrame& f : receive(*opened.backend, 1, 200ms)) {
      ADD_FAILURE() << "the backend got, after steering off:\n" << hex_dump(f.bytes);
    }
    auto got = read_udp(kernel_steered, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], to_bytes("kernel again"));

    ASSERT_EQ(steering.steer(net_.server_ip.value, kSteered, true), 0);
  }
  // Closed with the port still steered: the kernel has it back.
  send_udp(client, net_.server_ip, kSteered, to_bytes("after close"));
  auto got = read_udp(kernel_steered, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], to_bytes("after close"));
}

// Multicast: a group's datagrams to a steered port and IGMP come to the
// stack only while it has joined the group (steer_group); other groups,
// other ports and ICMP to the group stay with the kernel. The device's
// multicast list holds the group's MAC while the backend does.
TEST_P(AfXdpSteering, JoinedGroupsAndTheirIgmpAreSteered) {
  AfXdpOpened opened = open_or_fail(shared_config(GetParam()));
  ASSERT_NE(opened.backend, nullptr);
  ASSERT_TRUE(opened.backend->capabilities().rx_multicast);
  PortSteering& steering = *opened.steering;
  ASSERT_EQ(steering.steer(0, kSteered, true), 0);
  const wire::Ipv4Addr group(239, 198, 18, 9);
  const wire::Ipv4Addr other_group(239, 198, 18, 10);
  const MacAddr group_mac = {0x01, 0x00, 0x5e, 0x46, 0x12, 0x09};
  const MacAddr other_mac = {0x01, 0x00, 0x5e, 0x46, 0x12, 0x0a};
  const MacAddr all_systems_mac = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
  const uint8_t igmp_query[8] = {0x11, 0x64, 0xee, 0x9b, 0, 0, 0, 0};  // v2 general query
  auto group_udp = [&](wire::Ipv4Addr g, const MacAddr& mac, uint16_t port, std::string_view text) {
    inject(to_server().dst_ip(g).dst_mac(mac).ttl(1).dst_port(port).payload(text).udp());
  };
  auto general_query = [&] {
    inject(to_server()
               .dst_ip(wire::Ipv4Addr(224, 0, 0, 1))
               .dst_mac(all_systems_mac)
               .ttl(1)
               .payload(igmp_query)
               .ipv4(IPPROTO_IGMP));
  };

  // Not joined: all the kernel's.
  group_udp(group, group_mac, kSteered, "before the join");
  general_query();
  EXPECT_TRUE(receive(*opened.backend, 1, 300ms).empty());

  ASSERT_EQ(opened.backend->set_multicast_mac(group_mac, true), 0);
  EXPECT_TRUE(net_.server_lists_multicast(group_mac));
  ASSERT_EQ(steering.steer_group(group.value, true), 0);
  ASSERT_EQ(steering.steer_group(group.value, true), 0);  // nests
  group_udp(group, group_mac, kSteered, "joined");
  group_udp(group, group_mac, kOther, "unsteered port");
  group_udp(other_group, other_mac, kSteered, "other group");
  inject(to_server().dst_ip(group).dst_mac(group_mac).echo_ident(1).echo_seq(1).payload("ping").icmp_echo_request());
  general_query();
  inject(to_server().dst_ip(group).dst_mac(group_mac).ttl(1).payload(igmp_query).ipv4(IPPROTO_IGMP));
  auto frames = receive(*opened.backend, 3, 2000ms, 200ms);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_TRUE(check_udp_frame(frames[0].bytes, {ipv4::Dst(group), udp::DstPort(kSteered), Payload("joined")}));
  EXPECT_EQ(frames[1].bytes[14 + 9], IPPROTO_IGMP);
  EXPECT_EQ(frames[1].bytes[14 + 19], 1) << "to 224.0.0.1";
  EXPECT_EQ(frames[2].bytes[14 + 9], IPPROTO_IGMP);
  EXPECT_EQ(frames[2].bytes[14 + 19], 9) << "to the group";

  EXPECT_EQ(steering.steer_group(group.value, false), 0);
  group_udp(group, group_mac, kSteered, "still joined once");
  EXPECT_EQ(receive(*opened.backend, 1, 2000ms).size(), 1u);
  EXPECT_EQ(steering.steer_group(group.value, false), 0);
  EXPECT_EQ(steering.steer_group(group.value, false), ENOENT);
  group_udp(group, group_mac, kSteered, "after the leave");
  general_query();
  EXPECT_TRUE(receive(*opened.backend, 1, 300ms).empty());
  EXPECT_EQ(opened.backend->set_multicast_mac(group_mac, false), 0);
  EXPECT_FALSE(net_.server_lists_multicast(group_mac));
}

INSTANTIATE_TEST_SUITE_P(Modes, AfXdpSteering, ::testing::Values(XdpMode::kNative, XdpMode::kGeneric), mode_name);

}  // namespace
}  // namespace dpdkudp::test
