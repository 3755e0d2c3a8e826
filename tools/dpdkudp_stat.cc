// dpdkudp-stat: the live counters of running shim processes, read from the
// shared-memory region each engine publishes (/dev/shm/dpdkudp.<pid>).
//
//   dpdkudp-stat              every shim process
//   dpdkudp-stat PID...       those processes
//   --watch [S]               refresh every S seconds, with rates; on a
//                             terminal the screen is redrawn in place, like top
//   --json                    one JSON object per process (per refresh)
//   --prometheus              the Prometheus text format (0.0.4) on stdout
//   --prometheus-file PATH    the same written to PATH atomically, for
//                             node_exporter's textfile collector
//   --clean                   remove regions left by processes that died
#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/stats_shm.h"
#include "tools/stat_format.h"
#include "tools/stat_prometheus.h"
#include "tools/stat_top.h"

namespace st = dpdkudp::engine::stats;
namespace tools = dpdkudp::tools;

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_stop_signal(int) { g_stop = 1; }

// SIGINT and SIGTERM end a --watch after the refresh under way, so that a
// file being written is renamed into place or not at all.
void stop_on_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// False when a signal asked to stop.
bool sleep_unless_stopped(double seconds) {
  const double whole = std::floor(seconds);
  timespec left{static_cast<time_t>(whole), static_cast<long>((seconds - whole) * 1e9)};
  while (g_stop == 0) {
    if (nanosleep(&left, &left) == 0 || errno != EINTR) break;
  }
  return g_stop == 0;
}

// Redraw in place only on a terminal that understands it.
bool redraw_in_place() {
  if (isatty(STDOUT_FILENO) == 0) return false;
  const char* term = std::getenv("TERM");
  return term != nullptr && *term != '\0' && std::strcmp(term, "dumb") != 0;
}

// Writes text to path so that a reader (node_exporter's textfile
// collector) sees the old file or the new one, never a part: a temporary
// file in the same directory (hidden, not *.prom), renamed over path.
bool write_atomically(const std::string& path, const std::string& text, std::string* error) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string tmp = dir + "/." + base + ".XXXXXX";
  const int fd = mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) {
    *error = "cannot create a file in " + dir + ": " + std::strerror(errno);
    return false;
  }
  bool ok = fchmod(fd, 0644) == 0;  // the collector runs as its own user
  for (size_t done = 0; ok && done < text.size();) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  if (!ok) *error = "writing " + tmp + ": " + std::strerror(errno);
  if (close(fd) != 0 && ok) {
    ok = false;
    *error = "writing " + tmp + ": " + std::strerror(errno);
  }
  if (ok && rename(tmp.c_str(), path.c_str()) != 0) {
    ok = false;
    *error = "renaming " + tmp + " to " + path + ": " + std::strerror(errno);
  }
  if (!ok) unlink(tmp.c_str());
  return ok;
}

// The terminal's size (0: unknown, no limit).
void window_size(int* rows, int* cols) {
  winsize ws{};
  *rows = 0;
  *cols = 0;
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
    *rows = ws.ws_row;
    *cols = ws.ws_col;
  }
}

struct Shown {
  pid_t pid = 0;
  std::unique_ptr<st::Region> region;
  const st::Region* prev = nullptr;
  bool stale = false;
  tools::Rates rates;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Live counters of processes running under the dpdkudp shim (from /dev/shm/dpdkudp.<pid>)."};
  std::vector<pid_t> pids;
  bool json = false;
  bool prometheus = false;
  std::string prometheus_file;
  bool clean = false;
  double watch = 0;
  int count = 0;
  app.add_option("pid", pids, "processes to show (default: every shim process)");
  auto* json_opt = app.add_flag("--json", json, "one JSON object per process and refresh");
  app.add_flag("--prometheus", prometheus, "the Prometheus text exposition format (0.0.4) on stdout")
      ->excludes(json_opt);
  app.add_option("--prometheus-file", prometheus_file,
                 "also write the Prometheus format to PATH, atomically (temporary file and rename), e.g. into "
                 "node_exporter's textfile directory; alone, nothing goes to stdout")
      ->type_name("PATH");
  app.add_option("-w,--watch", watch, "refresh every SECONDS, showing rates (on a terminal: redrawn in place)")
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

  // A process named twice is shown once (twice would be a duplicate series).
  std::vector<pid_t> unique_pids;
  for (pid_t pid : pids) {
    if (std::find(unique_pids.begin(), unique_pids.end(), pid) == unique_pids.end()) unique_pids.push_back(pid);
  }
  const bool explicit_pids = !unique_pids.empty();
  const bool quiet = !prometheus_file.empty() && !json && !prometheus;  // only the file
  const bool top = watch != 0 && !json && !prometheus && !quiet && redraw_in_place();
  const bool text = !json && !prometheus && !quiet && !top;
  if (watch != 0) stop_on_signals();

  std::map<pid_t, std::unique_ptr<st::Region>> previous;
  int exit_code = 0;
  for (int round = 0;; ++round) {
    const std::vector<pid_t> targets = explicit_pids ? unique_pids : st::list_regions();
    std::string problems;  // on a redrawn screen they are part of the frame
    exit_code = 0;
    std::vector<Shown> shown;
    for (pid_t pid : targets) {
      st::Snapshot snap = st::read_region(pid);
      char line[512];
      if (snap.status == st::ReadStatus::kMissing) {
        std::snprintf(line, sizeof line,
                      "dpdkudp-stat: pid %d: no stats region (not under the shim, DPDKUDP_STATS=0, or the engine "
                      "fell back to the kernel)\n",
                      pid);
      } else if (!snap.region) {
        std::snprintf(line, sizeof line, "dpdkudp-stat: pid %d: %s\n", pid, snap.error.c_str());
      } else {
        auto it = previous.find(pid);
        Shown s;
        s.pid = pid;
        s.prev = it == previous.end() ? nullptr : it->second.get();
        s.stale = snap.status == st::ReadStatus::kStale;
        s.rates = tools::rates(*snap.region, s.prev);
        s.region = std::move(snap.region);
        shown.push_back(std::move(s));
        continue;
      }
      exit_code = 1;
      if (top) {
        problems += line;
      } else {
        std::fputs(line, stderr);
      }
    }
    const char* none = "no process is running under the dpdkudp shim with DPDKUDP_STATS=1\n";

    if (text) {
      if (targets.empty()) std::fputs(none, stdout);
      for (const Shown& s : shown) tools::print_text(stdout, *s.region, s.stale, s.rates);
    } else if (json) {
      for (const Shown& s : shown) tools::print_json(stdout, *s.region, s.stale, s.rates);
    } else if (top) {
      char* buf = nullptr;
      size_t len = 0;
      if (std::FILE* f = open_memstream(&buf, &len)) {
        std::fputs(tools::top_title(watch, shown.size()).c_str(), f);
        if (targets.empty()) std::fputs(none, f);
        std::fputs(problems.c_str(), f);
        for (const Shown& s : shown) tools::print_top(f, *s.region, s.prev, s.stale, s.rates);
        std::fclose(f);
      }
      int rows = 0;
      int cols = 0;
      window_size(&rows, &cols);
      const std::string frame = tools::fit_to_window(buf != nullptr ? std::string_view(buf, len) : "", rows, cols);
      std::free(buf);
      std::fputs(tools::kClearScreen, stdout);
      std::fputs(frame.c_str(), stdout);
    }
    if (prometheus || !prometheus_file.empty()) {
      std::vector<tools::PromProcess> procs;
      for (const Shown& s : shown) procs.push_back({s.region.get(), s.stale});
      const std::string exposition = tools::prometheus_text(procs);
      if (prometheus) std::fputs(exposition.c_str(), stdout);
      std::string error;
      if (!prometheus_file.empty() && !write_atomically(prometheus_file, exposition, &error)) {
        std::fprintf(stderr, "dpdkudp-stat: --prometheus-file %s: %s\n", prometheus_file.c_str(), error.c_str());
        return 1;
      }
    }
    std::fflush(stdout);
    for (Shown& s : shown) previous[s.pid] = std::move(s.region);
    if (watch == 0 || (count != 0 && round + 1 >= count)) break;
    if (!sleep_unless_stopped(watch)) break;
    if (text) std::printf("\n");
  }
  if (top) std::printf("\n");  // the prompt below the last screen
  return exit_code;
}
