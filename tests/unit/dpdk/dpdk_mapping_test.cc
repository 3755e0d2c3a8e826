// The pure translations (dpdk_mapping.h, eal.h): flags both ways, counters,
// pool geometry, EAL argument defaults and the failure summary. None of
// these touch a device.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "backends/dpdk/dpdk.h"
#include "backends/dpdk/dpdk_mapping.h"
#include "backends/dpdk/eal.h"
#include "backends/dpdk/rte.h"

namespace dpdkudp::dpdk {
namespace {

// ------------------------------------------------------------ RX flags

struct RxCase {
  uint64_t ol;
  uint32_t expected;
};

TEST(DpdkRxFlags, ChecksumVerdicts) {
  const std::vector<RxCase> cases = {
      {0, 0},
      {RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN, 0},
      {RTE_MBUF_F_RX_IP_CKSUM_GOOD, kRxIpv4CsumGood},
      {RTE_MBUF_F_RX_IP_CKSUM_BAD, kRxIpv4CsumBad},
      {RTE_MBUF_F_RX_IP_CKSUM_NONE, kRxIpv4CsumGood},
      {RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN, 0},
      {RTE_MBUF_F_RX_L4_CKSUM_GOOD, kRxL4CsumGood},
      {RTE_MBUF_F_RX_L4_CKSUM_BAD, kRxL4CsumBad},
      {RTE_MBUF_F_RX_L4_CKSUM_NONE, kRxL4CsumPartial},
      {RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD, kRxIpv4CsumGood | kRxL4CsumGood},
      {RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_BAD, kRxIpv4CsumGood | kRxL4CsumBad},
      {RTE_MBUF_F_RX_IP_CKSUM_BAD | RTE_MBUF_F_RX_L4_CKSUM_GOOD, kRxIpv4CsumBad | kRxL4CsumGood},
  };
  for (const RxCase& c : cases) {
    EXPECT_EQ(rx_flags_from_ol(c.ol), c.expected) << "ol_flags 0x" << std::hex << c.ol;
  }
}

TEST(DpdkRxFlags, VlanStrippedOnlyWhenStripped) {
  // RX_VLAN alone: the tag is still in the data (only its TCI reported).
  EXPECT_EQ(rx_flags_from_ol(RTE_MBUF_F_RX_VLAN), 0u);
  EXPECT_EQ(rx_flags_from_ol(RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED), uint32_t{kRxVlanStripped});
  EXPECT_EQ(rx_flags_from_ol(RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED | RTE_MBUF_F_RX_IP_CKSUM_GOOD |
                             RTE_MBUF_F_RX_L4_CKSUM_GOOD),
            kRxVlanStripped | kRxIpv4CsumGood | kRxL4CsumGood);
}

TEST(DpdkRxFlags, TxBitsLeftOnALoopedBackMbufMeanNothing) {
  // net_ring hands RX the very mbuf TX got, TX flags still set.
  const uint64_t tx = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM | RTE_MBUF_F_TX_VLAN;
  EXPECT_EQ(rx_flags_from_ol(tx), 0u);
}

// ------------------------------------------------------------ TX flags

TEST(DpdkTxFlags, EachRequest) {
  EXPECT_EQ(tx_ol_from_flags(0), 0u);
  EXPECT_EQ(tx_ol_from_flags(kTxIpv4Csum), RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
  EXPECT_EQ(tx_ol_from_flags(kTxUdpCsum), RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM);
  EXPECT_EQ(tx_ol_from_flags(kTxUdpCsum | kTxIpv6), RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM);
  EXPECT_EQ(tx_ol_from_flags(kTxVlanInsert), RTE_MBUF_F_TX_VLAN);
  EXPECT_EQ(tx_ol_from_flags(kTxIpv4Csum | kTxUdpCsum | kTxVlanInsert),
            RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM | RTE_MBUF_F_TX_VLAN);
  // UDP, not TCP or SCTP, in the two-bit L4 field.
  EXPECT_EQ(tx_ol_from_flags(kTxUdpCsum) & RTE_MBUF_F_TX_L4_MASK, RTE_MBUF_F_TX_UDP_CKSUM);
}

// ------------------------------------------------------------ offload choice

TEST(DpdkOffloads, EnabledOnlyWhereTheDeviceHasThem) {
  DpdkConfig config;
  const uint64_t rx_all = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM | RTE_ETH_RX_OFFLOAD_VLAN_STRIP;
  const uint64_t tx_all = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
                          RTE_ETH_TX_OFFLOAD_VLAN_INSERT | RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;

  OffloadSet none = choose_offloads(0, 0, config);
  EXPECT_EQ(none, OffloadSet{});
  EXPECT_EQ(rx_offload_bits(none), 0u);
  EXPECT_EQ(tx_offload_bits(none), 0u);
  EXPECT_EQ(hardware_tx_flags(none), 0u);
  EXPECT_EQ(describe(none), "rx: none; tx: none");

  OffloadSet all = choose_offloads(rx_all | RTE_ETH_RX_OFFLOAD_SCATTER, tx_all | RTE_ETH_TX_OFFLOAD_TCP_TSO, config);
  EXPECT_TRUE(all.rx_ipv4_csum && all.rx_udp_csum && all.rx_vlan_strip);
  EXPECT_TRUE(all.tx_ipv4_csum && all.tx_udp_csum && all.tx_vlan_insert && all.tx_fast_free);
  EXPECT_EQ(rx_offload_bits(all), rx_all);  // never scatter
  EXPECT_EQ(tx_offload_bits(all), tx_all);  // never TSO
  EXPECT_EQ(hardware_tx_flags(all), kTxIpv4Csum | kTxUdpCsum | kTxVlanInsert);
  EXPECT_EQ(describe(all), "rx: ipv4-csum udp-csum vlan-strip; tx: ipv4-csum udp-csum vlan-insert fast-free");

  Capabilities caps;
  apply_to_capabilities(all, caps);
  EXPECT_TRUE(caps.rx_ipv4_csum && caps.rx_l4_csum && caps.rx_vlan_strip);
  EXPECT_TRUE(caps.tx_ipv4_csum && caps.tx_udp_csum && caps.tx_vlan_insert);

  // Only UDP checksum on TX (some NICs): IPv4 stays software.
  OffloadSet udp_only = choose_offloads(0, RTE_ETH_TX_OFFLOAD_UDP_CKSUM, config);
  EXPECT_EQ(hardware_tx_flags(udp_only), uint32_t{kTxUdpCsum});
}

TEST(DpdkOffloads, ConfigurationCanTurnThemOff) {
  DpdkConfig config;
  config.rx_checksum = false;
  config.tx_checksum = false;
  config.vlan_strip = false;
  config.vlan_insert = false;
  OffloadSet s = choose_offloads(~uint64_t{0}, ~uint64_t{0}, config);
  EXPECT_FALSE(s.rx_ipv4_csum || s.rx_udp_csum || s.rx_vlan_strip);
  EXPECT_FALSE(s.tx_ipv4_csum || s.tx_udp_csum || s.tx_vlan_insert);
  Capabilities caps;
  apply_to_capabilities(s, caps);
  EXPECT_FALSE(caps.rx_ipv4_csum || caps.rx_l4_csum || caps.tx_ipv4_csum || caps.tx_udp_csum);
}

TEST(DpdkOffloads, CapabilityNames) {
  const auto rx = rx_offload_names(RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
  EXPECT_EQ(rx, (std::vector<std::string>{"IPV4_CKSUM", "UDP_CKSUM"}));
  const auto tx = tx_offload_names(RTE_ETH_TX_OFFLOAD_VLAN_INSERT);
  EXPECT_EQ(tx, (std::vector<std::string>{"VLAN_INSERT"}));
  EXPECT_TRUE(rx_offload_names(0).empty());
}

// ------------------------------------------------------------ counters

TEST(DpdkStats, DropHierarchyMapping) {
  EthCounters eth;
  eth.ipackets = 100;
  eth.opackets = 90;
  eth.imissed = 7;
  eth.rx_nombuf = 3;
  eth.ierrors = 2;
  eth.oerrors = 1;
  const BackendStats s = to_backend_stats(eth, 5, 4);
  EXPECT_EQ(s.rx_packets, 100u);
  EXPECT_EQ(s.tx_packets, 90u);
  EXPECT_EQ(s.rx_missed, 7u);     // NIC ring full
  EXPECT_EQ(s.rx_no_buffer, 3u);  // pool empty
  EXPECT_EQ(s.rx_errors, 2u + 5u);
  EXPECT_EQ(s.tx_errors, 1u + 4u);
}

// ------------------------------------------------------------ pool geometry

TEST(DpdkPool, SizeFormula) {
  // 1 x (1024 + 1024) + 1 x 128 + 1 x 384 + 8192 = 10752 -> 16383.
  EXPECT_EQ(mbuf_pool_size(1, 1024, 1024, 1, 8192), 16383u);
  // 4 x 2048 + 4 x 128 + 2 x 384 + 8192 = 17664 -> 32767.
  EXPECT_EQ(mbuf_pool_size(4, 1024, 1024, 2, 8192), 32767u);
  // Exactly 2^k - 1 stays.
  EXPECT_EQ(mbuf_pool_size(1, 0, 0, 1, 4095 - 128 - 384), 4095u);
  // 0 queues counts as 1.
  EXPECT_EQ(mbuf_pool_size(0, 1024, 1024, 1, 8192), 16383u);
  for (uint32_t q = 1; q <= 64; q *= 2) {
    const uint32_t n = mbuf_pool_size(q, 4096, 4096, 2, 8192);
    EXPECT_EQ((n + 1) & n, 0u) << "not 2^k - 1: " << n;
    EXPECT_GE(n, q * 8192u + 8192u);
  }
}

TEST(DpdkPool, DataRoomHoldsAFrameOfTheMtu) {
  const uint32_t headroom = RTE_PKTMBUF_HEADROOM;
  EXPECT_EQ(mbuf_data_room(1500, headroom), 2048u + headroom);  // RTE_MBUF_DEFAULT_BUF_SIZE
  EXPECT_EQ(mbuf_data_room(68, headroom), 2048u + headroom);
  EXPECT_EQ(mbuf_data_room(9000, headroom), 9216u + headroom);
  for (uint32_t mtu : {68u, 576u, 1500u, 2000u, 4000u, 9000u}) {
    EXPECT_GE(mbuf_data_room(mtu, headroom) - headroom, mtu + 14 + 8 + 4) << mtu;
  }
  EXPECT_GE(mbuf_priv_size(), sizeof(Packet));
  EXPECT_EQ(mbuf_priv_size() % RTE_CACHE_LINE_SIZE, 0u);
  EXPECT_EQ(mbuf_priv_size() % RTE_MBUF_PRIV_ALIGN, 0u);
}

// ------------------------------------------------------------ EAL arguments

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(DpdkEalArgs, SplitOnWhitespace) {
  EXPECT_EQ(split_eal_args(""), std::vector<std::string>{});
  EXPECT_EQ(split_eal_args("  \t\n "), std::vector<std::string>{});
  EXPECT_EQ(split_eal_args(" --no-pci\t-m  256\n--vdev=net_ring0 "),
            (std::vector<std::string>{"--no-pci", "-m", "256", "--vdev=net_ring0"}));
}

TEST(DpdkEalArgs, DefaultsWithoutHugepages) {
  EalHostFacts facts;
  facts.cpu = 1;
  facts.hugepages = false;
  facts.pid = 4242;
  const auto argv = build_eal_argv("", facts);
  EXPECT_EQ(argv, (std::vector<std::string>{"dpdkudp-eal", "--log-level=error", "--lcores=0@1", "--no-telemetry",
                                            "--file-prefix=dpdkudp-4242", "--no-huge", "-m", "256", "--no-shconf",
                                            "--no-pci"}));
}

// Without a device named, EAL probes only devices bound to a DPDK driver:
// none, no PCI at all.
TEST(DpdkEalArgs, OnlyDevicesBoundForDpdkAreProbed) {
  EalHostFacts facts;
  facts.pci_usable = {"0000:01:00.0", "0000:01:00.1"};
  const auto argv = build_eal_argv("--vdev=net_tap0", facts);
  const std::vector<std::string> tail(argv.end() - 5, argv.end());
  EXPECT_EQ(tail, (std::vector<std::string>{"-a", "0000:01:00.0", "-a", "0000:01:00.1", "--vdev=net_tap0"}));
  for (const char* named : {"-a 0000:02:00.0", "--allow=0000:02:00.0", "-b 0000:01:00.0", "--no-pci"}) {
    const auto own = build_eal_argv(named, facts);
    EXPECT_FALSE(contains(own, "0000:01:00.1")) << named;
    EXPECT_EQ(std::count(own.begin(), own.end(), "--no-pci"), std::string(named) == "--no-pci" ? 1 : 0) << named;
  }
}

TEST(DpdkEalArgs, DefaultsWithHugepages) {
  EalHostFacts facts;
  facts.cpu = 0;
  facts.hugepages = true;
  facts.pid = 7;
  const auto argv = build_eal_argv("-a 0000:01:00.0", facts);
  EXPECT_EQ(argv, (std::vector<std::string>{"dpdkudp-eal", "--log-level=error", "--lcores=0@0", "--no-telemetry",
                                            "--file-prefix=dpdkudp-7", "--in-memory", "-a", "0000:01:00.0"}));
}

TEST(DpdkEalArgs, UserOptionsReplaceDefaults) {
  EalHostFacts facts;
  facts.pid = 9;
  const auto argv = build_eal_argv("-l 2-3 --telemetry --file-prefix=mine -m 512 --proc-type=primary", facts);
  EXPECT_FALSE(contains(argv, "--lcores=0@0"));
  EXPECT_FALSE(contains(argv, "--no-telemetry"));
  EXPECT_FALSE(contains(argv, "--file-prefix=dpdkudp-9"));
  EXPECT_FALSE(contains(argv, "--no-huge"));
  EXPECT_FALSE(contains(argv, "--in-memory"));
  EXPECT_FALSE(contains(argv, "--no-shconf"));
  EXPECT_TRUE(contains(argv, "--telemetry"));
  EXPECT_TRUE(contains(argv, "--file-prefix=mine"));
  EXPECT_EQ(argv[1], "--log-level=error");  // always first, a later one wins

  const auto attached = build_eal_argv("-l0 -c0x1 --lcores=1 --no-telemetry", facts);
  EXPECT_FALSE(contains(attached, "--lcores=0@0"));
  const auto in_memory = build_eal_argv("--in-memory", facts);
  EXPECT_FALSE(contains(in_memory, "--no-shconf"));  // implied
  EXPECT_FALSE(contains(in_memory, "--no-huge"));
  const auto no_huge = build_eal_argv("--no-huge", facts);
  EXPECT_TRUE(contains(no_huge, "--no-shconf"));
  EXPECT_FALSE(contains(no_huge, "256"));
}

TEST(DpdkEalArgs, FailureSummary) {
  EXPECT_EQ(
      summarize_eal_failure({"dpdkudp-eal: unrecognized option '--bogus'",
                             "EAL: FATAL: Invalid 'command line' arguments.", "EAL: Invalid 'command line' arguments."},
                            EINVAL),
      "unrecognized option '--bogus'");
  EXPECT_EQ(summarize_eal_failure(
                {"EAL: lcore 7 unavailable", "EAL: invalid core list, please check specified cores are part of 0-1",
                 "EAL: FATAL: Invalid 'command line' arguments."},
                EINVAL),
            "lcore 7 unavailable; invalid core list, please check specified cores are part of 0-1");
  EXPECT_EQ(summarize_eal_failure({"EAL: FATAL: Cannot init memory", "EAL: Cannot init memory"}, ENOMEM),
            "Cannot init memory");
  EXPECT_EQ(summarize_eal_failure({}, EINVAL), "invalid arguments");
}

}  // namespace
}  // namespace dpdkudp::dpdk
