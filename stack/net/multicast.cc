#include "stack/net/multicast.h"

#include <algorithm>
#include <cerrno>
#include <memory>

namespace dpdkudp::stack {

using wire::IgmpGroupRecord;
using wire::IgmpRecordType;
using wire::Ipv4Addr;

namespace {

bool contains(const std::vector<Ipv4Addr>& v, Ipv4Addr a) { return std::find(v.begin(), v.end(), a) != v.end(); }

// a minus b, in a's order.
std::vector<Ipv4Addr> minus(const std::vector<Ipv4Addr>& a, const std::vector<Ipv4Addr>& b) {
  std::vector<Ipv4Addr> out;
  for (Ipv4Addr x : a) {
    if (!contains(b, x)) out.push_back(x);
  }
  return out;
}

// The largest IGMP message one frame carries (1500-byte MTU less the IPv4
// header with Router Alert).
constexpr size_t kMaxReport = 1500 - wire::kIpv4RouterAlertHeaderLen;

}  // namespace

MulticastGroups::MulticastGroups(Reclaimer& reclaimer, MulticastLink& link, uint32_t seed)
    : reclaimer_(reclaimer), link_(link), snapshot_(new Snapshot), rng_(0x9e3779b97f4a7c15ULL ^ seed) {}

MulticastGroups::~MulticastGroups() { delete snapshot_.load(std::memory_order_relaxed); }

uint64_t MulticastGroups::random_below(uint64_t bound) {
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return bound == 0 ? 0 : rng_ % bound;
}

const MulticastGroups::Group* MulticastGroups::find(const Snapshot& s, Ipv4Addr group) {
  for (const Group& g : s.groups) {
    if (g.group == group) return &g;
  }
  return nullptr;
}

MulticastGroups::Group* MulticastGroups::find(Snapshot& s, Ipv4Addr group) {
  for (Group& g : s.groups) {
    if (g.group == group) return &g;
  }
  return nullptr;
}

MulticastGroups::Member* MulticastGroups::member_of(Group& g, const UdpSocket* socket) {
  for (Member& m : g.members) {
    if (m.socket == socket) return &m;
  }
  return nullptr;
}

MulticastGroups::State MulticastGroups::state_of(const Group* g) {
  State st;
  if (g == nullptr || g->members.empty()) return st;
  st.joined = true;
  for (const Member& m : g->members) {
    if (!m.include) {
      st.exclude = true;
      st.sources.clear();
      return st;
    }
    for (Ipv4Addr s : m.sources) {
      if (!contains(st.sources, s)) st.sources.push_back(s);
    }
  }
  return st;
}

int MulticastGroups::join(const UdpSocket* socket, Ipv4Addr group, const Ipv4Addr* source, uint64_t now_ns) {
  if (!group.is_multicast()) return -EINVAL;
  std::lock_guard lock(mutex_);
  const Snapshot& cur = *snapshot_.load(std::memory_order_relaxed);
  auto next = std::make_unique<Snapshot>(cur);
  Group* g = find(*next, group);
  Member* m = g != nullptr ? member_of(*g, socket) : nullptr;
  if (m != nullptr) {
    if (source == nullptr) return -EADDRINUSE;  // joined already (any-source or not)
    if (!m->include) return -EINVAL;            // a source join where an any-source one stands
    if (contains(m->sources, *source)) return -EADDRNOTAVAIL;
    if (m->sources.size() >= kMaxSources) return -ENOBUFS;
    m->sources.push_back(*source);
  } else {
    size_t mine = 0;
    for (const Group& x : cur.groups) {
      for (const Member& y : x.members) mine += y.socket == socket ? 1 : 0;
    }
    if (mine >= kMaxMembershipsPerSocket) return -ENOBUFS;
    if (g == nullptr) {
      if (int rc = link_.listen_to_group(group, true); rc != 0) return rc;
      next->groups.push_back(Group{group, {}});
      g = &next->groups.back();
    }
    Member fresh{socket, source != nullptr, {}};
    if (source != nullptr) fresh.sources.push_back(*source);
    g->members.push_back(std::move(fresh));
  }
  commit(std::move(next), group, state_of(find(cur, group)), now_ns);
  return 0;
}

int MulticastGroups::leave(const UdpSocket* socket, Ipv4Addr group, const Ipv4Addr* source, uint64_t now_ns) {
  if (!group.is_multicast()) return -EINVAL;
  std::lock_guard lock(mutex_);
  const Snapshot& cur = *snapshot_.load(std::memory_order_relaxed);
  auto next = std::make_unique<Snapshot>(cur);
  Group* g = find(*next, group);
  if (g == nullptr) return -EADDRNOTAVAIL;
  Member* it = member_of(*g, socket);
  if (it == nullptr) return -EADDRNOTAVAIL;
  if (source != nullptr) {
    if (!it->include) return -EINVAL;
    auto s = std::find(it->sources.begin(), it->sources.end(), *source);
    if (s == it->sources.end()) return -EADDRNOTAVAIL;
    it->sources.erase(s);
  }
  // Left for any source, or the last source of an INCLUDE filter gone.
  if (source == nullptr || it->sources.empty()) g->members.erase(g->members.begin() + (it - g->members.data()));
  commit(std::move(next), group, state_of(find(cur, group)), now_ns);
  return 0;
}

int MulticastGroups::block(const UdpSocket* socket, Ipv4Addr group, Ipv4Addr source, bool on) {
  if (!group.is_multicast()) return -EINVAL;
  std::lock_guard lock(mutex_);
  auto next = std::make_unique<Snapshot>(*snapshot_.load(std::memory_order_relaxed));
  Group* g = find(*next, group);
  if (g == nullptr) return -EADDRNOTAVAIL;
  Member* it = member_of(*g, socket);
  if (it == nullptr) return -EADDRNOTAVAIL;
  if (it->include) return -EINVAL;
  auto s = std::find(it->sources.begin(), it->sources.end(), source);
  if (on) {
    if (s != it->sources.end()) return -EADDRNOTAVAIL;
    if (it->sources.size() >= kMaxSources) return -ENOBUFS;
    it->sources.push_back(source);
  } else {
    if (s == it->sources.end()) return -EADDRNOTAVAIL;
    it->sources.erase(s);
  }
  const Snapshot* old = snapshot_.exchange(next.release(), std::memory_order_acq_rel);
  reclaimer_.retire([old] { delete old; });
  return 0;
}

std::vector<MulticastGroups::Membership> MulticastGroups::memberships(const UdpSocket* socket) const {
  std::vector<Membership> out;
  for (const Group& g : snapshot_.load(std::memory_order_acquire)->groups) {
    for (const Member& m : g.members) {
      if (m.socket == socket) out.push_back({g.group, m.include, m.sources});
    }
  }
  return out;
}

void MulticastGroups::drop_socket(const UdpSocket* socket, uint64_t now_ns) {
  for (;;) {
    Ipv4Addr group;
    {
      std::lock_guard lock(mutex_);
      const Snapshot& cur = *snapshot_.load(std::memory_order_relaxed);
      bool found = false;
      for (const Group& g : cur.groups) {
        for (const Member& m : g.members) {
          if (m.socket == socket) {
            group = g.group;
            found = true;
          }
        }
      }
      if (!found) return;
    }
    leave(socket, group, nullptr, now_ns);
  }
}

void MulticastGroups::commit(std::unique_ptr<Snapshot> next, Ipv4Addr group, const State& before, uint64_t now_ns) {
  Group* g = find(*next, group);
  const State after = state_of(g);
  if (g != nullptr && g->members.empty()) {
    next->groups.erase(next->groups.begin() + (g - next->groups.data()));
    link_.listen_to_group(group, false);
  }
  const Snapshot* old = snapshot_.exchange(next.release(), std::memory_order_acq_rel);
  reclaimer_.retire([old] { delete old; });
  report_change(group, before, after, now_ns);
}

bool MulticastGroups::listening(Ipv4Addr group) const {
  return find(*snapshot_.load(std::memory_order_acquire), group) != nullptr;
}

bool MulticastGroups::allows(const UdpSocket* socket, Ipv4Addr group, Ipv4Addr src, bool mc_all) const {
  const Group* g = find(*snapshot_.load(std::memory_order_acquire), group);
  if (g != nullptr) {
    for (const Member& m : g->members) {
      if (m.socket == socket) return m.include ? contains(m.sources, src) : !contains(m.sources, src);
    }
  }
  return mc_all;
}

int MulticastGroups::version(uint64_t now_ns) const {
  if (now_ns < v1_until_ns_) return 1;
  if (now_ns < v2_until_ns_) return 2;
  return 3;
}

std::vector<Ipv4Addr> MulticastGroups::groups() const {
  std::vector<Ipv4Addr> out;
  for (const Group& g : snapshot_.load(std::memory_order_acquire)->groups) out.push_back(g.group);
  return out;
}

void MulticastGroups::report_change(Ipv4Addr group, const State& before, const State& after, uint64_t now_ns) {
  // A retransmission still due for this group would tell an older state.
  std::erase_if(pending_, [group](const Pending& q) {
    return q.version == 3 ? q.records.front().group == group : q.v2_group == group;
  });
  Pending p;
  p.due_ns = now_ns + 1 + random_below(kReportIntervalNs);
  p.version = version(now_ns);
  if (p.version != 3) {
    // Versions 1 and 2 know only "member" and (v2) "left".
    if (before.joined == after.joined) return;
    if (!after.joined && p.version == 1) return;  // v1 has no leave
    p.v2_group = group;
    p.v2_leave = !after.joined;
    uint8_t msg[8];
    const uint8_t type = p.v2_leave ? wire::igmp_type::kV2Leave
                                    : (p.version == 1 ? wire::igmp_type::kV1Report : wire::igmp_type::kV2Report);
    wire::emit_igmp_v2(type, group, msg);
    link_.send_igmp(msg, p.v2_leave ? wire::kAllRouters : group);
    if (!p.v2_leave) pending_.push_back(std::move(p));  // RFC 2236 3: a leave goes once
    return;
  }
  // RFC 3376 5.1: the records for a change of filter mode or sources.
  if (!before.exclude && !after.exclude) {
    std::vector<Ipv4Addr> allow = minus(after.sources, before.sources);
    std::vector<Ipv4Addr> block = minus(before.sources, after.sources);
    if (!allow.empty()) p.records.push_back({IgmpRecordType::kAllowNewSources, group, allow});
    if (!block.empty()) p.records.push_back({IgmpRecordType::kBlockOldSources, group, block});
  } else if (before.exclude != after.exclude || !before.joined) {
    p.records.push_back(
        {after.exclude ? IgmpRecordType::kChangeToExclude : IgmpRecordType::kChangeToInclude, group, after.sources});
  }
  if (p.records.empty()) return;
  send_records(p.records);
  pending_.push_back(std::move(p));
}

void MulticastGroups::send_records(std::span<const IgmpGroupRecord> records) {
  uint8_t buf[kMaxReport];
  size_t first = 0;
  while (first < records.size()) {
    // As many records as fit one frame (one record is at most 8 + 4 *
    // kMaxSources bytes: always fits).
    size_t last = first + 1;
    while (last < records.size() && wire::igmp_v3_report_len(records.subspan(first, last + 1 - first)) <= kMaxReport) {
      ++last;
    }
    const size_t len = wire::emit_igmp_v3_report(records.subspan(first, last - first), buf);
    if (len != 0) link_.send_igmp({buf, len}, wire::kIgmpV3Routers);
    first = last;
  }
}

void MulticastGroups::send_current_state(const Ipv4Addr* only, uint64_t now_ns) {
  const Snapshot& cur = *snapshot_.load(std::memory_order_relaxed);
  const int v = version(now_ns);
  std::vector<IgmpGroupRecord> records;
  for (const Group& g : cur.groups) {
    if (only != nullptr && g.group != *only) continue;
    if (g.group == wire::kAllSystems) continue;  // never reported (RFC 3376 5)
    if (v != 3) {
      uint8_t msg[8];
      wire::emit_igmp_v2(v == 1 ? wire::igmp_type::kV1Report : wire::igmp_type::kV2Report, g.group, msg);
      link_.send_igmp(msg, g.group);
      continue;
    }
    const State st = state_of(&g);
    records.push_back({st.exclude ? IgmpRecordType::kModeIsExclude : IgmpRecordType::kModeIsInclude, g.group,
                       st.exclude ? std::vector<Ipv4Addr>{} : st.sources});
  }
  if (!records.empty()) send_records(records);
}

void MulticastGroups::on_query(const wire::IgmpQuery& q, uint64_t now_ns) {
  std::lock_guard lock(mutex_);
  if (q.version == 1) v1_until_ns_ = now_ns + kOlderQuerierNs;
  if (q.version == 2) v2_until_ns_ = now_ns + kOlderQuerierNs;
  // v1 queries mean 10 s (RFC 2236 4); else the query's own time.
  const uint64_t max_ns = uint64_t{q.version == 1 ? 100u : q.max_resp_ds} * 100'000'000;
  const uint64_t due = now_ns + 1 + random_below(std::max<uint64_t>(max_ns, 1));
  if (q.group.value == 0) {
    if (general_due_ns_ == 0 || due < general_due_ns_) general_due_ns_ = due;
    return;
  }
  if (!listening(q.group)) return;
  for (auto& [g, when] : group_due_) {
    if (g == q.group) {
      when = std::min(when, due);
      return;
    }
  }
  group_due_.emplace_back(q.group, due);
}

void MulticastGroups::on_timer(uint64_t now_ns) {
  std::lock_guard lock(mutex_);
  if (general_due_ns_ != 0 && now_ns >= general_due_ns_) {
    general_due_ns_ = 0;
    send_current_state(nullptr, now_ns);
    group_due_.clear();  // answered with the rest
  }
  for (size_t i = 0; i < group_due_.size();) {
    if (now_ns >= group_due_[i].second) {
      send_current_state(&group_due_[i].first, now_ns);
      group_due_.erase(group_due_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  for (size_t i = 0; i < pending_.size();) {
    Pending& p = pending_[i];
    if (now_ns < p.due_ns) {
      ++i;
      continue;
    }
    if (p.version == 3) {
      send_records(p.records);
    } else {
      uint8_t msg[8];
      wire::emit_igmp_v2(p.version == 1 ? wire::igmp_type::kV1Report : wire::igmp_type::kV2Report, p.v2_group, msg);
      link_.send_igmp(msg, p.v2_group);
    }
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

}  // namespace dpdkudp::stack
