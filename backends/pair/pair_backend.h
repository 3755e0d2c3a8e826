// Two in-memory backends wired back to back: what one side transmits, the
// other receives. Every stack test and the stack benchmark run over it.
//
//   auto [a, b] = dpdkudp::make_pair(config);
//   a->tx_burst(0, pkts);    // the Packet* themselves move to b's RX ring
//   b->rx_burst(0, out);     // ... and come out here, same order, no copy
//
// Both sides share one PacketPool; release() on either returns to it.
//
// Queues: each side has config.queues RX and TX queues. A frame sent on any
// TX queue goes to the peer RX queue chosen by config.steering: a flow hash
// of the IP addresses and UDP ports (non-IP frames to queue 0), or the
// queue with the TX queue's number. Each RX queue is a bounded lock-free
// ring with many producers (the peer's TX queues, inject()) and one
// consumer (rx_burst on that queue).
//
// Ring full: by default tx_burst stops at the first frame that does not fit
// and returns how many it took (the caller keeps the rest: back-pressure).
// With RingFullPolicy::kDrop it behaves like a wire instead: the frame is
// taken and dropped. Either way the receiver counts it in rx_missed.
//
// Offloads: a side advertises config.<side>.offloads in its Capabilities and
// performs them in software (see backends/common/soft_offloads.h), so the
// stack's offload and no-offload paths both meet a truthful device.
//
// Faults: set_faults() makes tx_burst drop every Nth frame it takes
// (counted in tx_errors), and can make set_multicast_mac fail. tx_burst
// also drops, into tx_errors, a frame larger than max_frame or with an
// offload request that cannot be honoured (header lengths outside the
// frame, no headroom for a tag) — a stack bug made loud.
//
// Waking a sleeping poller, per RX queue q (wait_fd(q) is an eventfd):
//   1. The poller finds rx_burst(q) empty and wants to sleep.
//   2. It calls arm_wait(q): this clears any stale wake-up, sets q's
//      "armed" flag, then (after a full fence) looks at the ring; if a frame
//      is already there it disarms and makes the fd readable itself, so no
//      frame that arrived before arming can be slept through.
//   3. It polls wait_fd(q) for POLLIN (with whatever timeout it likes).
//   4. A producer (peer tx_burst, inject) publishes its frames, fences, and
//      only if q is armed does it disarm it (one exchange, so one writer per
//      arming) and write the eventfd: one syscall per sleep, none while
//      nobody sleeps.
//   5. Woken, the poller calls rx_burst(q). When rx_burst returns 0 frames
//      and a wake-up was written since the last clear, it reads the eventfd
//      to make it non-readable again (no syscall when none was written).
//      The backend counts wake-ups before writing them and settles the
//      count with what each read returns, so only it may read the fd: the
//      poller just polls it.
// A stale readable fd costs at most one spurious wake-up, never a lost one.
// Calling arm_wait(q) and then rx_burst(q) before sleeping is also correct.
//
// Multicast: the pair delivers every frame whatever its destination MAC,
// so set_multicast_mac only records the joined addresses (counted, like a
// NIC's list: each on is undone by one off) for tests to look at
// (multicast_macs(), multicast_refs()). It returns -EINVAL for an address
// that is not multicast and -EADDRNOTAVAIL for an off without an on, as
// the AF_PACKET backends do.
//
// Threading follows backend.h: one thread at a time per rx_burst(q) /
// tx_burst(q), and arm_wait(q) belongs to the thread that runs rx_burst(q);
// alloc/release/inject/stats/set_faults/set_multicast_mac from any thread.
// Lifetime: the two sides share the pool and rings; each stays valid while
// the other is destroyed. Packets still held by the caller must be
// released before the last side goes.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "backends/api/backend.h"
#include "backends/common/packet_pool.h"
#include "backends/common/soft_offloads.h"

namespace dpdkudp {

inline constexpr uint16_t kPairMaxQueues = 64;

enum class RxSteering : uint8_t {
  kFlowHash,   // peer RX queue = flow_hash(frame) % queues, like RSS
  kSameQueue,  // peer RX queue = the TX queue's number
};

enum class RingFullPolicy : uint8_t {
  kBackPressure,  // tx_burst returns fewer; the caller keeps the rest
  kDrop,          // tx_burst takes the frame and drops it, like a wire
};

struct PairSideConfig {
  MacAddr mac{};
  PairOffloads offloads{};
};

struct PairConfig {
  PairSideConfig a{{0x02, 0x00, 0x00, 0x00, 0x00, 0x0a}, {}};
  PairSideConfig b{{0x02, 0x00, 0x00, 0x00, 0x00, 0x0b}, {}};
  uint32_t mtu = 1500;          // L3 MTU; max_frame = mtu + 18 (Ethernet + tag)
  uint16_t queues = 1;          // RX and TX queues per side, 1..kPairMaxQueues
  uint32_t ring_size = 1024;    // per RX queue, rounded up to a power of 2 (>= 2)
  uint32_t pool_size = 8192;    // buffers shared by both sides
  uint32_t buffer_size = 2048;  // bytes per buffer, headroom included
  uint32_t headroom = 128;
  RxSteering steering = RxSteering::kFlowHash;
  RingFullPolicy when_full = RingFullPolicy::kBackPressure;
};

struct PairFaults {
  uint32_t drop_every_nth_tx = 0;  // 0: off; N: the Nth, 2Nth, ... taken frame
  int multicast_error = 0;         // 0: off; else set_multicast_mac returns it (a negative errno), recording nothing
};

namespace pair {
struct Link;
}

class PairBackend final : public Backend {
 public:
  // Use make_pair(); side is 0 (a) or 1 (b).
  PairBackend(std::shared_ptr<pair::Link> link, int side);
  ~PairBackend() override;

  std::string_view name() const override;
  MacAddr mac() const override;
  const Capabilities& capabilities() const override;

  size_t rx_burst(uint16_t queue, std::span<Packet*> out) override;
  size_t alloc(std::span<Packet*> out) override;
  size_t tx_burst(uint16_t queue, std::span<Packet* const> pkts) override;
  void release(std::span<Packet* const> pkts) override;

  int wait_fd(uint16_t queue) const override;
  void arm_wait(uint16_t queue) override;

  BackendStats stats() const override;

  int set_multicast_mac(const MacAddr& mac, bool on) override;

  // Copies frame into a pool buffer and puts it on this side's RX queue as
  // if it came from the wire (RX offloads still apply when it is received).
  // False, and counted, when the pool is empty (rx_no_buffer), the ring is
  // full (rx_missed) or the frame does not fit a buffer (rx_errors).
  bool inject(std::span<const uint8_t> frame, uint16_t queue = 0);

  void set_faults(const PairFaults& faults);
  PairFaults faults() const;

  // The multicast addresses joined on this side (each once, in order),
  // and how many ons of mac are not undone yet (0: not joined).
  std::vector<MacAddr> multicast_macs() const;
  uint32_t multicast_refs(const MacAddr& mac) const;

  // Frames waiting on this side's RX queue (exact when quiet).
  size_t rx_pending(uint16_t queue) const;
  PacketPool& pool();

 private:
  std::shared_ptr<pair::Link> link_;
  int side_;
};

struct BackendPair {
  std::unique_ptr<PairBackend> a;
  std::unique_ptr<PairBackend> b;
};

// Throws std::invalid_argument on a bad config, std::system_error when an
// eventfd cannot be created.
BackendPair make_pair(const PairConfig& config = {});

}  // namespace dpdkudp
