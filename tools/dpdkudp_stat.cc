// dpdkudp-stat: the live counters of running shim processes, read from the
// shared-memory region each engine publishes (/dev/shm/dpdkudp.<pid>).
//
//   dpdkudp-stat              every shim process
//   dpdkudp-stat PID...       those processes
//   --watch [S]               refresh every S seconds, with rates
//   --json                    one JSON object per process (per refresh)
//   --clean                   remove regions left by processes that died
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "engine/stats_shm.h"
#include "tools/stat_format.h"

namespace st = dpdkudp::engine::stats;
using dpdkudp::tools::Rates;

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
      Rates rt = dpdkudp::tools::rates(*snap.region, it == previous.end() ? nullptr : it->second.get());
      if (json) {
        dpdkudp::tools::print_json(stdout, *snap.region, stale, rt);
      } else {
        dpdkudp::tools::print_text(stdout, *snap.region, stale, rt);
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
