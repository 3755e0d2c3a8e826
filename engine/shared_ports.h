// Ports shared between processes that receive the same frames.
//
// AF_PACKET hands every packet socket on an interface a copy of each frame
// (DPDK over a kernel interface too), so with several programs under the
// shim on one interface each process's stack sees the others' datagrams.
// This table says which process serves which port, so that
//  - a datagram for a port that several processes share with SO_REUSEPORT
//    is taken by exactly one of them, chosen by a hash of its source
//    address and port (one flow stays with one process, as Linux's
//    reuseport groups);
//  - a datagram for another process's port is left to that process (no
//    port unreachable from the others in dedicated mode);
//  - one process, the earliest live member, answers for the host in
//    dedicated mode (ARP, NDP, echo, port unreachable): no duplicates;
//  - a socket inherited across fork (a pre-forking server) is shared by
//    the processes holding it as an SO_REUSEPORT group; once any of them
//    reads it, only those that read share it (the parent that only waits
//    gets nothing).
// AF_XDP settles the same in its XDP program and joins the table only for
// the group records below ("groups only": such a member never answers for
// the host and records no port).
//
// The table also says which process has a member of which multicast group
// on which port, and where its copies go (engine/group_peers.h): a sender's
// IP_MULTICAST_LOOP reaches the other processes' members through it, and
// on AF_XDP, where a group datagram reaches one process, that one passes
// copies to the others. These records change under the lock and are read
// under it, when their generation count moved.
//
// The table is a POSIX shared-memory object per user, network namespace
// and interface (/dev/shm/dpdkudp-ports-<euid>-<netns>-<ifindex>), 0600.
// Changes are made under a robust process-shared mutex; the receive path
// reads a port's entry under its sequence count, without the lock and
// without a system call. A process that exits leaves the table at once;
// one that ends otherwise (_exit, a signal) takes no datagram from the
// moment it ended (its poller held a robust mutex, which the kernel marks
// owner-dead), and the next refresh (every 200 ms, on a poller's timer)
// removes its records.
#pragma once

#include <pthread.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "stack/net/hooks.h"

namespace dpdkudp::engine {

class SharedPorts final : public stack::PortSteeringHook, public stack::PortSharing {
 public:
  static constexpr uint32_t kMaxMembers = 64;  // processes per interface
  static constexpr uint32_t kMaxSharers = 8;   // records (process, family, address) per port
  static constexpr uint32_t kMaxGroups = 64;   // (group, port) records per process

  // A process, as the table knows it: pid plus start time (a pid reused
  // by a later process is another member).
  struct Identity {
    uint32_t pid = 0;
    uint64_t start = 0;
  };
  using LivenessCheck = bool (*)(const Identity&);

  // The object's name for this user, network namespace and interface.
  static std::string name_for(int ifindex);
  // Opens (or makes) the table and joins it as this process. nullptr with
  // one line in *error (the table is full, not ours, cannot be mapped).
  // groups_only: for the group records alone (AF_XDP).
  static std::unique_ptr<SharedPorts> join(const std::string& name, std::string* error, bool groups_only = false);
  // The same as a given identity, with a given liveness check: for tests,
  // which play several processes in one.
  static std::unique_ptr<SharedPorts> join_as(const std::string& name, Identity self, LivenessCheck alive,
                                              std::string* error, bool groups_only = false);
  // Leaves (see leave()) and unmaps.
  ~SharedPorts() override;
  SharedPorts(const SharedPorts&) = delete;
  SharedPorts& operator=(const SharedPorts&) = delete;

  // PortSteeringHook (app threads, at bind and close): records that this
  // process serves (addr, port); any address: 0 / ::. EADDRINUSE when the
  // port already has kMaxSharers records.
  // share: PortShare flags. Sharers that all have SO_REUSEPORT spread
  // flows by hash; that all have SO_REUSEADDR (not all SO_REUSEPORT): the
  // one that came last takes unicast, as Linux.
  int steer(wire::Ipv4Addr addr, uint16_t port, bool on, uint32_t share) override;
  int steer6(const wire::Ipv6Addr& addr, uint16_t port, bool on, uint32_t share) override;

  // A socket on `port` came down a fork and this process (the child)
  // adopted it: every holder's records on the port share it, as an
  // SO_REUSEPORT group.
  void share_inherited(uint16_t port);
  // This process reads (or waits on) its socket on `port`. Once any sharer
  // of a port reads, only readers take its datagrams: a process that holds
  // the socket and never reads (a pre-forking parent) gets none.
  void note_reading(uint16_t port);

  // PortSharing (pollers).
  Owner owner(wire::Ipv4Addr dst, uint16_t dst_port, wire::Ipv4Addr src, uint16_t src_port) const override;
  Owner owner6(const wire::Ipv6Addr& dst, uint16_t dst_port, const wire::Ipv6Addr& src,
               uint16_t src_port) const override;
  bool answers_for_host() const override { return leader_.load(std::memory_order_relaxed); }

  // Leaves the table now (idempotent; the destructor does it too): this
  // process's records go, and the object is removed with its last member.
  // For a process that exits with its stack still allocated: sockets
  // closed after this record nothing. A forked child's copy leaves nothing.
  void leave();
  // Forgets dead members (their records go) and settles who answers for
  // the host. From a timer, a few times a second.
  void refresh();
  // From the thread that lives as long as the engine (queue 0's poller),
  // once: the member's liveness mutex, whose release by the kernel at the
  // thread's end tells the others at once that this process is gone.
  void hold_membership();
  // Group records. This process's (group, port) pairs and the loopback
  // UDP port its copies go to replace the ones it had; past kMaxGroups
  // the rest are left out (false).
  bool publish_groups(uint16_t inbox_port, std::span<const stack::GroupKey> groups);
  // Counts every change of any member's group records (a reader rebuilds
  // its view when it moved).
  uint64_t groups_generation() const;
  // The other live members' records: (group, port) -> their inbox ports.
  struct GroupPeer {
    stack::GroupKey key;
    uint16_t inbox_port;
  };
  std::vector<GroupPeer> group_peers() const;
  // 64 random bits the table's maker chose: a copy that carries them comes
  // from a member (the table is the user's own, 0600).
  uint64_t key() const;

  // This process's member slot and how many members the table has (for
  // tests).
  uint32_t slot() const { return slot_.load(std::memory_order_relaxed); }
  uint32_t members() const;

  struct Region;

 private:
  SharedPorts(Region* region, Identity self, LivenessCheck alive, uint32_t slot, std::string name, bool groups_only);
  int claim(bool v6, const uint8_t* addr, uint16_t port, bool on, bool reuse_port, bool reuse_addr);
  Owner decide(bool v6, const uint8_t* dst, uint16_t dst_port, uint32_t flow_hash) const;
  void mark_port(uint16_t port, uint32_t bit, bool ours_only);
  void lock() const;
  void unlock() const;
  void forget_member_locked(uint32_t slot);
  void settle_leader_locked();

  Region* region_;
  Identity self_;
  LivenessCheck alive_;
  // Read by pollers and app threads that drive the stack; changed at join
  // and when leaving (at exit, while other threads may still drive).
  std::atomic<uint32_t> slot_;
  std::string name_;
  uint32_t created_by_;  // getpid() when made: a forked child's copy leaves nothing
  bool groups_only_;
  std::atomic<bool> leader_{false};
  // Our records, counted: several sockets of ours on one (family, addr, port).
  std::mutex local_mutex_;
  std::map<std::tuple<bool, std::array<uint8_t, 16>, uint16_t>, uint32_t> held_;
};

}  // namespace dpdkudp::engine
