// dpdkudp-stat: the live counters of running shim processes, read from the
// shared-memory region each engine publishes (/dev/shm/dpdkudp.<pid>).
//
//   dpdkudp-stat              every shim process
//   dpdkudp-stat PID...       those processes
//   --watch [S]               refresh every S seconds, with rates
//   --json                    one JSON object per process (per refresh)
//   --clean                   remove regions left by processes that died
#include <CLI/CLI.hpp>

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/stats_shm.h"

namespace st = dpdkudp::engine::stats;

namespace {

std::string ip(uint32_t host_order) {
  in_addr a{htonl(host_order)};
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

std::string endpoint(uint32_t addr, uint16_t port, bool local) {
  if (addr == 0 && port == 0) return local ? "unbound" : "-";
  return (addr == 0 ? std::string("*") : ip(addr)) + ":" + std::to_string(port);
}

// An IPv6 endpoint as [addr]:port ([*] for ::).
std::string endpoint6(const uint8_t (&addr)[16], uint16_t port) {
  static constexpr uint8_t kAny[16] = {};
  char text[INET6_ADDRSTRLEN] = "?";
  if (std::memcmp(addr, kAny, sizeof kAny) == 0) {
    std::strcpy(text, "*");
  } else {
    inet_ntop(AF_INET6, addr, text, sizeof text);
  }
  return std::string("[") + text + "]:" + std::to_string(port);
}

std::string local_of(const st::SocketSlot& s) {
  return s.local_v6 ? endpoint6(s.local6, s.local_port) : endpoint(s.local_addr, s.local_port, true);
}
std::string remote_of(const st::SocketSlot& s) {
  return s.remote_v6 ? endpoint6(s.remote6, s.remote_port) : endpoint(s.remote_addr, s.remote_port, false);
}

std::string json_escape(const char* s) {
  std::string out;
  for (; *s != '\0'; ++s) {
    unsigned char c = static_cast<unsigned char>(*s);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// The drop hierarchy, outermost first: where a datagram can be lost on its
// way from the wire to the application.
struct Hierarchy {
  uint64_t nic_missed, nic_no_buffer, nic_errors;
  uint64_t malformed, checksum, not_for_us, unsupported, fragments, no_socket;
  uint64_t socket_buffer_full, arp_unresolved, tx_failed;
};

Hierarchy hierarchy(const st::Region& r) {
  Hierarchy h{};
  const st::Totals& t = r.totals;
  h.nic_missed = t.nic_rx_missed;
  h.nic_no_buffer = t.nic_rx_no_buffer;
  h.nic_errors = t.nic_rx_errors;
  const uint32_t reasons = std::min<uint32_t>(r.drop_reason_count, st::kMaxDropReasons);
  const st::DropClassTotals c = st::drops_by_class(t.drops, reasons, [&](size_t i) {
    return std::string_view(r.drop_names[i], strnlen(r.drop_names[i], st::kDropNameLen));
  });
  h.malformed = c[st::DropClass::kMalformed];
  h.checksum = c[st::DropClass::kChecksum];
  h.not_for_us = c[st::DropClass::kNotForUs];
  h.unsupported = c[st::DropClass::kUnsupported];
  h.fragments = c[st::DropClass::kFragment];
  h.no_socket = c[st::DropClass::kNoSocket];
  h.socket_buffer_full = c[st::DropClass::kSocketBufferFull];
  h.arp_unresolved = c[st::DropClass::kArpUnresolved];
  h.tx_failed = c[st::DropClass::kTxFailed];
  return h;
}

double seconds_since(uint64_t unix_ns) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t now = static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
  return unix_ns == 0 || now < unix_ns ? 0.0 : static_cast<double>(now - unix_ns) / 1e9;
}

struct Rates {
  bool valid = false;
  double rx_pps = 0, tx_pps = 0, delivered = 0, sent = 0, drops = 0;
};

uint64_t all_drops(const st::Region& r) {
  uint64_t n = r.totals.nic_rx_missed + r.totals.nic_rx_no_buffer;
  for (uint32_t i = 0; i < r.drop_reason_count && i < st::kMaxDropReasons; ++i) n += r.totals.drops[i];
  return n;
}

Rates rates(const st::Region& now, const st::Region* prev) {
  Rates out;
  if (prev == nullptr || now.updated_mono_ns <= prev->updated_mono_ns) return out;
  double dt = static_cast<double>(now.updated_mono_ns - prev->updated_mono_ns) / 1e9;
  out.valid = true;
  out.rx_pps = static_cast<double>(now.totals.rx_frames - prev->totals.rx_frames) / dt;
  out.tx_pps = static_cast<double>(now.totals.tx_frames - prev->totals.tx_frames) / dt;
  out.delivered = static_cast<double>(now.totals.udp_delivered - prev->totals.udp_delivered) / dt;
  out.sent = static_cast<double>(now.totals.udp_sent - prev->totals.udp_sent) / dt;
  out.drops = static_cast<double>(all_drops(now) - all_drops(*prev)) / dt;
  return out;
}

// The poller publishes at every timer tick (50 ms), busy or idle: a live
// process whose region is older than this has a poller that is not running
// (the process is stopped, the poller is stuck, or the program exec'd).
constexpr double kStalledAfterS = 1.0;

bool stalled(const st::Region& r, bool stale) {
  return !stale && r.updated_unix_ns != 0 && seconds_since(r.updated_unix_ns) > kStalledAfterS;
}

void print_text(const st::Region& r, bool stale, const Rates& rt) {
  const st::Totals& t = r.totals;
  std::printf("pid %d (%s)%s%s  backend=%s mode=%s iface=%s ip=%s mtu=%u queues=%u\n", r.pid, r.comm,
              stale ? " [gone: last values]" : "",
              stalled(r, stale) ? " [not updating: process stopped, poller stuck, or exec'd]" : "", r.backend, r.mode,
              r.iface, r.address, r.mtu, r.queues);
  if (r.address6[0] != '\0') std::printf("  ip6        %s\n", r.address6);
  if (r.description[0] != '\0') std::printf("  device     %s\n", r.description);
  std::printf("  up %.1fs, updated %.2fs ago\n",
              r.started_unix_ns ? static_cast<double>(r.updated_unix_ns - r.started_unix_ns) / 1e9 : 0.0,
              seconds_since(r.updated_unix_ns));
  if (rt.valid) {
    std::printf("  rates      rx %.0f pps  tx %.0f pps  delivered %.0f/s  sent %.0f/s  drops %.0f/s\n", rt.rx_pps,
                rt.tx_pps, rt.delivered, rt.sent, rt.drops);
  }
  std::printf("  rx         %" PRIu64 " frames %" PRIu64 " bytes; udp delivered %" PRIu64 "\n", t.rx_frames, t.rx_bytes,
              t.udp_delivered);
  std::printf("  tx         %" PRIu64 " frames %" PRIu64 " bytes; udp sent %" PRIu64 ", looped back %" PRIu64 "\n",
              t.tx_frames, t.tx_bytes, t.udp_sent, t.loopback);
  std::printf("  kernel     %" PRIu64 " datagrams received, %" PRIu64 " sent through the kernel path\n",
              t.kernel_rx_datagrams, t.kernel_tx_datagrams);
  std::printf("  arp        %" PRIu64 " received, %" PRIu64 " replies, %" PRIu64 " requests sent\n", t.arp_received,
              t.arp_replies_sent, t.arp_requests_sent);
  std::printf("  icmp       %" PRIu64 " echo replies, %" PRIu64 " errors received, %" PRIu64
              " unreachable sent (%" PRIu64 " rate-limited)\n",
              t.icmp_echo_replies, t.icmp_errors_received, t.icmp_unreach_sent, t.icmp_rate_limited);
  if (r.address6[0] != '\0') {
    std::printf("  ndp        %" PRIu64 " received, %" PRIu64 " adverts sent, %" PRIu64 " solicitations sent\n",
                t.ndp_received, t.ndp_adverts_sent, t.ndp_solicits_sent);
  }
  std::printf("  pollers    %" PRIu64 " sleeps, %" PRIu64 " wake-ups\n", t.poller_sleeps, t.poller_wakeups);
  for (uint32_t i = 0; i < r.tunnel_count && i < st::kMaxTunnels; ++i) {
    const st::TunnelSlot& tu = r.tunnels[i];
    std::printf("  tunnel %u   %.*s\n", i + 1, static_cast<int>(sizeof tu.describe), tu.describe);
    std::printf(
        "             in %" PRIu64 " frames %" PRIu64 " bytes, out %" PRIu64 " frames %" PRIu64
        " bytes; dropped: malformed %" PRIu64 "  no match %" PRIu64 "  unsupported %" PRIu64 "  inner %" PRIu64 "\n",
        tu.rx_frames, tu.rx_bytes, tu.tx_frames, tu.tx_bytes, tu.drops[0], tu.drops[1], tu.drops[2], tu.drops[3]);
  }
  Hierarchy h = hierarchy(r);
  std::printf("  drops, wire to application:\n");
  std::printf("    nic          missed %" PRIu64 "  no buffer %" PRIu64 "  errors %" PRIu64 "\n", h.nic_missed,
              h.nic_no_buffer, h.nic_errors);
  std::printf("    stack        malformed %" PRIu64 "  checksum %" PRIu64 "  not for us %" PRIu64
              "  unsupported %" PRIu64 "  fragments %" PRIu64 "  no socket %" PRIu64 "\n",
              h.malformed, h.checksum, h.not_for_us, h.unsupported, h.fragments, h.no_socket);
  std::printf("    socket       buffer full %" PRIu64 "\n", h.socket_buffer_full);
  std::printf("    send side    arp unresolved %" PRIu64 "  tx failed %" PRIu64 "\n", h.arp_unresolved, h.tx_failed);
  std::printf("  sockets (%u open%s)\n", r.socket_count,
              r.sockets_shown < r.socket_count ? ", the first ones shown" : "");
  if (r.sockets_shown != 0) {
    std::printf("    %-6s %-22s %-22s %10s %8s %12s %10s %12s %10s\n", "id", "local", "remote", "queued_B", "queued",
                "rx", "rx_drops", "tx", "tx_drops");
  }
  for (uint32_t i = 0; i < r.sockets_shown && i < st::kMaxSockets; ++i) {
    const st::SocketSlot& s = r.sockets[i];
    std::printf("    %-6" PRIu64 " %-22s %-22s %10" PRIu64 " %8" PRIu64 " %12" PRIu64 " %10" PRIu64 " %12" PRIu64
                " %10" PRIu64 "\n",
                s.id, local_of(s).c_str(), remote_of(s).c_str(), s.queued_bytes, s.queued_datagrams, s.rx_datagrams,
                s.rx_drops, s.tx_datagrams, s.tx_drops);
  }
}

void print_json(const st::Region& r, bool stale, const Rates& rt) {
  const st::Totals& t = r.totals;
  Hierarchy h = hierarchy(r);
  std::printf(
      "{\"pid\":%d,\"comm\":\"%s\",\"alive\":%s,\"updating\":%s,\"backend\":\"%s\",\"mode\":\"%s\","
      "\"iface\":\"%s\",\"address\":\"%s\",\"address6\":\"%s\",\"mtu\":%u,\"queues\":%u,\"device\":\"%s\","
      "\"updated_age_s\":%.3f,",
      r.pid, json_escape(r.comm).c_str(), stale ? "false" : "true", stale || stalled(r, stale) ? "false" : "true",
      json_escape(r.backend).c_str(), json_escape(r.mode).c_str(), json_escape(r.iface).c_str(),
      json_escape(r.address).c_str(), json_escape(r.address6).c_str(), r.mtu, r.queues,
      json_escape(r.description).c_str(), seconds_since(r.updated_unix_ns));
  if (rt.valid) {
    std::printf(
        "\"rates\":{\"rx_pps\":%.1f,\"tx_pps\":%.1f,\"delivered_per_s\":%.1f,\"sent_per_s\":%.1f,"
        "\"drops_per_s\":%.1f},",
        rt.rx_pps, rt.tx_pps, rt.delivered, rt.sent, rt.drops);
  }
  std::printf("\"totals\":{\"rx_frames\":%" PRIu64 ",\"rx_bytes\":%" PRIu64 ",\"tx_frames\":%" PRIu64
              ",\"tx_bytes\":%" PRIu64 ",\"udp_delivered\":%" PRIu64 ",\"udp_sent\":%" PRIu64 ",\"loopback\":%" PRIu64
              ",\"kernel_rx_datagrams\":%" PRIu64 ",\"kernel_tx_datagrams\":%" PRIu64 ",\"arp_received\":%" PRIu64
              ",\"arp_replies_sent\":%" PRIu64 ",\"arp_requests_sent\":%" PRIu64 ",\"icmp_echo_replies\":%" PRIu64
              ",\"icmp_errors_received\":%" PRIu64 ",\"icmp_unreach_sent\":%" PRIu64 ",\"icmp_rate_limited\":%" PRIu64
              ",\"nic_rx_packets\":%" PRIu64 ",\"nic_tx_packets\":%" PRIu64 ",\"poller_sleeps\":%" PRIu64
              ",\"poller_wakeups\":%" PRIu64 "},",
              t.rx_frames, t.rx_bytes, t.tx_frames, t.tx_bytes, t.udp_delivered, t.udp_sent, t.loopback,
              t.kernel_rx_datagrams, t.kernel_tx_datagrams, t.arp_received, t.arp_replies_sent, t.arp_requests_sent,
              t.icmp_echo_replies, t.icmp_errors_received, t.icmp_unreach_sent, t.icmp_rate_limited, t.nic_rx_packets,
              t.nic_tx_packets, t.poller_sleeps, t.poller_wakeups);
  std::printf("\"drops\":{\"nic_missed\":%" PRIu64 ",\"nic_no_buffer\":%" PRIu64 ",\"nic_errors\":%" PRIu64
              ",\"malformed\":%" PRIu64 ",\"checksum\":%" PRIu64 ",\"not_for_us\":%" PRIu64 ",\"unsupported\":%" PRIu64
              ",\"fragments\":%" PRIu64 ",\"no_socket\":%" PRIu64 ",\"socket_buffer_full\":%" PRIu64
              ",\"arp_unresolved\":%" PRIu64 ",\"tx_failed\":%" PRIu64 ",\"by_reason\":{",
              h.nic_missed, h.nic_no_buffer, h.nic_errors, h.malformed, h.checksum, h.not_for_us, h.unsupported,
              h.fragments, h.no_socket, h.socket_buffer_full, h.arp_unresolved, h.tx_failed);
  for (uint32_t i = 0; i < r.drop_reason_count && i < st::kMaxDropReasons; ++i) {
    char name[st::kDropNameLen + 1] = {};
    std::memcpy(name, r.drop_names[i], st::kDropNameLen);
    std::printf("%s\"%s\":%" PRIu64, i ? "," : "", json_escape(name).c_str(), t.drops[i]);
  }
  std::printf("}},\"tunnels\":[");
  for (uint32_t i = 0; i < r.tunnel_count && i < st::kMaxTunnels; ++i) {
    const st::TunnelSlot& tu = r.tunnels[i];
    char describe[sizeof tu.describe + 1] = {};
    std::memcpy(describe, tu.describe, sizeof tu.describe);
    std::printf("%s{\"tunnel\":\"%s\",\"rx_frames\":%" PRIu64 ",\"rx_bytes\":%" PRIu64 ",\"tx_frames\":%" PRIu64
                ",\"tx_bytes\":%" PRIu64 ",\"drops\":{\"malformed\":%" PRIu64 ",\"no_match\":%" PRIu64
                ",\"unsupported\":%" PRIu64 ",\"inner\":%" PRIu64 "}}",
                i ? "," : "", json_escape(describe).c_str(), tu.rx_frames, tu.rx_bytes, tu.tx_frames, tu.tx_bytes,
                tu.drops[0], tu.drops[1], tu.drops[2], tu.drops[3]);
  }
  std::printf("],\"socket_count\":%u,\"sockets\":[", r.socket_count);
  for (uint32_t i = 0; i < r.sockets_shown && i < st::kMaxSockets; ++i) {
    const st::SocketSlot& s = r.sockets[i];
    std::printf("%s{\"id\":%" PRIu64 ",\"local\":\"%s\",\"remote\":\"%s\",\"rcvbuf\":%u,\"queued_bytes\":%" PRIu64
                ",\"queued_datagrams\":%" PRIu64 ",\"rx_datagrams\":%" PRIu64 ",\"rx_bytes\":%" PRIu64
                ",\"rx_drops\":%" PRIu64 ",\"tx_datagrams\":%" PRIu64 ",\"tx_bytes\":%" PRIu64 ",\"tx_drops\":%" PRIu64
                "}",
                i ? "," : "", s.id, local_of(s).c_str(), remote_of(s).c_str(), s.rcvbuf, s.queued_bytes,
                s.queued_datagrams, s.rx_datagrams, s.rx_bytes, s.rx_drops, s.tx_datagrams, s.tx_bytes, s.tx_drops);
  }
  std::printf("]}\n");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Live counters of processes running under the dpdkudp shim (from /dev/shm/dpdkudp.<pid>)."};
  std::vector<pid_t> pids;
  bool json = false;
  bool clean = false;
  double watch = 0;
  int count = 0;
  app.add_option("pid", pids, "processes to show (default: every shim process)");
  app.add_flag("--json", json, "one JSON object per process and refresh");
  app.add_option("-w,--watch", watch, "refresh every SECONDS, showing rates")
      ->expected(0, 1)
      ->default_str("1")
      ->check(CLI::Range(0.05, 3600.0));
  app.add_option("-n,--count", count, "with --watch: stop after this many refreshes (default: until interrupted)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--clean", clean, "remove the regions of processes that are gone, then exit");
  CLI11_PARSE(app, argc, argv);
  if (app.count("--watch") != 0 && watch == 0) watch = 1;

  if (clean) {
    int removed = 0;
    for (pid_t pid : st::list_regions()) {
      if (st::remove_if_stale(pid)) {
        std::printf("removed the region of pid %d (process gone)\n", pid);
        ++removed;
      }
    }
    std::printf("%d stale region(s) removed\n", removed);
    return 0;
  }

  bool explicit_pids = !pids.empty();
  std::map<pid_t, std::unique_ptr<st::Region>> previous;
  int exit_code = 0;
  for (int round = 0;; ++round) {
    std::vector<pid_t> targets = explicit_pids ? pids : st::list_regions();
    if (targets.empty() && !json) std::printf("no process is running under the dpdkudp shim with DPDKUDP_STATS=1\n");
    exit_code = 0;
    for (pid_t pid : targets) {
      st::Snapshot snap = st::read_region(pid);
      if (snap.status == st::ReadStatus::kMissing) {
        std::fprintf(stderr,
                     "dpdkudp-stat: pid %d: no stats region (not under the shim, DPDKUDP_STATS=0, or the "
                     "engine fell back to the kernel)\n",
                     pid);
        exit_code = 1;
        continue;
      }
      if (!snap.region) {
        std::fprintf(stderr, "dpdkudp-stat: pid %d: %s\n", pid, snap.error.c_str());
        exit_code = 1;
        continue;
      }
      bool stale = snap.status == st::ReadStatus::kStale;
      auto it = previous.find(pid);
      Rates rt = rates(*snap.region, it == previous.end() ? nullptr : it->second.get());
      if (json) {
        print_json(*snap.region, stale, rt);
      } else {
        print_text(*snap.region, stale, rt);
      }
      previous[pid] = std::move(snap.region);
    }
    std::fflush(stdout);
    if (watch == 0 || (count != 0 && round + 1 >= count)) break;
    std::this_thread::sleep_for(std::chrono::duration<double>(watch));
    if (!json) std::printf("\n");
  }
  return exit_code;
}
