// dpdkudp-stat --prometheus: the counters of one or more stats regions in
// the Prometheus text exposition format, version 0.0.4 (what Prometheus
// scrapes and node_exporter's textfile collector reads).
//
// Every family is named dpdkudp_*, its HELP and TYPE lines come once, then
// the samples of every process in the order given; a family no process has
// a sample of is left out. Counters end in _total; what can go down
// (queued bytes, open sockets, times) is a gauge. Each sample carries the
// process's labels pid, comm, backend and iface. Any region that
// engine::stats::snapshot_of returned may be printed, whatever its bytes:
// label values are escaped and made valid UTF-8, counts are clamped to
// their arrays. Pure functions, any thread.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "engine/stats_shm.h"

namespace dpdkudp::tools {

struct PromProcess {
  const engine::stats::Region* region = nullptr;
  bool stale = false;  // the process is gone: its last values
};

// The whole exposition (empty when there are no processes).
std::string prometheus_text(std::span<const PromProcess> processes);

// A label value as the format writes it between double quotes: backslash,
// double quote and newline escaped; bytes that are not UTF-8 become U+FFFD.
std::string prometheus_label_value(std::string_view raw);

}  // namespace dpdkudp::tools
