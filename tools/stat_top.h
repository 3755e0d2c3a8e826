// dpdkudp-stat --watch on a terminal: a screen redrawn in place, like top.
// Per process a header (identity, rates, drops) and its sockets, busiest
// first, with their rates since the previous refresh. The tool writes the
// frame after kClearScreen, cut to the window (fit_to_window).
//
// Any region that engine::stats::snapshot_of returned may be printed,
// whatever its bytes. Pure functions, any thread.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "engine/stats_shm.h"
#include "tools/stat_format.h"

namespace dpdkudp::tools {

// Cursor home, then erase the screen (ANSI / ECMA-48).
inline constexpr char kClearScreen[] = "\x1b[H\x1b[2J";

// One socket's rates against the previous refresh (matched by socket id).
struct SocketRates {
  bool valid = false;  // the socket was in the previous copy
  double rx_dps = 0, tx_dps = 0;
};

// The order to list r's sockets in: by receive rate, then by received
// bytes, both descending (then by id); rates[i] for r.sockets[i].
std::vector<uint32_t> busiest_sockets(const engine::stats::Region& r, const engine::stats::Region* prev,
                                      std::vector<SocketRates>* rates);

// The first line of a frame.
std::string top_title(double interval_s, size_t processes);
// One process: header lines and its socket table.
void print_top(std::FILE* out, const engine::stats::Region& r, const engine::stats::Region* prev, bool stale,
               const Rates& rt);
// The frame cut to rows lines of at most cols columns (0: no limit), so
// that nothing wraps or scrolls the screen being redrawn.
std::string fit_to_window(std::string_view frame, int rows, int cols);

}  // namespace dpdkudp::tools
