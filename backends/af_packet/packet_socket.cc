#include "backends/af_packet/packet_socket.h"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "backends/af_packet/bpf_filter.h"

namespace dpdkudp::af_packet {

UniqueFd open_packet_socket(const ErrorSink& err) {
  UniqueFd fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    const int e = errno;
    if (e == EPERM || e == EACCES) {
      err.fail("permission denied opening a packet socket (needs CAP_NET_RAW)");
    } else {
      err.fail_errno("socket(AF_PACKET, SOCK_RAW)", e);
    }
  }
  return fd;
}

bool set_int_option(int fd, int level, int name, int value, const char* what, const ErrorSink& err) {
  if (::setsockopt(fd, level, name, &value, sizeof(value)) != 0) {
    return err.fail_errno(std::string("setsockopt(") + what + ")", errno);
  }
  return true;
}

bool configure_rx_socket(int fd, const AfPacketConfig& config, bool want_auxdata, const ErrorSink& err) {
  if (want_auxdata && !set_int_option(fd, SOL_PACKET, PACKET_AUXDATA, 1, "PACKET_AUXDATA", err)) {
    return false;
  }
  // Since Linux 4.20; older kernels fall back on the sll_pkttype /
  // filter check for PACKET_OUTGOING.
  int one = 1;
  (void)::setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));

  if (config.filter_ipv4.size() > kMaxFilterAddresses) {
    return err.fail("filter_ipv4 has " + std::to_string(config.filter_ipv4.size()) + " addresses, at most " +
                    std::to_string(kMaxFilterAddresses) + " fit the BPF filter");
  }
  const std::vector<sock_filter> program = build_filter({config.filter_ipv4, config.promiscuous, config.filter_ipv6});
  if (const int e = attach_filter(fd, program); e != 0) {
    return err.fail_errno("SO_ATTACH_FILTER", e);
  }
  return true;
}

void set_buffer_sizes(int fd, uint32_t bytes) {
  if (bytes == 0) {
    return;
  }
  // The kernel doubles the value for bookkeeping; ask for half.
  const int value = static_cast<int>(bytes / 2);
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &value, sizeof(value)) != 0) {
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, sizeof(value));
  }
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &value, sizeof(value)) != 0) {
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &value, sizeof(value));
  }
}

bool bind_packet_socket(int fd, int ifindex, uint16_t protocol, const ErrorSink& err) {
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(protocol);
  addr.sll_ifindex = ifindex;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int e = errno;
    if (e == ENODEV || e == ENXIO) {
      return err.fail("no such interface (it went away while opening)");
    }
    if (e == ENETDOWN) {
      return err.fail("interface is down");
    }
    return err.fail_errno("bind(AF_PACKET)", e);
  }
  return true;
}

bool enable_promiscuous(int fd, int ifindex, const ErrorSink& err) {
  packet_mreq mreq{};
  mreq.mr_ifindex = ifindex;
  mreq.mr_type = PACKET_MR_PROMISC;
  if (::setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) != 0) {
    return err.fail_errno("promiscuous mode (PACKET_ADD_MEMBERSHIP)", errno);
  }
  return true;
}

namespace {}  // namespace

PacketStatistics::Totals PacketStatistics::read() const {
  // tpacket_stats_v3 starts with the two fields of tpacket_stats.
  tpacket_stats_v3 st{};
  socklen_t len = v3_ ? sizeof(tpacket_stats_v3) : sizeof(tpacket_stats);
  std::lock_guard<std::mutex> lock(mutex_);
  if (::getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
    // The kernel reports tp_packets with the drops already added in.
    totals_.packets += st.tp_packets;
    totals_.drops += st.tp_drops;
    if (v3_) {
      totals_.freezes += st.tp_freeze_q_cnt;
    }
  }
  return totals_;
}

uint32_t rx_flags_from_status(uint32_t tp_status) {
  uint32_t flags = 0;
  if (tp_status & TP_STATUS_CSUMNOTREADY) {
    flags |= kRxL4CsumPartial;
  } else if (tp_status & TP_STATUS_CSUM_VALID) {
    flags |= kRxL4CsumGood;
  }
  return flags;
}

bool apply_vlan(Packet& pkt, uint32_t tp_status, uint16_t tci, uint16_t tpid, uint32_t headroom) {
  if ((tp_status & TP_STATUS_VLAN_VALID) == 0) {
    return true;
  }
  const bool tpid_known = (tp_status & TP_STATUS_VLAN_TPID_VALID) != 0;
  if (!tpid_known || tpid == ETH_P_8021Q) {
    pkt.rx_flags |= kRxVlanStripped;
    pkt.vlan_tci = tci;
    return true;
  }
  constexpr uint32_t kTagLen = 4;
  constexpr uint32_t kMacsLen = 12;
  if (headroom < kTagLen || pkt.len < kMacsLen) {
    return false;
  }
  pkt.data -= kTagLen;
  std::memmove(pkt.data, pkt.data + kTagLen, kMacsLen);
  const uint8_t tag[kTagLen] = {static_cast<uint8_t>(tpid >> 8), static_cast<uint8_t>(tpid),
                                static_cast<uint8_t>(tci >> 8), static_cast<uint8_t>(tci)};
  std::memcpy(pkt.data + kMacsLen, tag, kTagLen);
  pkt.len += kTagLen;
  pkt.room += kTagLen;
  return true;
}

}  // namespace dpdkudp::af_packet
