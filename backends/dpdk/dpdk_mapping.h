// Pure translations between DPDK's words and the backend interface's, kept
// apart from the device code so they are tested without a device or EAL:
// offload capability bits -> what we enable, mbuf ol_flags <-> RxFlags /
// TxFlags, ethdev counters -> BackendStats, and the mbuf pool geometry.
// No DPDK type in the signatures; the .cc uses DPDK's constants.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backends/api/backend.h"
#include "backends/api/packet.h"

namespace dpdkudp {
struct DpdkConfig;
}

namespace dpdkudp::dpdk {

// The offloads the backend turned on for a port.
struct OffloadSet {
  bool rx_ipv4_csum = false;
  bool rx_udp_csum = false;
  bool rx_vlan_strip = false;
  bool tx_ipv4_csum = false;
  bool tx_udp_csum = false;
  bool tx_vlan_insert = false;
  bool tx_fast_free = false;  // RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE (one pool, refcnt 1)

  bool operator==(const OffloadSet&) const = default;
};

// What to enable, given the device's rx/tx_offload_capa
// (RTE_ETH_RX/TX_OFFLOAD_* bits) and what the configuration allows.
OffloadSet choose_offloads(uint64_t rx_capa, uint64_t tx_capa, const DpdkConfig& config);
// The RTE_ETH_RX/TX_OFFLOAD_* bits for rte_eth_conf.
uint64_t rx_offload_bits(const OffloadSet& set);
uint64_t tx_offload_bits(const OffloadSet& set);
// What the stack may rely on: capabilities() takes these.
void apply_to_capabilities(const OffloadSet& set, Capabilities& caps);
// The TxFlags the device performs (the rest the backend does in software).
uint32_t hardware_tx_flags(const OffloadSet& set);
// "rx: ipv4-csum udp-csum vlan-strip; tx: ipv4-csum udp-csum" ("none" for
// an empty side).
std::string describe(const OffloadSet& set);

// RxFlags from a received mbuf's ol_flags:
//   RTE_MBUF_F_RX_IP_CKSUM_GOOD -> kRxIpv4CsumGood, _BAD -> kRxIpv4CsumBad,
//     _NONE (header verified, field not filled) -> kRxIpv4CsumGood,
//     _UNKNOWN -> nothing (the stack checks);
//   RTE_MBUF_F_RX_L4_CKSUM_GOOD -> kRxL4CsumGood, _BAD -> kRxL4CsumBad,
//     _NONE (data verified, field holds no full checksum: a local sender's
//     partial one) -> kRxL4CsumPartial, _UNKNOWN -> nothing;
//   RTE_MBUF_F_RX_VLAN_STRIPPED -> kRxVlanStripped (the tag is gone from
//     the data; the TCI is in the mbuf's vlan_tci).
// Verdicts are passed on whatever was enabled: a driver that reports one
// checked; a stripped tag must be reported or it is lost.
uint32_t rx_flags_from_ol(uint64_t ol_flags);

// The mbuf TX ol_flags for the TxFlags the hardware is to do (callers pass
// tx_flags & hardware_tx_flags()):
//   kTxIpv4Csum -> RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM
//   kTxUdpCsum  -> RTE_MBUF_F_TX_IPV4 (RTE_MBUF_F_TX_IPV6 with kTxIpv6)
//                  | RTE_MBUF_F_TX_UDP_CKSUM (the stack
//                  left the non-inverted pseudo-header sum in the field,
//                  which is what DPDK drivers expect: rte_ipv4_phdr_cksum())
//   kTxVlanInsert -> RTE_MBUF_F_TX_VLAN (TCI in the mbuf's vlan_tci)
uint64_t tx_ol_from_flags(uint32_t tx_flags);

// rte_eth_stats fields we use, copied out so the mapping is testable.
struct EthCounters {
  uint64_t ipackets = 0;
  uint64_t opackets = 0;
  uint64_t imissed = 0;    // the device had no descriptor: rx_missed
  uint64_t rx_nombuf = 0;  // no mbuf to refill a descriptor: rx_no_buffer
  uint64_t ierrors = 0;
  uint64_t oerrors = 0;
};
// own_rx_errors/own_tx_errors: frames the backend itself refused (a
// multi-segment RX frame, a malformed TX frame).
BackendStats to_backend_stats(const EthCounters& eth, uint64_t own_rx_errors, uint64_t own_tx_errors);

// The mbuf pool size for a port (see DpdkConfig::pool_size for the formula).
inline constexpr uint32_t kBurst = 64;
inline constexpr uint32_t kPoolCacheSize = 256;
uint32_t mbuf_pool_size(uint32_t queues, uint32_t rx_ring, uint32_t tx_ring, uint32_t lcores, uint32_t socket_mbufs);
// Data room of each mbuf (headroom included) for an L3 MTU: the frame
// (mtu + 14 Ethernet + 8 two VLAN tags + 4 CRC) rounded up to 1 KiB, at
// least 2048, plus the headroom.
uint32_t mbuf_data_room(uint32_t mtu, uint32_t headroom);
// The private area holding the Packet, rounded up to a cache line.
uint16_t mbuf_priv_size();

// Names of the set bits, DPDK's spelling ("IPV4_CKSUM", ...).
std::vector<std::string> rx_offload_names(uint64_t capa);
std::vector<std::string> tx_offload_names(uint64_t capa);

}  // namespace dpdkudp::dpdk
