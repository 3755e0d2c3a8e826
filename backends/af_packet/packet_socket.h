// What both AF_PACKET backends share: opening and configuring the packet
// socket (in the one order that queues no unfiltered frame),
// PACKET_STATISTICS accumulation, and turning the kernel's per-frame status
// word into RxFlags.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "backends/af_packet/af_packet.h"
#include "backends/api/backend.h"
#include "backends/api/packet.h"
#include "base/error_sink.h"
#include "base/unique_fd.h"

namespace dpdkudp::af_packet {

// The backends' error lines read `af_packet: interface "eth1": <reason>`;
// the interface lookup (base::query_interface) comes first.
using base::ErrorSink;
using base::UniqueFd;

// socket(AF_PACKET, SOCK_RAW, 0). Protocol 0 registers no receive hook, so
// nothing is queued until bind_packet_socket() names a protocol: the filter
// and rings are in place before the first frame arrives (packet(7)).
UniqueFd open_packet_socket(const ErrorSink& err);

bool set_int_option(int fd, int level, int name, int value, const char* what, const ErrorSink& err);

// The options every receiving socket gets: PACKET_AUXDATA (plain sockets:
// checksum and VLAN facts in a cmsg), PACKET_IGNORE_OUTGOING (frames other
// local senders transmit on the interface are not looped to us), and the
// BPF filter from config.filter_ipv4 / config.promiscuous.
bool configure_rx_socket(int fd, const AfPacketConfig& config, bool want_auxdata, const ErrorSink& err);

// SO_RCVBUF/SO_SNDBUF, trying the *FORCE variants first (CAP_NET_ADMIN
// lifts the net.core.[rw]mem_max cap). Best effort: never fails.
void set_buffer_sizes(int fd, uint32_t bytes);

// bind() to the interface with protocol ETH_P_ALL (receive everything the
// filter passes) or 0 (a TX-only socket that receives nothing).
bool bind_packet_socket(int fd, int ifindex, uint16_t protocol, const ErrorSink& err);

// PACKET_ADD_MEMBERSHIP / PACKET_MR_PROMISC: dropped with the socket.
bool enable_promiscuous(int fd, int ifindex, const ErrorSink& err);

// PACKET_STATISTICS reads and resets the kernel's counters, so the totals
// are kept here. read() may be called from any thread.
class PacketStatistics {
 public:
  struct Totals {
    uint64_t packets = 0;  // frames that passed the filter, drops included
    uint64_t drops = 0;    // tp_drops: no room in the socket buffer / ring
    uint64_t freezes = 0;  // tp_freeze_q_cnt (TPACKET_V3 only)
  };
  PacketStatistics(int fd, bool tpacket_v3) : fd_(fd), v3_(tpacket_v3) {}
  Totals read() const;

 private:
  int fd_;
  bool v3_;
  mutable std::mutex mutex_;
  mutable Totals totals_;
};

// RxFlags for a TP_STATUS_* word (auxdata or tpacket3_hdr): CSUMNOTREADY ->
// kRxL4CsumPartial (a local sender's kernel left the checksum for an offload
// that never ran: veth, tap), CSUM_VALID -> kRxL4CsumGood.
uint32_t rx_flags_from_status(uint32_t tp_status);

// The kernel strips the outer VLAN tag before AF_PACKET sees the frame and
// reports it beside the frame. An 802.1Q tag (or one whose TPID the kernel
// did not report) becomes kRxVlanStripped + vlan_tci; any other TPID
// (802.1ad) is written back into the frame in front of the EtherType,
// using the buffer's headroom, so the stack sees the frame as it was on
// the wire. Returns false when there is no headroom (not with our pool).
bool apply_vlan(Packet& pkt, uint32_t tp_status, uint16_t tci, uint16_t tpid, uint32_t headroom);

// Ethernet header + one 802.1Q tag: the most a TX frame may exceed the MTU
// by (the kernel allows the same in packet_snd/tpacket_snd).
inline constexpr uint32_t kMaxFrameOverMtu = 18;
inline constexpr uint32_t kEthernetHeaderLen = 14;

}  // namespace dpdkudp::af_packet
