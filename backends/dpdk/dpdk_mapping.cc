#include "backends/dpdk/dpdk_mapping.h"

#include <algorithm>
#include <bit>

#include "backends/dpdk/dpdk.h"
#include "backends/dpdk/rte.h"

namespace dpdkudp::dpdk {

OffloadSet choose_offloads(uint64_t rx_capa, uint64_t tx_capa, const DpdkConfig& config) {
  OffloadSet s;
  s.rx_ipv4_csum = config.rx_checksum && (rx_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) != 0;
  s.rx_udp_csum = config.rx_checksum && (rx_capa & RTE_ETH_RX_OFFLOAD_UDP_CKSUM) != 0;
  s.rx_vlan_strip = config.vlan_strip && (rx_capa & RTE_ETH_RX_OFFLOAD_VLAN_STRIP) != 0;
  s.tx_ipv4_csum = config.tx_checksum && (tx_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
  s.tx_udp_csum = config.tx_checksum && (tx_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) != 0;
  s.tx_vlan_insert = config.vlan_insert && (tx_capa & RTE_ETH_TX_OFFLOAD_VLAN_INSERT) != 0;
  s.tx_fast_free = (tx_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) != 0;
  return s;
}

uint64_t rx_offload_bits(const OffloadSet& s) {
  uint64_t bits = 0;
  bits |= s.rx_ipv4_csum ? RTE_ETH_RX_OFFLOAD_IPV4_CKSUM : 0;
  bits |= s.rx_udp_csum ? RTE_ETH_RX_OFFLOAD_UDP_CKSUM : 0;
  bits |= s.rx_vlan_strip ? RTE_ETH_RX_OFFLOAD_VLAN_STRIP : 0;
  return bits;
}

uint64_t tx_offload_bits(const OffloadSet& s) {
  uint64_t bits = 0;
  bits |= s.tx_ipv4_csum ? RTE_ETH_TX_OFFLOAD_IPV4_CKSUM : 0;
  bits |= s.tx_udp_csum ? RTE_ETH_TX_OFFLOAD_UDP_CKSUM : 0;
  bits |= s.tx_vlan_insert ? RTE_ETH_TX_OFFLOAD_VLAN_INSERT : 0;
  bits |= s.tx_fast_free ? RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE : 0;
  return bits;
}

void apply_to_capabilities(const OffloadSet& s, Capabilities& caps) {
  caps.rx_ipv4_csum = s.rx_ipv4_csum;
  caps.rx_l4_csum = s.rx_udp_csum;
  caps.tx_ipv4_csum = s.tx_ipv4_csum;
  caps.tx_udp_csum = s.tx_udp_csum;
  caps.rx_vlan_strip = s.rx_vlan_strip;
  caps.tx_vlan_insert = s.tx_vlan_insert;
}

uint32_t hardware_tx_flags(const OffloadSet& s) {
  uint32_t flags = 0;
  flags |= s.tx_ipv4_csum ? kTxIpv4Csum : 0u;
  flags |= s.tx_udp_csum ? kTxUdpCsum : 0u;
  flags |= s.tx_vlan_insert ? kTxVlanInsert : 0u;
  return flags;
}

std::string describe(const OffloadSet& s) {
  auto side = [](std::initializer_list<std::pair<bool, const char*>> items) {
    std::string out;
    for (const auto& [on, name] : items) {
      if (on) {
        out += out.empty() ? "" : " ";
        out += name;
      }
    }
    return out.empty() ? std::string("none") : out;
  };
  return "rx: " + side({{s.rx_ipv4_csum, "ipv4-csum"}, {s.rx_udp_csum, "udp-csum"}, {s.rx_vlan_strip, "vlan-strip"}}) +
         "; tx: " +
         side({{s.tx_ipv4_csum, "ipv4-csum"},
               {s.tx_udp_csum, "udp-csum"},
               {s.tx_vlan_insert, "vlan-insert"},
               {s.tx_fast_free, "fast-free"}});
}

uint32_t rx_flags_from_ol(uint64_t ol) {
  uint32_t flags = 0;
  switch (ol & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
    case RTE_MBUF_F_RX_IP_CKSUM_GOOD:
    case RTE_MBUF_F_RX_IP_CKSUM_NONE: flags |= kRxIpv4CsumGood; break;
    case RTE_MBUF_F_RX_IP_CKSUM_BAD: flags |= kRxIpv4CsumBad; break;
    default: break;  // unknown: the stack verifies
  }
  switch (ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
    case RTE_MBUF_F_RX_L4_CKSUM_GOOD: flags |= kRxL4CsumGood; break;
    case RTE_MBUF_F_RX_L4_CKSUM_NONE: flags |= kRxL4CsumPartial; break;
    case RTE_MBUF_F_RX_L4_CKSUM_BAD: flags |= kRxL4CsumBad; break;
    default: break;
  }
  if ((ol & RTE_MBUF_F_RX_VLAN_STRIPPED) != 0) {
    flags |= kRxVlanStripped;
  }
  return flags;
}

uint64_t tx_ol_from_flags(uint32_t tx_flags) {
  uint64_t ol = 0;
  if ((tx_flags & kTxIpv4Csum) != 0) {
    ol |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
  }
  if ((tx_flags & kTxUdpCsum) != 0) {
    // The NIC needs the L3 type for the pseudo-header it completes.
    ol |= ((tx_flags & kTxIpv6) != 0 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4) | RTE_MBUF_F_TX_UDP_CKSUM;
  }
  if ((tx_flags & kTxVlanInsert) != 0) {
    ol |= RTE_MBUF_F_TX_VLAN;
  }
  return ol;
}

BackendStats to_backend_stats(const EthCounters& eth, uint64_t own_rx_errors, uint64_t own_tx_errors) {
  BackendStats s;
  s.rx_packets = eth.ipackets;
  s.tx_packets = eth.opackets;
  s.rx_missed = eth.imissed;
  s.rx_no_buffer = eth.rx_nombuf;
  s.rx_errors = eth.ierrors + own_rx_errors;
  s.tx_errors = eth.oerrors + own_tx_errors;
  return s;
}

uint32_t mbuf_pool_size(uint32_t queues, uint32_t rx_ring, uint32_t tx_ring, uint32_t lcores, uint32_t socket_mbufs) {
  const uint64_t q = std::max<uint32_t>(queues, 1);
  uint64_t n = q * (uint64_t{rx_ring} + tx_ring);
  n += q * 2 * kBurst;
  n += uint64_t{std::max<uint32_t>(lcores, 1)} * (kPoolCacheSize * 3 / 2);
  n += socket_mbufs;
  // 2^k - 1, capped where a 32-bit count still fits.
  const uint64_t pow2 = std::bit_ceil(n + 1);
  return static_cast<uint32_t>(std::min<uint64_t>(pow2 - 1, (uint64_t{1} << 31) - 1));
}

uint32_t mbuf_data_room(uint32_t mtu, uint32_t headroom) {
  const uint32_t frame = mtu + RTE_ETHER_HDR_LEN + 2 * RTE_VLAN_HLEN + RTE_ETHER_CRC_LEN;
  const uint32_t rounded = (frame + 1023) / 1024 * 1024;
  return std::max<uint32_t>(rounded, 2048) + headroom;
}

uint16_t mbuf_priv_size() {
  constexpr size_t line = RTE_CACHE_LINE_SIZE;
  return static_cast<uint16_t>((sizeof(Packet) + line - 1) / line * line);
}

namespace {
template <typename NameFn>
std::vector<std::string> names_of(uint64_t capa, NameFn name_of) {
  std::vector<std::string> out;
  for (unsigned bit = 0; bit < 64; ++bit) {
    const uint64_t flag = uint64_t{1} << bit;
    if ((capa & flag) != 0) {
      const char* name = name_of(flag);
      out.emplace_back(name != nullptr ? name : "UNKNOWN");
    }
  }
  return out;
}
}  // namespace

std::vector<std::string> rx_offload_names(uint64_t capa) { return names_of(capa, rte_eth_dev_rx_offload_name); }

std::vector<std::string> tx_offload_names(uint64_t capa) { return names_of(capa, rte_eth_dev_tx_offload_name); }

}  // namespace dpdkudp::dpdk
