#include "backends/af_packet/af_packet_mmap_backend.h"

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
using af_packet::load_status;
using af_packet::store_status;
using af_packet::UniqueFd;

namespace {
constexpr uint32_t kTxOffloadFlags = kTxIpv4Csum | kTxUdpCsum | kTxVlanInsert;
// Where the kernel puts the sockaddr_ll of a V3 frame: right after the
// aligned tpacket3_hdr (TPACKET3_HDRLEN in if_packet.h).
constexpr size_t kV3SockaddrOffset = TPACKET_ALIGN(sizeof(tpacket3_hdr));
}  // namespace

std::unique_ptr<AfPacketMmapBackend> AfPacketMmapBackend::open(const AfPacketConfig& config, std::string* error) {
  const ErrorSink err("af_packet", config.iface, error);
  const auto info = base::query_interface(config.iface, base::InterfaceNeeds::kUsableEthernet, err);
  if (!info) {
    return nullptr;
  }
  UniqueFd rx_fd = af_packet::open_packet_socket(err);
  if (!rx_fd.valid()) {
    return nullptr;
  }
  UniqueFd tx_fd = af_packet::open_packet_socket(err);
  if (!tx_fd.valid()) {
    return nullptr;
  }
  std::unique_ptr<AfPacketMmapBackend> backend;
  try {
    backend.reset(new AfPacketMmapBackend(*info, config, std::move(rx_fd), std::move(tx_fd)));
  } catch (const std::bad_alloc&) {
    err.fail("out of memory for " + std::to_string(config.pool_size) + " packet buffers");
    return nullptr;
  } catch (const std::exception& e) {
    err.fail(std::string("packet pool: ") + e.what());
    return nullptr;
  }
  if (!backend->init(config, err)) {
    return nullptr;
  }
  return backend;
}

AfPacketMmapBackend::AfPacketMmapBackend(const base::InterfaceInfo& info, const AfPacketConfig& config, UniqueFd rx_fd,
                                         UniqueFd tx_fd)
    : info_(info),
      rx_fd_(std::move(rx_fd)),
      tx_fd_(std::move(tx_fd)),
      pool_(std::make_unique<PacketPool>(
          common::pool_config_for(info.mtu + af_packet::kMaxFrameOverMtu, config.pool_size))),
      kernel_stats_(rx_fd_.get(), true),
      rx_cache_(*pool_) {
  caps_.mtu = info.mtu;
  caps_.rx_queues = 1;
  caps_.tx_queues = 1;
  caps_.max_frame = info.mtu + af_packet::kMaxFrameOverMtu;
  caps_.rx_vlan_strip = true;  // reported, see af_packet_backend.h
  caps_.rx_multicast = true;   // PACKET_MR_MULTICAST (set_multicast_mac)
}

AfPacketMmapBackend::~AfPacketMmapBackend() {
  if (current_ != nullptr) {
    return_block();
  }
}

bool AfPacketMmapBackend::init(const AfPacketConfig& config, const ErrorSink& err) {
  const uint32_t max_frame = caps_.max_frame;
  // RX socket: filter first, then the ring, then bind (frames start here).
  if (!af_packet::configure_rx_socket(rx_fd_.get(), config, false, err) ||
      !rx_ring_.setup(rx_fd_.get(), {config.rx_block_size, config.rx_block_count, config.rx_block_timeout_ms},
                      max_frame, err)) {
    return false;
  }
  if (config.promiscuous && !af_packet::enable_promiscuous(rx_fd_.get(), info_.ifindex, err)) {
    return false;
  }
  if (!af_packet::bind_packet_socket(rx_fd_.get(), info_.ifindex, ETH_P_ALL, err)) {
    return false;
  }

  // TX socket: bound with protocol 0, so it never receives.
  const uint32_t frame_size =
      config.tx_frame_size != 0 ? config.tx_frame_size : af_packet::V2TxRing::default_frame_size(max_frame);
  if (!af_packet::set_int_option(tx_fd_.get(), SOL_PACKET, PACKET_QDISC_BYPASS, 1, "PACKET_QDISC_BYPASS", err) ||
      !tx_ring_.setup(tx_fd_.get(), frame_size, config.tx_frame_count, max_frame, err)) {
    return false;
  }
  // In-flight TX skbs are charged to the send buffer; make it hold a full
  // ring so a kick does not stop half way (EAGAIN) in normal operation.
  af_packet::set_buffer_sizes(tx_fd_.get(), static_cast<uint32_t>(std::min<size_t>(2 * tx_ring_.bytes(), 1u << 30)));
  return af_packet::bind_packet_socket(tx_fd_.get(), info_.ifindex, 0, err);
}

bool AfPacketMmapBackend::open_next_block() {
  tpacket_block_desc* block = rx_ring_.block(next_block_);
  if ((load_status(block->hdr.bh1.block_status) & TP_STATUS_USER) == 0) {
    return false;
  }
  current_ = block;
  frames_left_ = block->hdr.bh1.num_pkts;
  next_frame_ = reinterpret_cast<const uint8_t*>(block) + block->hdr.bh1.offset_to_first_pkt;
  return true;
}

void AfPacketMmapBackend::return_block() {
  store_status(current_->hdr.bh1.block_status, TP_STATUS_KERNEL);
  current_ = nullptr;
  next_block_ = next_block_ + 1 == rx_ring_.block_count() ? 0 : next_block_ + 1;
}

size_t AfPacketMmapBackend::rx_burst(uint16_t queue, std::span<Packet*> out) {
  if (queue != 0 || out.empty()) {
    return 0;
  }
  if (kick_pending_.load(std::memory_order_relaxed)) {
    kick_tx();  // frames a failed kick left behind must not wait for more TX
  }
  const size_t want = std::min(out.size(), common::RxBufferCache::kCapacity);
  const uint32_t headroom = pool_->headroom();
  size_t got = 0;
  uint64_t errors = 0;
  while (got < want) {
    if (current_ == nullptr && !open_next_block()) {
      break;
    }
    if (frames_left_ == 0) {
      return_block();
      continue;
    }
    const auto* hdr = reinterpret_cast<const tpacket3_hdr*>(next_frame_);
    const auto* addr = reinterpret_cast<const sockaddr_ll*>(next_frame_ + kV3SockaddrOffset);
    const uint32_t status = hdr->tp_status;
    const uint32_t len = hdr->tp_snaplen;
    bool deliver = true;
    if (addr->sll_pkttype == PACKET_OUTGOING) {
      deliver = false;  // only without PACKET_IGNORE_OUTGOING (< 4.20)
    } else if (len != hdr->tp_len || len > pool_->buffer_size() - headroom) {
      deliver = false;  // truncated by the block, or larger than a buffer
      ++errors;
    }
    if (deliver) {
      Packet* pkt = rx_cache_.pop();
      if (pkt == nullptr) {
        rx_cache_.top_up(want - got);
        pkt = rx_cache_.pop();
      }
      if (pkt == nullptr) {
        if (got == 0) {
          // The pool is dry: drop what this block still holds and give it
          // back, so the kernel keeps a block to fill (see the header).
          rx_no_buffer_.fetch_add(frames_left_, std::memory_order_relaxed);
          return_block();
        }
        break;
      }
      std::memcpy(pkt->data, next_frame_ + hdr->tp_mac, len);
      pkt->len = len;
      pkt->rx_flags = af_packet::rx_flags_from_status(status);
      if (af_packet::apply_vlan(*pkt, status, static_cast<uint16_t>(hdr->hv1.tp_vlan_tci), hdr->hv1.tp_vlan_tpid,
                                headroom)) {
        out[got++] = pkt;
      } else {
        ++errors;
        pool_->free_one(pkt);
      }
    }
    next_frame_ += hdr->tp_next_offset;
    if (--frames_left_ == 0) {
      return_block();  // promptly: the kernel may be waiting for it
    }
  }
  rx_packets_.fetch_add(got, std::memory_order_relaxed);
  if (errors != 0) {
    rx_errors_.fetch_add(errors, std::memory_order_relaxed);
  }
  return got;
}

size_t AfPacketMmapBackend::alloc(std::span<Packet*> out) { return pool_->alloc(out); }

void AfPacketMmapBackend::release(std::span<Packet* const> pkts) { pool_->free(pkts); }

bool AfPacketMmapBackend::tx_frame_ok(const Packet& pkt) const {
  return pkt.len >= af_packet::kEthernetHeaderLen && pkt.len <= caps_.max_frame &&
         (pkt.tx_flags & kTxOffloadFlags) == 0;
}

size_t AfPacketMmapBackend::tx_burst(uint16_t queue, std::span<Packet* const> pkts) {
  if (queue != 0) {
    return 0;
  }
  size_t taken = 0;
  uint64_t queued = 0;
  uint64_t errors = 0;
  for (; taken < pkts.size(); ++taken) {
    const Packet& pkt = *pkts[taken];
    assert(pool_->owns(&pkt));
    if (!tx_frame_ok(pkt)) {
      ++errors;  // taken and dropped
      continue;
    }
    tpacket2_hdr* slot = tx_ring_.slot(tx_head_);
    if (load_status(slot->tp_status) != TP_STATUS_AVAILABLE) {
      break;  // ring full: the kernel still owns the oldest slot
    }
    std::memcpy(tx_ring_.slot_data(slot), pkt.data, pkt.len);
    slot->tp_len = pkt.len;
    slot->tp_snaplen = pkt.len;
    store_status(slot->tp_status, TP_STATUS_SEND_REQUEST);
    tx_head_ = tx_head_ + 1 == tx_ring_.frame_count() ? 0 : tx_head_ + 1;
    ++queued;
  }
  if (queued != 0 || kick_pending_.load(std::memory_order_relaxed)) {
    kick_tx();
  }
  pool_->free(pkts.first(taken));
  tx_packets_.fetch_add(queued, std::memory_order_relaxed);
  if (errors != 0) {
    tx_errors_.fetch_add(errors, std::memory_order_relaxed);
  }
  return taken;
}

void AfPacketMmapBackend::kick_tx() {
  kick_pending_.store(false, std::memory_order_relaxed);
  while (::send(tx_fd_.get(), nullptr, 0, MSG_DONTWAIT) < 0) {
    const int e = errno;
    if (e == EINTR) {
      continue;
    }
    // Either way the kernel stopped early and slots may still be
    // SEND_REQUEST: the next tx_burst (or rx_burst) kicks again.
    kick_pending_.store(true, std::memory_order_relaxed);
    if (e != EAGAIN && e != EWOULDBLOCK) {
      // ENOBUFS (the driver refused a frame under qdisc bypass), ENETDOWN,
      // ...: the kernel dropped the frame at its head.
      tx_errors_.fetch_add(1, std::memory_order_relaxed);
    }
    return;
  }
}

int AfPacketMmapBackend::set_multicast_mac(const MacAddr& mac, bool on) {
  const int fds[] = {rx_fd_.get()};
  return multicast_.set(fds, info_.ifindex, mac, on);
}

BackendStats AfPacketMmapBackend::stats() const {
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
