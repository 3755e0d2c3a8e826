#include "backends/dpdk/eal.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <system_error>
#include <thread>

#include "backends/dpdk/rte.h"

namespace dpdkudp::dpdk {

namespace {

constexpr const char* kProgramName = "dpdkudp-eal";

// ---------------------------------------------------------------- log sink
// DPDK's log goes to a cookie stream of ours (rte_openlog_stream), never to
// stdout. While EAL starts, lines are collected (for the error message);
// afterwards each goes to the DpdkLogFn of the first start.
struct LogSink {
  std::mutex mutex;
  DpdkLogFn fn;
  bool capturing = false;
  std::vector<std::string> captured;
  std::string partial;
};

LogSink& log_sink() {
  static LogSink* sink = new LogSink;  // never destroyed: EAL threads may log at exit
  return *sink;
}

DpdkLogLevel level_of(int rte_level) {
  if (rte_level >= 0 && rte_level <= static_cast<int>(RTE_LOG_ERR)) {
    return DpdkLogLevel::kError;
  }
  if (rte_level == static_cast<int>(RTE_LOG_WARNING)) {
    return DpdkLogLevel::kWarn;
  }
  return DpdkLogLevel::kInfo;
}

ssize_t log_cookie_write(void* /*cookie*/, const char* buf, size_t size) {
  LogSink& sink = log_sink();
  const DpdkLogLevel level = level_of(rte_log_cur_msg_loglevel());
  std::vector<std::string> lines;
  DpdkLogFn fn;
  {
    std::lock_guard lock(sink.mutex);
    sink.partial.append(buf, size);
    size_t start = 0;
    for (size_t nl; (nl = sink.partial.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (nl > start) {
        lines.emplace_back(sink.partial, start, nl - start);
      }
    }
    sink.partial.erase(0, start);
    if (sink.capturing) {
      sink.captured.insert(sink.captured.end(), lines.begin(), lines.end());
      return static_cast<ssize_t>(size);
    }
    fn = sink.fn;
  }
  for (const std::string& line : lines) {
    emit_log(fn, level, line);
  }
  return static_cast<ssize_t>(size);
}

FILE* open_log_stream() {
  cookie_io_functions_t io{};
  io.write = log_cookie_write;
  FILE* f = fopencookie(nullptr, "w", io);
  if (f != nullptr) {
    setvbuf(f, nullptr, _IOLBF, 0);
  }
  return f;
}

// ------------------------------------------------------- signal dispositions
class SavedSignals {
 public:
  void save() {
    for (int sig = 1; sig < NSIG; ++sig) {
      saved_[static_cast<size_t>(sig)].valid =
          sig != SIGKILL && sig != SIGSTOP && sigaction(sig, nullptr, &saved_[static_cast<size_t>(sig)].action) == 0;
    }
  }
  // Puts back every disposition EAL changed; returns their numbers.
  std::vector<int> restore_changed() {
    std::vector<int> changed;
    for (int sig = 1; sig < NSIG; ++sig) {
      const Slot& slot = saved_[static_cast<size_t>(sig)];
      struct sigaction now {};
      if (!slot.valid || sigaction(sig, nullptr, &now) != 0) {
        continue;
      }
      const bool same = now.sa_flags == slot.action.sa_flags &&
                        ((now.sa_flags & SA_SIGINFO) != 0 ? now.sa_sigaction == slot.action.sa_sigaction
                                                          : now.sa_handler == slot.action.sa_handler);
      if (!same) {
        sigaction(sig, &slot.action, nullptr);
        changed.push_back(sig);
      }
    }
    return changed;
  }

 private:
  struct Slot {
    bool valid = false;
    struct sigaction action {};
  };
  std::array<Slot, NSIG> saved_{};
};

// ---------------------------------------------------------- output capture
// fds 1 and 2 point at memory files while rte_eal_init() runs.
class OutputCapture {
 public:
  void start() {
    std::fflush(stdout);
    std::fflush(stderr);
    for (int i = 0; i < 2; ++i) {
      const int fd = i + 1;
      mem_[i] = memfd_create("dpdkudp-eal-output", MFD_CLOEXEC);
      if (mem_[i] < 0) {
        continue;
      }
      saved_[i] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
      was_open_[i] = saved_[i] >= 0;
      if (dup2(mem_[i], fd) < 0) {
        close_fd(mem_[i]);
        close_fd(saved_[i]);
      }
    }
  }
  // Restores the fds; text[i] = what was written to fd i + 1 meanwhile.
  void stop(std::array<std::string, 2>& text) {
    std::fflush(stdout);
    std::fflush(stderr);
    for (int i = 0; i < 2; ++i) {
      const int fd = i + 1;
      if (mem_[i] < 0) {
        continue;
      }
      if (was_open_[i]) {
        dup2(saved_[i], fd);
        close_fd(saved_[i]);
      } else {
        ::close(fd);
      }
      text[static_cast<size_t>(i)] = read_all(mem_[i]);
      close_fd(mem_[i]);
    }
  }

 private:
  static void close_fd(int& fd) {
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
  }
  static std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    off_t off = 0;
    for (;;) {
      const ssize_t n = pread(fd, buf, sizeof buf, off);
      if (n <= 0) {
        break;
      }
      out.append(buf, static_cast<size_t>(n));
      off += n;
    }
    return out;
  }

  int mem_[2] = {-1, -1};
  int saved_[2] = {-1, -1};
  bool was_open_[2] = {false, false};
};

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      out.push_back(line);
    }
  }
  return out;
}

// What is not EAL's in the captured stdout: everything before its usage
// text. In stderr: lines that are neither getopt's nor EAL's.
std::string program_stdout(const std::string& text, bool failed) {
  if (!failed) {
    return text;
  }
  size_t usage = text.find("\nUsage: ");
  if (text.rfind("Usage: ", 0) == 0) {
    usage = 0;
  }
  return usage == std::string::npos ? text : text.substr(0, usage);
}

bool is_eal_line(std::string_view line) {
  return line.rfind("EAL: ", 0) == 0 || line.rfind(std::string(kProgramName) + ": ", 0) == 0;
}

std::string program_stderr(const std::string& text, bool failed) {
  if (!failed) {
    return text;
  }
  std::string out;
  for (const std::string& line : lines_of(text)) {
    if (!is_eal_line(line)) {
      out += line + "\n";
    }
  }
  return out;
}

// ------------------------------------------------------------ EAL state
struct EalState {
  std::mutex mutex;
  enum class Phase { kNotStarted, kReady, kFailed } phase = Phase::kNotStarted;
  std::string user_args;
  std::vector<std::string> argv;  // EAL may keep pointers into these
  std::vector<char*> argv_ptrs;
  std::string error;
  std::string runtime_dir;
};

EalState& eal_state() {
  static EalState* state = new EalState;  // never destroyed (see dpdk.h)
  return *state;
}

std::string joined(const std::vector<std::string>& argv, size_t from) {
  std::string out;
  for (size_t i = from; i < argv.size(); ++i) {
    out += (i == from ? "" : " ") + argv[i];
  }
  return out;
}

bool has_option(const std::vector<std::string>& tokens, std::initializer_list<std::string_view> names) {
  for (const std::string& t : tokens) {
    for (std::string_view name : names) {
      if (name.size() == 2 && name[0] == '-' && name[1] != '-') {
        // Short option: "-l", "-l0-3".
        if (t.size() >= 2 && t[0] == '-' && t[1] == name[1]) {
          return true;
        }
      } else if (t == name || (t.size() > name.size() && t.rfind(name, 0) == 0 && t[name.size()] == '=')) {
        return true;
      }
    }
  }
  return false;
}

std::string option_value(const std::vector<std::string>& argv, std::string_view name) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& t = argv[i];
    if (t.rfind(name, 0) == 0 && t.size() > name.size() && t[name.size()] == '=') {
      return t.substr(name.size() + 1);
    }
    if (t == name && i + 1 < argv.size()) {
      return argv[i + 1];
    }
  }
  return {};
}

void remove_runtime_dir(const std::string& dir, const std::string& prefix) {
  if (dir.empty() || prefix.empty()) {
    return;
  }
  const size_t slash = dir.find_last_of('/');
  // Only our own prefix directory, and only when empty (rmdir).
  if (slash != std::string::npos && dir.substr(slash + 1) == prefix) {
    ::rmdir(dir.c_str());
  }
}

void remove_runtime_dir_at_exit() {
  EalState& s = eal_state();
  remove_runtime_dir(s.runtime_dir, option_value(s.argv, "--file-prefix"));
}

struct InitOutcome {
  int ret = -1;
  int err = 0;
  std::array<std::string, 2> output;  // stdout, stderr during init
  std::vector<int> signals_changed;
  std::string runtime_dir;
  bool thread_failed = false;
};

}  // namespace

std::vector<std::string> split_eal_args(std::string_view args) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < args.size()) {
    while (i < args.size() && std::isspace(static_cast<unsigned char>(args[i])) != 0) {
      ++i;
    }
    const size_t start = i;
    while (i < args.size() && std::isspace(static_cast<unsigned char>(args[i])) == 0) {
      ++i;
    }
    if (i > start) {
      out.emplace_back(args.substr(start, i - start));
    }
  }
  return out;
}

EalHostFacts current_host_facts() {
  EalHostFacts facts;
  facts.pid = static_cast<long>(::getpid());
  cpu_set_t set;
  CPU_ZERO(&set);
  if (pthread_getaffinity_np(pthread_self(), sizeof set, &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) {
        facts.cpu = cpu;
        break;
      }
    }
  }
  // /sys/bus/pci/devices/<address>/driver -> .../drivers/<name>
  static constexpr std::string_view kDpdkDrivers[] = {"vfio-pci", "uio_pci_generic", "igb_uio", "mlx5_core",
                                                      "mlx4_core"};
  std::error_code ec;
  for (const auto& dev : std::filesystem::directory_iterator("/sys/bus/pci/devices", ec)) {
    const std::string driver = std::filesystem::read_symlink(dev.path() / "driver", ec).filename().string();
    if (ec) continue;
    for (std::string_view d : kDpdkDrivers) {
      if (driver == d) facts.pci_usable.push_back(dev.path().filename().string());
    }
  }
  std::sort(facts.pci_usable.begin(), facts.pci_usable.end());
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    if (line.rfind("HugePages_Free:", 0) == 0) {
      facts.hugepages = std::strtol(line.c_str() + std::strlen("HugePages_Free:"), nullptr, 10) > 0;
    }
  }
  return facts;
}

std::vector<std::string> build_eal_argv(const std::string& eal_args, const EalHostFacts& facts) {
  const std::vector<std::string> user = split_eal_args(eal_args);
  std::vector<std::string> argv{kProgramName, "--log-level=error"};
  if (!has_option(user, {"-l", "-c", "--lcores", "--main-lcore"})) {
    argv.push_back("--lcores=0@" + std::to_string(facts.cpu));
  }
  if (!has_option(user, {"--telemetry", "--no-telemetry"})) {
    argv.emplace_back("--no-telemetry");
  }
  if (!has_option(user, {"--file-prefix"})) {
    argv.push_back("--file-prefix=dpdkudp-" + std::to_string(facts.pid));
  }
  const bool in_memory = has_option(user, {"--in-memory"});
  bool no_shconf_implied = in_memory;
  if (!has_option(user, {"--no-huge", "-m", "--socket-mem", "--in-memory"})) {
    if (facts.hugepages) {
      argv.emplace_back("--in-memory");
      no_shconf_implied = true;
    } else {
      argv.insert(argv.end(), {"--no-huge", "-m", "256"});
    }
  }
  if (!no_shconf_implied && !has_option(user, {"--proc-type", "--no-shconf"})) {
    argv.emplace_back("--no-shconf");
  }
  if (!has_option(user, {"-a", "--allow", "-b", "--block", "--no-pci", "-w", "--pci-whitelist", "--pci-blacklist"})) {
    if (facts.pci_usable.empty()) {
      argv.emplace_back("--no-pci");
    } else {
      for (const std::string& bdf : facts.pci_usable) argv.insert(argv.end(), {"-a", bdf});
    }
  }
  argv.insert(argv.end(), user.begin(), user.end());
  return argv;
}

void emit_log(const DpdkLogFn& log, DpdkLogLevel level, const std::string& line) {
  if (log) {
    log(level, line);
    return;
  }
  const std::string text = "dpdkudp: dpdk: " + line + "\n";
  write_all(STDERR_FILENO, text);
}

std::string summarize_eal_failure(const std::vector<std::string>& lines, int rte_err) {
  std::vector<std::string> reasons;
  const std::string getopt_prefix = std::string(kProgramName) + ": ";
  for (std::string line : lines) {
    if (line.rfind(getopt_prefix, 0) == 0) {
      line.erase(0, getopt_prefix.size());
    } else if (line.rfind("EAL: ", 0) == 0) {
      line.erase(0, 5);
    }
    if (line.rfind("FATAL: ", 0) == 0) {
      line.erase(0, 7);
    }
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) {
      line.pop_back();
    }
    if (line.empty() || line.find("Invalid 'command line' arguments") != std::string::npos ||
        line.find("Error - exiting") != std::string::npos) {
      continue;
    }
    bool seen = false;
    for (const std::string& r : reasons) {
      seen = seen || r == line;
    }
    if (!seen) {
      reasons.push_back(line);
    }
  }
  std::string out;
  for (size_t i = 0; i < reasons.size() && i < 3; ++i) {
    out += (i == 0 ? "" : "; ") + reasons[i];
  }
  if (out.empty()) {
    out = rte_err == EINVAL ? "invalid arguments" : std::string(rte_strerror(rte_err));
  }
  return out;
}

}  // namespace dpdkudp::dpdk

namespace dpdkudp {

using dpdk::eal_state;
using dpdk::EalState;

std::vector<std::string> dpdk_eal_argv(const std::string& eal_args) {
  return dpdk::build_eal_argv(eal_args, dpdk::current_host_facts());
}

std::vector<std::string> dpdk_eal_argv_in_use() {
  EalState& s = eal_state();
  std::lock_guard lock(s.mutex);
  return s.phase == EalState::Phase::kReady ? s.argv : std::vector<std::string>{};
}

std::string dpdk_eal_runtime_dir() {
  EalState& s = eal_state();
  std::lock_guard lock(s.mutex);
  return s.runtime_dir;
}

bool init_dpdk_eal(const std::string& eal_args, const std::function<void()>& thread_init, const DpdkLogFn& log,
                   std::string* error) {
  EalState& s = eal_state();
  std::lock_guard lock(s.mutex);
  auto fail = [&](const std::string& reason) {
    if (error != nullptr) {
      *error = "dpdk: " + reason;
    }
    return false;
  };
  switch (s.phase) {
    case EalState::Phase::kReady:
      if (eal_args != s.user_args) {
        dpdk::emit_log(log, DpdkLogLevel::kWarn,
                       "EAL already started with \"" + s.user_args + "\"; EAL arguments \"" + eal_args +
                           "\" ignored (EAL starts once per process)");
      }
      return true;
    case EalState::Phase::kFailed:
      return fail(s.error + " (an earlier start failed; EAL cannot be retried in this process)");
    case EalState::Phase::kNotStarted: break;
  }

  s.user_args = eal_args;
  s.argv = dpdk_eal_argv(eal_args);
  s.argv_ptrs.clear();
  for (std::string& a : s.argv) {
    s.argv_ptrs.push_back(a.data());
  }
  s.argv_ptrs.push_back(nullptr);
  const std::string args_text = dpdk::joined(s.argv, 1);

  dpdk::LogSink& sink = dpdk::log_sink();
  {
    std::lock_guard sink_lock(sink.mutex);
    sink.fn = log;
    sink.capturing = true;
    sink.captured.clear();
  }
  static FILE* log_stream = dpdk::open_log_stream();
  if (log_stream != nullptr) {
    rte_openlog_stream(log_stream);
  }

  dpdk::InitOutcome outcome;
  try {
    std::thread init_thread([&] {
      // Every thread EAL creates from here inherits this mask: none of
      // them ever takes a signal meant for the program.
      sigset_t all;
      sigfillset(&all);
      pthread_sigmask(SIG_BLOCK, &all, nullptr);
      if (thread_init) {
        thread_init();
      }
      dpdk::SavedSignals signals;
      signals.save();
      dpdk::OutputCapture capture;
      capture.start();
      outcome.ret = rte_eal_init(static_cast<int>(s.argv_ptrs.size() - 1), s.argv_ptrs.data());
      outcome.err = rte_errno;
      capture.stop(outcome.output);
      outcome.signals_changed = signals.restore_changed();
      const char* dir = rte_eal_get_runtime_dir();
      outcome.runtime_dir = dir != nullptr ? dir : "";
    });
    init_thread.join();
  } catch (const std::system_error& e) {
    outcome.thread_failed = true;
    outcome.err = e.code().value();
  }

  std::vector<std::string> log_lines;
  {
    std::lock_guard sink_lock(sink.mutex);
    sink.capturing = false;
    log_lines.swap(sink.captured);
  }
  if (outcome.thread_failed) {
    // EAL was never called: a later call may try again.
    return fail("EAL start failed: cannot create a thread: " + std::string(std::strerror(outcome.err)));
  }

  const bool failed = outcome.ret < 0;
  dpdk::write_all(STDOUT_FILENO, dpdk::program_stdout(outcome.output[0], failed));
  dpdk::write_all(STDERR_FILENO, dpdk::program_stderr(outcome.output[1], failed));
  s.runtime_dir = outcome.runtime_dir;
  const std::string prefix = dpdk::option_value(s.argv, "--file-prefix");
  dpdk::remove_runtime_dir(s.runtime_dir, prefix);

  if (failed) {
    std::vector<std::string> lines = dpdk::lines_of(outcome.output[1]);
    lines.insert(lines.end(), log_lines.begin(), log_lines.end());
    std::string reason;
    if (outcome.err == EALREADY) {
      reason = "EAL was already started in this process by someone else";
    } else {
      reason = dpdk::summarize_eal_failure(lines, outcome.err);
    }
    s.phase = EalState::Phase::kFailed;
    s.error = "EAL start failed: " + reason + " (EAL arguments: " + args_text + ")";
    return fail(s.error);
  }

  s.phase = EalState::Phase::kReady;
  static const bool registered = std::atexit(dpdk::remove_runtime_dir_at_exit) == 0;
  (void)registered;
  for (const std::string& line : log_lines) {
    dpdk::emit_log(log, DpdkLogLevel::kWarn, line);
  }
  for (int sig : outcome.signals_changed) {
    dpdk::emit_log(log, DpdkLogLevel::kWarn,
                   "EAL changed the handler of signal " + std::to_string(sig) + " (" + strsignal(sig) + "); restored");
  }
  return true;
}

}  // namespace dpdkudp
