#include "engine/log.h"

#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>

namespace dpdkudp::engine {
namespace {
std::atomic<LogLevel> g_level{LogLevel::kWarn};
std::atomic<LogTarget> g_target{LogTarget::kStderr};

int syslog_priority(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return LOG_ERR;
    case LogLevel::kWarn: return LOG_WARNING;
    case LogLevel::kInfo: return LOG_INFO;
    default: return LOG_DEBUG;
  }
}
}  // namespace

void set_log_target(LogTarget target) { g_target.store(target, std::memory_order_relaxed); }

void set_log_level(LogLevel level) { g_level.store(level, std::memory_order_relaxed); }
LogLevel log_level() { return g_level.load(std::memory_order_relaxed); }
bool log_enabled(LogLevel level) {
  return level != LogLevel::kQuiet && static_cast<int>(level) <= static_cast<int>(log_level());
}

void log(LogLevel level, const char* fmt, ...) {
  if (!log_enabled(level)) return;
  char buf[1024];
  int n = std::snprintf(buf, sizeof buf, "dpdkudp: ");
  va_list ap;
  va_start(ap, fmt);
  int m = std::vsnprintf(buf + n, sizeof buf - static_cast<size_t>(n) - 1, fmt, ap);
  va_end(ap);
  size_t len = static_cast<size_t>(n) +
               (m < 0 ? 0 : std::min<size_t>(static_cast<size_t>(m), sizeof buf - static_cast<size_t>(n) - 2));
  if (g_target.load(std::memory_order_relaxed) == LogTarget::kSyslog) {
    // The program's own ident and facility (no openlog: that is the
    // program's to call); "dpdkudp: " tells our lines apart.
    buf[len] = '\0';
    syslog(syslog_priority(level), "%s", buf);
    return;
  }
  buf[len++] = '\n';
  ssize_t ignored = ::write(STDERR_FILENO, buf, len);
  (void)ignored;
}

}  // namespace dpdkudp::engine
