#include "stack/net/counters.h"

namespace dpdkudp::stack {

std::string_view drop_reason_name(DropReason reason) {
  switch (reason) {
    case DropReason::kEthTruncated: return "eth_truncated";
    case DropReason::kEthUnsupported: return "eth_unsupported";
    case DropReason::kEthNotForUs: return "eth_not_for_us";
    case DropReason::kVlanMismatch: return "vlan_mismatch";
    case DropReason::kArpMalformed: return "arp_malformed";
    case DropReason::kIpMalformed: return "ip_malformed";
    case DropReason::kIpChecksum: return "ip_checksum";
    case DropReason::kIpFragment: return "ip_fragment";
    case DropReason::kIpNotOurs: return "ip_not_ours";
    case DropReason::kIpMartianSource: return "ip_martian_source";
    case DropReason::kIpUnknownProtocol: return "ip_unknown_protocol";
    case DropReason::kUdpMalformed: return "udp_malformed";
    case DropReason::kUdpChecksum: return "udp_checksum";
    case DropReason::kUdpNoSocket: return "udp_no_socket";
    case DropReason::kSocketBufferFull: return "socket_buffer_full";
    case DropReason::kIcmpMalformed: return "icmp_malformed";
    case DropReason::kIcmpChecksum: return "icmp_checksum";
    case DropReason::kIcmpUnhandled: return "icmp_unhandled";
    case DropReason::kTxNoBuffer: return "tx_no_buffer";
    case DropReason::kTxRingFull: return "tx_ring_full";
    case DropReason::kTxNoRoute: return "tx_no_route";
    case DropReason::kArpUnresolved: return "arp_unresolved";
    case DropReason::kIp6ExtensionHeader: return "ip6_extension_header";
    case DropReason::kUdpZeroChecksum: return "udp_zero_checksum";
    case DropReason::kNdpMalformed: return "ndp_malformed";
    case DropReason::kNdpUnresolved: return "ndp_unresolved";
    case DropReason::kTunnelMalformed: return "tunnel_malformed";
    case DropReason::kTunnelNoMatch: return "tunnel_no_match";
    case DropReason::kTunnelUnsupported: return "tunnel_unsupported";
    case DropReason::kUdpOtherProcess: return "udp_other_process";
    case DropReason::kIgmpMalformed: return "igmp_malformed";
    case DropReason::kMldMalformed: return "mld_malformed";
    case DropReason::kGroupCopyLost: return "group_copy_lost";
    case DropReason::kCount: break;
  }
  return "unknown";
}

}  // namespace dpdkudp::stack
