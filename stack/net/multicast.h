// Multicast on the stack's interface, IPv4 and IPv6: which groups its
// sockets have joined (with their source filters), what the interface
// therefore listens to, and the protocol that tells the routers so: IGMP
// for IPv4 (RFC 3376, version 3; RFC 2236 and RFC 1112, the versions 2 and
// 1 a router may still speak), MLD for IPv6 (RFC 3810, version 2; RFC
// 2710, version 1). One template serves both (BasicMulticastGroups<F>,
// F = IgmpFamily or MldFamily): MLDv2 is IGMPv3 with IPv6 addresses, and
// MLDv1 is IGMPv2.
//
// Memberships are per socket, as Linux keeps them: an any-source join
// (IP_ADD_MEMBERSHIP, IPV6_JOIN_GROUP, MCAST_JOIN_GROUP) is mode EXCLUDE
// with no sources; source-specific joins (IP_ADD_SOURCE_MEMBERSHIP,
// MCAST_JOIN_SOURCE_GROUP) are mode INCLUDE with up to kMaxSources
// sources. The interface's state for a group merges its sockets' (RFC 3376
// 3.2, RFC 3810 4.2): EXCLUDE {} when any socket joined for any source,
// else INCLUDE with the union of sources. Every change of that state sends
// a state-change report at once and once more within a second (robustness
// 2); queries are answered after a random delay up to the query's maximum
// response time. A query of an older version puts the interface in that
// version's compatibility mode for a while (kOlderQuerierNs).
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
#include "stack/wire/mld.h"

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

// The two protocols' differences.
struct IgmpFamily {
  using Addr = wire::Ipv4Addr;
  using Record = wire::IgmpGroupRecord;
  using Query = wire::IgmpQuery;
  static constexpr int kVersion = 3;
  // Linux's net.ipv4.igmp_max_memberships and igmp_max_msf.
  static constexpr size_t kMaxMembershipsPerSocket = 20;
  static constexpr size_t kMaxSources = 10;
  // Older-version querier present (Linux: 400 s for both).
  static constexpr uint64_t kOlderQuerierNs = 400'000'000'000;
  // The largest report one frame carries (1500-byte MTU less the IPv4
  // header with Router Alert).
  static constexpr size_t kMaxReport = 1500 - wire::kIpv4RouterAlertHeaderLen;
  static size_t report_len(std::span<const Record> r) { return wire::igmp_v3_report_len(r); }
  // All systems (224.0.0.1) is never reported (RFC 3376 5).
  static bool never_reported(const Addr& g) { return g == wire::kAllSystems; }
  // Version 1 has no leave (RFC 2236 4).
  static bool has_leave(int version) { return version != 1; }
  // A query's maximum response time; a v1 query means 10 s.
  static uint64_t max_response_ns(const Query& q) {
    return uint64_t{q.version == 1 ? 100u : q.max_resp_ds} * 100'000'000;
  }
};

struct MldFamily {
  using Addr = wire::Ipv6Addr;
  using Record = wire::MldGroupRecord;
  using Query = wire::MldQuery;
  static constexpr int kVersion = 2;
  // Linux has no count of its own for IPv6 (the socket's option memory
  // bounds it); this one keeps the receive path's walk short. Sources:
  // net.ipv6.mld_max_msf.
  static constexpr size_t kMaxMembershipsPerSocket = 64;
  static constexpr size_t kMaxSources = 64;
  // Older Version Querier Present Timeout (RFC 3810 9.12: robustness 2 x
  // query interval 125 s + query response interval 10 s).
  static constexpr uint64_t kOlderQuerierNs = 260'000'000'000;
  // 1500-byte MTU less the IPv6 header and Hop-by-Hop Router Alert.
  static constexpr size_t kMaxReport = 1500 - wire::kIpv6MldHeaderLen;
  static size_t report_len(std::span<const Record> r) { return wire::mld_v2_report_len(r); }
  // Link-scope all-nodes, and interface-local or reserved scopes, are never
  // reported (RFC 3810 6).
  static bool never_reported(const Addr& g) { return g == wire::kAllNodes || g.multicast_scope() <= 1; }
  static bool has_leave(int /*version*/) { return true; }  // MLDv1's done
  static uint64_t max_response_ns(const Query& q) { return uint64_t{q.max_resp_ms} * 1'000'000; }
};

// What the groups need from the stack: the protocol's messages on the
// wire, and the link-layer filter. The stack encodes (an MLD checksum
// covers the addresses it chooses).
template <class F>
class BasicMulticastLink {
 public:
  using Addr = typename F::Addr;
  virtual ~BasicMulticastLink() = default;
  // One current-version report (IGMPv3, MLDv2) with these records (they
  // fit F::kMaxReport).
  virtual void send_report(std::span<const typename F::Record> records) = 0;
  // An older version's report of group, or its leave (IGMPv2 leave, MLDv1
  // done).
  virtual void send_old(int version, bool leave, const Addr& group) = 0;
  // Start or stop receiving the group's frames at the link (0 or -errno).
  virtual int listen_to_group(const Addr& group, bool on) = 0;
};

template <class F>
class BasicMulticastGroups {
 public:
  using Addr = typename F::Addr;
  using Record = typename F::Record;
  static constexpr size_t kMaxMembershipsPerSocket = F::kMaxMembershipsPerSocket;
  static constexpr size_t kMaxSources = F::kMaxSources;
  static constexpr uint64_t kOlderQuerierNs = F::kOlderQuerierNs;
  // The unsolicited report interval (RFC 3376 8.11, RFC 3810 9.11: 1 s).
  static constexpr uint64_t kReportIntervalNs = 1'000'000'000;

  BasicMulticastGroups(Reclaimer& reclaimer, BasicMulticastLink<F>& link, uint32_t seed);
  ~BasicMulticastGroups();
  BasicMulticastGroups(const BasicMulticastGroups&) = delete;
  BasicMulticastGroups& operator=(const BasicMulticastGroups&) = delete;

  // Application threads. source nullptr: for any source; else that one
  // source. A source join where an any-source membership with no blocked
  // source stands switches it to that source (Linux's mode switch for an
  // empty filter). Linux's errors: EINVAL (not a multicast group; a source
  // join where an any-source one with blocked sources stands, or the
  // reverse; a source leave without a membership), EADDRINUSE (joined
  // already), EADDRNOTAVAIL (not joined; that source not joined), ENOBUFS
  // (past kMaxMembershipsPerSocket or kMaxSources), or the link's error.
  int join(const UdpSocket* socket, const Addr& group, const Addr* source, uint64_t now_ns);
  int leave(const UdpSocket* socket, const Addr& group, const Addr* source, uint64_t now_ns);
  // IP_BLOCK_SOURCE (block) / IP_UNBLOCK_SOURCE, MCAST_(UN)BLOCK_SOURCE: a
  // source the socket's any-source membership leaves out. The interface
  // keeps listening to the group (its state stays EXCLUDE {}: other
  // sockets may want the source); the socket's filter drops it.
  // EINVAL when not joined or for a source-specific membership,
  // EADDRNOTAVAIL for a source blocked already (block) or not blocked
  // (unblock), ENOBUFS past kMaxSources.
  int block(const UdpSocket* socket, const Addr& group, const Addr& source, bool on);
  // One socket's memberships (a forked child's copy of the socket takes
  // them over). Lock-free: the caller may be a child whose copy of the
  // mutex was held at the fork.
  struct Membership {
    Addr group;
    bool include;  // source-specific; else for any source, but `sources`
    std::vector<Addr> sources;
  };
  std::vector<Membership> memberships(const UdpSocket* socket) const;
  // The socket closes: all its memberships go.
  void drop_socket(const UdpSocket* socket, uint64_t now_ns);

  // The receive path. Does the interface listen to the group?
  bool listening(const Addr& group) const;
  // May the socket take a datagram to group from src (Linux's
  // ip_mc_sf_allow, inet6_mc_check): by its membership's source filter,
  // or when it has none for the group, by the socket's multicast-all
  // option (mc_all).
  bool allows(const UdpSocket* socket, const Addr& group, const Addr& src, bool mc_all) const;

  // Pollers: a query heard; the stack's timer.
  void on_query(const typename F::Query& q, uint64_t now_ns);
  void on_timer(uint64_t now_ns);

  // The version the interface speaks now (F::kVersion, or an older one
  // while such a querier was heard in the last kOlderQuerierNs).
  int version(uint64_t now_ns) const;
  // For tests and the stats: the interface's groups, in join order.
  std::vector<Addr> groups() const;
  // Calls f(group, socket) for every membership, under the writers' lock
  // (the socket cannot close meanwhile): for the engine's publication of
  // the process's groups to the others on the interface, not a fast path.
  template <typename Fn>
  void for_each_membership(Fn&& f) const {
    std::lock_guard lock(mutex_);
    for (const Group& g : snapshot_.load(std::memory_order_acquire)->groups) {
      for (const Member& m : g.members) f(g.group, *m.socket);
    }
  }

 private:
  struct Member {
    const UdpSocket* socket;
    bool include;  // INCLUDE {sources}; else EXCLUDE {} (any source)
    std::vector<Addr> sources;
  };
  struct Group {
    Addr group;
    std::vector<Member> members;
  };
  struct Snapshot {
    std::vector<Group> groups;
  };
  // The interface's state for one group (RFC 3376 3.2).
  struct State {
    bool joined = false;
    bool exclude = false;
    std::vector<Addr> sources;  // INCLUDE's
  };
  static State state_of(const Group* g);
  static const Group* find(const Snapshot& s, const Addr& group);
  static Group* find(Snapshot& s, const Addr& group);
  // The socket's membership of g, or nullptr.
  static Member* member_of(Group& g, const UdpSocket* socket);
  // Publishes next, sends the reports for group's change from `before`,
  // and moves the link filter. With mutex_ held.
  void commit(std::unique_ptr<Snapshot> next, const Addr& group, const State& before, uint64_t now_ns);
  // The records (or older-version messages) for one group's change, sent
  // now and queued for the retransmission.
  void report_change(const Addr& group, const State& before, const State& after, uint64_t now_ns);
  // Sends current-version records, as many reports as the MTU needs.
  void send_records(std::span<const Record> records);
  void send_current_state(const Addr* only, uint64_t now_ns);
  uint64_t random_below(uint64_t bound);

  Reclaimer& reclaimer_;
  BasicMulticastLink<F>& link_;
  mutable std::mutex mutex_;  // writers; the timer and queries too
  std::atomic<const Snapshot*> snapshot_;
  uint64_t rng_;
  // Older queriers heard: until when version v (index v) is spoken.
  uint64_t older_until_ns_[F::kVersion] = {};
  // Retransmissions of state changes (records, or an older version's
  // report).
  struct Pending {
    uint64_t due_ns;
    std::vector<Record> records;  // current version
    Addr old_group;               // older version: a report
    int version = F::kVersion;
  };
  std::vector<Pending> pending_;
  // Query answers: a general one, and groups asked about.
  uint64_t general_due_ns_ = 0;  // 0: none
  std::vector<std::pair<Addr, uint64_t>> group_due_;
};

extern template class BasicMulticastGroups<IgmpFamily>;
extern template class BasicMulticastGroups<MldFamily>;

using MulticastLink = BasicMulticastLink<IgmpFamily>;
using MulticastLink6 = BasicMulticastLink<MldFamily>;
using MulticastGroups = BasicMulticastGroups<IgmpFamily>;
using MulticastGroups6 = BasicMulticastGroups<MldFamily>;

}  // namespace dpdkudp::stack
