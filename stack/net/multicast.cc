#include "stack/net/multicast.h"

#include <algorithm>
#include <cerrno>
#include <memory>

namespace dpdkudp::stack {

using wire::IgmpRecordType;

namespace {

template <class A>
bool contains(const std::vector<A>& v, const A& a) {
  return std::find(v.begin(), v.end(), a) != v.end();
}

// a minus b, in a's order.
template <class A>
std::vector<A> minus(const std::vector<A>& a, const std::vector<A>& b) {
  std::vector<A> out;
  for (const A& x : a) {
    if (!contains(b, x)) out.push_back(x);
  }
  return out;
}

}  // namespace

template <class F>
BasicMulticastGroups<F>::BasicMulticastGroups(Reclaimer& reclaimer, BasicMulticastLink<F>& link, uint32_t seed)
    : reclaimer_(reclaimer), link_(link), snapshot_(new Snapshot), rng_(0x9e3779b97f4a7c15ULL ^ seed) {}

template <class F>
BasicMulticastGroups<F>::~BasicMulticastGroups() {
  delete snapshot_.load(std::memory_order_relaxed);
}

template <class F>
uint64_t BasicMulticastGroups<F>::random_below(uint64_t bound) {
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return bound == 0 ? 0 : rng_ % bound;
}

template <class F>
const typename BasicMulticastGroups<F>::Group* BasicMulticastGroups<F>::find(const Snapshot& s, const Addr& group) {
  for (const Group& g : s.groups) {
    if (g.group == group) return &g;
  }
  return nullptr;
}

template <class F>
typename BasicMulticastGroups<F>::Group* BasicMulticastGroups<F>::find(Snapshot& s, const Addr& group) {
  for (Group& g : s.groups) {
    if (g.group == group) return &g;
  }
  return nullptr;
}

template <class F>
typename BasicMulticastGroups<F>::Member* BasicMulticastGroups<F>::member_of(Group& g, const UdpSocket* socket) {
  for (Member& m : g.members) {
    if (m.socket == socket) return &m;
  }
  return nullptr;
}

template <class F>
typename BasicMulticastGroups<F>::State BasicMulticastGroups<F>::state_of(const Group* g) {
  State st;
  if (g == nullptr || g->members.empty()) return st;
  st.joined = true;
  for (const Member& m : g->members) {
    if (!m.include) {
      st.exclude = true;
      st.sources.clear();
      return st;
    }
    for (const Addr& s : m.sources) {
      if (!contains(st.sources, s)) st.sources.push_back(s);
    }
  }
  return st;
}

template <class F>
int BasicMulticastGroups<F>::join(const UdpSocket* socket, const Addr& group, const Addr* source, uint64_t now_ns) {
  if (!group.is_multicast()) return -EINVAL;
  std::lock_guard lock(mutex_);
  const Snapshot& cur = *snapshot_.load(std::memory_order_relaxed);
  auto next = std::make_unique<Snapshot>(cur);
  Group* g = find(*next, group);
  Member* m = g != nullptr ? member_of(*g, socket) : nullptr;
  if (m != nullptr) {
    if (source == nullptr) return -EADDRINUSE;  // joined already (any-source or not)
    if (!m->include) {
      // A source join where an any-source one stands: Linux switches an
      // empty filter's mode (EXCLUDE {} -> INCLUDE {source}), else EINVAL.
      if (!m->sources.empty()) return -EINVAL;
      m->include = true;
    }
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

template <class F>
int BasicMulticastGroups<F>::leave(const UdpSocket* socket, const Addr& group, const Addr* source, uint64_t now_ns) {
  if (!group.is_multicast()) return -EINVAL;
  std::lock_guard lock(mutex_);
  const Snapshot& cur = *snapshot_.load(std::memory_order_relaxed);
  auto next = std::make_unique<Snapshot>(cur);
  // Not joined: a source change needs a prior join (Linux's EINVAL).
  const int not_joined = source != nullptr ? -EINVAL : -EADDRNOTAVAIL;
  Group* g = find(*next, group);
  if (g == nullptr) return not_joined;
  Member* it = member_of(*g, socket);
  if (it == nullptr) return not_joined;
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

template <class F>
int BasicMulticastGroups<F>::block(const UdpSocket* socket, const Addr& group, const Addr& source, bool on) {
  if (!group.is_multicast()) return -EINVAL;
  std::lock_guard lock(mutex_);
  auto next = std::make_unique<Snapshot>(*snapshot_.load(std::memory_order_relaxed));
  Group* g = find(*next, group);
  if (g == nullptr) return -EINVAL;  // Linux: a source filter needs a prior join
  Member* it = member_of(*g, socket);
  if (it == nullptr) return -EINVAL;
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

template <class F>
std::vector<typename BasicMulticastGroups<F>::Membership> BasicMulticastGroups<F>::memberships(
    const UdpSocket* socket) const {
  std::vector<Membership> out;
  for (const Group& g : snapshot_.load(std::memory_order_acquire)->groups) {
    for (const Member& m : g.members) {
      if (m.socket == socket) out.push_back({g.group, m.include, m.sources});
    }
  }
  return out;
}

template <class F>
void BasicMulticastGroups<F>::drop_socket(const UdpSocket* socket, uint64_t now_ns) {
  for (;;) {
    Addr group;
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

template <class F>
void BasicMulticastGroups<F>::commit(std::unique_ptr<Snapshot> next, const Addr& group, const State& before,
                                     uint64_t now_ns) {
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

template <class F>
bool BasicMulticastGroups<F>::listening(const Addr& group) const {
  return find(*snapshot_.load(std::memory_order_acquire), group) != nullptr;
}

template <class F>
bool BasicMulticastGroups<F>::allows(const UdpSocket* socket, const Addr& group, const Addr& src, bool mc_all) const {
  const Group* g = find(*snapshot_.load(std::memory_order_acquire), group);
  if (g != nullptr) {
    for (const Member& m : g->members) {
      if (m.socket == socket) return m.include ? contains(m.sources, src) : !contains(m.sources, src);
    }
  }
  return mc_all;
}

template <class F>
int BasicMulticastGroups<F>::version(uint64_t now_ns) const {
  for (int v = 1; v < F::kVersion; ++v) {
    if (now_ns < older_until_ns_[v]) return v;
  }
  return F::kVersion;
}

template <class F>
std::vector<typename F::Addr> BasicMulticastGroups<F>::groups() const {
  std::vector<Addr> out;
  for (const Group& g : snapshot_.load(std::memory_order_acquire)->groups) out.push_back(g.group);
  return out;
}

template <class F>
void BasicMulticastGroups<F>::report_change(const Addr& group, const State& before, const State& after,
                                            uint64_t now_ns) {
  // A retransmission still due for this group would tell an older state.
  std::erase_if(pending_, [&group](const Pending& q) {
    return q.version == F::kVersion ? q.records.front().group == group : q.old_group == group;
  });
  Pending p;
  p.due_ns = now_ns + 1 + random_below(kReportIntervalNs);
  p.version = version(now_ns);
  if (p.version != F::kVersion) {
    // The older versions know only "member" and (most) "left".
    if (before.joined == after.joined) return;
    const bool leave = !after.joined;
    if (leave && !F::has_leave(p.version)) return;
    link_.send_old(p.version, leave, group);
    if (leave) return;  // a leave goes once (RFC 2236 3, RFC 2710 4)
    p.old_group = group;
    pending_.push_back(std::move(p));
    return;
  }
  // RFC 3376 5.1, RFC 3810 6.1: the records for a change of filter mode or
  // sources.
  if (!before.exclude && !after.exclude) {
    std::vector<Addr> allow = minus(after.sources, before.sources);
    std::vector<Addr> block = minus(before.sources, after.sources);
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

template <class F>
void BasicMulticastGroups<F>::send_records(std::span<const Record> records) {
  size_t first = 0;
  while (first < records.size()) {
    // As many records as fit one frame (one record with kMaxSources
    // sources always fits).
    size_t last = first + 1;
    while (last < records.size() && F::report_len(records.subspan(first, last + 1 - first)) <= F::kMaxReport) {
      ++last;
    }
    link_.send_report(records.subspan(first, last - first));
    first = last;
  }
}

template <class F>
void BasicMulticastGroups<F>::send_current_state(const Addr* only, uint64_t now_ns) {
  const Snapshot& cur = *snapshot_.load(std::memory_order_relaxed);
  const int v = version(now_ns);
  std::vector<Record> records;
  for (const Group& g : cur.groups) {
    if (only != nullptr && g.group != *only) continue;
    if (F::never_reported(g.group)) continue;
    if (v != F::kVersion) {
      link_.send_old(v, false, g.group);
      continue;
    }
    const State st = state_of(&g);
    records.push_back({st.exclude ? IgmpRecordType::kModeIsExclude : IgmpRecordType::kModeIsInclude, g.group,
                       st.exclude ? std::vector<Addr>{} : st.sources});
  }
  if (!records.empty()) send_records(records);
}

template <class F>
void BasicMulticastGroups<F>::on_query(const typename F::Query& q, uint64_t now_ns) {
  std::lock_guard lock(mutex_);
  if (q.version >= 1 && q.version < F::kVersion) older_until_ns_[q.version] = now_ns + kOlderQuerierNs;
  const uint64_t max_ns = F::max_response_ns(q);
  const uint64_t due = now_ns + 1 + random_below(std::max<uint64_t>(max_ns, 1));
  if (q.group.is_unspecified()) {
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

template <class F>
void BasicMulticastGroups<F>::on_timer(uint64_t now_ns) {
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
    if (p.version == F::kVersion) {
      send_records(p.records);
    } else {
      link_.send_old(p.version, false, p.old_group);
    }
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

template class BasicMulticastGroups<IgmpFamily>;
template class BasicMulticastGroups<MldFamily>;

}  // namespace dpdkudp::stack
