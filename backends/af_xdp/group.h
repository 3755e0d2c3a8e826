// Several processes on one interface: the AF_XDP group.
//
// A device queue takes one UMEM (buffer pool) and one fill/completion ring
// pair, and an XSKMAP slot names one socket; so for two shim processes to
// serve different ports of one interface, they share one UMEM. The first
// process (the founder) creates it in a memfd, registers it, attaches our
// XDP program; every later process (a member) maps the same memfd, binds
// its own XSK on every queue with XDP_SHARED_UMEM, and gets its own RX and
// TX rings. The kernel puts a received frame on the RX ring of the XSK the
// program chose (the port's owner: xsks[slot * 64 + queue]), takes frames
// from the one shared fill ring, and reports sent frames on the one shared
// completion ring.
//
// The region (one memfd, MAP_SHARED in every member):
//   [GroupHeader][per-queue stash][TX free stack][TX frame states][frames]
// The frames part is the UMEM: for each queue 2 * ring_size RX frames, then
// tx_frames TX frames.
//
// Everything several processes write is under a process-shared robust
// mutex (pthread, PTHREAD_MUTEX_ROBUST): a member killed while holding one
// cannot wedge the others. The order of writes inside makes a death at any
// point lose frames, never duplicate one (a duplicated frame would be two
// datagrams in one buffer):
//   - queue lock (one per queue): the shared fill ring, its stash of frames
//     that did not fit, the shared completion ring.
//   - TX lock: the stack of free TX frames and their states. Each TX frame
//     has a state word (free, held by slot S, submitted by slot S); the
//     stack is rebuilt from the states when the lock's last holder died.
//   - members lock: the member table.
//   - steer lock: changes to a port's owner list in the program's map
//     (several processes sharing a port with SO_REUSEPORT).
// TX frames of a dead member are given back: held ones at once, submitted
// ones after kReclaimGraceNs (by then the kernel has completed or dropped
// them). RX frames a member had received but not yet read when it died
// (its RX ring goes with its socket) are not recovered: at most what sat
// unread on its ring, usually nothing; the stash keeps the fill ring full
// regardless until ring_size of them are gone.
//
// The hub: an AF_UNIX socket bound to the abstract name
// dpdkudp/af_xdp/<ifname> (abstract names belong to the network namespace,
// like interface names). Its holder answers a newcomer with the group's
// file descriptors (SCM_RIGHTS): the memfd, the program's maps, its
// bpf_link (so the program stays attached while any member lives) and one
// bound XSK per queue to share the UMEM with. Every member runs a small
// thread that takes the name over when the holder exits (the kernel frees
// it whatever way the process ends), and the holder's thread also finds
// members that died and reclaims their frames.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "backends/af_xdp/af_xdp_util.h"
#include "backends/af_xdp/xdp_program.h"

namespace dpdkudp::af_xdp {

inline constexpr uint32_t kMaxMembers = 16;  // = DPDKUDP_MAX_MEMBERS in the program
inline constexpr uint32_t kGroupFrameSize = 4096;
inline constexpr uint64_t kReclaimGraceNs = 2'000'000'000;

// A pthread mutex in shared memory, process-shared and robust. lock()
// returns true when the previous holder died holding it (the caller then
// repairs what it guards; the mutex is made consistent by lock()).
class SharedMutex {
 public:
  void init();
  bool lock();
  void unlock() { pthread_mutex_unlock(&m_); }

 private:
  pthread_mutex_t m_;
};

enum class MemberState : uint32_t { kFree = 0, kActive = 1, kGone = 2 };

struct MemberSlot {
  std::atomic<uint32_t> state;  // MemberState
  std::atomic<uint32_t> pid;
  std::atomic<uint64_t> start_time;  // /proc/<pid>/stat field 22: tells pid reuse apart
  std::atomic<uint64_t> reclaim_at;  // CLOCK_MONOTONIC ns: submitted TX frames come back
};

struct QueueShared {
  SharedMutex lock;
  uint32_t stash_count;  // frames in the stash, under lock
};

// TX frame state word: low 8 bits the state, the rest slot + 1.
enum TxState : uint32_t { kTxFree = 0, kTxHeld = 1, kTxSubmitted = 2 };

struct GroupHeader {
  uint32_t magic;
  uint32_t version;
  uint32_t queues;
  uint32_t ring_size;
  uint32_t rx_frames_per_queue;  // 2 * ring_size
  uint32_t tx_frames;
  uint64_t stash_offset;     // uint64_t[queues][rx_frames_per_queue]
  uint64_t tx_stack_offset;  // uint32_t[tx_frames]
  uint64_t tx_state_offset;  // std::atomic<uint32_t>[tx_frames]
  uint64_t umem_offset;      // page aligned
  uint64_t umem_size;
  uint32_t native;
  uint32_t zero_copy;
  uint32_t founder_pid;
  uint32_t reserved;
  char mode_description[64];
  char pin_dir[256];
  SharedMutex members_lock;
  SharedMutex steer_lock;  // read-modify-write of a port's owner list
  MemberSlot members[kMaxMembers];
  SharedMutex tx_lock;
  uint32_t tx_free_count;
  QueueShared queue[kMaxQueues];
};

// The mapped region. Thread-safe where it says so; all methods that take
// a lock take it themselves.
class GroupRegion {
 public:
  // Creates a fresh region in a new memfd (the founder).
  static std::unique_ptr<GroupRegion> create(uint32_t queues, uint32_t ring_size, const ErrorSink& err);
  // Maps a region received from the hub.
  static std::unique_ptr<GroupRegion> attach(UniqueFd memfd, const ErrorSink& err);
  ~GroupRegion();

  int memfd() const { return memfd_.get(); }
  GroupHeader& header() const { return *header_; }
  uint32_t queues() const { return header_->queues; }
  uint32_t ring_size() const { return header_->ring_size; }
  uint8_t* umem() const { return base_ + header_->umem_offset; }
  uint64_t umem_size() const { return header_->umem_size; }
  uint64_t rx_first_frame(uint32_t q) const { return uint64_t{q} * header_->rx_frames_per_queue; }
  uint64_t tx_first_frame() const { return uint64_t{queues()} * header_->rx_frames_per_queue; }
  uint32_t tx_frames() const { return header_->tx_frames; }

  // ---- members ----
  // Takes a free (or dead member's reclaimed) slot for this process; -1
  // when all kMaxMembers are live.
  int claim_slot();
  // This process leaves: its held TX frames come back now, submitted ones
  // after the grace time (reclaim_dead() does it).
  void leave(uint32_t slot);
  // Live members other than `slot`.
  uint32_t others_alive(uint32_t slot);
  // Finds members that died without leaving and reclaims their frames.
  // Returns the pids of newly found dead members (to clean maps for).
  std::vector<uint32_t> reclaim_dead(uint64_t now_ns);

  // Around a read-modify-write of the program's port map (one entry
  // holds the owners of a port; nothing to repair after a dead holder:
  // each map update is one syscall).
  void lock_steer() { header_->steer_lock.lock(); }
  void unlock_steer() { header_->steer_lock.unlock(); }

  // ---- queues: the caller holds the queue lock around these ----
  bool lock_queue(uint32_t q) { return header_->queue[q].lock.lock(); }
  void unlock_queue(uint32_t q) { header_->queue[q].lock.unlock(); }
  uint64_t* stash(uint32_t q) const {
    return reinterpret_cast<uint64_t*>(base_ + header_->stash_offset) + uint64_t{q} * header_->rx_frames_per_queue;
  }
  uint32_t& stash_count(uint32_t q) const { return header_->queue[q].stash_count; }
  uint32_t rx_frames_per_queue() const { return header_->rx_frames_per_queue; }

  // ---- TX frames (indices 0..tx_frames-1), thread- and process-safe ----
  size_t tx_take(uint32_t slot, std::span<uint32_t> out);
  void tx_give(std::span<const uint32_t> frames);
  void tx_mark_submitted(uint32_t frame, uint32_t slot) {
    tx_state()[frame].store(state_word(kTxSubmitted, slot), std::memory_order_relaxed);
  }
  // Completions: frames the kernel reported sent (submitted -> free).
  void tx_complete(std::span<const uint32_t> frames);
  uint32_t tx_free_count() const { return header_->tx_free_count; }

 private:
  GroupRegion(UniqueFd memfd, uint8_t* base, size_t size)
      : memfd_(std::move(memfd)), base_(base), size_(size), header_(reinterpret_cast<GroupHeader*>(base)) {}
  static uint32_t state_word(TxState s, uint32_t slot) { return ((slot + 1) << 8) | s; }
  std::atomic<uint32_t>* tx_state() const {
    return reinterpret_cast<std::atomic<uint32_t>*>(base_ + header_->tx_state_offset);
  }
  uint32_t* tx_stack() const { return reinterpret_cast<uint32_t*>(base_ + header_->tx_stack_offset); }
  void lock_tx();  // rebuilds the stack when the last holder died
  void unlock_tx() { header_->tx_lock.unlock(); }
  void reclaim_tx_locked(uint32_t slot, bool submitted_too);
  bool slot_alive(const MemberSlot& m) const;

  UniqueFd memfd_;
  uint8_t* base_;
  size_t size_;
  GroupHeader* header_;
};

// The program's maps a newcomer gets (after the memfd, in this order).
inline constexpr size_t kHandedMaps = 9;

// What the hub hands a newcomer.
struct GroupHandles {
  UniqueFd memfd;
  UniqueFd ports_map;
  UniqueFd xsks_map;
  UniqueFd addrs_map;
  UniqueFd ports6_map;
  UniqueFd addrs6_map;
  UniqueFd groups_map;
  UniqueFd groups6_map;
  UniqueFd resolving_map;
  UniqueFd resolving6_map;
  UniqueFd link;                     // invalid when the program is not a bpf_link
  std::vector<UniqueFd> queue_xsks;  // one bound XSK per queue
};

// The abstract-name hub and every member's watcher thread.
class GroupHub {
 public:
  enum class Join { kFounder, kMember, kFailed };
  // Either takes the name (kFounder: *hub holds it, start() later) or gets
  // the handles from its holder (kMember). Retries for up to 2 s while a
  // holder exits and another member takes the name over.
  static Join join(const std::string& iface, std::unique_ptr<GroupHub>* hub, GroupHandles* handles,
                   const ErrorSink& err);

  ~GroupHub();
  // Starts the thread: serves newcomers while this process holds the name,
  // takes it over when the holder goes, reclaims dead members' frames.
  // handles: what to give newcomers (fds owned by the backend, valid until
  // stop()). on_dead(pid): a dead member's map entries to remove.
  void start(GroupRegion* region, std::vector<int> give_fds, int link_fd, std::function<void(uint32_t pid)> on_dead);
  void stop();
  // A fork child: the thread does not exist there; forget it.
  void abandon();
  bool holds_name() const { return listen_.valid(); }

 private:
  explicit GroupHub(std::string iface) : iface_(std::move(iface)) {}
  void run();
  void serve_one();

  std::string iface_;
  UniqueFd listen_;
  UniqueFd stop_event_;
  GroupRegion* region_ = nullptr;
  std::vector<int> give_fds_;  // memfd, ports, xsks, addrs, ports6, addrs6, groups, groups6, resolving, resolving6,
                               // [link], queue XSKs...
  int link_fd_ = -1;
  std::function<void(uint32_t)> on_dead_;
  std::unique_ptr<std::thread> thread_;
};

}  // namespace dpdkudp::af_xdp
