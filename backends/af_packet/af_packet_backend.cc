#include "backends/af_packet/af_packet_backend.h"

#include <linux/if_ether.h>
#include <sys/socket.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>

namespace dpdkudp {

using af_packet::ErrorSink;
using af_packet::UniqueFd;

namespace {
constexpr uint32_t kTxOffloadFlags = kTxIpv4Csum | kTxUdpCsum | kTxVlanInsert;
}  // namespace

std::unique_ptr<AfPacketBackend> AfPacketBackend::open(const AfPacketConfig& config, std::string* error) {
  const ErrorSink err("af_packet", config.iface, error);
  const auto info = base::query_interface(config.iface, base::InterfaceNeeds::kUsableEthernet, err);
  if (!info) {
    return nullptr;
  }
  UniqueFd fd = af_packet::open_packet_socket(err);
  if (!fd.valid() || !af_packet::configure_rx_socket(fd.get(), config, true, err)) {
    return nullptr;
  }
  af_packet::set_buffer_sizes(fd.get(), config.socket_buffer_bytes);
  if (config.promiscuous && !af_packet::enable_promiscuous(fd.get(), info->ifindex, err)) {
    return nullptr;
  }
  // Last: from here on frames arrive, already filtered.
  if (!af_packet::bind_packet_socket(fd.get(), info->ifindex, ETH_P_ALL, err)) {
    return nullptr;
  }
  try {
    return std::unique_ptr<AfPacketBackend>(new AfPacketBackend(std::move(fd), *info, config));
  } catch (const std::bad_alloc&) {
    err.fail("out of memory for " + std::to_string(config.pool_size) + " packet buffers");
  } catch (const std::exception& e) {
    err.fail(std::string("packet pool: ") + e.what());
  }
  return nullptr;
}

AfPacketBackend::AfPacketBackend(UniqueFd fd, const base::InterfaceInfo& info, const AfPacketConfig& config)
    : fd_(std::move(fd)),
      info_(info),
      pool_(std::make_unique<PacketPool>(
          common::pool_config_for(info.mtu + af_packet::kMaxFrameOverMtu, config.pool_size))),
      kernel_stats_(fd_.get(), false),
      rx_cache_(*pool_) {
  caps_.mtu = info.mtu;
  caps_.rx_queues = 1;
  caps_.tx_queues = 1;
  caps_.max_frame = info.mtu + af_packet::kMaxFrameOverMtu;
  caps_.rx_vlan_strip = true;     // reported, see the header
  caps_.rx_costs_syscall = true;  // recvmmsg per burst
  caps_.rx_multicast = true;      // PACKET_MR_MULTICAST (set_multicast_mac)
  for (size_t i = 0; i < kBurst; ++i) {
    msghdr& hdr = rx_msgs_[i].msg_hdr;
    hdr.msg_iov = &rx_iovs_[i];
    hdr.msg_iovlen = 1;
    tx_msgs_[i].msg_hdr.msg_iov = &tx_iovs_[i];
    tx_msgs_[i].msg_hdr.msg_iovlen = 1;
  }
}

AfPacketBackend::~AfPacketBackend() = default;

size_t AfPacketBackend::rx_burst(uint16_t queue, std::span<Packet*> out) {
  if (queue != 0 || out.empty()) {
    return 0;
  }
  const size_t want = std::min(out.size(), kBurst);
  const size_t n = std::min(want, rx_cache_.top_up(want));
  if (n == 0) {
    discard_waiting(want);
    return 0;
  }
  for (size_t i = 0; i < n; ++i) {
    Packet* pkt = rx_cache_[i];
    rx_iovs_[i] = {pkt->data, pkt->room};
    msghdr& hdr = rx_msgs_[i].msg_hdr;
    hdr.msg_name = &rx_addrs_[i];
    hdr.msg_namelen = sizeof(sockaddr_ll);
    hdr.msg_control = rx_aux_[i].bytes;
    hdr.msg_controllen = sizeof(rx_aux_[i].bytes);
  }
  const int received = ::recvmmsg(fd_.get(), rx_msgs_.data(), static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
  if (received <= 0) {
    if (received < 0 && errno != EAGAIN && errno != EINTR) {
      rx_errors_.fetch_add(1, std::memory_order_relaxed);  // e.g. ENETDOWN
    }
    return 0;
  }

  size_t got = 0;
  uint64_t errors = 0;
  const uint32_t headroom = pool_->headroom();
  for (size_t i = 0; i < static_cast<size_t>(received); ++i) {
    msghdr& hdr = rx_msgs_[i].msg_hdr;
    // Only on kernels without PACKET_IGNORE_OUTGOING (the filter drops
    // these too): another local sender's frame, not one for us.
    if (rx_addrs_[i].sll_pkttype == PACKET_OUTGOING) {
      continue;
    }
    if ((hdr.msg_flags & MSG_TRUNC) != 0) {
      ++errors;  // larger than a buffer (a GRO super-frame, or mtu raised)
      continue;
    }
    Packet* pkt = rx_cache_[i];
    pkt->len = rx_msgs_[i].msg_len;
    tpacket_auxdata aux{};
    for (cmsghdr* c = CMSG_FIRSTHDR(&hdr); c != nullptr; c = CMSG_NXTHDR(&hdr, c)) {
      if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA && c->cmsg_len >= CMSG_LEN(sizeof(aux))) {
        std::memcpy(&aux, CMSG_DATA(c), sizeof(aux));
      }
    }
    pkt->rx_flags = af_packet::rx_flags_from_status(aux.tp_status);
    if (!af_packet::apply_vlan(*pkt, aux.tp_status, aux.tp_vlan_tci, aux.tp_vlan_tpid, headroom)) {
      ++errors;
      continue;
    }
    out[got++] = pkt;
    rx_cache_[i] = nullptr;
  }
  rx_cache_.compact();
  rx_packets_.fetch_add(got, std::memory_order_relaxed);
  if (errors != 0) {
    rx_errors_.fetch_add(errors, std::memory_order_relaxed);
  }
  return got;
}

size_t AfPacketBackend::discard_waiting(size_t max_frames) {
  // Zero-length reads consume frames without copying them (MSG_TRUNC).
  for (size_t i = 0; i < max_frames; ++i) {
    msghdr& hdr = rx_msgs_[i].msg_hdr;
    hdr.msg_name = nullptr;
    hdr.msg_namelen = 0;
    hdr.msg_control = nullptr;
    hdr.msg_controllen = 0;
    hdr.msg_iovlen = 0;
  }
  const int dropped = ::recvmmsg(fd_.get(), rx_msgs_.data(), static_cast<unsigned>(max_frames), MSG_DONTWAIT, nullptr);
  for (size_t i = 0; i < max_frames; ++i) {
    rx_msgs_[i].msg_hdr.msg_iovlen = 1;
  }
  if (dropped <= 0) {
    return 0;
  }
  rx_no_buffer_.fetch_add(static_cast<uint64_t>(dropped), std::memory_order_relaxed);
  return static_cast<size_t>(dropped);
}

size_t AfPacketBackend::alloc(std::span<Packet*> out) { return pool_->alloc(out); }

void AfPacketBackend::release(std::span<Packet* const> pkts) { pool_->free(pkts); }

bool AfPacketBackend::tx_frame_ok(const Packet& pkt) const {
  return pkt.len >= af_packet::kEthernetHeaderLen && pkt.len <= caps_.max_frame &&
         (pkt.tx_flags & kTxOffloadFlags) == 0;
}

size_t AfPacketBackend::tx_burst(uint16_t queue, std::span<Packet* const> pkts) {
  if (queue != 0) {
    return 0;
  }
  size_t i = 0;
  while (i < pkts.size()) {
    // A run of good frames goes out in one sendmmsg; a bad one is taken
    // and dropped between runs.
    const size_t start = i;
    size_t n = 0;
    while (i < pkts.size() && n < kBurst && tx_frame_ok(*pkts[i])) {
      assert(pool_->owns(pkts[i]));
      tx_iovs_[n] = {pkts[i]->data, pkts[i]->len};
      ++n;
      ++i;
    }
    if (n > 0) {
      const size_t done = send_batch(n);
      pool_->free(pkts.subspan(start, done));
      if (done < n) {
        return start + done;  // socket full: the caller keeps the rest
      }
    }
    if (i < pkts.size() && !tx_frame_ok(*pkts[i])) {
      tx_errors_.fetch_add(1, std::memory_order_relaxed);
      pool_->free_one(pkts[i]);
      ++i;
    }
  }
  return pkts.size();
}

size_t AfPacketBackend::send_batch(size_t n) {
  size_t done = 0;
  uint64_t sent = 0;
  uint64_t errors = 0;
  while (done < n) {
    const int r = ::sendmmsg(fd_.get(), tx_msgs_.data() + done, static_cast<unsigned>(n - done), MSG_DONTWAIT);
    if (r > 0) {
      done += static_cast<size_t>(r);
      sent += static_cast<uint64_t>(r);
      continue;
    }
    const int e = errno;
    if (e == EINTR) {
      continue;
    }
    if (e == EAGAIN || e == EWOULDBLOCK) {
      break;  // send buffer full: back-pressure
    }
    // The kernel consumed this frame and failed it (ENOBUFS: a qdisc
    // dropped it; ENETDOWN, EMSGSIZE, ...): count it and go on.
    ++errors;
    ++done;
  }
  tx_packets_.fetch_add(sent, std::memory_order_relaxed);
  if (errors != 0) {
    tx_errors_.fetch_add(errors, std::memory_order_relaxed);
  }
  return done;
}

int AfPacketBackend::set_multicast_mac(const MacAddr& mac, bool on) {
  const int fds[] = {fd_.get()};
  return multicast_.set(fds, info_.ifindex, mac, on);
}

BackendStats AfPacketBackend::stats() const {
  const auto kernel = kernel_stats_.read();
  BackendStats s;
  s.rx_packets = rx_packets_.load(std::memory_order_relaxed);
  s.tx_packets = tx_packets_.load(std::memory_order_relaxed);
  s.rx_missed = kernel.drops;
  s.rx_no_buffer = rx_no_buffer_.load(std::memory_order_relaxed);
  s.rx_errors = rx_errors_.load(std::memory_order_relaxed);
  s.tx_errors = tx_errors_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace dpdkudp
