// IPv4 multicast on the stack's interface: which groups its sockets have
// joined (with their source filters), what the interface therefore
// listens to, and IGMP (RFC 3376, version 3; RFC 2236 and RFC 1112, the
// versions 2 and 1 a router may still speak) to tell the routers so.
//
// Memberships are per socket, as Linux keeps them: an any-source join
// (IP_ADD_MEMBERSHIP, MCAST_JOIN_GROUP) is mode EXCLUDE with no sources;
// source-specific joins (IP_ADD_SOURCE_MEMBERSHIP, MCAST_JOIN_SOURCE_GROUP)
// are mode INCLUDE with up to kMaxSources sources. The interface's state
// for a group merges its sockets' (RFC 3376 3.2): EXCLUDE {} when any
// socket joined for any source, else INCLUDE with the union of sources.
// Every change of that state sends a state-change report at once and once
// more within a second (robustness 2); queries are answered after a random
// delay up to the query's maximum response time. A query of version 1 or 2
// puts the interface in that version's compatibility mode for 400 s.
//
// Threads: joins and leaves come from application threads (under a
// mutex); the receive path reads an immutable snapshot without a lock (the
// stack's Reclaimer frees replaced snapshots); queries and the timer run
// on pollers.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "stack/net/reclaim.h"
#include "stack/wire/bytes.h"
#include "stack/wire/igmp.h"

namespace dpdkudp::stack {

class UdpSocket;

// A group's Ethernet address (RFC 1112 6.4: its low 23 bits).
inline MacAddr ipv4_multicast_mac(wire::Ipv4Addr group) {
  return MacAddr{0x01,
                 0x00,
                 0x5e,
                 static_cast<uint8_t>((group.value >> 16) & 0x7f),
                 static_cast<uint8_t>(group.value >> 8),
                 static_cast<uint8_t>(group.value)};
}

// What the groups need from the stack: IGMP messages on the wire, and the
// link-layer filter.
class MulticastLink {
 public:
  virtual ~MulticastLink() = default;
  // An IGMP message (checksum set) to dst, in an IPv4 header with Router
  // Alert, TTL 1, from the interface's address.
  virtual void send_igmp(std::span<const uint8_t> msg, wire::Ipv4Addr dst) = 0;
  // Start or stop receiving the group's frames at the link (0 or -errno).
  virtual int listen_to_group(wire::Ipv4Addr group, bool on) = 0;
};

class MulticastGroups {
 public:
  // Linux's net.ipv4.igmp_max_memberships and igmp_max_msf.
  static constexpr size_t kMaxMembershipsPerSocket = 20;
  static constexpr size_t kMaxSources = 10;
  // Older-version querier present (Linux: 400 s for both).
  static constexpr uint64_t kOlderQuerierNs = 400'000'000'000;
  // The unsolicited report interval (RFC 3376 8.11: 1 s).
  static constexpr uint64_t kReportIntervalNs = 1'000'000'000;

  MulticastGroups(Reclaimer& reclaimer, MulticastLink& link, uint32_t seed);
  ~MulticastGroups();
  MulticastGroups(const MulticastGroups&) = delete;
  MulticastGroups& operator=(const MulticastGroups&) = delete;

  // Application threads. source nullptr: for any source; else that one
  // source. Linux's errors: EINVAL (not a multicast group; a source join
  // where an any-source one stands, or the reverse), EADDRINUSE (joined
  // already), EADDRNOTAVAIL (not joined; that source not joined), ENOBUFS
  // (past kMaxMembershipsPerSocket or kMaxSources), or the link's error.
  int join(const UdpSocket* socket, wire::Ipv4Addr group, const wire::Ipv4Addr* source, uint64_t now_ns);
  int leave(const UdpSocket* socket, wire::Ipv4Addr group, const wire::Ipv4Addr* source, uint64_t now_ns);
  // IP_BLOCK_SOURCE (block) / IP_UNBLOCK_SOURCE: a source the socket's
  // any-source membership leaves out. The interface keeps listening to
  // the group (its state stays EXCLUDE {}: other sockets may want the
  // source); the socket's filter drops it. EADDRNOTAVAIL when not joined,
  // EINVAL for a source-specific membership, EADDRNOTAVAIL for a source
  // blocked already (block) or not blocked (unblock), ENOBUFS past kMaxSources.
  int block(const UdpSocket* socket, wire::Ipv4Addr group, wire::Ipv4Addr source, bool on);
  // One socket's memberships (a forked child's copy of the socket takes
  // them over). Lock-free: the caller may be a child whose copy of the
  // mutex was held at the fork.
  struct Membership {
    wire::Ipv4Addr group;
    bool include;  // source-specific; else for any source, but `sources`
    std::vector<wire::Ipv4Addr> sources;
  };
  std::vector<Membership> memberships(const UdpSocket* socket) const;
  // The socket closes: all its memberships go.
  void drop_socket(const UdpSocket* socket, uint64_t now_ns);

  // The receive path. Does the interface listen to the group?
  bool listening(wire::Ipv4Addr group) const;
  // May the socket take a datagram to group from src (Linux's
  // ip_mc_sf_allow): by its membership's source filter, or when it has
  // none for the group, by IP_MULTICAST_ALL (mc_all).
  bool allows(const UdpSocket* socket, wire::Ipv4Addr group, wire::Ipv4Addr src, bool mc_all) const;

  // Pollers: a query heard; the stack's timer.
  void on_query(const wire::IgmpQuery& q, uint64_t now_ns);
  void on_timer(uint64_t now_ns);

  // The IGMP version the interface speaks now (3, or 2/1 while an older
  // querier was heard in the last kOlderQuerierNs).
  int version(uint64_t now_ns) const;
  // For tests and the stats: the interface's groups, in join order.
  std::vector<wire::Ipv4Addr> groups() const;

 private:
  struct Member {
    const UdpSocket* socket;
    bool include;  // INCLUDE {sources}; else EXCLUDE {} (any source)
    std::vector<wire::Ipv4Addr> sources;
  };
  struct Group {
    wire::Ipv4Addr group;
    std::vector<Member> members;
  };
  struct Snapshot {
    std::vector<Group> groups;
  };
  // The interface's state for one group (RFC 3376 3.2).
  struct State {
    bool joined = false;
    bool exclude = false;
    std::vector<wire::Ipv4Addr> sources;  // INCLUDE's
  };
  static State state_of(const Group* g);
  static const Group* find(const Snapshot& s, wire::Ipv4Addr group);
  static Group* find(Snapshot& s, wire::Ipv4Addr group);
  // The socket's membership of g, or nullptr.
  static Member* member_of(Group& g, const UdpSocket* socket);
  // Publishes next, sends the reports for group's change from `before`,
  // and moves the link filter. With mutex_ held.
  void commit(std::unique_ptr<Snapshot> next, wire::Ipv4Addr group, const State& before, uint64_t now_ns);
  // The records (or v1/v2 messages) for one group's change, sent now and
  // queued for the retransmission.
  void report_change(wire::Ipv4Addr group, const State& before, const State& after, uint64_t now_ns);
  // Sends v3 records, as many reports as the MTU needs.
  void send_records(std::span<const wire::IgmpGroupRecord> records);
  void send_current_state(const wire::Ipv4Addr* only, uint64_t now_ns);
  uint64_t random_below(uint64_t bound);

  Reclaimer& reclaimer_;
  MulticastLink& link_;
  mutable std::mutex mutex_;  // writers; the timer and queries too
  std::atomic<const Snapshot*> snapshot_;
  uint64_t rng_;
  uint64_t v1_until_ns_ = 0;  // older queriers heard
  uint64_t v2_until_ns_ = 0;
  // Retransmissions of state changes (v3 records or v1/v2 messages).
  struct Pending {
    uint64_t due_ns;
    std::vector<wire::IgmpGroupRecord> records;  // v3
    wire::Ipv4Addr v2_group;                     // v1/v2: a report, or a leave (v2_leave)
    int version = 3;
    bool v2_leave = false;
  };
  std::vector<Pending> pending_;
  // Query answers: a general one, and groups asked about.
  uint64_t general_due_ns_ = 0;  // 0: none
  std::vector<std::pair<wire::Ipv4Addr, uint64_t>> group_due_;
};

}  // namespace dpdkudp::stack
