#include "engine/stats.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "engine/poller.h"

namespace dpdkudp::engine {
namespace {

template <size_t N>
void put(char (&dst)[N], const std::string& s) {
  size_t n = std::min(s.size(), N - 1);
  std::memcpy(dst, s.data(), n);
  dst[n] = '\0';
}

uint64_t sum_drops(const stats::Totals& t) {
  uint64_t n = 0;
  for (uint64_t d : t.drops) n += d;
  return n;
}

double rate(uint64_t now, uint64_t prev, uint64_t interval_ns) {
  return interval_ns == 0 ? 0.0 : static_cast<double>(now - prev) * 1e9 / static_cast<double>(interval_ns);
}

}  // namespace

LiveStats::LiveStats(stack::Stack& stack, Backend& backend, const std::vector<Poller*>& pollers,
                     const KernelPathCounters& kernel_path, uint32_t perf_interval_s)
    : stack_(stack),
      backend_(backend),
      pollers_(pollers),
      kernel_path_(kernel_path),
      perf_interval_ns_(uint64_t{perf_interval_s} * 1'000'000'000u) {}

bool LiveStats::open_region(const StatsIdentity& id, std::string* error) {
  if (!writer_.open(error)) return false;
  stats::Region* r = writer_.region();
  writer_.begin_update();
  // The process's name (its main thread's), whichever thread starts us.
  std::string comm;
  if (FILE* f = std::fopen("/proc/self/comm", "re")) {
    char buf[64] = {};
    if (std::fgets(buf, sizeof buf, f) != nullptr) comm = buf;
    std::fclose(f);
  }
  while (!comm.empty() && (comm.back() == '\n' || comm.back() == '\r')) comm.pop_back();
  put(r->comm, comm);
  put(r->backend, id.backend);
  put(r->mode, id.mode);
  put(r->iface, id.iface);
  put(r->address, id.address);
  put(r->address6, id.address6);
  put(r->description, id.description);
  r->mtu = id.mtu;
  r->queues = static_cast<uint32_t>(pollers_.size());
  r->started_unix_ns = stack_.clock().realtime_ns();
  static_assert(stack::kDropReasonCount <= stats::kMaxDropReasons);
  r->drop_reason_count = static_cast<uint32_t>(stack::kDropReasonCount);
  for (size_t i = 0; i < stack::kDropReasonCount; ++i) {
    put(r->drop_names[i], std::string(stack::drop_reason_name(static_cast<stack::DropReason>(i))));
  }
  static_assert(stack::kTunnelDropCount == stats::kTunnelDropReasons);
  r->tunnel_count = static_cast<uint32_t>(std::min(stack_.tunnel_count(), stats::kMaxTunnels));
  for (size_t i = 0; i < r->tunnel_count; ++i) {
    const stack::Tunnel& t = stack_.tunnel(i);
    const stack::TunnelConfig& c = t.config();
    std::string d = std::string(stack::tunnel_kind_name(c.kind));
    if (c.kind != stack::TunnelKind::kGue) d += " vni=" + std::to_string(c.vni);
    d += " remote=" + (c.outer_v6 ? c.remote6.to_string() : c.remote.to_string()) + " inner=" + c.inner.to_string() +
         " port=" + std::to_string(c.outer_port()) + " mtu=" + std::to_string(t.mtu());
    put(r->tunnels[i].describe, d);
  }
  writer_.end_update();
  return true;
}

void LiveStats::collect(stats::Totals* t) const {
  stack::CounterSnapshot c = stack_.counters();
  BackendStats b = backend_.stats();
  *t = stats::Totals{};
  t->rx_frames = c.rx_frames;
  t->rx_bytes = c.rx_bytes;
  t->tx_frames = c.tx_frames;
  t->tx_bytes = c.tx_bytes;
  t->udp_delivered = c.udp_delivered;
  t->udp_sent = c.tx_udp_datagrams;
  t->loopback = c.loopback;
  t->arp_received = c.arp_received;
  t->arp_replies_sent = c.arp_replies_sent;
  t->arp_requests_sent = c.arp_requests_sent;
  t->icmp_echo_replies = c.icmp_echo_replies;
  t->icmp_errors_received = c.icmp_errors_received;
  t->icmp_unreach_sent = c.icmp_unreach_sent;
  t->icmp_rate_limited = c.icmp_rate_limited;
  t->ndp_received = c.ndp_received;
  t->ndp_adverts_sent = c.ndp_adverts_sent;
  t->ndp_solicits_sent = c.ndp_solicits_sent;
  t->igmp_received = c.igmp_received;
  t->igmp_sent = c.igmp_sent;
  t->mld_received = c.mld_received;
  t->mld_sent = c.mld_sent;
  t->nic_rx_packets = b.rx_packets;
  t->nic_tx_packets = b.tx_packets;
  t->nic_rx_missed = b.rx_missed;
  t->nic_rx_no_buffer = b.rx_no_buffer;
  t->nic_rx_errors = b.rx_errors;
  t->nic_tx_errors = b.tx_errors;
  t->kernel_rx_datagrams = kernel_path_.rx.get();
  t->kernel_tx_datagrams = kernel_path_.tx.get();
  t->handoff_sent = kernel_path_.handoff_sent.get();
  t->handoff_received = kernel_path_.handoff_received.get();
  t->handoff_dropped = kernel_path_.handoff_dropped.get();
  for (const Poller* p : pollers_) {
    t->poller_sleeps += p->sleeps();
    t->poller_wakeups += p->wakeups();
  }
  for (size_t i = 0; i < stack::kDropReasonCount; ++i) t->drops[i] = c.drops[i];
}

void LiveStats::publish(const stats::Totals& totals, uint64_t mono_ns) {
  stats::Region* r = writer_.region();
  writer_.begin_update();
  r->totals = totals;
  uint32_t count = 0;
  uint32_t shown = 0;
  stack_.for_each_socket([&](const stack::UdpSocket& s) {
    ++count;
    if (shown == stats::kMaxSockets) return;
    stats::SocketSlot& slot = r->sockets[shown++];
    slot = stats::SocketSlot{};
    slot.id = s.id();
    if (auto l = s.local()) {
      slot.local_addr = l->addr.value;
      slot.local_port = l->port;
      slot.local_v6 = l->v6 ? 1 : 0;
      l->addr6.store(slot.local6);
    }
    if (auto rem = s.remote()) {
      slot.remote_addr = rem->addr.value;
      slot.remote_port = rem->port;
      slot.remote_v6 = rem->v6 ? 1 : 0;
      rem->addr6.store(slot.remote6);
    }
    slot.rcvbuf = s.rcvbuf();
    slot.ipv6 = s.ipv6() ? 1 : 0;
    slot.fd = s.owner_fd();
    slot.last_reader_tid = s.last_reader_tid();
    stack::SocketStats st = s.stats();
    slot.rx_datagrams = st.rx_datagrams;
    slot.rx_bytes = st.rx_bytes;
    slot.rx_drops = st.rx_drops;
    slot.tx_datagrams = st.tx_datagrams;
    slot.tx_bytes = st.tx_bytes;
    slot.tx_drops = st.tx_drops;
    slot.queued_bytes = st.queued_bytes;
    slot.queued_datagrams = st.queued_datagrams;
  });
  r->socket_count = count;
  r->sockets_shown = shown;
  for (size_t i = 0; i < r->tunnel_count; ++i) {
    const stack::TunnelCounterSnapshot c = stack_.tunnel(i).counters();
    stats::TunnelSlot& slot = r->tunnels[i];
    slot.rx_frames = c.rx_frames;
    slot.rx_bytes = c.rx_bytes;
    slot.tx_frames = c.tx_frames;
    slot.tx_bytes = c.tx_bytes;
    for (size_t d = 0; d < stats::kTunnelDropReasons; ++d) slot.drops[d] = c.drops[d];
  }
  r->updated_unix_ns = stack_.clock().realtime_ns();
  r->updated_mono_ns = mono_ns;
  writer_.end_update();
}

void LiveStats::on_tick(uint64_t mono_ns) {
  const bool perf_due = perf_interval_ns_ != 0 && mono_ns >= next_perf_ns_;
  if (!writer_.is_open() && !perf_due) return;
  stats::Totals now;
  collect(&now);  // once a tick, for both
  if (writer_.is_open()) publish(now, mono_ns);
  if (!perf_due) return;
  if (next_perf_ns_ == 0) {  // the first tick starts the first interval
    last_perf_ = now;
    last_perf_ns_ = mono_ns;
    next_perf_ns_ = mono_ns + perf_interval_ns_;
    return;
  }
  std::string line = perf_line(now, last_perf_, mono_ns - last_perf_ns_, stack_.open_sockets()) + "\n";
  // The poller is an engine thread: this write goes straight to libc.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
  last_perf_ = now;
  last_perf_ns_ = mono_ns;
  next_perf_ns_ = mono_ns + perf_interval_ns_;
}

std::string LiveStats::perf_line(const stats::Totals& now, const stats::Totals& prev, uint64_t interval_ns,
                                 size_t sockets) {
  auto d = [&](uint64_t stats::Totals::*f) { return now.*f - prev.*f; };
  uint64_t delta[stack::kDropReasonCount];
  for (size_t i = 0; i < stack::kDropReasonCount; ++i) delta[i] = now.drops[i] - prev.drops[i];
  const stats::DropClassTotals c = stats::drops_by_class(delta, stack::kDropReasonCount, [](size_t i) {
    return stack::drop_reason_name(static_cast<stack::DropReason>(i));
  });
  uint64_t checksum = c[stats::DropClass::kChecksum];
  uint64_t malformed = c[stats::DropClass::kMalformed];
  uint64_t sockbuf = c[stats::DropClass::kSocketBufferFull];
  uint64_t arp = c[stats::DropClass::kArpUnresolved];
  uint64_t all = sum_drops(now) - sum_drops(prev);
  char buf[512];
  std::snprintf(
      buf, sizeof buf,
      "[PERF] dpdkudp pid=%d interval=%.1fs rx=%.0f pps (%.1f Mbit/s) tx=%.0f pps (%.1f Mbit/s) "
      "delivered=%.0f/s sent=%.0f/s kernel_path=%.0f/s drops: nic=%llu sockbuf=%llu checksum=%llu "
      "malformed=%llu arp=%llu other=%llu sockets=%zu poller_wakeups=%.0f/s",
      static_cast<int>(getpid()), static_cast<double>(interval_ns) / 1e9,
      rate(now.rx_frames, prev.rx_frames, interval_ns), rate(now.rx_bytes, prev.rx_bytes, interval_ns) * 8 / 1e6,
      rate(now.tx_frames, prev.tx_frames, interval_ns), rate(now.tx_bytes, prev.tx_bytes, interval_ns) * 8 / 1e6,
      rate(now.udp_delivered, prev.udp_delivered, interval_ns), rate(now.udp_sent, prev.udp_sent, interval_ns),
      rate(now.kernel_rx_datagrams + now.kernel_tx_datagrams, prev.kernel_rx_datagrams + prev.kernel_tx_datagrams,
           interval_ns),
      static_cast<unsigned long long>(d(&stats::Totals::nic_rx_missed) + d(&stats::Totals::nic_rx_no_buffer)),
      static_cast<unsigned long long>(sockbuf), static_cast<unsigned long long>(checksum),
      static_cast<unsigned long long>(malformed), static_cast<unsigned long long>(arp),
      static_cast<unsigned long long>(all - sockbuf - checksum - malformed - arp), sockets,
      rate(now.poller_wakeups, prev.poller_wakeups, interval_ns));
  return buf;
}

}  // namespace dpdkudp::engine
