// Multicast between the processes that share an interface under the shim
// (stack::GroupPeers). Each process publishes, in the interface's shared
// table (engine/shared_ports.h), the (group, port) pairs its sockets joined
// and the loopback UDP port of its inbox. Then
//  - a group datagram a socket sends with IP_MULTICAST_LOOP on reaches the
//    other processes' members: a copy of the frame goes to each inbox whose
//    process has a member of the group on the port (Linux loops a group
//    datagram to every member on the host; the wire never shows a process
//    its own frames back: AF_PACKET drops outgoing ones, XDP sees RX only);
//  - where a group datagram from the wire reaches one process only (AF_XDP:
//    an XDP program redirects a frame to one socket), that process passes a
//    copy to each other member process's inbox, so every member on the
//    host gets it, as on Linux.
// A copy is a loopback datagram: a 16-byte header (magic, version, the
// table's key) and the Ethernet frame. The inbox is a UDP socket on
// 127.0.0.1 read by a thread of its own (blocked in recvmmsg, no cost when
// idle), started with the process's first membership; it checks the header
// and puts the frame into the stack's receive path as a looped-back frame
// (never passed on again). A copy that finds the inbox full is lost, as a
// datagram the kernel finds a full receive buffer for, and counted by the
// inbox's process (drop reason group_copy_lost, from the kernel's
// SO_RXQ_OVFL count, which comes with the next copy queued after the
// drops); one that cannot be sent is counted by the sender.
//
// The view of the others' records is rebuilt when the table's generation
// count moved (any process's join or leave), so a send costs one atomic
// load and a lookup in a short list while no other process has a member.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "base/unique_fd.h"
#include "engine/shared_ports.h"
#include "stack/net/hooks.h"

namespace dpdkudp::stack {
class Stack;
}

namespace dpdkudp::engine {

// The copy's header (byte-vector tested): magic "DUGP", version 1, three
// zero bytes, the table's key (little-endian, as written by the sender on
// the same host).
inline constexpr size_t kGroupCopyHeaderLen = 16;
void write_group_copy_header(uint8_t* out, uint64_t key);
// The frame inside a copy, or an empty span when it is not one of ours
// (short, another magic, version or key).
std::span<const uint8_t> parse_group_copy(std::span<const uint8_t> datagram, uint64_t key);

class GroupPeersImpl final : public stack::GroupPeers {
 public:
  // forward_received: the backend hands a group datagram to one process
  // only (AF_XDP). Opens the inbox socket; without one (said once) the
  // copies are off.
  GroupPeersImpl(SharedPorts& table, stack::Stack& stack, bool forward_received);
  ~GroupPeersImpl() override;
  GroupPeersImpl(const GroupPeersImpl&) = delete;
  GroupPeersImpl& operator=(const GroupPeersImpl&) = delete;

  bool member(const stack::GroupKey& key) override;
  void send_copies(const stack::GroupKey& key, const uint8_t* frame, size_t len) override;
  bool forward_received() const override { return forward_received_; }
  void memberships_changed() override { publish(); }

  // Stops the inbox thread (the engine's stop, before the stack goes).
  void stop();

  // The engine's tick: publishes again when the stack's memberships moved
  // without a join or leave (a socket closed, or bound after its join).
  void on_tick();

  uint16_t inbox_port() const { return inbox_port_; }
  uint64_t copies_sent() const { return sent_.load(std::memory_order_relaxed); }
  uint64_t copies_received() const { return received_.load(std::memory_order_relaxed); }

 private:
  void publish();
  void refresh_view();
  void run_inbox();

  SharedPorts& table_;
  stack::Stack& stack_;
  const bool forward_received_;
  const uint64_t key_;
  base::UniqueFd fd_;  // 127.0.0.1:inbox_port_, sends and receives
  uint16_t inbox_port_ = 0;
  std::thread inbox_;
  std::atomic<bool> stopping_{false};

  std::mutex publish_mutex_;
  std::vector<stack::GroupKey> published_;
  std::atomic<bool> published_once_{false};  // read by the tick without the mutex
  bool said_full_ = false;

  std::mutex view_mutex_;
  std::atomic<uint64_t> view_gen_{~uint64_t{0}};
  std::atomic<bool> view_empty_{true};
  std::vector<SharedPorts::GroupPeer> view_;

  std::atomic<uint64_t> sent_{0}, received_{0};  // (failures: the stack's group_copy_lost)
};

}  // namespace dpdkudp::engine
