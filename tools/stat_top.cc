// dpdkudp-stat --watch on a terminal (see stat_top.h), apart from the
// tool's main so that the fuzz target prints garbage regions through it.
#include "tools/stat_top.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <unordered_map>

namespace dpdkudp::tools {

namespace st = engine::stats;

namespace {

uint32_t shown(const st::Region& r) { return std::min<uint32_t>(r.sockets_shown, st::kMaxSockets); }

// A rate as a column: "-" when unknown.
std::string rate_cell(bool valid, double v) {
  if (!valid) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

std::string id_cell(int32_t v, int32_t unknown) { return v == unknown ? std::string("-") : std::to_string(v); }

double finite_or_zero(double v) { return std::isfinite(v) ? v : 0.0; }

}  // namespace

std::vector<uint32_t> busiest_sockets(const st::Region& r, const st::Region* prev, std::vector<SocketRates>* rates) {
  const uint32_t n = shown(r);
  rates->assign(n, SocketRates{});
  if (prev != nullptr && r.updated_mono_ns > prev->updated_mono_ns) {
    const double dt = static_cast<double>(r.updated_mono_ns - prev->updated_mono_ns) / 1e9;
    std::unordered_map<uint64_t, const st::SocketSlot*> before;
    for (uint32_t i = 0; i < shown(*prev); ++i) before.emplace(prev->sockets[i].id, &prev->sockets[i]);
    for (uint32_t i = 0; i < n; ++i) {
      const st::SocketSlot& s = r.sockets[i];
      auto it = before.find(s.id);
      if (it == before.end()) continue;
      SocketRates& out = (*rates)[i];
      out.valid = true;
      out.rx_dps = finite_or_zero(static_cast<double>(s.rx_datagrams - it->second->rx_datagrams) / dt);
      out.tx_dps = finite_or_zero(static_cast<double>(s.tx_datagrams - it->second->tx_datagrams) / dt);
    }
  }
  std::vector<uint32_t> order(n);
  for (uint32_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const SocketRates& ra = (*rates)[a];
    const SocketRates& rb = (*rates)[b];
    if (ra.rx_dps != rb.rx_dps) return ra.rx_dps > rb.rx_dps;
    if (r.sockets[a].rx_bytes != r.sockets[b].rx_bytes) return r.sockets[a].rx_bytes > r.sockets[b].rx_bytes;
    if (r.sockets[a].id != r.sockets[b].id) return r.sockets[a].id < r.sockets[b].id;
    return a < b;
  });
  return order;
}

std::string top_title(double interval_s, size_t processes) {
  char when[32] = "";
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  if (localtime_r(&now, &tm) != nullptr) std::strftime(when, sizeof when, "%H:%M:%S", &tm);
  char buf[160];
  std::snprintf(buf, sizeof buf, "dpdkudp-stat  %s  every %.2gs  %zu process%s  (Ctrl-C to quit)\n", when, interval_s,
                processes, processes == 1 ? "" : "es");
  return buf;
}

void print_top(std::FILE* out, const st::Region& r, const st::Region* prev, bool stale, const Rates& rt) {
  const st::Totals& t = r.totals;
  std::fprintf(out, "\npid %d (%s)%s%s  %s %s %s %s  mtu %u  queues %u  up %.0fs\n", r.pid, r.comm,
               stale ? " [gone: last values]" : "", stalled(r, stale) ? " [not updating]" : "", r.backend, r.mode,
               r.iface, r.address, r.mtu, r.queues,
               r.started_unix_ns != 0 && r.updated_unix_ns >= r.started_unix_ns
                   ? static_cast<double>(r.updated_unix_ns - r.started_unix_ns) / 1e9
                   : 0.0);
  if (rt.valid) {
    std::fprintf(out, "  rates    rx %.0f pps  tx %.0f pps  delivered %.0f/s  sent %.0f/s  drops %.0f/s\n", rt.rx_pps,
                 rt.tx_pps, rt.delivered, rt.sent, rt.drops);
  } else {
    std::fprintf(out, "  rates    (from the next refresh)\n");
  }
  const uint32_t reasons = std::min<uint32_t>(r.drop_reason_count, st::kMaxDropReasons);
  const st::DropClassTotals c = st::drops_by_class(t.drops, reasons, [&](size_t i) {
    return std::string_view(r.drop_names[i], strnlen(r.drop_names[i], st::kDropNameLen));
  });
  uint64_t stack_drops = 0;
  for (uint32_t i = 0; i < reasons; ++i) stack_drops += t.drops[i];
  std::fprintf(out,
               "  totals   rx %" PRIu64 " frames  tx %" PRIu64 " frames  delivered %" PRIu64 "  sent %" PRIu64
               "  drops: nic %" PRIu64 "  socket buffer %" PRIu64 "  stack %" PRIu64 "\n",
               t.rx_frames, t.tx_frames, t.udp_delivered, t.udp_sent, t.nic_rx_missed + t.nic_rx_no_buffer,
               c[st::DropClass::kSocketBufferFull], stack_drops - c[st::DropClass::kSocketBufferFull]);
  std::fprintf(out, "  sockets  %u open%s\n", r.socket_count,
               shown(r) < r.socket_count ? " (the first ones listed)" : "");
  std::vector<SocketRates> rates;
  const std::vector<uint32_t> order = busiest_sockets(r, prev, &rates);
  if (order.empty()) return;
  std::fprintf(out, "    %5s %8s  %-24s %-24s %9s %9s %12s %14s %9s %9s\n", "FD", "TID", "LOCAL", "REMOTE", "RX/s",
               "TX/s", "RX", "RX_BYTES", "QUEUED", "RX_DROPS");
  for (uint32_t i : order) {
    const st::SocketSlot& s = r.sockets[i];
    std::fprintf(out, "    %5s %8s  %-24s %-24s %9s %9s %12" PRIu64 " %14" PRIu64 " %9" PRIu64 " %9" PRIu64 "\n",
                 id_cell(s.fd, -1).c_str(), id_cell(s.last_reader_tid, 0).c_str(), local_endpoint(s).c_str(),
                 remote_endpoint(s).c_str(), rate_cell(rates[i].valid, rates[i].rx_dps).c_str(),
                 rate_cell(rates[i].valid, rates[i].tx_dps).c_str(), s.rx_datagrams, s.rx_bytes, s.queued_datagrams,
                 s.rx_drops);
  }
}

std::string fit_to_window(std::string_view frame, int rows, int cols) {
  std::string out;
  int row = 0;
  size_t at = 0;
  while (at < frame.size() && (rows <= 0 || row < rows)) {
    size_t end = frame.find('\n', at);
    if (end == std::string_view::npos) end = frame.size();
    std::string_view line = frame.substr(at, end - at);
    if (cols > 0 && line.size() > static_cast<size_t>(cols)) line = line.substr(0, static_cast<size_t>(cols));
    if (row != 0) out += '\n';  // none after the last row: it would scroll
    // Control bytes from a process's name or a garbage region would be
    // taken by the terminal as commands.
    for (char ch : line) {
      const auto u = static_cast<unsigned char>(ch);
      out += (u < 0x20 || u == 0x7f) ? '?' : ch;
    }
    ++row;
    at = end + 1;
  }
  return out;
}

}  // namespace dpdkudp::tools
