// AfXdpBackend: one AF_XDP socket (XSK) per queue over the UMEM of the
// interface's AF_XDP group (group.h: the first process founds it and
// attaches our XDP program, xdp_program.h; later ones join it and share
// the UMEM, each serving its own ports), plus the port steering hook.
//
// UMEM (in the group's memfd): 4 KiB frames (what native XDP on veth and
// most drivers need):
//   [queue 0 RX frames][queue 1 RX frames]...[TX frames]
// Each queue has 2 * ring_size RX frames, all of them either in its fill
// ring, with the kernel, in a member's RX ring, or in the queue's shared
// stash: the fill ring never runs dry because of an application. TX frames
// (2 * ring_size) are shared by all queues and members.
//
// RX copies. rx_burst() copies each received frame into a PacketPool
// buffer and gives the UMEM frame straight back (stash, then fill ring).
// The stack keeps received datagrams on socket queues for as long as the
// application takes to read them; handing out UMEM frames instead would let
// one slow socket drain the fill ring and stall the whole queue, for every
// process of the group. One memcpy of the frame keeps the fill ring full
// under any socket backlog.
//
// TX is zero-copy. alloc() hands out UMEM TX frames; tx_burst() puts their
// descriptors on this process's TX ring and kicks the kernel (sendto) when
// it asks for it (XDP_USE_NEED_WAKEUP); the shared completion ring gives
// frames back, reaped by whichever member gets there first. A packet that is
// not a UMEM frame (a received buffer the stack sends back) is copied into
// one.
//
// wait_fd(q) is the XSK: POLLIN when its RX ring has frames, and polling
// it also wakes a zero-copy driver that asked for it.
//
// Capabilities: no checksum or VLAN offload in either direction (XDP gives
// no metadata here), MTU and MAC from the interface; max_frame is capped by
// the frame size.
//
// Counters: rx_missed = XDP_STATISTICS rx_dropped + rx_ring_full (the
// kernel had no room); rx_no_buffer = no pool buffer to copy into, plus the
// kernel's rx_fill_ring_empty_descs; rx_errors = frames larger than a pool
// buffer, plus rx_invalid_descs; tx_errors = frames we refused (too short or
// long, an offload we lack) plus tx_invalid_descs.
//
// The class is defined in three files: af_xdp_backend.cc (set-up, group
// join, tear-down), af_xdp_datapath.cc (RX, TX, the queue lock, counters)
// and port_owners.cc (steer() and the cross-process port owners).
#pragma once

#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/af_xdp/af_xdp.h"
#include "backends/af_xdp/af_xdp_util.h"
#include "backends/af_xdp/group.h"
#include "backends/af_xdp/xdp_program.h"
#include "backends/api/backend.h"
#include "backends/common/multicast_memberships.h"
#include "backends/common/packet_pool.h"
#include "base/interface.h"

namespace dpdkudp {

class AfXdpBackend final : public Backend, public PortSteering {
 public:
  static constexpr uint32_t kFrameSize = 4096;
  static constexpr uint32_t kTxHeadroom = 128;  // in front of data in a TX frame
  static_assert(kTxHeadroom >= kMinTxHeadroom);
  // XDP_PACKET_HEADROOM: the kernel keeps it in front of a received frame.
  static constexpr uint32_t kRxKernelHeadroom = 256;
  static constexpr uint32_t kMaxFrameOverMtu = 18;  // Ethernet header + one tag
  // 224.0.0.1, where IGMP queries arrive: in the groups map while this
  // process has joined any group.
  static constexpr uint32_t kAllSystemsGroup = 0xe0000001;
  // ff02::1, where MLD queries arrive: the same for IPv6 groups.
  static constexpr std::array<uint8_t, 16> kAllNodesGroup = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

  // nullptr and *error on failure (see open_af_xdp()).
  static std::unique_ptr<AfXdpBackend> open(const AfXdpConfig& config, std::string* error);
  ~AfXdpBackend() override;

  std::string_view name() const override { return "af_xdp"; }
  MacAddr mac() const override { return info_.mac; }
  const Capabilities& capabilities() const override { return caps_; }

  size_t rx_burst(uint16_t queue, std::span<Packet*> out) override;
  size_t alloc(std::span<Packet*> out) override;
  size_t tx_burst(uint16_t queue, std::span<Packet* const> pkts) override;
  void release(std::span<Packet* const> pkts) override;
  int wait_fd(uint16_t queue) const override;
  BackendStats stats() const override;

  int steer(uint32_t addr, uint16_t port, bool on, uint32_t share) override;
  int steer6(const std::array<uint8_t, 16>& addr, uint16_t port, bool on, uint32_t share) override;
  int steer_group(uint32_t group, bool on) override;
  int steer_group6(const std::array<uint8_t, 16>& group, bool on) override;
  using PortSteering::steer;
  // The device's multicast list (packet-socket memberships, dropped with
  // the process).
  int set_multicast_mac(const MacAddr& mac, bool on) override;

  // "native copy", "native zero-copy", "generic copy" (+ ", libxdp ...").
  const std::string& mode_description() const { return mode_description_; }
  bool zero_copy() const { return zero_copy_; }
  const std::string& pin_dir() const { return pin_dir_; }
  // This process's member slot in the interface's group (0: the founder).
  uint32_t member_slot() const { return slot_; }

 private:
  static constexpr size_t kBurst = 64;

  struct Queue {
    int fd = -1;
    xsk_ring_cons rx{};
    xsk_ring_prod tx{};
    xsk_ring_prod fill{};  // the group's, shared: written under the queue lock
    xsk_ring_cons comp{};  // the group's, shared: read under the queue lock
    // The ring mappings, for munmap.
    std::array<std::pair<void*, size_t>, 4> maps{};
    std::atomic<uint64_t> rx_packets{0};
    std::atomic<uint64_t> rx_no_buffer{0};
    std::atomic<uint64_t> rx_errors{0};
    std::atomic<uint64_t> tx_packets{0};
    std::atomic<uint64_t> tx_errors{0};
  };

  AfXdpBackend(const AfXdpConfig& config, const base::InterfaceInfo& info);

  // Founder: attach the program, create the region and the sockets.
  bool found(const AfXdpConfig& config, const af_xdp::ErrorSink& err, const af_xdp::LibLogCapture& log,
             bool* retry_as_member);
  // Member: join the group from the handles its hub gave.
  bool join(const AfXdpConfig& config, af_xdp::GroupHandles handles, const af_xdp::ErrorSink& err);
  // Both: a member slot in the region, and the UMEM's frames.
  bool take_slot(const af_xdp::ErrorSink& err);
  // Everything both do once the sockets exist: XSKMAP, dedicated address,
  // the hub thread.
  bool publish(const AfXdpConfig& config, const af_xdp::ErrorSink& err);
  // Creates the queues' XSKs. Founder: registers the UMEM on queue 0
  // (share_fds empty). Member: binds to the group's socket of each queue.
  // Returns 0 or the (positive) errno, with what failed in *what.
  int create_sockets(uint16_t bind_flags, const std::vector<af_xdp::UniqueFd>& share_fds, std::string* what);
  void destroy_sockets();
  // Drops the map entries of a member that died (the hub thread).
  void forget_pid(uint32_t pid);
  // Under the region's steer lock: takes pid (and any dead process) out of
  // the owners of key; deletes the entry when none is left.
  // One map's port entry (PortKey or Port6Key): take our share under the
  // steer lock (0 or an errno), or drop a pid's.
  template <typename Key>
  int claim_port_locked(int fd, const Key& key, uint32_t share);
  template <typename Key>
  void drop_port_owner_locked(int fd, const Key& key, uint32_t pid);
  // Under the steer lock: adds this process to the members of a group in
  // a groups map (IPv4: network order; IPv6: Addr6Key) (0 or an errno).
  template <typename Key>
  int claim_group_locked(int fd, const Key& group);
  // The two families' steer_group: the group's count in `joined`, and the
  // all-systems / all-nodes entry while any group is joined.
  template <typename Key, typename Local>
  int steer_group_in(int fd, std::map<Local, uint32_t>& joined, const Local& group, const Local& all, bool on);
  static af_xdp::Addr6Key group6_key(const std::array<uint8_t, 16>& a) {
    af_xdp::Addr6Key k{};
    std::copy(a.begin(), a.end(), k.addr);
    return k;
  }
  // Under the steer lock: removes addr's dedicated-mode entry if pid owns it.
  void drop_addr_owner_locked(uint32_t addr, uint32_t pid);
  // Under the queue lock: moves stashed frames onto the fill ring.
  void refill_locked(uint32_t queue);
  void lock_queue(uint32_t queue);

  bool is_tx_frame(const Packet* pkt) const { return pkt >= tx_pkts_.get() && pkt < tx_pkts_.get() + tx_count_; }
  uint64_t frame_addr(uint64_t frame) const { return frame * kFrameSize; }
  uint8_t* frame_data(uint64_t frame) const { return area_ + frame * kFrameSize; }
  void reset_tx_packet(Packet& pkt, uint32_t tx_index) const;
  void reap_completions(uint32_t queue);
  void kick_tx(uint32_t queue);
  bool tx_frame_ok(const Packet& pkt) const;
  // Dedicated mode: an ARP request or Neighbor Solicitation we send names
  // us in the resolving maps, so its reply comes to this process even when
  // another member (our parent) serves the address.
  void note_resolution(const Packet& pkt) const;
  // Under the steer lock: removes a resolving map's entries of pid.
  template <typename Key>
  void drop_resolving_locked(int fd, uint32_t pid);
  int ports_fd() const { return program_ ? program_->ports_fd() : handles_.ports_map.get(); }
  int xsks_fd() const { return program_ ? program_->xsks_fd() : handles_.xsks_map.get(); }
  int addrs_fd() const { return program_ ? program_->addrs_fd() : handles_.addrs_map.get(); }
  int ports6_fd() const { return program_ ? program_->ports6_fd() : handles_.ports6_map.get(); }
  int addrs6_fd() const { return program_ ? program_->addrs6_fd() : handles_.addrs6_map.get(); }
  int groups_fd() const { return program_ ? program_->groups_fd() : handles_.groups_map.get(); }
  int groups6_fd() const { return program_ ? program_->groups6_fd() : handles_.groups6_map.get(); }
  int resolving_fd() const { return program_ ? program_->resolving_fd() : handles_.resolving_map.get(); }
  int resolving6_fd() const { return program_ ? program_->resolving6_fd() : handles_.resolving6_map.get(); }
  int link_fd() const { return program_ ? program_->link_fd() : handles_.link.get(); }

  base::InterfaceInfo info_;
  std::string iface_;
  Capabilities caps_;
  uint32_t owner_pid_;
  uint32_t ring_size_;
  bool native_ = false;
  bool zero_copy_ = false;
  bool dedicated_ = false;
  uint32_t dedicated_ipv4_ = 0;                   // network order, registered in the addrs map
  std::vector<af_xdp::Addr6Key> dedicated_ipv6_;  // registered in the addrs6 map
  std::string mode_description_;
  std::string pin_dir_;

  // The group: the hub (name, thread), the shared region, our slot; the
  // program (founder) or the handles the hub gave (member).
  std::unique_ptr<af_xdp::GroupHub> hub_;
  std::unique_ptr<af_xdp::GroupRegion> region_;
  uint32_t slot_ = 0;
  bool has_slot_ = false;
  std::unique_ptr<af_xdp::XdpProgram> program_;
  af_xdp::GroupHandles handles_;

  uint8_t* area_ = nullptr;  // the UMEM, inside region_
  uint64_t tx_first_frame_ = 0;
  uint32_t tx_count_ = 0;
  std::unique_ptr<Packet[]> tx_pkts_;
  std::unique_ptr<Queue[]> queues_;
  uint16_t queue_count_ = 0;

  std::unique_ptr<PacketPool> pool_;

  // Steering: (addr << 16 | port) -> nesting count, mirrored in the map.
  std::mutex steer_mutex_;
  std::map<uint64_t, uint32_t> steered_;
  std::map<std::pair<std::array<uint8_t, 16>, uint16_t>, uint32_t> steered6_;
  // Joined groups (host order) -> nesting count, mirrored in the groups
  // map; while there is any, 224.0.0.1 is there too (the queries).
  std::map<uint32_t, uint32_t> groups_;
  std::map<std::array<uint8_t, 16>, uint32_t> groups6_;

  // The multicast list: memberships held by a packet socket that receives
  // nothing (bound to no protocol).
  af_xdp::UniqueFd membership_fd_;
  MulticastMemberships multicast_;
};

}  // namespace dpdkudp
