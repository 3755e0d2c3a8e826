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
  for (bool promiscuous : {false, true}) {
    spec.promiscuous = promiscuous;
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
