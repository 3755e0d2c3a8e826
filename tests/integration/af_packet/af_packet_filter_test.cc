// The BPF filter, run for real by the kernel: a mix of wanted and unwanted
// frames is injected from the client namespace, and rx_burst must return
// exactly the wanted ones, in order.
#include <gmock/gmock.h>

#include "backends/af_packet/bpf_filter.h"
#include "tests/integration/af_packet/af_packet_fixture.h"

namespace dpdkudp::test {
namespace {

constexpr MacAddr kBroadcastMac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr MacAddr kOtherHostMac = {0x02, 0xaf, 0xee, 0xee, 0xee, 0xee};
// 239.1.2.3 and 224.0.0.22 (IGMPv3 reports) and their MACs (RFC 1112 6.4).
const wire::Ipv4Addr kGroup(239, 1, 2, 3);
const wire::Ipv4Addr kIgmpv3Routers(224, 0, 0, 22);
constexpr MacAddr kGroupMac = {0x01, 0x00, 0x5e, 0x01, 0x02, 0x03};
constexpr MacAddr kIgmpv3RoutersMac = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x16};
constexpr uint8_t kIpProtoIgmp = 2;
// An IGMPv3 membership report with no group records (RFC 3376 4.2),
// checksum filled in.
const Bytes kIgmpReport = {0x22, 0x00, 0xdd, 0xff, 0x00, 0x00, 0x00, 0x00};

// frame with an 802.1ad S-tag (VLAN 100) in front of its EtherType: the
// kernel strips it, leaving the frame's own 802.1Q tag for the filter.
Bytes with_s_tag(Bytes frame) {
  const uint8_t s_tag[4] = {0x88, 0xa8, 0x00, 0x64};
  frame.insert(frame.begin() + 12, s_tag, s_tag + 4);
  return frame;
}

struct Labelled {
  const char* what;
  Bytes frame;
};

// An IPv6/UDP frame to the server MAC (the filter looks at the EtherType
// only, so the rest need not be a valid packet).
Bytes ipv6_frame(const MacAddr& dst, const MacAddr& src) {
  Bytes frame(dst.begin(), dst.end());
  frame.insert(frame.end(), src.begin(), src.end());
  frame.push_back(0x86);
  frame.push_back(0xdd);
  frame.resize(14 + 40 + 8, 0);
  frame[14] = 0x60;    // version 6
  frame[14 + 6] = 17;  // next header UDP
  return frame;
}

class AfPacketFilter : public AfPacketFixture {
 protected:
  // Injects every frame and checks rx_burst returns exactly the wanted
  // ones, in order.
  void expect_filtered(Backend& backend, const std::vector<Labelled>& wanted, const std::vector<Labelled>& unwanted) {
    // Interleaved, so an unwanted frame let through between two wanted
    // ones shows as a mismatch.
    for (size_t i = 0; i < std::max(wanted.size(), unwanted.size()); ++i) {
      if (i < unwanted.size()) {
        inject(unwanted[i].frame);
      }
      if (i < wanted.size()) {
        inject(wanted[i].frame);
      }
    }
    const auto frames = receive(backend, wanted.size(), 2000ms, 150ms);
    ASSERT_EQ(frames.size(), wanted.size()) << "extra or missing frames";
    for (size_t i = 0; i < wanted.size(); ++i) {
      EXPECT_EQ(frames[i].bytes, wanted[i].frame) << wanted[i].what;
    }
    EXPECT_EQ(backend.stats().rx_packets, wanted.size());
  }
};

TEST_P(AfPacketFilter, AcceptsOnlyArpAndOurIpv4UdpIcmp) {
  AfPacketConfig config = default_config();
  config.filter_ipv4.push_back(net_.directed_broadcast.value);
  auto backend = open_or_fail(config);
  ASSERT_NE(backend, nullptr);
  const wire::Ipv4Addr elsewhere(198, 18, net_.subnet, 77);
  const std::vector<Labelled> wanted = {
      {"udp to us", to_server().payload("a").udp()},
      {"icmp to us", to_server().payload("b").icmp_echo_request()},
      {"arp request", to_server().dst_mac(kBroadcastMac).arp(wire::ArpOp::kRequest)},
      {"arp reply", to_server().arp(wire::ArpOp::kReply)},
      {"limited broadcast", to_server().dst_mac(kBroadcastMac).dst_ip(wire::Ipv4Addr::broadcast()).payload("c").udp()},
      {"directed broadcast (listed)",
       to_server().dst_mac(kBroadcastMac).dst_ip(net_.directed_broadcast).payload("d").udp()},
      {"udp fragment to us", to_server().fragment(true, 0).payload("e").udp()},
  };
  const std::vector<Labelled> unwanted =
      {
          {"udp to another address", to_server().dst_ip(elsewhere).payload("x").udp()},
          {"icmp to another address", to_server().dst_ip(elsewhere).icmp_echo_request()},
          {"tcp to us", to_server().payload(Bytes(20, 0x50)).ipv4(wire::ip_proto::kTcp)},
          {"ipv6", ipv6_frame(net_.server_mac, net_.client_mac)},
          {"udp to us but another host's MAC", to_server().dst_mac(kOtherHostMac).payload("y").udp()},
          {"truncated ipv4 header",
           [&] {
    Bytes f = to_server().payload("z").udp();
    f.resize(14 + 12);
    return f;
           }()},
  };
  expect_filtered(*backend, wanted, unwanted);
}

TEST_P(AfPacketFilter, AcceptsUdpAndIgmpToAnyGroup) {
  auto backend = open_or_fail(default_config());
  ASSERT_NE(backend, nullptr);
  const wire::Ipv4Addr elsewhere(198, 18, net_.subnet, 77);
  const std::vector<Labelled> wanted = {
      {"udp to 239.1.2.3", to_server().dst_mac(kGroupMac).dst_ip(kGroup).payload("m1").udp()},
      {"igmp to 224.0.0.22",
       to_server().dst_mac(kIgmpv3RoutersMac).dst_ip(kIgmpv3Routers).payload(kIgmpReport).ipv4(kIpProtoIgmp)},
      {"udp to 224.0.0.1", to_server()
                               .dst_mac({0x01, 0x00, 0x5e, 0x00, 0x00, 0x01})
                               .dst_ip(wire::Ipv4Addr(224, 0, 0, 1))
                               .payload("m2")
                               .udp()},
      {"udp to 239.255.255.255 (top of the range)", to_server()
                                                        .dst_mac({0x01, 0x00, 0x5e, 0x7f, 0xff, 0xff})
                                                        .dst_ip(wire::Ipv4Addr(239, 255, 255, 255))
                                                        .payload("m3")
                                                        .udp()},
      {"udp to a group, our MAC", to_server().dst_ip(kGroup).payload("m4").udp()},
      {"udp to us still", to_server().payload("m5").udp()},
  };
  const std::vector<Labelled> unwanted = {
      {"igmp to our unicast address", to_server().payload(kIgmpReport).ipv4(kIpProtoIgmp)},
      {"icmp to 239.1.2.3", to_server().dst_mac(kGroupMac).dst_ip(kGroup).icmp_echo_request()},
      {"tcp to 239.1.2.3",
       to_server().dst_mac(kGroupMac).dst_ip(kGroup).payload(Bytes(20, 0x50)).ipv4(wire::ip_proto::kTcp)},
      {"udp to an unlisted address", to_server().dst_ip(elsewhere).payload("x").udp()},
      {"udp to 240.0.0.1 (class E)", to_server().dst_ip(wire::Ipv4Addr(240, 0, 0, 1)).payload("e").udp()},
      {"udp to 223.255.255.255", to_server().dst_ip(wire::Ipv4Addr(223, 255, 255, 255)).payload("f").udp()},
      {"igmp to an unlisted address", to_server().dst_ip(elsewhere).payload(kIgmpReport).ipv4(kIpProtoIgmp)},
  };
  expect_filtered(*backend, wanted, unwanted);
}

// One 802.1Q tag: the kernel strips it before the filter runs (the frame
// is filtered untagged, the tag reported beside it).
TEST_P(AfPacketFilter, TaggedUdpToAGroupIsAccepted) {
  auto backend = open_or_fail(default_config());
  ASSERT_NE(backend, nullptr);
  const wire::Ipv4Addr elsewhere(198, 18, net_.subnet, 77);
  inject(to_server().vlan_tci(9).dst_ip(elsewhere).payload("x").udp());
  inject(to_server().vlan_tci(9).dst_mac(kGroupMac).dst_ip(kGroup).icmp_echo_request());
  inject(to_server().vlan_tci(9).dst_mac(kGroupMac).dst_ip(kGroup).payload("t1").udp());
  const auto frames = receive(*backend, 1, 2000ms, 150ms);
  ASSERT_EQ(frames.size(), 1u) << "extra or missing frames";
  EXPECT_EQ(frames[0].bytes, to_server().dst_mac(kGroupMac).dst_ip(kGroup).payload("t1").udp());
  EXPECT_NE(frames[0].rx_flags & kRxVlanStripped, 0u);
  EXPECT_EQ(frames[0].vlan_tci, 9);
}

// QinQ: the kernel strips the outer tag, so the filter meets the inner
// 802.1Q tag in the frame and takes its tagged path.
TEST_P(AfPacketFilter, QinQUdpAndIgmpToAGroupAreAccepted) {
  auto backend = open_or_fail(default_config());
  ASSERT_NE(backend, nullptr);
  const wire::Ipv4Addr elsewhere(198, 18, net_.subnet, 77);
  const std::vector<Labelled> wanted = {
      {"qinq udp to 239.1.2.3",
       with_s_tag(to_server().vlan_tci(5).dst_mac(kGroupMac).dst_ip(kGroup).payload("q1").udp())},
      {"qinq igmp to 224.0.0.22", with_s_tag(to_server()
                                                 .vlan_tci(5)
                                                 .dst_mac(kIgmpv3RoutersMac)
                                                 .dst_ip(kIgmpv3Routers)
                                                 .payload(kIgmpReport)
                                                 .ipv4(kIpProtoIgmp))},
      {"qinq udp to us", with_s_tag(to_server().vlan_tci(5).payload("q2").udp())},
  };
  const std::vector<Labelled> unwanted = {
      {"qinq udp to an unlisted address", with_s_tag(to_server().vlan_tci(5).dst_ip(elsewhere).payload("x").udp())},
      {"qinq icmp to 239.1.2.3",
       with_s_tag(to_server().vlan_tci(5).dst_mac(kGroupMac).dst_ip(kGroup).icmp_echo_request())},
      {"qinq igmp to us", with_s_tag(to_server().vlan_tci(5).payload(kIgmpReport).ipv4(kIpProtoIgmp))},
  };
  expect_filtered(*backend, wanted, unwanted);
}

TEST_P(AfPacketFilter, PromiscuousAlsoTakesOtherHostsFrames) {
  AfPacketConfig config = default_config();
  config.promiscuous = true;
  auto backend = open_or_fail(config);
  ASSERT_NE(backend, nullptr);
  const std::vector<Labelled> wanted = {
      {"udp to us via another MAC", to_server().dst_mac(kOtherHostMac).payload("p").udp()},
  };
  const std::vector<Labelled> unwanted = {
      {"udp to another address", to_server().dst_ip(wire::Ipv4Addr(198, 18, net_.subnet, 77)).payload("q").udp()},
  };
  expect_filtered(*backend, wanted, unwanted);
}

TEST_P(AfPacketFilter, EmptyAddressListTakesAllArpAndIpv4) {
  AfPacketConfig config = default_config();
  config.filter_ipv4.clear();
  auto backend = open_or_fail(config);
  ASSERT_NE(backend, nullptr);
  const std::vector<Labelled> wanted = {
      {"udp anywhere", to_server().dst_ip(wire::Ipv4Addr(198, 18, net_.subnet, 77)).udp()},
      {"tcp", to_server().payload(Bytes(20, 0x50)).ipv4(wire::ip_proto::kTcp)},
      {"arp", to_server().arp(wire::ArpOp::kReply)},
      {"icmp to a group", to_server().dst_mac(kGroupMac).dst_ip(kGroup).icmp_echo_request()},
      {"igmp to us", to_server().payload(kIgmpReport).ipv4(kIpProtoIgmp)},
  };
  const std::vector<Labelled> unwanted = {
      {"ipv6", ipv6_frame(net_.server_mac, net_.client_mac)},
  };
  expect_filtered(*backend, wanted, unwanted);
}

INSTANTIATE_TEST_SUITE_P(Variants, AfPacketFilter, ::testing::Values(false, true), variant_name);

// The program itself, without a kernel: shape and limits.
TEST(AfPacketFilterProgram, GrowsByOneCompareAndStopsAtTheJumpLimit) {
  af_packet::FilterSpec spec;
  const size_t empty = af_packet::build_filter(spec).size();
  spec.addresses = {1};
  const size_t one = af_packet::build_filter(spec).size();
  spec.addresses = {1, 2};
  EXPECT_EQ(af_packet::build_filter(spec).size(), one + 1);
  EXPECT_GT(one, empty);
  spec.addresses.assign(af_packet::kMaxFilterAddresses, 7);
  EXPECT_FALSE(af_packet::build_filter(spec).empty());
  spec.addresses.push_back(8);
  EXPECT_TRUE(af_packet::build_filter(spec).empty());
}

TEST(AfPacketFilterProgram, EveryJumpLandsInsideTheProgram) {
  af_packet::FilterSpec spec;
  spec.addresses.assign(af_packet::kMaxFilterAddresses, 7);
  for (int variant = 0; variant < 4; ++variant) {
    spec.promiscuous = (variant & 1) != 0;
    spec.ipv6 = (variant & 2) != 0;  // the longest program: its early jumps go furthest
    const auto program = af_packet::build_filter(spec);
    ASSERT_FALSE(program.empty());
    for (size_t i = 0; i < program.size(); ++i) {
      const sock_filter& insn = program[i];
      if (BPF_CLASS(insn.code) != BPF_JMP) continue;
      if (BPF_OP(insn.code) == BPF_JA) {
        EXPECT_LT(i + 1 + insn.k, program.size()) << "ja at " << i;
      } else {
        EXPECT_LT(i + 1 + insn.jt, program.size()) << "jt at " << i;
        EXPECT_LT(i + 1 + insn.jf, program.size()) << "jf at " << i;
      }
    }
    EXPECT_EQ(BPF_CLASS(program.back().code), BPF_RET);
  }
}

}  // namespace
}  // namespace dpdkudp::test
