// dpdkudp-stat's Prometheus text exposition (format 0.0.4), apart from the
// tool's main so that unit tests parse it and the fuzz target
// (tests/fuzz/fuzz_stat_region.cc) prints garbage regions through it.
#include "tools/stat_prometheus.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tools/stat_format.h"

namespace dpdkudp::tools {

namespace st = engine::stats;

namespace {

// ---- label values ----

// Lead bytes of multi-byte UTF-8 sequences and the range their second byte
// must fall in (RFC 3629 section 4: no overlong forms, no surrogates,
// nothing past U+10FFFF); later bytes are 0x80..0xBF.
struct Utf8Lead {
  unsigned char first, last;
  uint8_t length;
  unsigned char second_min, second_max;
};
constexpr Utf8Lead kUtf8Leads[] = {
    {0xC2, 0xDF, 2, 0x80, 0xBF}, {0xE0, 0xE0, 3, 0xA0, 0xBF}, {0xE1, 0xEC, 3, 0x80, 0xBF}, {0xED, 0xED, 3, 0x80, 0x9F},
    {0xEE, 0xEF, 3, 0x80, 0xBF}, {0xF0, 0xF0, 4, 0x90, 0xBF}, {0xF1, 0xF3, 4, 0x80, 0xBF}, {0xF4, 0xF4, 4, 0x80, 0x8F},
};

// The length of the well-formed UTF-8 sequence at s[at], 0 if there is none.
size_t utf8_length(std::string_view s, size_t at) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  if (byte(at) < 0x80) return 1;
  for (const Utf8Lead& lead : kUtf8Leads) {
    if (byte(at) < lead.first || byte(at) > lead.last) continue;
    if (at + lead.length > s.size()) return 0;
    if (byte(at + 1) < lead.second_min || byte(at + 1) > lead.second_max) return 0;
    for (size_t i = 2; i < lead.length; ++i) {
      if (byte(at + i) < 0x80 || byte(at + i) > 0xBF) return 0;
    }
    return lead.length;
  }
  return 0;
}

// A text field of the region: it ends within its array (snapshot_of made
// sure; strnlen is for regions built otherwise).
template <size_t N>
std::string_view field(const char (&text)[N]) {
  return {text, strnlen(text, N)};
}

// ---- sample values ----

std::string number(uint64_t v) { return std::to_string(v); }

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// ---- socket labels ----

std::string address4(uint32_t host_order) {
  in_addr a{htonl(host_order)};
  char buf[INET_ADDRSTRLEN] = "";
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

std::string address6(const uint8_t (&addr)[16]) {
  char buf[INET6_ADDRSTRLEN] = "";
  inet_ntop(AF_INET6, addr, buf, sizeof buf);
  return buf;
}

// An endpoint's address: "" when there is none (unbound, not connected),
// 0.0.0.0 or :: for the wildcard.
std::string endpoint_address(bool v6, uint32_t addr, const uint8_t (&addr6)[16], uint16_t port) {
  if (v6) return address6(addr6);
  if (addr == 0 && port == 0) return "";
  return address4(addr);
}

std::string socket_labels(const st::SocketSlot& s) {
  std::string l = "id=\"" + std::to_string(s.id) + "\",family=\"" + (s.ipv6 ? "ipv6" : "ipv4") + "\",fd=\"" +
                  (s.fd < 0 ? std::string() : std::to_string(s.fd)) + "\"";
  l += ",local_address=\"" + endpoint_address(s.local_v6, s.local_addr, s.local6, s.local_port) + "\",local_port=\"" +
       std::to_string(s.local_port) + "\"";
  l += ",remote_address=\"" + endpoint_address(s.remote_v6, s.remote_addr, s.remote6, s.remote_port) +
       "\",remote_port=\"" + std::to_string(s.remote_port) + "\"";
  return l;
}

// ---- the drop classes, as the text's hierarchy names them ----

const char* class_name(st::DropClass c) {
  static constexpr const char* kNames[] = {
      "malformed", "checksum",           "not_for_us",     "unsupported", "fragment",
      "no_socket", "socket_buffer_full", "arp_unresolved", "tx_failed",   "unclassified",
  };
  static_assert(std::size(kNames) == st::kDropClassCount);
  return kNames[static_cast<size_t>(c)];
}

constexpr const char* kTunnelDropNames[st::kTunnelDropReasons] = {"malformed", "no_match", "unsupported", "inner"};

// ---- the exposition ----

struct Process {
  const st::Region* r;
  bool stale;
  std::string labels;                      // pid="..",comm="..",backend="..",iface=".."
  std::vector<std::string> socket_labels;  // of r->sockets[i], made once for every socket family
  std::vector<std::string> tunnel_labels;  // of r->tunnels[i], likewise
};

// Appends one family's samples for a process: sample(extra_labels, value).
class Samples {
 public:
  Samples(std::string& body, std::string_view name, const std::string& labels)
      : body_(body), name_(name), labels_(labels) {}
  template <typename V>
  void operator()(std::string_view extra, V value) {
    body_.append(name_).append("{").append(labels_);
    if (!extra.empty()) body_.append(",").append(extra);
    body_.append("} ").append(number(value)).append("\n");
  }

 private:
  std::string& body_;
  std::string_view name_;
  const std::string& labels_;
};

class Exposition {
 public:
  explicit Exposition(const std::vector<Process>& procs) : procs_(procs) {}

  // One family: each(process, samples) adds the process's samples. HELP and
  // TYPE come first, once, if any process had a sample.
  template <typename Each>
  void family(std::string_view name, const char* type, std::string_view help, Each&& each) {
    body_.clear();
    for (const Process& p : procs_) {
      Samples samples(body_, name, p.labels);
      each(p, samples);
    }
    if (body_.empty()) return;
    out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
    out_.append(body_);
  }

  std::string take() { return std::move(out_); }

 private:
  const std::vector<Process>& procs_;
  std::string out_;
  std::string body_;
};

constexpr const char* kCounter = "counter";
constexpr const char* kGauge = "gauge";

struct TotalsCounter {
  const char* name;
  const char* help;
  uint64_t st::Totals::*field;
};

// Every counter of Totals but the drops (one family by reason, below).
constexpr TotalsCounter kTotals[] = {
    {"dpdkudp_rx_frames_total", "Frames the stack received from the backend.", &st::Totals::rx_frames},
    {"dpdkudp_rx_bytes_total", "Bytes of the frames the stack received.", &st::Totals::rx_bytes},
    {"dpdkudp_tx_frames_total", "Frames the stack handed to the backend.", &st::Totals::tx_frames},
    {"dpdkudp_tx_bytes_total", "Bytes of the frames the stack sent.", &st::Totals::tx_bytes},
    {"dpdkudp_udp_delivered_total", "UDP datagrams delivered to sockets.", &st::Totals::udp_delivered},
    {"dpdkudp_udp_sent_total", "UDP datagrams sent by sockets.", &st::Totals::udp_sent},
    {"dpdkudp_loopback_total", "Datagrams looped back inside the stack to its own addresses.", &st::Totals::loopback},
    {"dpdkudp_arp_received_total", "ARP packets received.", &st::Totals::arp_received},
    {"dpdkudp_arp_replies_sent_total", "ARP replies sent.", &st::Totals::arp_replies_sent},
    {"dpdkudp_arp_requests_sent_total", "ARP requests sent.", &st::Totals::arp_requests_sent},
    {"dpdkudp_icmp_echo_replies_total", "ICMP echo replies sent.", &st::Totals::icmp_echo_replies},
    {"dpdkudp_icmp_errors_received_total", "ICMP errors received and matched to sockets.",
     &st::Totals::icmp_errors_received},
    {"dpdkudp_icmp_unreach_sent_total", "ICMP port unreachable messages sent.", &st::Totals::icmp_unreach_sent},
    {"dpdkudp_icmp_rate_limited_total", "ICMP errors not sent because of the rate limit.",
     &st::Totals::icmp_rate_limited},
    {"dpdkudp_ndp_received_total", "Neighbor Discovery messages received.", &st::Totals::ndp_received},
    {"dpdkudp_ndp_adverts_sent_total", "Neighbor Advertisements sent.", &st::Totals::ndp_adverts_sent},
    {"dpdkudp_ndp_solicits_sent_total", "Neighbor Solicitations sent.", &st::Totals::ndp_solicits_sent},
    {"dpdkudp_igmp_received_total", "IGMP messages received.", &st::Totals::igmp_received},
    {"dpdkudp_igmp_sent_total", "IGMP reports and leaves sent.", &st::Totals::igmp_sent},
    {"dpdkudp_mld_received_total", "MLD messages received.", &st::Totals::mld_received},
    {"dpdkudp_mld_sent_total", "MLD reports and dones sent.", &st::Totals::mld_sent},
    {"dpdkudp_nic_rx_packets_total", "Packets the device received (backend counter).", &st::Totals::nic_rx_packets},
    {"dpdkudp_nic_tx_packets_total", "Packets the device sent (backend counter).", &st::Totals::nic_tx_packets},
    {"dpdkudp_nic_rx_missed_total", "Packets the device dropped because its receive ring was full.",
     &st::Totals::nic_rx_missed},
    {"dpdkudp_nic_rx_no_buffer_total", "Packets the device dropped for want of a buffer.",
     &st::Totals::nic_rx_no_buffer},
    {"dpdkudp_nic_rx_errors_total", "Receive errors the device counted.", &st::Totals::nic_rx_errors},
    {"dpdkudp_nic_tx_errors_total", "Transmit errors the device counted.", &st::Totals::nic_tx_errors},
    {"dpdkudp_kernel_rx_datagrams_total",
     "Datagrams offloaded sockets received through their kernel fd (loopback, other interfaces).",
     &st::Totals::kernel_rx_datagrams},
    {"dpdkudp_kernel_tx_datagrams_total",
     "Datagrams offloaded sockets sent through their kernel fd (loopback, other interfaces).",
     &st::Totals::kernel_tx_datagrams},
    {"dpdkudp_handoff_sent_total", "Datagrams passed on to another process holding the socket after a fork.",
     &st::Totals::handoff_sent},
    {"dpdkudp_handoff_received_total", "Datagrams taken from another process holding the socket after a fork.",
     &st::Totals::handoff_received},
    {"dpdkudp_handoff_dropped_total", "Datagrams lost while being passed between the processes holding a socket.",
     &st::Totals::handoff_dropped},
    {"dpdkudp_poller_sleeps_total", "Times a poller went to sleep for want of work.", &st::Totals::poller_sleeps},
    {"dpdkudp_poller_wakeups_total", "Times a sleeping poller was woken.", &st::Totals::poller_wakeups},
};

struct TunnelCounter {
  const char* name;
  const char* help;
  uint64_t st::TunnelSlot::*field;
};
constexpr TunnelCounter kTunnelCounters[] = {
    {"dpdkudp_tunnel_rx_frames_total", "Inner frames received through the tunnel.", &st::TunnelSlot::rx_frames},
    {"dpdkudp_tunnel_rx_bytes_total", "Bytes of the inner frames received through the tunnel.",
     &st::TunnelSlot::rx_bytes},
    {"dpdkudp_tunnel_tx_frames_total", "Inner frames sent through the tunnel.", &st::TunnelSlot::tx_frames},
    {"dpdkudp_tunnel_tx_bytes_total", "Bytes of the inner frames sent through the tunnel.", &st::TunnelSlot::tx_bytes},
};

struct SocketMetric {
  const char* name;
  const char* type;
  const char* help;
  uint64_t st::SocketSlot::*field;
};
constexpr SocketMetric kSocketMetrics[] = {
    {"dpdkudp_socket_rx_datagrams_total", kCounter, "Datagrams the application received on the socket.",
     &st::SocketSlot::rx_datagrams},
    {"dpdkudp_socket_rx_bytes_total", kCounter, "Payload bytes the application received on the socket.",
     &st::SocketSlot::rx_bytes},
    {"dpdkudp_socket_rx_drops_total", kCounter, "Datagrams dropped because the socket's receive buffer was full.",
     &st::SocketSlot::rx_drops},
    {"dpdkudp_socket_tx_datagrams_total", kCounter, "Datagrams the application sent on the socket.",
     &st::SocketSlot::tx_datagrams},
    {"dpdkudp_socket_tx_bytes_total", kCounter, "Payload bytes the application sent on the socket.",
     &st::SocketSlot::tx_bytes},
    {"dpdkudp_socket_tx_drops_total", kCounter, "Datagrams the socket could not send.", &st::SocketSlot::tx_drops},
    {"dpdkudp_socket_queued_bytes", kGauge, "Bytes charged to the socket's receive buffer now.",
     &st::SocketSlot::queued_bytes},
    {"dpdkudp_socket_queued_datagrams", kGauge, "Datagrams waiting in the socket's receive queue now.",
     &st::SocketSlot::queued_datagrams},
};

double seconds(uint64_t ns) { return static_cast<double>(ns) / 1e9; }

// each(slot, its labels) for every socket the region lists.
template <typename Each>
void for_each_socket(const Process& p, Each&& each) {
  for (size_t i = 0; i < p.socket_labels.size(); ++i) each(p.r->sockets[i], p.socket_labels[i]);
}

// each(tunnel, its labels) for every tunnel.
template <typename Each>
void for_each_tunnel(const Process& p, Each&& each) {
  for (size_t i = 0; i < p.tunnel_labels.size(); ++i) each(p.r->tunnels[i], p.tunnel_labels[i]);
}

// ---- samples that take more than a line ----

void process_info(const Process& p, Samples& s) {
  const st::Region& r = *p.r;
  s("mode=\"" + prometheus_label_value(field(r.mode)) + "\",address=\"" + prometheus_label_value(field(r.address)) +
        "\",address6=\"" + prometheus_label_value(field(r.address6)) + "\",device=\"" +
        prometheus_label_value(field(r.description)) + "\"",
    uint64_t{1});
}

void uptime(const Process& p, Samples& s) {
  const st::Region& r = *p.r;
  const bool known = r.started_unix_ns != 0 && r.updated_unix_ns >= r.started_unix_ns;
  s("", known ? seconds(r.updated_unix_ns - r.started_unix_ns) : 0.0);
}

void drops(const Process& p, Samples& s) {
  const st::Region& r = *p.r;
  const uint32_t reasons = std::min<uint32_t>(r.drop_reason_count, st::kMaxDropReasons);
  for (uint32_t i = 0; i < reasons; ++i) {
    const std::string_view name = field(r.drop_names[i]);
    s("reason=\"" + prometheus_label_value(name) + "\",class=\"" + class_name(st::drop_class(name)) + "\"",
      r.totals.drops[i]);
  }
}

void tunnel_drops(const Process& p, Samples& s) {
  for_each_tunnel(p, [&](const st::TunnelSlot& t, const std::string& labels) {
    for (size_t d = 0; d < st::kTunnelDropReasons; ++d) {
      s(labels + ",reason=\"" + kTunnelDropNames[d] + "\"", t.drops[d]);
    }
  });
}

void socket_rcvbuf(const Process& p, Samples& s) {
  for_each_socket(p, [&](const st::SocketSlot& slot, const std::string& labels) { s(labels, uint64_t{slot.rcvbuf}); });
}

void socket_last_reader(const Process& p, Samples& s) {
  for_each_socket(p, [&](const st::SocketSlot& slot, const std::string& labels) {
    s(labels, static_cast<double>(slot.last_reader_tid));
  });
}

// ---- the families, in the order they are written ----

void process_families(Exposition& e) {
  e.family("dpdkudp_process_info", kGauge,
           "The process's engine: deployment mode, addresses and device details in labels (always 1).", process_info);
  e.family("dpdkudp_process_alive", kGauge,
           "1 while the process runs; 0 when it is gone and these are its last values (dpdkudp-stat --clean).",
           [](const Process& p, Samples& s) { s("", uint64_t{p.stale ? 0u : 1u}); });
  e.family("dpdkudp_process_updating", kGauge,
           "1 while the engine rewrites its counters (every 50 ms); 0 when stopped, stuck, exec'd or gone.",
           [](const Process& p, Samples& s) { s("", uint64_t{p.stale || stalled(*p.r, p.stale) ? 0u : 1u}); });
  e.family("dpdkudp_start_time_seconds", kGauge, "When the engine started, in seconds since the Unix epoch.",
           [](const Process& p, Samples& s) { s("", seconds(p.r->started_unix_ns)); });
  e.family("dpdkudp_last_update_time_seconds", kGauge,
           "When the engine last rewrote its counters, in seconds since the Unix epoch.",
           [](const Process& p, Samples& s) { s("", seconds(p.r->updated_unix_ns)); });
  e.family("dpdkudp_uptime_seconds", kGauge, "Seconds from the engine's start to its last update.", uptime);
  e.family("dpdkudp_mtu_bytes", kGauge, "The stack's MTU.",
           [](const Process& p, Samples& s) { s("", uint64_t{p.r->mtu}); });
  e.family("dpdkudp_queues", kGauge, "Device queues the engine polls.",
           [](const Process& p, Samples& s) { s("", uint64_t{p.r->queues}); });
  e.family("dpdkudp_sockets_open", kGauge, "Sockets open on the stack (the first 1024 are shown one by one).",
           [](const Process& p, Samples& s) { s("", uint64_t{p.r->socket_count}); });
}

void totals_families(Exposition& e) {
  for (const TotalsCounter& c : kTotals) {
    e.family(c.name, kCounter, c.help, [&c](const Process& p, Samples& s) { s("", p.r->totals.*c.field); });
  }
  e.family("dpdkudp_drops_total", kCounter,
           "Frames and datagrams the stack dropped, by reason; class is the reason's place on the way from the wire "
           "to the application.",
           drops);
}

void tunnel_families(Exposition& e) {
  for (const TunnelCounter& c : kTunnelCounters) {
    e.family(c.name, kCounter, c.help, [&c](const Process& p, Samples& s) {
      for_each_tunnel(p, [&](const st::TunnelSlot& t, const std::string& labels) { s(labels, t.*c.field); });
    });
  }
  e.family("dpdkudp_tunnel_drops_total", kCounter, "Frames the tunnel dropped, by reason.", tunnel_drops);
}

void socket_families(Exposition& e) {
  for (const SocketMetric& m : kSocketMetrics) {
    e.family(m.name, m.type, m.help, [&m](const Process& p, Samples& s) {
      for_each_socket(p, [&](const st::SocketSlot& slot, const std::string& labels) { s(labels, slot.*m.field); });
    });
  }
  e.family("dpdkudp_socket_rcvbuf_bytes", kGauge, "The socket's receive buffer size (SO_RCVBUF).", socket_rcvbuf);
  e.family("dpdkudp_socket_last_reader_tid", kGauge,
           "The thread id (tid) that last received on the socket; 0 before the first receive.", socket_last_reader);
}

}  // namespace

std::string prometheus_label_value(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t at = 0; at < raw.size();) {
    const size_t n = utf8_length(raw, at);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++at;
      continue;
    }
    switch (raw[at]) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out.append(raw.substr(at, n));
    }
    at += n;
  }
  return out;
}

std::string prometheus_text(std::span<const PromProcess> processes) {
  std::vector<Process> procs;
  procs.reserve(processes.size());
  for (const PromProcess& p : processes) {
    if (p.region == nullptr) continue;
    const st::Region& r = *p.region;
    Process& proc = procs.emplace_back();
    proc.r = &r;
    proc.stale = p.stale;
    proc.labels = "pid=\"" + std::to_string(r.pid) + "\",comm=\"" + prometheus_label_value(field(r.comm)) +
                  "\",backend=\"" + prometheus_label_value(field(r.backend)) + "\",iface=\"" +
                  prometheus_label_value(field(r.iface)) + "\"";
    const uint32_t sockets = std::min<uint32_t>(r.sockets_shown, st::kMaxSockets);
    for (uint32_t i = 0; i < sockets; ++i) proc.socket_labels.push_back(socket_labels(r.sockets[i]));
    const uint32_t tunnels = std::min<uint32_t>(r.tunnel_count, st::kMaxTunnels);
    for (uint32_t i = 0; i < tunnels; ++i) {
      proc.tunnel_labels.push_back("tunnel=\"" + std::to_string(i + 1) + "\",describe=\"" +
                                   prometheus_label_value(field(r.tunnels[i].describe)) + "\"");
    }
  }
  Exposition e(procs);
  process_families(e);
  totals_families(e);
  tunnel_families(e);
  socket_families(e);
  return e.take();
}

}  // namespace dpdkudp::tools
