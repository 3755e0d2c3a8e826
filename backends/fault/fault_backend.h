// A backend that wraps any other and injects faults into its frames, at
// set rates with a seed, on RX and TX (DPDKUDP_FAULTS; issue 16): drops,
// duplicates, reorders, delays, truncates and corrupts them. For testing
// that the stack and the programs above it give Linux's results on a bad
// link: a lost datagram is lost, never a hang, a crash or a corrupted
// payload delivered.
//
//   auto faulty = std::make_unique<FaultBackend>(std::move(real), spec);
//
// What each fault means for the frame (fault_spec.h for the draws):
//  - drop: released (RX) or taken and released (TX), as a wire that lost it.
//  - dup: a copy in a fresh buffer goes right after it.
//  - reorder: held until the next frame of the same queue has passed it
//    (or delay_us went by with none).
//  - delay: held for delay_us, then passed on in order with other delayed
//    frames.
//  - truncate: cut to a random length shorter than it was.
//  - corrupt: one byte at a random offset XORed with a random non-zero
//    value — a wire error, so it happens after anything the sending
//    device computes and before anything the receiving one checks: on RX
//    the device's checksum verdicts are cleared (the stack checks in
//    software) and a checksum the sender's kernel left partial (veth) is
//    completed first; on TX the checksums the device would fill in are
//    filled in first, in software. An ARP frame, which no checksum covers
//    (a flipped byte would poison the peer's cache, where a real link's
//    frame check sequence drops the frame), is dropped instead.
// Every fault is counted (counts()). The wrapped backend's own counters
// pass through stats() unchanged.
//
// Threading as backend.h: rx_burst(q) and arm_wait(q) from one thread per
// queue, tx_burst(q) from one thread per queue; frames TX holds back are
// sent by the next tx_burst(q) or, when none comes, by rx_burst(q) (the
// queue's poller runs it), under a per-queue lock.
//
// Sleeping: wait_fd(q) is an epoll fd holding the wrapped backend's wait
// fd and a timer; arm_wait(q) sets the timer to when the first held frame
// of queue q is due, so a poller asleep on it wakes for held frames too.
// Without a wrapped wait fd the backend has none either (the poller naps).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/api/backend.h"
#include "backends/fault/fault_spec.h"

namespace dpdkudp {

struct FaultCounts {
  std::array<uint64_t, kFaultKinds> rx{};  // FaultKind order
  std::array<uint64_t, kFaultKinds> tx{};
  uint64_t dup_no_buffer = 0;  // a duplicate that found no free buffer (not made)
};

// "rx: drop=3 dup=1 reorder=0 delay=0 truncate=0 corrupt=2; tx: ...".
std::string describe(const FaultCounts& counts);

class FaultBackend final : public Backend {
 public:
  // Throws std::system_error when its epoll/timer fds cannot be made.
  FaultBackend(std::unique_ptr<Backend> inner, const FaultSpec& spec);
  ~FaultBackend() override;

  std::string_view name() const override { return inner_->name(); }
  MacAddr mac() const override { return inner_->mac(); }
  const Capabilities& capabilities() const override { return inner_->capabilities(); }

  size_t rx_burst(uint16_t queue, std::span<Packet*> out) override;
  size_t alloc(std::span<Packet*> out) override { return inner_->alloc(out); }
  size_t tx_burst(uint16_t queue, std::span<Packet* const> pkts) override;
  void release(std::span<Packet* const> pkts) override { inner_->release(pkts); }

  int wait_fd(uint16_t queue) const override;
  void arm_wait(uint16_t queue) override;

  BackendStats stats() const override { return inner_->stats(); }
  // No faults here: group membership is the wrapped device's.
  int set_multicast_mac(const MacAddr& mac, bool on) override { return inner_->set_multicast_mac(mac, on); }

  // Releases every frame held back (delayed, reordered, not yet taken by
  // the wrapped backend) to the wrapped backend, unsent: what a link going
  // down loses. The destructor does it too. Not concurrently with bursts.
  void release_held();

  const FaultSpec& spec() const { return spec_; }
  FaultCounts counts() const;
  Backend& inner() { return *inner_; }

 private:
  struct Held {
    Packet* pkt;
    uint64_t due_ns;
  };
  // One direction of one queue: its random draws and the frames it holds.
  struct Lane {
    std::mt19937_64 rng;
    std::deque<Held> delayed;     // due in order (one delay for all)
    std::deque<Packet*> ready;    // passed on next (RX: to rx_burst's caller; TX: to the wrapped backend)
    Packet* reordered = nullptr;  // waits for the next frame to pass it
    uint64_t reordered_due_ns = 0;
    std::array<std::atomic<uint64_t>, kFaultKinds> count{};
  };
  struct Queue {
    std::mutex lock;  // both lanes and the timer: rx_burst, tx_burst and arm_wait meet here
    Lane rx;
    Lane tx;
    std::vector<Packet*> scratch;
    int epoll_fd = -1;
    int timer_fd = -1;
    uint64_t timer_due_ns = 0;  // 0: not armed
  };

  // The fate of one frame: dropped (released), held on lane, or appended
  // to lane.ready (with its duplicate, and a reordered frame it passed).
  void apply(Lane& lane, const FaultRates& rates, bool rx, Packet* pkt, uint64_t now_ns);
  bool draw(Lane& lane, double p);
  // Makes pkt's bytes what a wire carries before they are damaged (see
  // the top); false when that cannot be done (the damage is skipped).
  bool as_on_the_wire(Packet* pkt, bool rx);
  Packet* duplicate(const Packet* pkt);
  static bool is_arp(const Packet& pkt);  // Ethernet (one tag at most), then ARP
  // Moves what is due from the holds to ready.
  void release_due(Lane& lane, uint64_t now_ns);
  // Sends lane tx's ready frames; caller holds the queue's lock.
  void flush_tx(uint16_t queue, Queue& q, uint64_t now_ns);
  uint64_t first_due(const Lane& lane, uint64_t ready_ns) const;
  void close_fds();

  std::unique_ptr<Backend> inner_;
  const FaultSpec spec_;
  const uint64_t delay_ns_;
  uint16_t queue_count_;
  std::unique_ptr<Queue[]> queues_;
  std::atomic<uint64_t> dup_no_buffer_{0};
};

}  // namespace dpdkudp
