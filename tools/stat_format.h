// dpdkudp-stat's formatting of a stats region: one process as text or as
// one JSON object, with rates against an earlier copy. Any region that
// engine::stats::snapshot_of returned may be printed, whatever its bytes.
#pragma once

#include <cstdio>

#include "engine/stats_shm.h"

namespace dpdkudp::tools {

struct Rates {
  bool valid = false;
  double rx_pps = 0, tx_pps = 0, delivered = 0, sent = 0, drops = 0;
};

// Per second between prev and now (invalid without prev or when now is
// not later).
Rates rates(const engine::stats::Region& now, const engine::stats::Region* prev);
void print_text(std::FILE* out, const engine::stats::Region& r, bool stale, const Rates& rt);
void print_json(std::FILE* out, const engine::stats::Region& r, bool stale, const Rates& rt);

}  // namespace dpdkudp::tools
