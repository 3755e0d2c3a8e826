// dpdkudp-stat's formatting of a stats region: one process as text or as
// one JSON object, with rates against an earlier copy. Any region that
// engine::stats::snapshot_of returned may be printed, whatever its bytes.
#pragma once

#include <cstdio>
#include <string>

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

// A socket's endpoints as the text shows them: "198.18.0.2:9000",
// "*:9000", "[2001:2::1]:53", "unbound" (local) and "-" (not connected).
std::string local_endpoint(const engine::stats::SocketSlot& s);
std::string remote_endpoint(const engine::stats::SocketSlot& s);
// A live process whose region has not been rewritten for a second: its
// poller is not running (stopped, stuck, or the program exec'd).
bool stalled(const engine::stats::Region& r, bool stale);
// Seconds from unix_ns to now (0 for 0 or a time in the future).
double seconds_since(uint64_t unix_ns);

}  // namespace dpdkudp::tools
