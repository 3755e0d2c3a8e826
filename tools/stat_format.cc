// dpdkudp-stat's formatting of a stats region (text and JSON), apart from
// the tool's main so that the fuzz target (tests/fuzz/fuzz_stat_region.cc)
// drives it with what the reader makes of corrupt regions.
#include "tools/stat_format.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>

namespace dpdkudp::tools {

namespace st = engine::stats;

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

uint64_t all_drops(const st::Region& r) {
  uint64_t n = r.totals.nic_rx_missed + r.totals.nic_rx_no_buffer;
  for (uint32_t i = 0; i < r.drop_reason_count && i < st::kMaxDropReasons; ++i) n += r.totals.drops[i];
  return n;
}

// The poller publishes at every timer tick (50 ms), busy or idle: a live
// process whose region is older than this has a poller that is not running
// (the process is stopped, the poller is stuck, or the program exec'd).
constexpr double kStalledAfterS = 1.0;

// "-" for what the region does not know (fd -1, tid 0).
std::string known(int32_t v, int32_t unknown) { return v == unknown ? std::string("-") : std::to_string(v); }
std::string json_known(int32_t v, int32_t unknown) { return v == unknown ? std::string("null") : std::to_string(v); }

}  // namespace

std::string local_endpoint(const st::SocketSlot& s) {
  return s.local_v6 ? endpoint6(s.local6, s.local_port) : endpoint(s.local_addr, s.local_port, true);
}
std::string remote_endpoint(const st::SocketSlot& s) {
  return s.remote_v6 ? endpoint6(s.remote6, s.remote_port) : endpoint(s.remote_addr, s.remote_port, false);
}

double seconds_since(uint64_t unix_ns) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t now = static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
  return unix_ns == 0 || now < unix_ns ? 0.0 : static_cast<double>(now - unix_ns) / 1e9;
}

bool stalled(const st::Region& r, bool stale) {
  return !stale && r.updated_unix_ns != 0 && seconds_since(r.updated_unix_ns) > kStalledAfterS;
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

void print_text(std::FILE* out, const st::Region& r, bool stale, const Rates& rt) {
  const st::Totals& t = r.totals;
  std::fprintf(out, "pid %d (%s)%s%s  backend=%s mode=%s iface=%s ip=%s mtu=%u queues=%u\n", r.pid, r.comm,
               stale ? " [gone: last values]" : "",
               stalled(r, stale) ? " [not updating: process stopped, poller stuck, or exec'd]" : "", r.backend, r.mode,
               r.iface, r.address, r.mtu, r.queues);
  if (r.address6[0] != '\0') std::fprintf(out, "  ip6        %s\n", r.address6);
  if (r.description[0] != '\0') std::fprintf(out, "  device     %s\n", r.description);
  std::fprintf(out, "  up %.1fs, updated %.2fs ago\n",
               r.started_unix_ns ? static_cast<double>(r.updated_unix_ns - r.started_unix_ns) / 1e9 : 0.0,
               seconds_since(r.updated_unix_ns));
  if (rt.valid) {
    std::fprintf(out, "  rates      rx %.0f pps  tx %.0f pps  delivered %.0f/s  sent %.0f/s  drops %.0f/s\n", rt.rx_pps,
                 rt.tx_pps, rt.delivered, rt.sent, rt.drops);
  }
  std::fprintf(out, "  rx         %" PRIu64 " frames %" PRIu64 " bytes; udp delivered %" PRIu64 "\n", t.rx_frames,
               t.rx_bytes, t.udp_delivered);
  std::fprintf(out,
               "  tx         %" PRIu64 " frames %" PRIu64 " bytes; udp sent %" PRIu64 ", looped back %" PRIu64 "\n",
               t.tx_frames, t.tx_bytes, t.udp_sent, t.loopback);
  std::fprintf(out, "  kernel     %" PRIu64 " datagrams received, %" PRIu64 " sent through the kernel path\n",
               t.kernel_rx_datagrams, t.kernel_tx_datagrams);
  if (t.handoff_sent + t.handoff_received + t.handoff_dropped != 0) {
    std::fprintf(out,
                 "  hand-off   %" PRIu64 " datagrams passed on to the socket's other holders, %" PRIu64
                 " taken from them, %" PRIu64 " lost\n",
                 t.handoff_sent, t.handoff_received, t.handoff_dropped);
  }
  std::fprintf(out, "  arp        %" PRIu64 " received, %" PRIu64 " replies, %" PRIu64 " requests sent\n",
               t.arp_received, t.arp_replies_sent, t.arp_requests_sent);
  std::fprintf(out,
               "  icmp       %" PRIu64 " echo replies, %" PRIu64 " errors received, %" PRIu64
               " unreachable sent (%" PRIu64 " rate-limited)\n",
               t.icmp_echo_replies, t.icmp_errors_received, t.icmp_unreach_sent, t.icmp_rate_limited);
  if (r.address6[0] != '\0') {
    std::fprintf(out, "  ndp        %" PRIu64 " received, %" PRIu64 " adverts sent, %" PRIu64 " solicitations sent\n",
                 t.ndp_received, t.ndp_adverts_sent, t.ndp_solicits_sent);
  }
  if (t.igmp_received + t.igmp_sent != 0) {
    std::fprintf(out, "  igmp       %" PRIu64 " received, %" PRIu64 " reports and leaves sent\n", t.igmp_received,
                 t.igmp_sent);
  }
  if (t.mld_received + t.mld_sent != 0) {
    std::fprintf(out, "  mld        %" PRIu64 " received, %" PRIu64 " reports and dones sent\n", t.mld_received,
                 t.mld_sent);
  }
  std::fprintf(out, "  pollers    %" PRIu64 " sleeps, %" PRIu64 " wake-ups\n", t.poller_sleeps, t.poller_wakeups);
  for (uint32_t i = 0; i < r.tunnel_count && i < st::kMaxTunnels; ++i) {
    const st::TunnelSlot& tu = r.tunnels[i];
    std::fprintf(out, "  tunnel %u   %.*s\n", i + 1, static_cast<int>(sizeof tu.describe), tu.describe);
    std::fprintf(
        out,
        "             in %" PRIu64 " frames %" PRIu64 " bytes, out %" PRIu64 " frames %" PRIu64
        " bytes; dropped: malformed %" PRIu64 "  no match %" PRIu64 "  unsupported %" PRIu64 "  inner %" PRIu64 "\n",
        tu.rx_frames, tu.rx_bytes, tu.tx_frames, tu.tx_bytes, tu.drops[0], tu.drops[1], tu.drops[2], tu.drops[3]);
  }
  Hierarchy h = hierarchy(r);
  std::fprintf(out, "  drops, wire to application:\n");
  std::fprintf(out, "    nic          missed %" PRIu64 "  no buffer %" PRIu64 "  errors %" PRIu64 "\n", h.nic_missed,
               h.nic_no_buffer, h.nic_errors);
  std::fprintf(out,
               "    stack        malformed %" PRIu64 "  checksum %" PRIu64 "  not for us %" PRIu64
               "  unsupported %" PRIu64 "  fragments %" PRIu64 "  no socket %" PRIu64 "\n",
               h.malformed, h.checksum, h.not_for_us, h.unsupported, h.fragments, h.no_socket);
  std::fprintf(out, "    socket       buffer full %" PRIu64 "\n", h.socket_buffer_full);
  std::fprintf(out, "    send side    arp unresolved %" PRIu64 "  tx failed %" PRIu64 "\n", h.arp_unresolved,
               h.tx_failed);
  std::fprintf(out, "  sockets (%u open%s)\n", r.socket_count,
               r.sockets_shown < r.socket_count ? ", the first ones shown" : "");
  if (r.sockets_shown != 0) {
    std::fprintf(out, "    %-6s %-22s %-22s %10s %8s %12s %10s %12s %10s  %s\n", "id", "local", "remote", "queued_B",
                 "queued", "rx", "rx_drops", "tx", "tx_drops", "fd / last reader");
  }
  for (uint32_t i = 0; i < r.sockets_shown && i < st::kMaxSockets; ++i) {
    const st::SocketSlot& s = r.sockets[i];
    std::fprintf(out,
                 "    %-6" PRIu64 " %-22s %-22s %10" PRIu64 " %8" PRIu64 " %12" PRIu64 " %10" PRIu64 " %12" PRIu64
                 " %10" PRIu64 "  fd %s tid %s\n",
                 s.id, local_endpoint(s).c_str(), remote_endpoint(s).c_str(), s.queued_bytes, s.queued_datagrams,
                 s.rx_datagrams, s.rx_drops, s.tx_datagrams, s.tx_drops, known(s.fd, -1).c_str(),
                 known(s.last_reader_tid, 0).c_str());
  }
}

void print_json(std::FILE* out, const st::Region& r, bool stale, const Rates& rt) {
  const st::Totals& t = r.totals;
  Hierarchy h = hierarchy(r);
  std::fprintf(out,
               "{\"pid\":%d,\"comm\":\"%s\",\"alive\":%s,\"updating\":%s,\"backend\":\"%s\",\"mode\":\"%s\","
               "\"iface\":\"%s\",\"address\":\"%s\",\"address6\":\"%s\",\"mtu\":%u,\"queues\":%u,\"device\":\"%s\","
               "\"updated_age_s\":%.3f,",
               r.pid, json_escape(r.comm).c_str(), stale ? "false" : "true",
               stale || stalled(r, stale) ? "false" : "true", json_escape(r.backend).c_str(),
               json_escape(r.mode).c_str(), json_escape(r.iface).c_str(), json_escape(r.address).c_str(),
               json_escape(r.address6).c_str(), r.mtu, r.queues, json_escape(r.description).c_str(),
               seconds_since(r.updated_unix_ns));
  if (rt.valid) {
    std::fprintf(out,
                 "\"rates\":{\"rx_pps\":%.1f,\"tx_pps\":%.1f,\"delivered_per_s\":%.1f,\"sent_per_s\":%.1f,"
                 "\"drops_per_s\":%.1f},",
                 rt.rx_pps, rt.tx_pps, rt.delivered, rt.sent, rt.drops);
  }
  std::fprintf(out,
               "\"totals\":{\"rx_frames\":%" PRIu64 ",\"rx_bytes\":%" PRIu64 ",\"tx_frames\":%" PRIu64
               ",\"tx_bytes\":%" PRIu64 ",\"udp_delivered\":%" PRIu64 ",\"udp_sent\":%" PRIu64 ",\"loopback\":%" PRIu64
               ",\"kernel_rx_datagrams\":%" PRIu64 ",\"kernel_tx_datagrams\":%" PRIu64 ",\"arp_received\":%" PRIu64
               ",\"arp_replies_sent\":%" PRIu64 ",\"arp_requests_sent\":%" PRIu64 ",\"icmp_echo_replies\":%" PRIu64
               ",\"icmp_errors_received\":%" PRIu64 ",\"icmp_unreach_sent\":%" PRIu64 ",\"icmp_rate_limited\":%" PRIu64
               ",\"nic_rx_packets\":%" PRIu64 ",\"nic_tx_packets\":%" PRIu64 ",\"poller_sleeps\":%" PRIu64
               ",\"poller_wakeups\":%" PRIu64 ",\"handoff_sent\":%" PRIu64 ",\"handoff_received\":%" PRIu64
               ",\"handoff_dropped\":%" PRIu64 ",\"igmp_received\":%" PRIu64 ",\"igmp_sent\":%" PRIu64
               ",\"mld_received\":%" PRIu64 ",\"mld_sent\":%" PRIu64 "},",
               t.rx_frames, t.rx_bytes, t.tx_frames, t.tx_bytes, t.udp_delivered, t.udp_sent, t.loopback,
               t.kernel_rx_datagrams, t.kernel_tx_datagrams, t.arp_received, t.arp_replies_sent, t.arp_requests_sent,
               t.icmp_echo_replies, t.icmp_errors_received, t.icmp_unreach_sent, t.icmp_rate_limited, t.nic_rx_packets,
               t.nic_tx_packets, t.poller_sleeps, t.poller_wakeups, t.handoff_sent, t.handoff_received,
               t.handoff_dropped, t.igmp_received, t.igmp_sent, t.mld_received, t.mld_sent);
  std::fprintf(out,
               "\"drops\":{\"nic_missed\":%" PRIu64 ",\"nic_no_buffer\":%" PRIu64 ",\"nic_errors\":%" PRIu64
               ",\"malformed\":%" PRIu64 ",\"checksum\":%" PRIu64 ",\"not_for_us\":%" PRIu64 ",\"unsupported\":%" PRIu64
               ",\"fragments\":%" PRIu64 ",\"no_socket\":%" PRIu64 ",\"socket_buffer_full\":%" PRIu64
               ",\"arp_unresolved\":%" PRIu64 ",\"tx_failed\":%" PRIu64 ",\"by_reason\":{",
               h.nic_missed, h.nic_no_buffer, h.nic_errors, h.malformed, h.checksum, h.not_for_us, h.unsupported,
               h.fragments, h.no_socket, h.socket_buffer_full, h.arp_unresolved, h.tx_failed);
  for (uint32_t i = 0; i < r.drop_reason_count && i < st::kMaxDropReasons; ++i) {
    char name[st::kDropNameLen + 1] = {};
    std::memcpy(name, r.drop_names[i], st::kDropNameLen);
    std::fprintf(out, "%s\"%s\":%" PRIu64, i ? "," : "", json_escape(name).c_str(), t.drops[i]);
  }
  std::fprintf(out, "}},\"tunnels\":[");
  for (uint32_t i = 0; i < r.tunnel_count && i < st::kMaxTunnels; ++i) {
    const st::TunnelSlot& tu = r.tunnels[i];
    char describe[sizeof tu.describe + 1] = {};
    std::memcpy(describe, tu.describe, sizeof tu.describe);
    std::fprintf(out,
                 "%s{\"tunnel\":\"%s\",\"rx_frames\":%" PRIu64 ",\"rx_bytes\":%" PRIu64 ",\"tx_frames\":%" PRIu64
                 ",\"tx_bytes\":%" PRIu64 ",\"drops\":{\"malformed\":%" PRIu64 ",\"no_match\":%" PRIu64
                 ",\"unsupported\":%" PRIu64 ",\"inner\":%" PRIu64 "}}",
                 i ? "," : "", json_escape(describe).c_str(), tu.rx_frames, tu.rx_bytes, tu.tx_frames, tu.tx_bytes,
                 tu.drops[0], tu.drops[1], tu.drops[2], tu.drops[3]);
  }
  std::fprintf(out, "],\"socket_count\":%u,\"sockets\":[", r.socket_count);
  for (uint32_t i = 0; i < r.sockets_shown && i < st::kMaxSockets; ++i) {
    const st::SocketSlot& s = r.sockets[i];
    std::fprintf(out,
                 "%s{\"id\":%" PRIu64 ",\"local\":\"%s\",\"remote\":\"%s\",\"rcvbuf\":%u,\"queued_bytes\":%" PRIu64
                 ",\"queued_datagrams\":%" PRIu64 ",\"rx_datagrams\":%" PRIu64 ",\"rx_bytes\":%" PRIu64
                 ",\"rx_drops\":%" PRIu64 ",\"tx_datagrams\":%" PRIu64 ",\"tx_bytes\":%" PRIu64 ",\"tx_drops\":%" PRIu64
                 ",\"family\":\"%s\",\"fd\":%s,\"last_reader_tid\":%s}",
                 i ? "," : "", s.id, local_endpoint(s).c_str(), remote_endpoint(s).c_str(), s.rcvbuf, s.queued_bytes,
                 s.queued_datagrams, s.rx_datagrams, s.rx_bytes, s.rx_drops, s.tx_datagrams, s.tx_bytes, s.tx_drops,
                 s.ipv6 ? "ipv6" : "ipv4", json_known(s.fd, -1).c_str(), json_known(s.last_reader_tid, 0).c_str());
  }
  std::fprintf(out, "]}\n");
}

}  // namespace dpdkudp::tools
